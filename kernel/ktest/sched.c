/*
 * Scheduler and timer tests (ktest=sched_fair, ktest=timer_accuracy,
 * ktest=timer_race, ktest=threads): CPU shares by weight, sleep precision,
 * timers raced across CPUs, and the thread life cycle with the blocking
 * primitives.
 */
#include <kern/kmalloc.h>
#include <kern/ktest.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <kern/waitq.h>

#define FAIR_RUN_NS    1500000000ULL    /* how long the CPU hogs compete */
#define FAIR_TOLERANCE 10                /* percent */

static volatile bool hogs_go, hogs_stop;
static unsigned hogs_ready;             /* hogs on their starting CPU */

/* arg: the CPU the hog starts on. */
static void hog(void *arg)
{
    sched_set_cpu((int)(intptr_t)arg);  /* pinned there until the start */
    __atomic_add_fetch(&hogs_ready, 1, __ATOMIC_RELEASE);
    while (!hogs_go)
        thread_yield();
    sched_set_cpu(-1);
    while (!hogs_stop)
        __asm__ volatile("" ::: "memory");
}

/*
 * Runs n hogs with the given nice values; fills their CPU times. With more
 * than one CPU, all but the last hog start on cpu0 and the last on cpu1:
 * a split that stealing alone never evens out (no CPU goes idle), so the
 * shares come out equal only if the scheduler balances busy CPUs too.
 */
static void run_hogs(int n, const int *nice, uint64_t *exec_ns)
{
    struct thread *t[8];
    uint64_t base[8];
    hogs_go = hogs_stop = false;
    hogs_ready = 0;
    if (nr_cpus > 1)
        pr_info("sched_fair: %d hogs start %d:1 on cpu0:cpu1\n", n, n - 1);
    for (int i = 0; i < n; i++)
        t[i] = thread_create("hog", hog, (void *)(intptr_t)(nr_cpus > 1 && i == n - 1),
                             nice[i]);
    /* Every hog pinned where it starts before any is let go, or an idle
     * CPU could steal one that had unpinned early. */
    while (__atomic_load_n(&hogs_ready, __ATOMIC_ACQUIRE) < (unsigned)n)
        thread_yield();
    hogs_go = true;
    thread_yield();
    for (int i = 0; i < n; i++)
        base[i] = thread_cpu_time_ns(t[i]);
    /* The main thread sleeps meanwhile, so it takes no share. */
    thread_sleep_ns(FAIR_RUN_NS);
    for (int i = 0; i < n; i++)
        exec_ns[i] = thread_cpu_time_ns(t[i]) - base[i];
    hogs_stop = true;
    for (int i = 0; i < n; i++)
        thread_join(t[i]);
}

static bool within(uint64_t got, uint64_t want, unsigned pct)
{
    uint64_t d = got > want ? got - want : want - got;
    return d * 100 <= want * pct;
}

KTEST(sched_fair, "CPU-bound threads share the CPU by weight (within 10%)")
{
    int fails = 0;
    uint64_t ns[8];

    /* Equal weights: equal shares. */
    static const int equal[4] = { 0, 0, 0, 0 };
    run_hogs(4, equal, ns);
    uint64_t sum = ns[0] + ns[1] + ns[2] + ns[3];
    for (int i = 0; i < 4; i++) {
        bool ok = within(ns[i], sum / 4, FAIR_TOLERANCE);
        pr_info("sched_fair: equal   thread %d: %llu ms (%llu%% of the total, want 25%%)%s\n",
                i, (unsigned long long)ns[i] / 1000000,
                (unsigned long long)(ns[i] * 100 / (sum ? sum : 1)), ok ? "" : "  <-- off");
        fails += !ok;
    }

    /* nice 0 vs nice 5: shares in the ratio of their weights. Weights
     * divide one CPU; with more CPUs each hog would have its own. */
    if (nr_cpus > 1) {
        pr_info("sched_fair: weighted shares are checked on 1 CPU (this run has %u)\n",
                nr_cpus);
        return fails ? 1 : 0;
    }
    static const int mixed[2] = { 0, 5 };
    run_hogs(2, mixed, ns);
    extern uint32_t sched_weight(int nice);
    uint64_t w0 = sched_weight(0), w5 = sched_weight(5);
    uint64_t want0 = (ns[0] + ns[1]) * w0 / (w0 + w5);
    bool ok = within(ns[0], want0, FAIR_TOLERANCE);
    pr_info("sched_fair: weighted nice 0: %llu ms, nice 5: %llu ms (weights %llu:%llu; "
            "want %llu ms for nice 0)%s\n", (unsigned long long)ns[0] / 1000000,
            (unsigned long long)ns[1] / 1000000, (unsigned long long)w0,
            (unsigned long long)w5, (unsigned long long)want0 / 1000000, ok ? "" : "  <-- off");
    fails += !ok;
    return fails ? 1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void sort_u64(uint64_t *v, int n)
{
    for (int i = 1; i < n; i++)         /* insertion sort: n is small */
        for (int j = i; j > 0 && cmp_u64(&v[j - 1], &v[j]) > 0; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

KTEST(timer_accuracy, "sleeps never end early; overshoot statistics")
{
    static const uint64_t durations[] = { 50000, 200000, 1000000, 5000000 };
    enum { N = 25 };
    uint64_t over[N];
    int early = 0;

    for (unsigned d = 0; d < ARRAY_SIZE(durations); d++) {
        for (int i = 0; i < N; i++) {
            uint64_t t0 = clock_monotonic_ns();
            thread_sleep_ns(durations[d]);
            uint64_t slept = clock_monotonic_ns() - t0;
            if (slept < durations[d]) {
                early++;
                over[i] = 0;
            } else {
                over[i] = slept - durations[d];
            }
        }
        sort_u64(over, N);
        pr_info("timer_accuracy: sleep %5llu us x%d: overshoot min %llu us, median %llu us, "
                "max %llu us\n", (unsigned long long)durations[d] / 1000, N,
                (unsigned long long)over[0] / 1000, (unsigned long long)over[N / 2] / 1000,
                (unsigned long long)over[N - 1] / 1000);
    }
    if (early)
        pr_err("timer_accuracy: %d sleeps ended early\n", early);
    return early ? 1 : 0;
}

/*
 * Timers raced across CPUs. Sleepers alternate a futex wait with a timeout
 * and a plain sleep, both tens of microseconds, so the waker's wakeups and
 * the timeouts collide; they move between CPUs, so a sleep timer is armed
 * on one CPU while its last callback may still run on another. A callback
 * that outlived its wait would end a later sleep early, and a timer
 * unlinked under the wrong CPU's lock damages the lists (and a CPU whose
 * head timer was lost never wakes: the test would hang).
 */
#define RACE_SLEEPERS 4
#define RACE_RUN_NS   2000000000ULL
#define RACE_CALLBACK_DELAY_NS 30000ULL

static volatile uint32_t race_words[RACE_SLEEPERS];
static volatile bool race_stop;
static struct {
    unsigned rounds, woken, timed_out, early;
} race_stats[RACE_SLEEPERS];

static uint32_t race_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}

static void race_sleeper(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    uint64_t seed = 0x9e3779b97f4a7c15ULL * (i + 1);
    while (!race_stop) {
        int r = kfutex_wait(&race_words[i], 0, 10000 + race_rand(&seed) % 90000);
        if (r == KFUTEX_WOKEN)
            race_stats[i].woken++;
        else if (r == KFUTEX_TIMEDOUT)
            race_stats[i].timed_out++;
        uint64_t ns = 10000 + race_rand(&seed) % 90000;
        uint64_t t0 = clock_monotonic_ns();
        thread_sleep_ns(ns);
        if (clock_monotonic_ns() - t0 < ns)
            race_stats[i].early++;
        /* Now and then, move: the next timers go to another CPU's list. */
        if (++race_stats[i].rounds % 8 == 0) {
            sched_set_cpu((int)(race_rand(&seed) % nr_cpus));
            sched_set_cpu(-1);
        }
    }
}

static void race_waker(void *arg)
{
    uint64_t seed = 0x2545f4914f6cdd1dULL;
    (void)arg;
    while (!race_stop) {
        kfutex_wake(&race_words[race_rand(&seed) % RACE_SLEEPERS], 1);
        uint64_t until = clock_monotonic_ns() + race_rand(&seed) % 40000;
        while (clock_monotonic_ns() < until)
            arch_cpu_relax();
        if (race_rand(&seed) % 4 == 0)
            thread_sleep_ns(20000);
    }
}

KTEST(timer_race, "futex timeouts and sleeps raced against wakeups across CPUs")
{
    struct thread *t[RACE_SLEEPERS + 1];
    race_stop = false;
    /* Under a loaded host a vCPU can stall anywhere for milliseconds; hold
     * every callback back a little so the races happen here too. */
    timer_test_delay_callbacks(RACE_CALLBACK_DELAY_NS);
    for (int i = 0; i < RACE_SLEEPERS; i++)
        t[i] = thread_create("race_sleeper", race_sleeper, (void *)(uintptr_t)i, 0);
    t[RACE_SLEEPERS] = thread_create("race_waker", race_waker, NULL, 0);
    thread_sleep_ns(RACE_RUN_NS);
    race_stop = true;
    for (int i = 0; i <= RACE_SLEEPERS; i++)
        thread_join(t[i]);
    timer_test_delay_callbacks(0);

    int fails = timer_check_lists();
    for (int i = 0; i < RACE_SLEEPERS; i++) {
        pr_info("timer_race: sleeper %d: %u rounds, futex woken %u, timed out %u, "
                "sleeps ended early %u\n", i, race_stats[i].rounds, race_stats[i].woken,
                race_stats[i].timed_out, race_stats[i].early);
        if (race_stats[i].early || !race_stats[i].woken || !race_stats[i].timed_out)
            fails++;
    }
    return fails ? 1 : 0;
}

/* Thread life cycle: many short threads, join order, exit statuses, and a
 * semaphore-driven producer/consumer. */
static struct semaphore items, slots;
static volatile int buffer_sum;

static void producer(void *arg)
{
    for (int i = 1; i <= 200; i++) {
        sem_down(&slots);
        __atomic_fetch_add(&buffer_sum, i, __ATOMIC_RELAXED);
        sem_up(&items);
    }
}

static void consumer(void *arg)
{
    for (int i = 0; i < 200; i++) {
        sem_down(&items);
        sem_up(&slots);
    }
}

static void exit_with(void *arg)
{
    thread_exit((int)(uintptr_t)arg);
}

KTEST(threads, "create/exit/join 500 threads; statuses; semaphores")
{
    for (int round = 0; round < 50; round++) {
        struct thread *t[10];
        for (int i = 0; i < 10; i++)
            t[i] = thread_create("short", exit_with, (void *)(uintptr_t)(round + i), 0);
        for (int i = 9; i >= 0; i--) {
            int st = thread_join(t[i]);
            if (st != round + i) {
                pr_err("threads: thread exited with %d, want %d\n", st, round + i);
                return 1;
            }
        }
    }
    sem_init(&items, 0);
    sem_init(&slots, 8);
    buffer_sum = 0;
    struct thread *p = thread_create("producer", producer, NULL, 0);
    struct thread *c = thread_create("consumer", consumer, NULL, 0);
    thread_join(p);
    thread_join(c);
    if (buffer_sum != 200 * 201 / 2) {
        pr_err("threads: producer/consumer sum %d\n", buffer_sum);
        return 1;
    }
    pr_info("threads: 500 threads joined, producer/consumer done\n");
    return 0;
}
