/* Per-CPU state. this_cpu() comes from the architecture (GS base on x86_64),
 * and so does struct arch_cpu, the part only the architecture reads. */
#ifndef KERN_PERCPU_H
#define KERN_PERCPU_H

#include <kern/types.h>
#include <kern/list.h>
#include <kern/spinlock.h>
#include <arch/percpu.h>

#define MAX_CPUS 16

struct thread;

struct runqueue {
    spinlock_t lock;
    struct list_head threads;       /* runnable, sorted by vruntime */
    unsigned nr_running;            /* in the list */
    uint64_t min_vruntime;
};

struct cpu {
    /* Read by assembly (arch/percpu.h offsets): keep first, in order. */
    struct cpu *self;
    uintptr_t trap_stack_lo, trap_stack_hi;     /* the current thread's */
    uintptr_t syscall_stack_hi;                 /* the current thread's */
    /* Read in one instruction (arch_current_thread), so that a thread
     * preempted and moved to another CPU cannot read another CPU's. */
    struct thread *current;
    /* The architecture's own (arch/percpu.h); its assembly reads the
     * start of it at fixed offsets. Generic code never looks inside. */
    struct arch_cpu arch;

    unsigned id;
    volatile bool online;
    struct thread *idle;
    struct runqueue rq;
    bool need_resched;
    /* One-shot timers, sorted by deadline (kernel/sched/timer.c). */
    spinlock_t timer_lock;
    struct list_head timers;
    /* The timer whose callback runs now (timer_cancel_sync waits for it). */
    struct timer *running_timer;
    uint64_t slice_end_ns;          /* when the running thread's slice ends */
    uint64_t next_balance_ns;       /* the earliest next balance_push */
    /* Where the last timer interrupt stopped this CPU (for profile=). */
    uintptr_t irq_pc;
    /* Statistics. The wakeup, IPI and syscall counts say where a
     * workload's cycles go (docs/zcopy.md); /proc/net/netstat's TernCpu
     * line sums them over the CPUs. */
    uint64_t nr_switches, nr_preemptions, nr_interrupts, idle_ns;
    uint64_t nr_wakeups;            /* threads this CPU made runnable */
    uint64_t nr_remote_wakeups;     /* ... onto another CPU's queue */
    uint64_t nr_ipis;               /* reschedule IPIs this CPU sent */
    uint64_t nr_syscalls;           /* app system calls entered here */
};

extern struct cpu cpus[MAX_CPUS];
extern unsigned nr_cpus;

#endif
