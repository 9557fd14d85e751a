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
#define CPU_CURRENT         48   /* the running thread */

#ifndef __ASSEMBLY__
struct cpu;

static inline struct cpu *this_cpu(void)
{
    struct cpu *c;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(c));
    return c;
}

/* The running thread, in one instruction: an interrupt (and so a
 * preemption that moves the thread to another CPU) cannot fall between
 * finding this CPU and reading its current thread, as it could with
 * this_cpu()->current. */
struct thread;
static inline struct thread *arch_current_thread(void)
{
    struct thread *t;
    __asm__ volatile("movq %%gs:48, %0" : "=r"(t));
    return t;
}
#endif

#endif
