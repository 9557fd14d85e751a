/*
 * Micro-benchmarks of the scheduler and trap paths, in cycles
 * (ktest=bench_sched; `make bench` runs it and prints the numbers):
 *   - voluntary switch on one CPU: two threads yielding to each other;
 *   - cross-CPU wakeup: two threads on different CPUs handing a token back
 *     and forth through futex words (wake on one CPU, run on the other);
 *   - interrupt round trip: a software interrupt through the full trap
 *     path (IST, move to the trap stack, XSAVE/XRSTOR, dispatch, iretq).
 */
#include <kern/arch.h>
#include <kern/ktest.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/thread.h>
#include <kern/waitq.h>

#define YIELDS      20000
#define HANDOFFS    2000
#define TRAPS       20000

static volatile bool go;
static volatile uint64_t yields_done;

static void yielder(void *arg)
{
    while (!go)
        thread_yield();
    for (int i = 0; i < YIELDS; i++)
        thread_yield();
    __atomic_fetch_add(&yields_done, 1, __ATOMIC_RELAXED);
}

static volatile uint32_t token;
static unsigned cpu_of[2];

static void handoff(void *arg)
{
    uint32_t me = (uint32_t)(uintptr_t)arg;
    cpu_of[me] = this_cpu()->id;
    for (int i = 0; i < HANDOFFS; i++) {
        while (token != me)
            kfutex_wait(&token, 1 - me, 0);
        token = 1 - me;
        kfutex_wake(&token, 1);
    }
}

KTEST(bench_sched, "cycles per context switch (same CPU, cross-CPU) and per trap")
{
    /* Same CPU: with one CPU busy, both yielders share it. */
    go = false;
    yields_done = 0;
    unsigned last = nr_cpus - 1;
    struct thread *a = thread_create_on(last, "yield-a", yielder, NULL, 0);
    struct thread *b = thread_create_on(last, "yield-b", yielder, NULL, 0);
    bool same = a->cpu == b->cpu;
    uint64_t s0 = a->cpu->nr_switches, t0 = arch_cycles();
    go = true;
    thread_join(a);
    thread_join(b);
    uint64_t cycles = arch_cycles() - t0, switches = a->cpu->nr_switches - s0;
    if (same)
        pr_info("bench: voluntary switch, same CPU: %llu cycles (%llu switches)\n",
                (unsigned long long)(cycles / (switches ? switches : 1)),
                (unsigned long long)switches);
    else
        pr_info("bench: voluntary switch, same CPU: not measured (threads on different CPUs)\n");

    if (nr_cpus > 1) {
        token = 0;
        t0 = arch_cycles();
        struct thread *p = thread_create_on(0, "handoff-0", handoff, (void *)0, 0);
        struct thread *q = thread_create_on(1, "handoff-1", handoff, (void *)1, 0);
        thread_join(p);
        thread_join(q);
        cycles = arch_cycles() - t0;
        pr_info("bench: cross-CPU wakeup and switch: %llu cycles per handoff "
                "(cpu%u <-> cpu%u, %d round trips)\n",
                (unsigned long long)(cycles / (2 * HANDOFFS)), cpu_of[0], cpu_of[1], HANDOFFS);
    } else {
        pr_info("bench: cross-CPU wakeup and switch: needs 2 CPUs\n");
    }

    t0 = arch_cycles();
    for (int i = 0; i < TRAPS; i++)
        arch_bench_trap();
    cycles = arch_cycles() - t0;
    pr_info("bench: interrupt round trip (software interrupt, full trap path): %llu cycles\n",
            (unsigned long long)(cycles / TRAPS));
    return 0;
}
