/*
 * Per-CPU data on x86_64: GS base points at the CPU's struct cpu for good
 * (everything runs at CPL 0 and Linux apps do not use GS, so there is no
 * swapgs). The first fields are read by assembly at fixed offsets.
 */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

/* Offsets used by trap_entry.S and syscall_entry.S; checked against
 * struct cpu (kern/percpu.h) in sched.c and struct arch_cpu below. */
#define CPU_SELF            0
#define CPU_TRAP_STACK_LO   8    /* current thread's trap stack [lo, hi) */
#define CPU_TRAP_STACK_HI   16
#define CPU_SYSCALL_STACK   24   /* current thread's syscall stack top */
#define CPU_CURRENT         32   /* the running thread */
#define CPU_ARCH            40   /* struct arch_cpu */
#define CPU_FPU_OWNER       (CPU_ARCH + 0)  /* whose FP/SIMD state the registers hold */
#define CPU_SYSCALL_RSP     (CPU_ARCH + 8)  /* the app's rsp while entering a syscall */

#ifndef __ASSEMBLY__
#include <kern/types.h>

/* What only x86_64 keeps per CPU (struct cpu's arch member). */
struct arch_cpu {
    /* Read by assembly: keep first, in order. */
    void *fpu_owner;                /* the context last XRSTORed here (switch.S) */
    uint64_t syscall_rsp;

    uint32_t apic_id;               /* where IPIs and MSIs for it go */
    uintptr_t boot_stack;           /* bring-up stack (smp.c) */
    uintptr_t ist_tops[4];          /* its TSS's interrupt stacks */
    volatile uint32_t tlb_flush_req;    /* a shootdown asked of it */
};

_Static_assert(__builtin_offsetof(struct arch_cpu, fpu_owner) == CPU_FPU_OWNER - CPU_ARCH,
               "arch_cpu layout");
_Static_assert(__builtin_offsetof(struct arch_cpu, syscall_rsp) == CPU_SYSCALL_RSP - CPU_ARCH,
               "arch_cpu layout");

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
    __asm__ volatile("movq %%gs:%c1, %0" : "=r"(t) : "i"(CPU_CURRENT));
    return t;
}
#endif

#endif
