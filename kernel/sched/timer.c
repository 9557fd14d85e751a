/*
 * One-shot timers and clocks. Each CPU keeps its pending timers sorted by
 * deadline and arms the hardware for the earliest one, or for the end of
 * the running thread's slice when others wait: there is no periodic tick.
 */
#include <arch/irq.h>
#include <kern/arch.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/thread.h>
#include <kern/timer.h>

void arch_timer_arm(uint64_t deadline_ns);
void arch_timer_disarm(void);
uint64_t arch_rtc_read_ns(void);

static uint64_t boot_realtime_ns;

void timer_add(struct timer *t, uint64_t deadline_ns, void (*fn)(struct timer *))
{
    struct cpu *c = this_cpu();
    unsigned long flags = spin_lock_irqsave(&c->timer_lock);
    if (t->armed)
        list_del(&t->link);
    t->deadline_ns = deadline_ns;
    t->fn = fn;
    t->cpu = c;
    t->armed = true;
    struct list_head *pos;
    list_for_each(pos, &c->timers)
        if (list_entry(pos, struct timer, link)->deadline_ns > deadline_ns)
            break;
    list_insert_before(&t->link, pos);
    bool first = c->timers.next == &t->link;
    spin_unlock_irqrestore(&c->timer_lock, flags);
    if (first)
        timer_reprogram();
}

bool timer_cancel(struct timer *t)
{
    struct cpu *c = t->cpu;
    if (!c)
        return false;
    unsigned long flags = spin_lock_irqsave(&c->timer_lock);
    bool was = t->armed;
    if (was) {
        list_del(&t->link);
        t->armed = false;
    }
    spin_unlock_irqrestore(&c->timer_lock, flags);
    return was;
}

void timer_reprogram(void)
{
    struct cpu *c = this_cpu();
    unsigned long flags = spin_lock_irqsave(&c->timer_lock);
    uint64_t next = UINT64_MAX;
    if (!list_empty(&c->timers))
        next = list_first_entry(&c->timers, struct timer, link)->deadline_ns;
    if (c->rq.nr_running && c->current != c->idle)
        next = MIN(next, c->slice_end_ns);
    if (next == UINT64_MAX)
        arch_timer_disarm();
    else
        arch_timer_arm(next);
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
        /* Callbacks may add timers: run them without the lock. */
        spin_unlock_raw(&c->timer_lock);
        t->fn(t);
        spin_lock_raw(&c->timer_lock);
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

void clock_init(void)
{
    uint64_t rtc = arch_rtc_read_ns();
    boot_realtime_ns = rtc - arch_time_ns();
    pr_info("clock: wall clock %llu s since the epoch (from the RTC)\n",
            (unsigned long long)(rtc / 1000000000));
}
