/*
 * The ABI-contract torture test (ktest=torture): threads hold distinct
 * patterns in every register the contract protects while they
 *   (a) yield, (b) block on a mutex held by another thread or on a
 *   condition variable, (c) sleep on a timer, (d) spin until preempted,
 * and check every register afterwards (torture_round, arch assembly).
 * It runs until enough context switches and preemptions have happened,
 * prints the counts by kind and the mismatches, and passes only with zero
 * mismatches. Built with a deliberately broken switch (make BROKEN=...) it
 * must fail: tests/guest expects that too.
 */
#include <arch/torture.h>
#include <kern/kmalloc.h>
#include <kern/ktest.h>
#include <kern/options.h>
#include <kern/percpu.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/thread.h>
#include <kern/timer.h>

enum kind { K_YIELD, K_MUTEX, K_COND, K_SLEEP, K_SPIN, K_SYSCALL, K_SYSARGS, K_COUNT };
static const char *const kind_names[K_COUNT] = {
    "yield", "mutex", "condvar", "sleep", "preempt-spin", "syscall", "syscall-args",
};

struct worker {
    struct thread *thread;
    int index;
    uint64_t rounds[K_COUNT];
    uint64_t bad_rounds, spin_timeouts;
    uint64_t bad_bits;
    uint64_t bad_kernel_args;
};

static struct mutex lock = MUTEX_INIT(lock);
static struct condvar cond = { WAITQ_INIT(cond.wq) };
static volatile bool stop;
static volatile int reports;

static void op_yield(void *arg) { thread_yield(); }

static void op_mutex(void *arg)
{
    /* Hold the mutex across a yield so the other workers block on it. */
    mutex_lock(&lock);
    thread_yield();
    mutex_unlock(&lock);
}

static void op_cond(void *arg)
{
    mutex_lock(&lock);
    cond_broadcast(&cond);
    cond_timedwait(&cond, &lock, 200000);
    mutex_unlock(&lock);
}

static void op_sleep(void *arg)
{
    thread_sleep_ns(20000 + (uint64_t)(uintptr_t)arg % 80000);
}

static void report(struct worker *w, enum kind k, uint64_t bad)
{
    char buf[256];
    size_t n = 0;

    if (__atomic_fetch_add(&reports, 1, __ATOMIC_RELAXED) >= 8)
        return;
    /* Each result bit is one register or control word the arch checks;
     * it names them (torture_bit_name). */
    for (unsigned i = 0; i < 64; i++) {
        const char *name = (bad & (1ULL << i)) ? torture_bit_name(i) : NULL;
        if (name && n < sizeof(buf))
            n += snprintf(buf + n, sizeof(buf) - n, " %s", name);
    }
    pr_err("torture: MISMATCH in worker %d after %s:%s\n", w->index, kind_names[k], buf);
}

static void worker_main(void *arg)
{
    struct worker *w = arg;
    struct torture_pattern *p = kmalloc(sizeof(*p) + 32);
    struct torture_pattern *pat = (void *)ALIGN_UP((uintptr_t)p, 32);
    uint64_t seed = (uint64_t)w->index << 40;

    for (uint64_t round = 0; !stop; round++) {
        enum kind k = (enum kind)(round % K_COUNT);
        uint64_t flags = torture_pattern_fill(pat, seed++);
        uint64_t bad;
        switch (k) {
        case K_YIELD: bad = torture_round(pat, op_yield, NULL, flags); break;
        case K_MUTEX: bad = torture_round(pat, op_mutex, NULL, flags); break;
        case K_COND:  bad = torture_round(pat, op_cond, NULL, flags); break;
        case K_SLEEP: bad = torture_round(pat, op_sleep, (void *)(uintptr_t)seed, flags); break;
        case K_SYSCALL:
            bad = torture_round(pat, NULL, (void *)(uintptr_t)SYS_sched_yield,
                                flags | TORTURE_SYSCALL);
            break;
        case K_SYSARGS: {
            /* The six argument registers' patterns, in syscall order
             * (which pattern slots they are is the arch's). */
            uint64_t expect[6];
            torture_syscall_args(pat, expect);
            struct thread *self = thread_current();
            uint64_t before = self->syscall_test_bad;
            self->syscall_test_expect = expect;
            self->syscall_test_action = (int)(round / K_COUNT % 3);
            bad = torture_round(pat, NULL, (void *)(uintptr_t)SYS_tern_test_args,
                                flags | TORTURE_SYSCALL);
            self->syscall_test_expect = NULL;
            if (self->syscall_test_bad != before) {
                w->bad_kernel_args += self->syscall_test_bad - before;
                if (__atomic_fetch_add(&reports, 1, __ATOMIC_RELAXED) < 8)
                    pr_err("torture: MISMATCH in worker %d: syscall arguments changed "
                           "inside the kernel\n", w->index);
                w->bad_rounds++;
            }
            break;
        }
        default:
            bad = torture_round(pat, NULL, &thread_current()->nr_preempted,
                                flags | TORTURE_SPIN);
            break;
        }
        if (bad & TORTURE_NO_PREEMPT) {
            w->spin_timeouts++;
            bad &= ~TORTURE_NO_PREEMPT;
        }
        if (bad) {
            w->bad_rounds++;
            w->bad_bits |= bad;
            report(w, k, bad);
        }
        w->rounds[k]++;
    }
    kfree(p);
}

static uint64_t total(uint64_t (*get)(const struct cpu *))
{
    uint64_t s = 0;
    for (unsigned i = 0; i < nr_cpus; i++)
        s += get(&cpus[i]);
    return s;
}
static uint64_t get_switches(const struct cpu *c) { return c->nr_switches; }
static uint64_t get_preempts(const struct cpu *c) { return c->nr_preemptions; }

KTEST(torture, "ABI contract: registers survive yield, block, sleep and preemption")
{
    unsigned nworkers = MAX(2 * nr_cpus, 4u);
    struct worker *w = kzalloc(nworkers * sizeof(*w));
    uint64_t old_slice = sched_slice_ns();
    uint64_t want_switches = (uint64_t)kopt.torture_switches;
    uint64_t want_preempts = (uint64_t)kopt.torture_preemptions;

    /* Short slices: preemptions come quickly. */
    sched_set_slice_ns(200000);
    stop = false;
    uint64_t s0 = total(get_switches), p0 = total(get_preempts);
    uint64_t t0 = clock_monotonic_ns();
    for (unsigned i = 0; i < nworkers; i++) {
        char name[THREAD_NAME_MAX];
        snprintf(name, sizeof(name), "torture%u", i);
        w[i].index = (int)i;
        /* The workers fill the vector registers: like app threads, their
         * FP/SIMD state is the switch's to keep (arch_context_set_app). */
        w[i].thread = thread_prepare(name, worker_main, &w[i], 0);
        if (!w[i].thread) {
            pr_err("torture: cannot create thread %u\n", i);
            return 1;
        }
        arch_context_set_app(&w[i].thread->ctx);
        thread_launch(w[i].thread);
    }
    uint64_t switches, preempts, elapsed;
    for (;;) {
        thread_sleep_ns(50000000);
        switches = total(get_switches) - s0;
        preempts = total(get_preempts) - p0;
        elapsed = clock_monotonic_ns() - t0;
        if ((switches >= want_switches && preempts >= want_preempts) ||
            elapsed > (uint64_t)kopt.torture_seconds * 1000000000ULL)
            break;
    }
    stop = true;
    uint64_t rounds[K_COUNT] = { 0 }, bad = 0, timeouts = 0, migrations = 0;
    for (unsigned i = 0; i < nworkers; i++) {
        /* A worker spinning alone on its CPU waits for a preemption that
         * may never come now: move its counter to end the spin. */
        while (w[i].thread->state != THREAD_DEAD) {
            __atomic_fetch_add(&w[i].thread->nr_preempted, 1, __ATOMIC_RELAXED);
            thread_sleep_ns(1000000);
        }
        migrations += w[i].thread->nr_migrations;
        thread_join(w[i].thread);
        for (int k = 0; k < K_COUNT; k++)
            rounds[k] += w[i].rounds[k];
        bad += w[i].bad_rounds;
        timeouts += w[i].spin_timeouts;
    }
    sched_set_slice_ns(old_slice);
    kfree(w);

    pr_info("torture: %u workers on %u cpu(s), %llu ms\n", nworkers, nr_cpus,
            (unsigned long long)elapsed / 1000000);
    pr_info("torture: rounds: yield %llu, mutex %llu, condvar %llu, sleep %llu, preempt-spin %llu, "
            "syscall %llu, syscall-args %llu\n",
            (unsigned long long)rounds[K_YIELD], (unsigned long long)rounds[K_MUTEX],
            (unsigned long long)rounds[K_COND], (unsigned long long)rounds[K_SLEEP],
            (unsigned long long)rounds[K_SPIN], (unsigned long long)rounds[K_SYSCALL],
            (unsigned long long)rounds[K_SYSARGS]);
    pr_info("torture: context switches %llu (preemptions %llu), migrations %llu, "
            "spins never preempted %llu\n", (unsigned long long)switches,
            (unsigned long long)preempts, (unsigned long long)migrations,
            (unsigned long long)timeouts);
    pr_info("torture: mismatches %llu\n", (unsigned long long)bad);
    if (bad)
        return 1;
    if (nr_cpus > 1 && migrations == 0) {
        pr_err("torture: no thread migrated between CPUs\n");
        return 1;
    }
    if (switches < want_switches || preempts < want_preempts) {
        pr_err("torture: too few switches or preemptions (wanted %llu and %llu)\n",
               (unsigned long long)want_switches, (unsigned long long)want_preempts);
        return 1;
    }
    return 0;
}
