/* Tickless one-shot timers: a sorted per-CPU list, with the hardware timer
 * armed for the earliest deadline (or the end of the running slice). The
 * callbacks run in interrupt context with interrupts off. */
#ifndef KERN_TIMER_H
#define KERN_TIMER_H

#include <kern/list.h>
#include <kern/types.h>

struct timer {
    struct list_head link;
    uint64_t deadline_ns;       /* monotonic */
    void (*fn)(struct timer *t);
    bool armed;
    struct cpu *cpu;
};

void timer_add(struct timer *t, uint64_t deadline_ns, void (*fn)(struct timer *));
/*
 * Timers may be added, re-added and cancelled from any CPU, but by one
 * owner at a time. timer_add moves a pending timer to this CPU's list.
 * timer_cancel returns true when the timer was still pending; its
 * callback may be running on another CPU as it returns. timer_cancel_sync
 * also waits for that callback to finish, so the owner may re-arm the
 * timer or reuse what the callback touches; never call it holding a lock
 * the callback takes, nor from the timer's own callback.
 */
bool timer_cancel(struct timer *t);
bool timer_cancel_sync(struct timer *t);
/* Reprogram the hardware for this CPU's next event. */
void timer_reprogram(void);
/* The interrupt handler's part: run what expired. */
void timer_interrupt(void);
/* Walk every CPU's list: returns how many are damaged (tests). */
int timer_check_lists(void);
/* Tests: hold each callback back by ns after its timer is dequeued. */
void timer_test_delay_callbacks(uint64_t ns);

/* Clocks: monotonic ns since boot, and wall-clock ns since the epoch. */
uint64_t clock_monotonic_ns(void);
uint64_t clock_realtime_ns(void);
/* The wall clock minus the monotonic one: constant, since Tern never sets
 * the clock. Converting with it takes one reading, not two that a
 * preemption could pull apart. */
uint64_t clock_realtime_offset_ns(void);
void clock_init(void);

#endif
