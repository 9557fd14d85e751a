/*
 * profile=HZ: a sampling profiler. Each online CPU runs a timer HZ times a
 * second whose callback records the program counter the timer interrupt
 * stopped (struct cpu's irq_pc, set by the arch's trap code), or "idle"
 * when the CPU was in its idle thread. At exit the samples are named
 * (the kernel's symbol table, the app's .symtab) and the busiest functions
 * are printed, so a benchmark's cost can be read off one boot.
 *
 * Code running with interrupts off is sampled where it turns them back
 * on; under QEMU's TCG a timer interrupt lands at the end of a translated
 * block. Both skew single lines, not whole functions.
 */
#include <kern/app.h>
#include <kern/arch.h>
#include <kern/kmalloc.h>
#include <kern/ksyms.h>
#include <kern/options.h>
#include <kern/printf.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/profile.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>

#define MAX_SAMPLES   (1u << 16)      /* 512 KiB; at 1 kHz on 2 CPUs, 32 s */
#define MAX_NAMES     256
#define REPORT_LINES  30
#define REPORT_PCS    15
#define IDLE_PC       ((uintptr_t)0)

static uintptr_t *samples;
static unsigned nsamples, dropped;
static bool sampling;
static uint64_t period_ns;
static struct timer timers[MAX_CPUS];
/* What the scheduler and interrupts did meanwhile, from these starts. */
static uint64_t start_ns, start_switches[MAX_CPUS], start_interrupts[MAX_CPUS];
static uint64_t start_idle_ns[MAX_CPUS];

/* Each thread's CPU time over the sampling, from the scheduler's own
 * accounting: unlike a sample, it is not skewed by code that runs with
 * interrupts off, so it says which thread the busy time belongs to. */
#define MAX_THREADS 64
struct thread_time {
    int id;
    char name[THREAD_NAME_MAX];
    uint64_t start_ns, ns;
};
static struct thread_time thread_times[MAX_THREADS];
static unsigned nthread_times, threads_left_out;

static struct thread_time *thread_time_of(int id)
{
    for (unsigned i = 0; i < nthread_times; i++)
        if (thread_times[i].id == id)
            return &thread_times[i];
    return NULL;
}

static spinlock_t thread_times_lock = SPINLOCK_INIT;

/* t's entry, added (from start_ns) if it has none; NULL when the table
 * is full. */
static struct thread_time *thread_time_add(const struct thread *t, uint64_t start_ns)
{
    struct thread_time *tt = thread_time_of(t->id);
    if (tt)
        return tt;
    if (nthread_times == MAX_THREADS)
        return NULL;
    tt = &thread_times[nthread_times++];
    tt->id = t->id;
    tt->start_ns = start_ns;
    return tt;
}

static void note_thread_start(struct thread *t, void *arg)
{
    (void)arg;
    thread_time_add(t, thread_cpu_time_ns(t));
}

static bool is_idle_thread(const struct thread *t)
{
    for (unsigned cpu = 0; cpu < nr_cpus; cpu++)
        if (cpus[cpu].idle == t)
            return true;
    return false;
}

/* Threads that began after the start began at 0; idle threads are the
 * CPUs' idle lines. Called with thread_times_lock held. */
static void note_thread_end(struct thread *t, void *arg)
{
    (void)arg;
    if (is_idle_thread(t))
        return;
    struct thread_time *tt = thread_time_add(t, 0);
    if (!tt) {
        threads_left_out++;
    } else {
        strlcpy(tt->name, t->name, sizeof(tt->name));
        tt->ns = thread_cpu_time_ns(t) - tt->start_ns;
    }
}

void profile_thread_gone(struct thread *t)
{
    if (!__atomic_load_n(&sampling, __ATOMIC_ACQUIRE))
        return;
    unsigned long flags = spin_lock_irqsave(&thread_times_lock);
    note_thread_end(t, NULL);
    spin_unlock_irqrestore(&thread_times_lock, flags);
}

static void report_threads(uint64_t ms)
{
    unsigned long flags = spin_lock_irqsave(&thread_times_lock);
    thread_for_each(note_thread_end, NULL);
    spin_unlock_irqrestore(&thread_times_lock, flags);
    for (unsigned cpu = 0; cpu < nr_cpus; cpu++)
        pr_info("profile: CPU %u: idle %llu ms of %llu\n", cpu,
                (unsigned long long)((cpu_idle_time_ns(&cpus[cpu]) - start_idle_ns[cpu]) / 1000000),
                (unsigned long long)ms);
    for (unsigned i = 0; i < nthread_times; i++)
        if (thread_times[i].ns >= 1000000 && thread_times[i].name[0])
            pr_info("profile: thread %d %s: %llu ms\n", thread_times[i].id,
                    thread_times[i].name, (unsigned long long)(thread_times[i].ns / 1000000));
    if (threads_left_out)
        pr_info("profile: %u threads beyond the first %d not listed\n", threads_left_out,
                MAX_THREADS);
}

static void sample(struct timer *t)
{
    struct cpu *c = this_cpu();
    if (!__atomic_load_n(&sampling, __ATOMIC_ACQUIRE))
        return;
    uintptr_t pc = c->current == c->idle ? IDLE_PC : c->irq_pc;
    unsigned i = __atomic_fetch_add(&nsamples, 1, __ATOMIC_RELAXED);
    if (i < MAX_SAMPLES)
        samples[i] = pc;
    else
        __atomic_fetch_add(&dropped, 1, __ATOMIC_RELAXED);
    timer_add(t, arch_time_ns() + period_ns, sample);
}

/* Runs pinned on each CPU in turn: timers belong to the CPU that adds them. */
static void arm_this_cpu(void *arg)
{
    struct timer *t = arg;
    timer_add(t, arch_time_ns() + period_ns, sample);
}

void profile_start(void)
{
    if (!kopt.profile_hz)
        return;
    samples = kmalloc(MAX_SAMPLES * sizeof(*samples));
    if (!samples) {
        pr_warn("profile: no memory for %u samples; not profiling\n", MAX_SAMPLES);
        return;
    }
    period_ns = 1000000000ull / (uint64_t)kopt.profile_hz;
    start_ns = arch_time_ns();
    for (unsigned cpu = 0; cpu < nr_cpus; cpu++) {
        start_switches[cpu] = cpus[cpu].nr_switches;
        start_interrupts[cpu] = cpus[cpu].nr_interrupts;
        start_idle_ns[cpu] = cpu_idle_time_ns(&cpus[cpu]);
    }
    unsigned long flags = spin_lock_irqsave(&thread_times_lock);
    thread_for_each(note_thread_start, NULL);
    spin_unlock_irqrestore(&thread_times_lock, flags);
    __atomic_store_n(&sampling, true, __ATOMIC_RELEASE);
    for (unsigned cpu = 0; cpu < nr_cpus; cpu++) {
        struct thread *t = thread_create_on(cpu, "profile", arm_this_cpu, &timers[cpu], 0);
        if (t)
            thread_join(t);
        else
            pr_warn("profile: cannot start sampling on CPU %u\n", cpu);
    }
    pr_info("profile: sampling %ld times a second on %u CPUs\n", kopt.profile_hz, nr_cpus);
}

struct name_count {
    char name[56];
    unsigned count;
};

/* The function a sample fell in: "name" (kernel), "app:name", or a
 * bracketed class when there is no symbol. */
static void sample_name(uintptr_t pc, char *buf, size_t size)
{
    if (pc == IDLE_PC) {
        strlcpy(buf, "(idle)", size);
    } else if (app_address(pc)) {
        char sym[96];
        app_symbolize(pc, sym, sizeof(sym));
        char *plus = strchr(sym, '+');
        if (plus)
            *plus = 0;
        snprintf(buf, size, "app:%s", sym[0] ? sym : "(no symbol)");
    } else {
        uintptr_t off;
        const char *s = ksym_lookup(pc, &off);
        strlcpy(buf, s ? s : "(kernel, no symbol)", size);
    }
}

/* Shell sort (Ciura's gaps): the samples, in place, once, at exit. */
static void sort_pcs(uintptr_t *a, unsigned n)
{
    static const unsigned gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
    for (unsigned g = 0; g < ARRAY_SIZE(gaps); g++) {
        unsigned gap = gaps[g];
        for (unsigned i = gap; i < n; i++) {
            uintptr_t x = a[i];
            unsigned j = i;
            for (; j >= gap && a[j - gap] > x; j -= gap)
                a[j] = a[j - gap];
            a[j] = x;
        }
    }
}

/* The single hottest instructions: which line of a hot function. */
static void report_pcs(unsigned n)
{
    struct { uintptr_t pc; unsigned count; } top[REPORT_PCS];
    unsigned ntop = 0;
    sort_pcs(samples, n);
    for (unsigned i = 0; i < n;) {
        unsigned j = i;
        while (j < n && samples[j] == samples[i])
            j++;
        unsigned c = j - i;
        if (samples[i] != IDLE_PC && (ntop < REPORT_PCS || c > top[ntop - 1].count)) {
            unsigned k = ntop < REPORT_PCS ? ntop++ : ntop - 1;
            for (; k > 0 && top[k - 1].count < c; k--)
                top[k] = top[k - 1];
            top[k].pc = samples[i];
            top[k].count = c;
        }
        i = j;
    }
    pr_info("profile: hottest addresses:\n");
    for (unsigned i = 0; i < ntop; i++) {
        char where[96];
        if (app_address(top[i].pc)) {
            char sym[80];
            app_symbolize(top[i].pc, sym, sizeof(sym));
            snprintf(where, sizeof(where), "app:%s", sym[0] ? sym : "?");
        } else {
            ksym_format(where, sizeof(where), top[i].pc);
        }
        pr_info("profile: %8u  %#lx  %s\n", top[i].count, (unsigned long)top[i].pc, where);
    }
}

void profile_report(void)
{
    if (!samples || !__atomic_exchange_n(&sampling, false, __ATOMIC_ACQ_REL))
        return;
    unsigned n = MIN(__atomic_load_n(&nsamples, __ATOMIC_RELAXED), MAX_SAMPLES);
    struct name_count *tab = kzalloc(MAX_NAMES * sizeof(*tab));
    if (!tab) {
        pr_warn("profile: no memory for the report\n");
        return;
    }
    unsigned nnames = 0, other = 0, idle = 0;
    for (unsigned i = 0; i < n; i++) {
        char name[sizeof(tab[0].name)];
        sample_name(samples[i], name, sizeof(name));
        if (samples[i] == IDLE_PC)
            idle++;
        unsigned k = 0;
        while (k < nnames && strcmp(tab[k].name, name))
            k++;
        if (k == nnames) {
            if (nnames == MAX_NAMES) {
                other++;
                continue;
            }
            strlcpy(tab[nnames++].name, name, sizeof(tab[0].name));
        }
        tab[k].count++;
    }
    /* Busiest first (a simple insertion sort: at most MAX_NAMES). */
    for (unsigned i = 1; i < nnames; i++) {
        struct name_count x = tab[i];
        unsigned j = i;
        for (; j > 0 && tab[j - 1].count < x.count; j--)
            tab[j] = tab[j - 1];
        tab[j] = x;
    }
    unsigned busy = n - idle;
    uint64_t ms = (arch_time_ns() - start_ns) / 1000000 + 1;
    for (unsigned cpu = 0; cpu < nr_cpus; cpu++)
        pr_info("profile: CPU %u: %llu context switches/s, %llu interrupts/s over %llu ms\n", cpu,
                (unsigned long long)((cpus[cpu].nr_switches - start_switches[cpu]) * 1000 / ms),
                (unsigned long long)((cpus[cpu].nr_interrupts - start_interrupts[cpu]) * 1000 / ms),
                (unsigned long long)ms);
    report_threads(ms);
    pr_info("profile: %u samples at %ld Hz on %u CPUs (%u idle, %u busy, %u dropped)\n", n,
            kopt.profile_hz, nr_cpus, idle, busy, dropped);
    pr_info("profile:  samples   %%all  %%busy  function\n");
    for (unsigned i = 0; i < nnames && i < REPORT_LINES; i++) {
        unsigned c = tab[i].count;
        char all[16], of_busy[16] = "-";
        snprintf(all, sizeof(all), "%u.%u", c * 1000 / n / 10, c * 1000 / n % 10);
        if (strcmp(tab[i].name, "(idle)") && busy)
            snprintf(of_busy, sizeof(of_busy), "%u.%u", c * 1000 / busy / 10,
                     c * 1000 / busy % 10);
        pr_info("profile: %8u %6s %6s  %s\n", c, all, of_busy, tab[i].name);
    }
    if (other)
        pr_info("profile: %u samples in functions beyond the first %u\n", other, MAX_NAMES);
    report_pcs(n);
    kfree(tab);
}
