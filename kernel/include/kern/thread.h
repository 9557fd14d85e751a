/*
 * Kernel threads. Each has a run stack and a trap stack (both with an
 * unmapped guard page below them) and its own FP/SIMD save area. The
 * scheduler (kernel/sched/sched.c) is preemptive, with per-CPU run queues
 * ordered by weighted virtual runtime, so CPU time is shared fairly by
 * priority (nice -20..19, as in Linux).
 */
#ifndef KERN_THREAD_H
#define KERN_THREAD_H

#include <arch/context.h>
#include <kern/list.h>
#include <kern/timer.h>
#include <kern/types.h>
#include <kern/waitq.h>

enum thread_state {
    THREAD_RUNNABLE,        /* on a run queue */
    THREAD_RUNNING,
    THREAD_BLOCKED,         /* on a wait queue, or sleeping */
    THREAD_DEAD,            /* exited; waiting to be joined or reaped */
};

#define THREAD_STACK_SIZE      (32 * 1024)
#define THREAD_TRAP_STACK_SIZE (16 * 1024)
#define THREAD_SYSCALL_STACK_SIZE (16 * 1024)
#define THREAD_NAME_MAX        24

struct cpu;
struct app_thread;
struct syscall_frame;

struct thread {
    struct arch_context ctx;
    int id;
    char name[THREAD_NAME_MAX];
    enum thread_state state;
    int nice;
    uint32_t weight;
    uint64_t vruntime;          /* weighted ns of CPU time */
    uint64_t run_start_ns;      /* when it last got the CPU */
    uint64_t sum_exec_ns;       /* total CPU time */
    struct cpu *cpu;            /* whose run queue it belongs to */
    int pinned_cpu;             /* -1: any CPU; else never migrated off it */
    volatile bool on_cpu;       /* its context is live on a CPU */
    bool migrate_pending;       /* sched_set_cpu: requeue elsewhere */
    struct list_head rq_link;   /* run queue */
    struct list_head wait_link; /* a wait queue */
    struct list_head all_link;  /* every thread, for dumps */
    struct waitq *waiting_on;
    const volatile void *futex_addr; /* kfutex_wait's word */
    uint32_t futex_bitset;      /* ... and the wakes it accepts */
    struct timer sleep_timer;
    bool timed_out;             /* a timed wait ended by its timer */
    void *stack, *trap_stack;   /* lowest addresses */
    void *syscall_stack;        /* the kernel stack of system calls */
    size_t stack_size;
    void *fpu_alloc;            /* what fpu_state was carved from */
    /* exit and join */
    int exit_status;
    bool detached;
    struct waitq joiners;
    /* The Linux side (kernel/linux/): NULL for kernel threads. */
    struct app_thread *app;
    struct syscall_frame *syscall_frame;    /* while in a system call */
    /* SYS_tern_test_args (kern/syscall.h) */
    const uint64_t *syscall_test_expect;
    int syscall_test_action;
    uint64_t syscall_test_bad;
    /* statistics */
    uint64_t nr_voluntary, nr_preempted, nr_migrations;
};

typedef void (*thread_fn)(void *arg);

/* Create a runnable thread on this CPU. NULL when memory is short. */
struct thread *thread_create(const char *name, thread_fn fn, void *arg, int nice);
/* The same, pinned to one CPU (cpu < nr_cpus, online). */
struct thread *thread_create_on(unsigned cpu, const char *name, thread_fn fn, void *arg,
                                int nice);
/* The same in two steps, for a thread whose context is set up before it
 * first runs (a clone child's FS base and vector state): thread_prepare
 * allocates it, thread_launch makes it runnable on the least-loaded CPU. */
struct thread *thread_prepare(const char *name, thread_fn fn, void *arg, int nice);
void thread_launch(struct thread *t);
/* Wait for t to exit, free it and return its status. */
int thread_join(struct thread *t);
/* Let t be freed when it exits; it cannot be joined then. */
void thread_detach(struct thread *t);
void thread_exit(int status) __noreturn;
struct thread *thread_current(void);

void thread_yield(void);
void thread_sleep_ns(uint64_t ns);
void thread_set_nice(struct thread *t, int nice);
/* CPU time used so far, including the slice it may be running now. */
uint64_t thread_cpu_time_ns(const struct thread *t);
/* A CPU's idle time so far, up to now (read without its lock). */
uint64_t cpu_idle_time_ns(const struct cpu *c);

/* Scheduler. */
void sched_init(void);                 /* the boot context becomes a thread */
void schedule(void);
void sched_set_slice_ns(uint64_t ns);  /* preemption time slice */
/* Pin the calling thread to cpu (moving it there now), or unpin (-1). */
void sched_set_cpu(int cpu);
uint64_t sched_slice_ns(void);
/* Make a blocked thread runnable (it must not be on a wait queue). */
void sched_wake(struct thread *t);
/* Called by the timer interrupt: account time, maybe ask for a switch. */
void sched_tick(void);
/* On return from an interrupt: switch if a switch was asked for. */
void sched_preempt(void);
void sched_print_stats(void);
/* Is [addr, addr+len) on the current thread's stacks? (backtraces) */
bool sched_stack_contains(uintptr_t addr, size_t len);
/* The thread whose stack guard page holds addr, or NULL (fault reports). */
struct thread *sched_guard_owner(uintptr_t addr);
/* Call fn on every thread, under the thread list's lock with interrupts
 * off: fn may only read the thread (the profiler's per-thread times). */
void thread_for_each(void (*fn)(struct thread *t, void *arg), void *arg);

#endif
