/*
 * Per-CPU data on aarch64: TPIDR_EL1 points at the CPU's struct cpu for
 * good (apps own TPIDR_EL0, their TLS). The first fields are read by the
 * trap and syscall entry at fixed offsets, the same as on x86_64.
 */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

/* Offsets used by the entry assembly; checked against struct cpu
 * (kern/percpu.h) in sched.c and struct arch_cpu below. */
#define CPU_SELF            0
#define CPU_TRAP_STACK_LO   8    /* current thread's trap stack [lo, hi) */
#define CPU_TRAP_STACK_HI   16
#define CPU_SYSCALL_STACK   24   /* current thread's syscall stack top */
#define CPU_CURRENT         32   /* the running thread */
#define CPU_ARCH            40   /* struct arch_cpu */
#define CPU_SAVED_SP        (CPU_ARCH + 0)  /* the app's SP_EL0 while entering a syscall */
#define CPU_EXC_STACK       (CPU_ARCH + 8)  /* top of this CPU's SP_EL1 exception stack */

#ifndef __ASSEMBLY__
#include <kern/types.h>

/* What only aarch64 keeps per CPU (struct cpu's arch member). */
struct arch_cpu {
    /* Read by assembly: keep first, in order. */
    uint64_t saved_sp;
    /* Top of the CPU's own exception stack: SP_EL1 whenever a thread
     * runs (threads use SP_EL0), where every exception from a thread
     * enters before trap_entry.S moves to the thread's trap stack. */
    uintptr_t exc_stack;

    uint64_t mpidr;                 /* affinity: where SGIs for it go (GIC) */
    uintptr_t boot_stack;           /* bring-up stack (PSCI CPU_ON) */
    volatile uint32_t tlb_flush_req;    /* a shootdown asked of it */
};

_Static_assert(__builtin_offsetof(struct arch_cpu, saved_sp) == CPU_SAVED_SP - CPU_ARCH,
               "arch_cpu layout");
_Static_assert(__builtin_offsetof(struct arch_cpu, exc_stack) == CPU_EXC_STACK - CPU_ARCH,
               "arch_cpu layout");

struct cpu;

static inline struct cpu *this_cpu(void)
{
    struct cpu *c;
    __asm__ volatile("mrs %0, tpidr_el1" : "=r"(c));
    return c;
}

/* The running thread. Finding this CPU and reading its current thread
 * are two instructions here: with interrupts masked between them, no
 * preemption can move the thread to another CPU in the middle (the
 * x86_64 version does both in one %gs-relative load). */
struct thread;
static inline struct thread *arch_current_thread(void)
{
    struct thread *t;
    unsigned long daif;
    __asm__ volatile("mrs %1, daif\n\t"
                     "msr daifset, #2\n\t"
                     "mrs %0, tpidr_el1\n\t"
                     "ldr %0, [%0, #%2]\n\t"
                     "msr daif, %1"
                     : "=&r"(t), "=&r"(daif) : "i"(CPU_CURRENT) : "memory");
    return t;
}
#endif

#endif
