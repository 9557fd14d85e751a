/*
 * Micro-benchmarks of the scheduler and trap paths, in cycles
 * (ktest=bench_sched; `make bench` runs it and prints the numbers):
 *   - voluntary switch on one CPU: two threads yielding to each other;
 *   - cross-CPU wakeup: two threads on different CPUs handing a token back
 *     and forth through futex words (wake on one CPU, run on the other);
 *   - interrupt round trip: a software interrupt through the full trap
 *     path (IST, move to the trap stack, dispatch, iretq).
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

/* Two threads yielding to each other on the last CPU: cycles per switch,
 * or 0 when they did not share it. App contexts (arch_context_set_app)
 * have their FP/SIMD state switched, as app threads do; kernel threads
 * do not (switch.S). */
static uint64_t yield_switch_cycles(bool app, uint64_t *nswitches)
{
    go = false;
    yields_done = 0;
    unsigned last = nr_cpus - 1;
    struct thread *t[2] = { NULL, NULL };
    for (int i = 0; i < 2; i++) {
        t[i] = thread_prepare(i ? "yield-b" : "yield-a", yielder, NULL, 0);
        if (!t[i])
            break;
        t[i]->pinned_cpu = (int)last;
        if (app)
            arch_context_set_app(&t[i]->ctx);
    }
    if (!t[1]) {
        /* No memory for the second: let the first run through and end. */
        if (t[0]) {
            go = true;
            thread_launch(t[0]);
            thread_join(t[0]);
        }
        pr_warn("bench: no memory for the yielding threads\n");
        return 0;
    }
    thread_launch(t[0]);
    thread_launch(t[1]);
    bool same = t[0]->cpu == t[1]->cpu;
    struct cpu *c = t[0]->cpu;
    uint64_t s0 = c->nr_switches, t0 = arch_cycles();
    go = true;
    thread_join(t[0]);
    thread_join(t[1]);
    uint64_t cycles = arch_cycles() - t0, switches = c->nr_switches - s0;
    *nswitches = switches;
    return same ? cycles / (switches ? switches : 1) : 0;
}

KTEST(bench_sched, "cycles per context switch (same CPU, cross-CPU) and per trap")
{
    for (int app = 0; app < 2; app++) {
        uint64_t switches, cycles = yield_switch_cycles(app, &switches);
        const char *what = app ? "voluntary switch, same CPU, app threads"
                               : "voluntary switch, same CPU";
        if (cycles)
            pr_info("bench: %s: %llu cycles (%llu switches)\n", what,
                    (unsigned long long)cycles, (unsigned long long)switches);
        else
            pr_info("bench: %s: not measured (threads on different CPUs)\n", what);
    }

    uint64_t t0, cycles;
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
