/*
 * One-shot timers and clocks. Each CPU keeps its pending timers sorted by
 * deadline and arms the hardware for the earliest one, or for the end of
 * the running thread's slice when others wait: there is no periodic tick.
 */
#include <arch/irq.h>
#include <kern/arch.h>
#include <kern/percpu.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include <kern/thread.h>
#include <kern/timer.h>


static uint64_t boot_realtime_ns;
/* ktest=timer_race: how long a dequeued timer waits before its callback
 * runs, to widen the window in which its owner races it. */
static uint64_t callback_delay_ns;

void timer_test_delay_callbacks(uint64_t ns)
{
    __atomic_store_n(&callback_delay_ns, ns, __ATOMIC_RELAXED);
}

static void delay_callback(void)
{
    uint64_t ns = __atomic_load_n(&callback_delay_ns, __ATOMIC_RELAXED);
    if (ns) {
        uint64_t until = arch_time_ns() + ns;
        while (arch_time_ns() < until)
            arch_cpu_relax();
    }
}

/* Arm this CPU's hardware for its next event; c->timer_lock held. */
static void reprogram_locked(struct cpu *c)
{
    uint64_t next = UINT64_MAX;
    if (!list_empty(&c->timers))
        next = list_first_entry(&c->timers, struct timer, link)->deadline_ns;
    if (c->rq.nr_running && c->current != c->idle)
        next = MIN(next, c->slice_end_ns);
    if (next == UINT64_MAX)
        arch_timer_disarm();
    else
        arch_timer_arm(next);
}

/*
 * Take t off whichever CPU's list holds it. t->cpu may be another CPU's:
 * a thread arms its sleep timer where it runs and may have moved since,
 * so the list is only touched under the lock of the CPU that owns it.
 * Returns whether t was pending; *running_on (when asked) is the other
 * CPU whose interrupt is running t's callback now, or NULL.
 */
static bool detach(struct timer *t, struct cpu **running_on)
{
    if (running_on)
        *running_on = NULL;
    for (;;) {
        struct cpu *c = __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
        if (!c)
            return false;
        unsigned long flags = spin_lock_irqsave(&c->timer_lock);
        if (t->cpu != c) {          /* moved meanwhile: follow it */
            spin_unlock_irqrestore(&c->timer_lock, flags);
            continue;
        }
        bool was = t->armed;
        if (was) {
            list_del(&t->link);
            t->armed = false;
        }
        /* On this CPU a running callback is our caller (callbacks run with
         * interrupts off, so no thread runs here meanwhile). */
        if (running_on)
            *running_on = c->running_timer == t && c != this_cpu() ? c : NULL;
        spin_unlock_irqrestore(&c->timer_lock, flags);
        return was;
    }
}

void timer_add(struct timer *t, uint64_t deadline_ns, void (*fn)(struct timer *))
{
    detach(t, NULL);
    unsigned long flags = arch_irq_save();
    struct cpu *c = this_cpu();
    spin_lock_raw(&c->timer_lock);
    t->deadline_ns = deadline_ns;
    t->fn = fn;
    t->armed = true;
    __atomic_store_n(&t->cpu, c, __ATOMIC_RELEASE);
    struct list_head *pos;
    list_for_each(pos, &c->timers)
        if (list_entry(pos, struct timer, link)->deadline_ns > deadline_ns)
            break;
    list_insert_before(&t->link, pos);
    /* Reprogram here, interrupts still off: once they are on, the thread
     * may be preempted and move, and would arm another CPU's hardware. */
    if (c->timers.next == &t->link)
        reprogram_locked(c);
    spin_unlock_raw(&c->timer_lock);
    arch_irq_restore(flags);
}

bool timer_cancel(struct timer *t)
{
    return detach(t, NULL);
}

bool timer_cancel_sync(struct timer *t)
{
    struct cpu *c;
    bool was = detach(t, &c);
    /* Dequeued by the interrupt on another CPU and still in its callback:
     * until that returns, it may act on this timer's owner (wake it). */
    if (c)
        while (__atomic_load_n(&c->running_timer, __ATOMIC_ACQUIRE) == t)
            arch_cpu_relax();
    return was;
}

void timer_reprogram(void)
{
    struct cpu *c = this_cpu();
    unsigned long flags = spin_lock_irqsave(&c->timer_lock);
    reprogram_locked(c);
    spin_unlock_irqrestore(&c->timer_lock, flags);
}

void timer_interrupt(void)
{
    struct cpu *c = this_cpu();
    uint64_t now = arch_time_ns();

    spin_lock_raw(&c->timer_lock);
    while (!list_empty(&c->timers)) {
        struct timer *t = list_first_entry(&c->timers, struct timer, link);
        if (t->deadline_ns > now)
            break;
        list_del(&t->link);
        t->armed = false;
        /* Read under the lock: once it is dropped the owner may re-arm t
         * with another callback (timer_cancel_sync waits for this one). */
        void (*fn)(struct timer *) = t->fn;
        c->running_timer = t;
        /* Callbacks may add timers: run them without the lock. */
        spin_unlock_raw(&c->timer_lock);
        delay_callback();
        fn(t);
        spin_lock_raw(&c->timer_lock);
        __atomic_store_n(&c->running_timer, NULL, __ATOMIC_RELEASE);
    }
    spin_unlock_raw(&c->timer_lock);
    sched_tick();
    timer_reprogram();
}

uint64_t clock_monotonic_ns(void)
{
    return arch_time_ns();
}

uint64_t clock_realtime_ns(void)
{
    return boot_realtime_ns + arch_time_ns();
}

uint64_t clock_realtime_offset_ns(void)
{
    return boot_realtime_ns;
}

void clock_init(void)
{
    const char *source = "";
    uint64_t now = platform_wallclock_ns(&source);
    boot_realtime_ns = now - arch_time_ns();
    pr_info("clock: wall clock %llu s since the epoch (from %s)\n",
            (unsigned long long)(now / 1000000000), source);
}

int timer_check_lists(void)
{
    int bad = 0;
    for (unsigned i = 0; i < nr_cpus; i++) {
        struct cpu *c = &cpus[i];
        if (!c->online)
            continue;
        unsigned long flags = spin_lock_irqsave(&c->timer_lock);
        uint64_t last = 0;
        struct list_head *pos;
        unsigned n = 0;
        for (pos = c->timers.next; pos != &c->timers; pos = pos->next) {
            struct timer *t = list_entry(pos, struct timer, link);
            if (pos->next->prev != pos || t->cpu != c || !t->armed || t->deadline_ns < last ||
                ++n > 100000) {
                pr_err("timer: cpu%u's list is damaged at timer %p (cpu %p, armed %d)\n",
                       i, (void *)t, (void *)t->cpu, t->armed);
                bad++;
                break;
            }
            last = t->deadline_ns;
        }
        spin_unlock_irqrestore(&c->timer_lock, flags);
    }
    return bad;
}
