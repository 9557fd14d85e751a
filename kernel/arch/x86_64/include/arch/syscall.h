/* The syscall frame built by syscall_entry.S; change both together. */
#ifndef ARCH_SYSCALL_H
#define ARCH_SYSCALL_H

#include <stdint.h>

struct syscall_frame {
    uint64_t r15, r14, r13, r12, r10, r9, r8, rbp, rdi, rsi, rdx, rbx;
    uint64_t nr;            /* rax on entry */
    uint64_t rflags, rip, rsp;
};

_Static_assert(sizeof(struct syscall_frame) == 16 * 8, "syscall_frame layout");

/* The six Linux argument registers, in order. */
#define SYSCALL_ARGS(f) { (f)->rdi, (f)->rsi, (f)->rdx, (f)->r10, (f)->r8, (f)->r9 }

void syscall_init_cpu(void);

#endif
