/*
 * Per-CPU data on x86_64: GS base points at the CPU's struct cpu for good
 * (everything runs at CPL 0 and Linux apps do not use GS, so there is no
 * swapgs). The first fields are read by assembly at fixed offsets.
 */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

/* Offsets used by trap_entry.S; checked against struct cpu in percpu.c. */
#define CPU_SELF            0
#define CPU_TRAP_STACK_LO   8    /* current thread's trap stack [lo, hi) */
#define CPU_TRAP_STACK_HI   16
#define CPU_XSAVE_SIZE      24   /* bytes of extended state (0: FXSAVE) */
#define CPU_SYSCALL_RSP     32   /* the app's rsp while entering a syscall */
#define CPU_SYSCALL_STACK   40   /* current thread's syscall stack top */

#ifndef __ASSEMBLY__
struct cpu;

static inline struct cpu *this_cpu(void)
{
    struct cpu *c;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(c));
    return c;
}
#endif

#endif
