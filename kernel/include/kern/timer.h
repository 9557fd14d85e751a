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
/* Returns true when the timer was still pending. */
bool timer_cancel(struct timer *t);
/* Reprogram the hardware for this CPU's next event. */
void timer_reprogram(void);
/* The interrupt handler's part: run what expired. */
void timer_interrupt(void);

/* Clocks: monotonic ns since boot, and wall-clock ns since the epoch. */
uint64_t clock_monotonic_ns(void);
uint64_t clock_realtime_ns(void);
void clock_init(void);

#endif
