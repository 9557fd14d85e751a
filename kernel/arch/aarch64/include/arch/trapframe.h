/* The register frame built by kernel/arch/aarch64/trap_entry.S. Its first
 * 272 bytes are a struct syscall_frame (arch/syscall.h): the syscall path
 * copies just those. The layout is fixed by the assembly: change both
 * together. */
#ifndef ARCH_TRAPFRAME_H
#define ARCH_TRAPFRAME_H

#define TF_REGS     0       /* x0..x30 */
#define TF_SP       248     /* SP_EL0: the thread's (or app's) stack pointer */
#define TF_PC       256     /* ELR_EL1 */
#define TF_PSTATE   264     /* SPSR_EL1 */
#define TF_ESR      272
#define TF_FAR      280
#define TF_SIZE     288
#define SF_SIZE     272     /* struct syscall_frame */

/* What the vector was (trap_dispatch's second argument). */
#define TRAP_SYNC       0
#define TRAP_IRQ        1
#define TRAP_FIQ        2
#define TRAP_SERROR     3
#define TRAP_LOWER_EL   4   /* from EL0 or AArch32: never expected */

#ifndef __ASSEMBLY__
#include <stdint.h>

struct trap_frame {
    uint64_t regs[31];
    uint64_t sp;
    uint64_t pc;
    uint64_t pstate;
    uint64_t esr;
    uint64_t far;
};

_Static_assert(sizeof(struct trap_frame) == TF_SIZE, "trap_frame layout");
_Static_assert(__builtin_offsetof(struct trap_frame, esr) == TF_ESR, "trap_frame layout");

void trap_dispatch(struct trap_frame *tf, unsigned kind);
#endif

#endif
