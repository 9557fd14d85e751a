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

/* A frame that "returns" to pc with stack pointer sp and zeroes elsewhere:
 * an app's first instruction. Interrupts on, DF clear (the psABI). */
static inline void syscall_frame_init(struct syscall_frame *f, uintptr_t pc, uintptr_t sp)
{
    *f = (struct syscall_frame){ .rip = pc, .rsp = sp, .rflags = 0x202 };
}

/* A clone child's frame: the parent's, returning 0 on stack sp (0: the
 * parent's stack). */
static inline void syscall_frame_child(struct syscall_frame *f, uintptr_t sp)
{
    f->nr = 0;
    if (sp)
        f->rsp = sp;
}

static inline uintptr_t syscall_frame_pc(const struct syscall_frame *f)
{
    return f->rip;
}

#endif
