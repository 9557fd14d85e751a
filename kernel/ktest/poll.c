/*
 * ktest=poll: pipes, eventfds, timerfds, poll/select and epoll, driven
 * from kernel threads through the cores behind the system calls
 * (kernel/linux/linux_io.h): kfile operations for read and write, the
 * descriptor table for poll, select and epoll_ctl.
 *
 * The parts live in the files of their subjects (see poll.h). Each
 * part prints "poll: PART ok" or "poll: FAIL: what (line N)". The
 * threaded parts run their threads on the other CPU when there is one, so
 * that wakeups race with sleeps for real; every wait in them has a
 * deadline, so a lost wakeup shows as a failure, not as a hang.
 */
#include "poll.h"

int poll_fails;
uint32_t poll_rng = 12345;

KTEST(poll, "pipes, eventfds, timerfds, poll/select and epoll from kernel threads")
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } parts[] = {
        { "pipe", part_pipe_basic },
        { "pipe-threads", part_pipe_threads },
        { "eventfd", part_eventfd },
        { "timerfd", part_timerfd },
        { "poll-select", part_poll },
        { "epoll", part_epoll_basic },
        { "epoll-nested", part_epoll_nested },
        { "lost-wakeup", part_lost_wakeup },
        { "wakeup-race", part_race },
    };
    struct kmalloc_stats before, after;
    int total = 0;

    kmalloc_stats(&before);
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        poll_fails = 0;
        parts[i].fn();
        pr_info("poll: %s %s\n", parts[i].name, poll_fails ? "FAILED" : "ok");
        total += poll_fails;
    }
    /* Every pipe, item and table went back to the heap. The heap is the
     * whole kernel's: another CPU may hold a short-lived object right now,
     * or drop a last reference a moment late (a timer callback), so the
     * count has a second to settle at zero; a leak stays. */
    long leaked = 0;
    for (int tries = 0; tries < 100; tries++) {
        kmalloc_stats(&after);
        leaked = (long)(after.allocs - after.frees) - (long)(before.allocs - before.frees);
        if (!leaked)
            break;
        thread_sleep_ns(10 * MS);
    }
    pr_info("poll: %ld objects not freed\n", leaked);
    if (leaked)
        total++;
    pr_info("poll: %d failures\n", total);
    return total ? 1 : 0;
}
