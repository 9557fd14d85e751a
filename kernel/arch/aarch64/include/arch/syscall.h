/* The syscall frame the aarch64 `svc #0` entry builds (to come); change
 * both together. x0-x30 as an array, as Linux's user_pt_regs has them:
 * arch/linux_abi.h reads the number from x8 and the arguments from
 * x0-x5, and writes the result to x0. */
#ifndef ARCH_SYSCALL_H
#define ARCH_SYSCALL_H

#include <stdint.h>

struct syscall_frame {
    uint64_t regs[31];      /* x0..x30 */
    uint64_t sp;            /* the app's SP_EL0 */
    uint64_t pc;            /* ELR_EL1: the instruction after the svc */
    uint64_t pstate;        /* SPSR_EL1 */
};

_Static_assert(sizeof(struct syscall_frame) == 34 * 8, "syscall_frame layout");

/* Apps run at EL1 on SP_EL0 (DESIGN.md): PSTATE mode EL1t, interrupts
 * unmasked. */
#define ARCH_PSTATE_EL1T 0x4UL

void syscall_init_cpu(void);

/* A frame that "returns" to pc with stack pointer sp and zeroes
 * elsewhere: an app's first instruction. */
static inline void syscall_frame_init(struct syscall_frame *f, uintptr_t pc, uintptr_t sp)
{
    *f = (struct syscall_frame){ .pc = pc, .sp = sp, .pstate = ARCH_PSTATE_EL1T };
}

/* A clone child's frame: the parent's, returning 0 on stack sp (0: the
 * parent's stack). */
static inline void syscall_frame_child(struct syscall_frame *f, uintptr_t sp)
{
    f->regs[0] = 0;
    if (sp)
        f->sp = sp;
}

static inline uintptr_t syscall_frame_pc(const struct syscall_frame *f)
{
    return f->pc;
}

#endif
