/* Linux time structures (x86_64/aarch64 layouts) and conversions, for the
 * system calls that take times. */
#ifndef LINUX_TIME_H
#define LINUX_TIME_H

#include <kern/types.h>

struct linux_timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};

struct linux_timeval {
    int64_t tv_sec;
    int64_t tv_usec;
};

#define NSEC_PER_SEC 1000000000ULL

#define CLOCK_REALTIME           0
#define CLOCK_MONOTONIC          1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID  3
#define CLOCK_MONOTONIC_RAW      4
#define CLOCK_REALTIME_COARSE    5
#define CLOCK_MONOTONIC_COARSE   6
#define CLOCK_BOOTTIME           7

static inline bool timespec_valid(const struct linux_timespec *ts)
{
    return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && (uint64_t)ts->tv_nsec < NSEC_PER_SEC;
}

/* Saturates instead of overflowing (a timeout of centuries is forever). */
static inline uint64_t timespec_to_ns(const struct linux_timespec *ts)
{
    if ((uint64_t)ts->tv_sec >= UINT64_MAX / NSEC_PER_SEC - 1)
        return UINT64_MAX / 2;
    return (uint64_t)ts->tv_sec * NSEC_PER_SEC + (uint64_t)ts->tv_nsec;
}

static inline struct linux_timespec ns_to_timespec(uint64_t ns)
{
    return (struct linux_timespec){ (int64_t)(ns / NSEC_PER_SEC),
                                    (int64_t)(ns % NSEC_PER_SEC) };
}

/* The clock's current value in ns; -EINVAL for an unknown clock. */
int clock_read_ns(int clock, uint64_t *ns);

#endif
