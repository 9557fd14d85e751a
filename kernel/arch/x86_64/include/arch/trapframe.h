/* The register frame built by kernel/arch/x86_64/trap_entry.S. The layout
 * is fixed by the assembly: change both together. */
#ifndef ARCH_TRAPFRAME_H
#define ARCH_TRAPFRAME_H

#include <stdint.h>

struct trap_frame {
    /* pushed by trap_common, in reverse push order */
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    /* pushed by the vector stub */
    uint64_t vector;
    uint64_t error_code;    /* 0 for vectors without one */
    /* pushed by the CPU */
    uint64_t rip, cs, rflags, rsp, ss;
};

_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap_frame layout");

void trap_dispatch(struct trap_frame *tf);

#endif
