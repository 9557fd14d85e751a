/* ktest=poll, timerfd: periodic, one-shot and absolute expirations on
 * the three clocks, and arming and closing from the other CPU. */
#include "poll.h"

static struct linux_itimerspec itspec(uint64_t value_ns, uint64_t interval_ns)
{
    struct linux_itimerspec its;
    its.it_value = ns_to_timespec(value_ns);
    its.it_interval = ns_to_timespec(interval_ns);
    return its;
}

/* Timers armed on one CPU, closed on the other as they fire, so that
 * cancel_sync meets callbacks running on the other CPU. */
#define TFD_HANDOFFS 300

struct tfd_handoff {
    struct kfile *t;
    volatile int seq, ack;      /* the hand-off in progress, and taken */
    int fails;
};

static void timerfd_armer(void *arg)
{
    struct tfd_handoff *h = arg;
    for (int i = 1; i <= TFD_HANDOFFS; i++) {
        struct kfile *t = NULL;
        if (timerfd_open(CLOCK_MONOTONIC, TFD_NONBLOCK, &t) < 0) {
            h->fails++;
        } else {
            struct linux_itimerspec its =
                itspec(MS + rnd() % 500000, rnd() % 2 ? rnd() % 5000 + 1 : 0);
            if (timerfd_set(t, 0, &its, NULL) < 0)
                h->fails++;
        }
        /* Busy hand-offs: a CPU kept out of halt gets its interrupts on
         * time (under TCG, waking a halted vCPU takes long and varies),
         * so the callback runs when expected. */
        h->t = t;
        h->seq = i;
        while (h->ack != i)
            arch_cpu_relax();
    }
}

/* Takes each timerfd and closes (or re-arms) it right about when it fires
 * on the other CPU. */
static void timerfd_closer(void *arg)
{
    struct tfd_handoff *h = arg;
    struct linux_itimerspec its, cur;
    uint64_t v;
    for (int i = 1; i <= TFD_HANDOFFS; i++) {
        while (h->seq != i)
            arch_cpu_relax();
        struct kfile *t = h->t;
        h->ack = i;
        if (!t)
            continue;
        timerfd_get(t, &cur);
        uint64_t due = now_ns() + (uint64_t)cur.it_value.tv_nsec;
        uint64_t at = due - 20000 + rnd() % 25000;
        while (now_ns() < at)
            ;
        if (i % 3 == 0) {
            its = itspec(rnd() % 20000 + 1, rnd() % 2 ? rnd() % 5000 + 1 : 0);
            timerfd_set(t, 0, &its, NULL);
        }
        if (i % 5 == 0)
            kread(t, &v, 8);
        kfile_put(t);                   /* while its callback may run there */
    }
}

void part_timerfd(void)
{
    struct kfile *t;
    struct linux_itimerspec its, cur;
    uint64_t v;

    CHECK(timerfd_open(3, 0, &t) == -EINVAL, "bad clock: EINVAL");
    CHECK(timerfd_open(CLOCK_MONOTONIC, 1, &t) == -EINVAL, "bad flags: EINVAL");
    CHECK(timerfd_open(CLOCK_MONOTONIC, TFD_NONBLOCK, &t) == 0, "timerfd_open");
    CHECK(kread(t, &v, 8) == -EAGAIN, "disarmed: EAGAIN");
    its = itspec(10 * MS, 10 * MS);
    its.it_value.tv_nsec = 1000000000;
    CHECK(timerfd_set(t, 0, &its, NULL) == -EINVAL, "tv_nsec 1e9: EINVAL");
    CHECK(timerfd_set(t, 4, &its, NULL) == -EINVAL, "bad settime flags: EINVAL");

    /* Periodic: every 10 ms; count what 55 ms hold. */
    its = itspec(10 * MS, 10 * MS);
    uint64_t before = now_ns(), t0;
    CHECK(timerfd_set(t, 0, &its, NULL) == 0, "settime periodic");
    thread_sleep_ns(55 * MS);
    CHECK(kfile_poll(t) & POLLIN, "expired: readable");
    v = kread64(t);
    uint64_t most = (now_ns() - before) / (10 * MS);
    CHECK(v >= 5 && v <= most, "5 or more expirations, no more than time allows");
    CHECK(timerfd_get(t, &cur) == 0 && cur.it_interval.tv_nsec == (int64_t)(10 * MS) &&
              cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 &&
              cur.it_value.tv_nsec <= (int64_t)(10 * MS),
          "gettime: interval, and the time to the next expiration");

    /* Old value, then disarm: nothing more. */
    its = itspec(0, 0);
    CHECK(timerfd_set(t, 0, &its, &cur) == 0 && cur.it_interval.tv_nsec == (int64_t)(10 * MS),
          "settime returns the old value");
    int fd = install(t);
    struct linux_pollfd pfd = { fd, POLLIN, 0 };
    CHECK(kpoll(&pfd, 1, kwait_deadline_after(30 * MS)) == 0, "disarmed: no expiration");
    CHECK(timerfd_get(t, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0,
          "disarmed: it_value 0");

    /* One-shot, blocking read. */
    set_nonblock(t, false);
    its = itspec(20 * MS, 0);
    t0 = now_ns();
    CHECK(timerfd_set(t, 0, &its, NULL) == 0, "settime one-shot");
    CHECK(kread64(t) == 1, "one expiration");
    CHECK(now_ns() - t0 >= 20 * MS, "not before 20 ms");

    /* poll wakes when it fires. */
    its = itspec(15 * MS, 0);
    t0 = now_ns();
    timerfd_set(t, 0, &its, NULL);
    pfd.revents = 0;
    CHECK(kpoll(&pfd, 1, kwait_deadline_after(2000 * MS)) == 1 && (pfd.revents & POLLIN),
          "poll sees the expiration");
    CHECK(now_ns() - t0 >= 15 * MS, "poll woke no earlier than the timer");
    CHECK(kread64(t) == 1, "read after poll");
    fd_close(fd);

    /* Absolute: a past monotonic time fires at once; a realtime one on time. */
    set_nonblock(t, true);
    its = itspec(1, 0);
    CHECK(timerfd_set(t, TFD_TIMER_ABSTIME, &its, NULL) == 0 && kread64(t) == 1,
          "an absolute time in the past fires at once");
    kfile_put(t);
    CHECK(timerfd_open(CLOCK_REALTIME, 0, &t) == 0, "realtime timerfd");
    t0 = now_ns();
    its = itspec(clock_realtime_ns() + 30 * MS, 0);
    CHECK(timerfd_set(t, TFD_TIMER_ABSTIME, &its, NULL) == 0 && kread64(t) == 1,
          "realtime absolute one-shot");
    CHECK(now_ns() - t0 >= 29 * MS, "realtime absolute: on time");
    kfile_put(t);

    /* A 1 ns period costs no interrupt storm: expirations are counted. */
    CHECK(timerfd_open(CLOCK_BOOTTIME, TFD_NONBLOCK, &t) == 0, "boottime timerfd");
    its = itspec(1, 1);
    timerfd_set(t, 0, &its, NULL);
    thread_sleep_ns(2 * MS);
    CHECK(kread64(t) >= 1000000, "1 ns period: a million expirations in 2 ms");
    kfile_put(t);

    /* Re-arm, read and close with expirations due any moment. */
    for (int i = 0; i < 1000; i++) {
        CHECK(timerfd_open(CLOCK_MONOTONIC, TFD_NONBLOCK, &t) == 0, "timerfd_open (loop)");
        for (int j = 0; j < 3; j++) {
            its = itspec(rnd() % 20000 + 1, rnd() % 2 ? rnd() % 20000 + 1 : 0);
            timerfd_set(t, 0, &its, NULL);
            for (volatile uint32_t k = rnd() % 20000; k; k--)
                ;
            kread(t, &v, 8);
        }
        kfile_put(t);
    }
    if (nr_cpus > 1) {
        /* Both sides pinned, since they hand off by spinning. */
        struct tfd_handoff h = { NULL, 0, 0, 0 };
        struct thread *arm = thread_create_on(1, "timerfd-armer", timerfd_armer, &h, 0);
        struct thread *closer = thread_create_on(0, "timerfd-closer", timerfd_closer, &h, 0);
        thread_join(arm);
        thread_join(closer);
        CHECK(h.fails == 0, "timerfd_open/settime on the other CPU");
    }
}
