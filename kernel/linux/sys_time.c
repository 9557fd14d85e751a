/*
 * Clocks and sleeping: clock_gettime, clock_getres, gettimeofday, time,
 * nanosleep, clock_nanosleep. Sleeps are not interrupted (signals only
 * kill in Tern), so the "remaining time" outputs are never written.
 */
#include <kern/errno.h>
#include <kern/syscall.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <kern/uaccess.h>
#include "linux_time.h"

#define TIMER_ABSTIME 1

int clock_read_ns(int clock, uint64_t *ns)
{
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
        *ns = clock_realtime_ns();
        return 0;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        *ns = clock_monotonic_ns();
        return 0;
    case CLOCK_PROCESS_CPUTIME_ID:
        /* The app is the only process: all CPU time not spent idle would
         * be closer, but per-thread sums are what we keep. */
    case CLOCK_THREAD_CPUTIME_ID:
        *ns = thread_cpu_time_ns(thread_current());
        return 0;
    default:
        return -EINVAL;
    }
}

SYSCALL2(clock_gettime, int, clock, struct linux_timespec *, uts)
{
    uint64_t ns;
    int err = clock_read_ns(clock, &ns);
    if (err)
        return err;
    struct linux_timespec ts = ns_to_timespec(ns);
    return copy_to_user(uts, &ts, sizeof(ts));
}

SYSCALL2(clock_getres, int, clock, struct linux_timespec *, uts)
{
    uint64_t ns;
    int err = clock_read_ns(clock, &ns);
    if (err)
        return err;
    struct linux_timespec ts = { 0, 1 };    /* the TSC: nanoseconds */
    return uts ? copy_to_user(uts, &ts, sizeof(ts)) : 0;
}

SYSCALL2(gettimeofday, struct linux_timeval *, utv, void *, utz)
{
    if (utv) {
        uint64_t ns = clock_realtime_ns();
        struct linux_timeval tv = { (int64_t)(ns / NSEC_PER_SEC),
                                    (int64_t)(ns % NSEC_PER_SEC / 1000) };
        if (copy_to_user(utv, &tv, sizeof(tv)))
            return -EFAULT;
    }
    if (utz) {
        int32_t tz[2] = { 0, 0 };           /* UTC, no DST */
        if (copy_to_user(utz, tz, sizeof(tz)))
            return -EFAULT;
    }
    return 0;
}

LEGACY_SYSCALL1(time, int64_t *, ut)
{
    int64_t now = (int64_t)(clock_realtime_ns() / NSEC_PER_SEC);
    if (ut && copy_to_user(ut, &now, sizeof(now)))
        return -EFAULT;
    return now;
}

/* Sleep until the clock reads deadline (absolute) or for ns (relative). */
static int64_t sleep_on(int clock, uint64_t ns, bool absolute)
{
    if (absolute) {
        uint64_t now;
        int err = clock_read_ns(clock, &now);
        if (err)
            return err;
        if (ns <= now)
            return 0;
        ns -= now;
    }
    if (ns)
        thread_sleep_ns(ns);
    return 0;
}

SYSCALL2(nanosleep, const struct linux_timespec *, ureq, struct linux_timespec *, urem)
{
    struct linux_timespec ts;
    if (copy_from_user(&ts, ureq, sizeof(ts)))
        return -EFAULT;
    if (!timespec_valid(&ts))
        return -EINVAL;
    return sleep_on(CLOCK_MONOTONIC, timespec_to_ns(&ts), false);
}

SYSCALL4(clock_nanosleep, int, clock, int, flags, const struct linux_timespec *, ureq,
         struct linux_timespec *, urem)
{
    struct linux_timespec ts;
    uint64_t now;
    if (clock == CLOCK_THREAD_CPUTIME_ID)
        return -EOPNOTSUPP;             /* Linux's thread CPU clock has no nsleep */
    if (clock_read_ns(clock, &now))
        return -EINVAL;
    if (copy_from_user(&ts, ureq, sizeof(ts)))
        return -EFAULT;
    if (!timespec_valid(&ts))
        return -EINVAL;
    return sleep_on(clock, timespec_to_ns(&ts), flags & TIMER_ABSTIME);
}
