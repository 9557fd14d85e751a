/*
 * ktest=poll: pipes, eventfds, timerfds, poll/select and epoll, driven
 * from kernel threads through the cores behind the system calls
 * (kernel/linux/linux_io.h): kfile operations for read and write, the
 * descriptor table for poll, select and epoll_ctl.
 *
 * Each part prints "poll: PART ok" or "poll: FAIL: what (line N)". The
 * threaded parts run their threads on the other CPU when there is one, so
 * that wakeups race with sleeps for real; every wait in them has a
 * deadline, so a lost wakeup shows as a failure, not as a hang.
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/ktest.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <arch/irq.h>
#include "../linux/linux_io.h"

#define MS 1000000ULL

static int fails;

#define CHECK(cond, what)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            pr_info("poll: FAIL: %s (line %d)\n", what, __LINE__);             \
            fails++;                                                           \
        }                                                                      \
    } while (0)

static int64_t kread(struct kfile *f, void *buf, size_t n)
{
    return f->ops->read(f, buf, n, NULL);
}

static int64_t kwrite(struct kfile *f, const void *buf, size_t n)
{
    return f->ops->write(f, buf, n, NULL);
}

static int64_t kwrite64(struct kfile *f, uint64_t v)
{
    return kwrite(f, &v, sizeof(v));
}

static uint64_t kread64(struct kfile *f)
{
    uint64_t v = 0;
    return kread(f, &v, sizeof(v)) == sizeof(v) ? v : UINT64_MAX;
}

static void set_nonblock(struct kfile *f, bool on)
{
    if (on)
        f->flags |= O_NONBLOCK;
    else
        f->flags &= ~(unsigned)O_NONBLOCK;
}

/* Give f a descriptor while keeping our own reference. */
static int install(struct kfile *f)
{
    kfile_get(f);
    int fd = fd_install(f, 3, 0);
    if (fd < 0)
        kfile_put(f);
    return fd;
}

static struct thread *spawn(const char *name, thread_fn fn, void *arg)
{
    /* On another CPU when there is one: real races. */
    if (nr_cpus > 1)
        return thread_create_on(1, name, fn, arg, 0);
    return thread_create(name, fn, arg, 0);
}

static uint64_t now_ns(void)
{
    return clock_monotonic_ns();
}

static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
    rng_state = rng_state * 1103515245 + 12345;
    return rng_state >> 8;
}

/* ---- pipes --------------------------------------------------------------- */

static void part_pipe_basic(void)
{
    struct kfile *p[2];
    char buf[128];
    struct kstat st;

    CHECK(pipe_open(0, p) == 0, "pipe_open");
    CHECK(kwrite(p[1], "hello", 5) == 5, "write 5 bytes");
    CHECK(pipe_nread(p[0]) == 5, "FIONREAD says 5");
    CHECK(kfile_poll(p[0]) & POLLIN, "read end readable");
    CHECK(kfile_poll(p[1]) & POLLOUT, "write end writable");
    CHECK(!(kfile_poll(p[0]) & POLLHUP), "no POLLHUP while the writer is open");
    CHECK(kread(p[0], buf, 3) == 3 && memcmp(buf, "hel", 3) == 0, "read 3");
    CHECK(kread(p[0], buf, sizeof(buf)) == 2 && memcmp(buf, "lo", 2) == 0,
          "a read takes what is there");
    CHECK(pipe_nread(p[0]) == 0, "FIONREAD says 0");
    CHECK(!(kfile_poll(p[0]) & POLLIN), "drained read end not readable");
    CHECK(p[0]->ops->stat(p[0], &st) == 0 && (st.mode & S_IFMT) == S_IFIFO, "fstat S_IFIFO");
    CHECK(kread(p[1], buf, 1) == -EBADF, "read on the write end: EBADF");
    CHECK(kwrite(p[0], "x", 1) == -EBADF, "write on the read end: EBADF");
    CHECK(kread(p[0], buf, 0) == 0 && kwrite(p[1], buf, 0) == 0, "zero-length calls");

    /* Non-blocking: empty, then full, with small writes atomic. */
    set_nonblock(p[0], true);
    set_nonblock(p[1], true);
    CHECK(kread(p[0], buf, 1) == -EAGAIN, "empty non-blocking read: EAGAIN");
    char *chunk = kmalloc(20000);
    memset(chunk, 'a', 20000);
    size_t total = 0;
    int64_t r;
    while ((r = kwrite(p[1], chunk, 1000)) == 1000)
        total += 1000;
    CHECK(r == -EAGAIN, "full pipe, 1000-byte write: EAGAIN");
    CHECK(total == 65000, "65 whole 1000-byte writes fit");
    CHECK(kwrite(p[1], chunk, 536) == 536, "the last 536 bytes fit");
    CHECK(pipe_nread(p[0]) == PIPE_SIZE, "the ring holds 64 KiB");
    CHECK(kwrite(p[1], chunk, 1) == -EAGAIN, "full pipe: EAGAIN");
    CHECK(!(kfile_poll(p[1]) & POLLOUT), "full pipe not writable");
    CHECK(kread(p[0], chunk, 10000) == 10000, "read 10000");
    CHECK(kfile_poll(p[1]) & POLLOUT, "writable again");
    CHECK(kwrite(p[1], chunk, 20000) == 10000, "a long non-blocking write is partial");
    while (kread(p[0], chunk, 20000) > 0)
        ;
    kfree(chunk);

    /* The writer goes: POLLHUP, then EOF. */
    CHECK(kwrite(p[1], "z", 1) == 1, "write before close");
    kfile_put(p[1]);
    CHECK((kfile_poll(p[0]) & (POLLHUP | POLLIN)) == (POLLHUP | POLLIN), "POLLHUP|POLLIN");
    CHECK(kread(p[0], buf, 10) == 1, "the last byte");
    CHECK(kread(p[0], buf, 10) == 0, "EOF after the writer closed");
    kfile_put(p[0]);

    /* The reader goes: EPIPE and POLLERR. */
    CHECK(pipe_open(0, p) == 0, "pipe_open 2");
    kfile_put(p[0]);
    CHECK(kwrite(p[1], "x", 1) == -EPIPE, "write without readers: EPIPE");
    CHECK(kfile_poll(p[1]) & POLLERR, "POLLERR without readers");
    kfile_put(p[1]);
}

#define STREAM_BYTES (1024 * 1024)

static uint8_t pattern(size_t off)
{
    return (uint8_t)(off * 7 + (off >> 9));
}

static void stream_writer(void *arg)
{
    struct kfile *w = arg;
    uint8_t *buf = kmalloc(9000);
    uint32_t seed = 99;
    size_t off = 0;
    while (off < STREAM_BYTES) {
        seed = seed * 1103515245 + 12345;
        size_t n = MIN((size_t)(seed >> 8) % 9000 + 1, STREAM_BYTES - off);
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(off + i);
        if (kwrite(w, buf, n) != (int64_t)n)
            break;
        off += n;
    }
    kfree(buf);
    kfile_put(w);                   /* EOF for the reader */
}

struct chunk_writer {
    struct kfile *w;
    int id;
};

#define CHUNKS 150

static void chunk_writer(void *arg)
{
    struct chunk_writer *cw = arg;
    uint8_t *buf = kmalloc(PIPE_BUF);
    for (int i = 0; i < CHUNKS; i++) {
        memset(buf, (uint8_t)(cw->id * 64 + i % 64), PIPE_BUF);
        if (kwrite(cw->w, buf, PIPE_BUF) != PIPE_BUF)
            break;
        if (rnd() % 4 == 0)
            thread_yield();
    }
    kfree(buf);
    kfile_put(cw->w);
}

static void part_pipe_threads(void)
{
    struct kfile *p[2];
    uint8_t *buf = kmalloc(PIPE_BUF * 3);

    /* One blocking writer, one blocking reader, odd sizes both sides. */
    CHECK(pipe_open(0, p) == 0, "pipe_open");
    struct thread *t = spawn("pipe-writer", stream_writer, p[1]);
    size_t off = 0;
    bool same = true;
    int64_t n;
    while ((n = kread(p[0], buf, rnd() % (PIPE_BUF * 3) + 1)) > 0) {
        for (int64_t i = 0; i < n; i++)
            same &= buf[i] == pattern(off + (size_t)i);
        off += (size_t)n;
    }
    thread_join(t);
    CHECK(n == 0, "the stream ends with EOF");
    CHECK(off == STREAM_BYTES, "1 MiB went through the pipe");
    CHECK(same, "the bytes arrived in order and intact");
    kfile_put(p[0]);

    /* Three writers of PIPE_BUF-byte chunks: none is split or mixed. */
    CHECK(pipe_open(0, p) == 0, "pipe_open");
    struct chunk_writer cw[3];
    struct thread *ts[3];
    for (int i = 0; i < 3; i++) {
        cw[i].w = p[1];
        cw[i].id = i + 1;
        kfile_get(p[1]);
        ts[i] = i == 0 ? spawn("chunk-writer", chunk_writer, &cw[i])
                       : thread_create("chunk-writer", chunk_writer, &cw[i], 0);
    }
    kfile_put(p[1]);
    size_t got = 0, have = 0;
    bool whole = true;
    while ((n = kread(p[0], buf + have, PIPE_BUF - have)) > 0) {
        have += (size_t)n;
        if (have < PIPE_BUF)
            continue;
        for (size_t i = 1; i < PIPE_BUF; i++)
            whole &= buf[i] == buf[0];
        got += PIPE_BUF;
        have = 0;
    }
    for (int i = 0; i < 3; i++)
        thread_join(ts[i]);
    CHECK(got == 3 * CHUNKS * PIPE_BUF && have == 0, "every chunk arrived");
    CHECK(whole, "writes of PIPE_BUF bytes are atomic");
    kfile_put(p[0]);
    kfree(buf);
}

/* ---- eventfd ------------------------------------------------------------- */

static volatile bool blocked_write_done;

static void blocked_writer(void *arg)
{
    struct kfile *e = arg;
    kwrite64(e, 1);                 /* blocks: the count is at its maximum */
    blocked_write_done = true;
}

static void part_eventfd(void)
{
    struct kfile *e;
    uint64_t v;

    CHECK(eventfd_open(0, 0x100, &e) == -EINVAL, "bad flags: EINVAL");
    CHECK(eventfd_open(3, EFD_NONBLOCK, &e) == 0, "eventfd_open");
    CHECK(kread64(e) == 3, "the initial value");
    CHECK(kread(e, &v, 8) == -EAGAIN, "drained: EAGAIN");
    CHECK(kread(e, &v, 7) == -EINVAL && kwrite(e, &v, 4) == -EINVAL, "short buffers: EINVAL");
    CHECK(kwrite64(e, UINT64_MAX) == -EINVAL, "writing UINT64_MAX: EINVAL");
    CHECK((kfile_poll(e) & (POLLIN | POLLOUT)) == POLLOUT, "empty: writable only");
    CHECK(kwrite64(e, 5) == 8 && kwrite64(e, 2) == 8, "two writes");
    CHECK(kfile_poll(e) & POLLIN, "readable");
    CHECK(kread64(e) == 7, "a read takes the sum");
    CHECK(kwrite64(e, UINT64_MAX - 1) == 8, "up to the maximum");
    CHECK(!(kfile_poll(e) & POLLOUT), "at the maximum: not writable");
    CHECK(kwrite64(e, 1) == -EAGAIN, "over the maximum: EAGAIN");
    CHECK(kwrite64(e, 0) == 8, "adding 0 always works");

    /* A blocking write waits for a read. */
    set_nonblock(e, false);
    blocked_write_done = false;
    struct thread *t = spawn("efd-writer", blocked_writer, e);
    thread_sleep_ns(20 * MS);
    CHECK(!blocked_write_done, "the overflowing write did not block");
    CHECK(kread64(e) == UINT64_MAX - 1, "read the maximum");
    thread_join(t);
    CHECK(blocked_write_done, "the blocked write finished");
    CHECK(kread64(e) == 1, "and added its 1");
    kfile_put(e);

    /* EFD_SEMAPHORE: reads take 1 at a time. */
    CHECK(eventfd_open(0, EFD_SEMAPHORE | EFD_NONBLOCK, &e) == 0, "semaphore eventfd");
    CHECK(kwrite64(e, 3) == 8, "write 3");
    CHECK(kread64(e) == 1 && kread64(e) == 1 && kread64(e) == 1, "three reads of 1");
    CHECK(kread(e, &v, 8) == -EAGAIN, "then EAGAIN");
    kfile_put(e);
}

/* ---- timerfd ------------------------------------------------------------- */

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

static void part_timerfd(void)
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

/* ---- poll and select ----------------------------------------------------- */

struct delayed_write {
    struct kfile *f;
    uint64_t delay_ns;
    uint64_t value;                 /* for eventfds; pipes get one byte */
};

static void delayed_writer(void *arg)
{
    struct delayed_write *dw = arg;
    thread_sleep_ns(dw->delay_ns);
    if (dw->f->ops->kind[0] == 'p')
        kwrite(dw->f, "!", 1);
    else
        kwrite64(dw->f, dw->value);
}

#define MANY 40

static void part_poll(void)
{
    struct kfile *p[2];
    struct linux_pollfd pfd[4];
    char c;

    CHECK(pipe_open(0, p) == 0, "pipe_open");
    int rfd = install(p[0]), wfd = install(p[1]);
    CHECK(rfd >= 3 && wfd >= 3, "descriptors");

    /* Timeouts: 0 returns at once, 50 ms waits 50 ms. */
    pfd[0] = (struct linux_pollfd){ rfd, POLLIN, 0 };
    CHECK(kpoll(pfd, 1, 0) == 0 && pfd[0].revents == 0, "timeout 0 on an empty pipe");
    uint64_t t0 = now_ns();
    CHECK(kpoll(pfd, 1, kwait_deadline_after(50 * MS)) == 0, "50 ms: times out");
    CHECK(now_ns() - t0 >= 50 * MS, "not before 50 ms");
    t0 = now_ns();
    CHECK(kpoll(NULL, 0, kwait_deadline_after(10 * MS)) == 0 && now_ns() - t0 >= 10 * MS,
          "no descriptors: a 10 ms sleep");

    /* Negative fds are skipped, closed ones get POLLNVAL, ERR/HUP are
     * reported unasked. */
    pfd[0] = (struct linux_pollfd){ -1, POLLIN, 0x7f };
    pfd[1] = (struct linux_pollfd){ wfd, POLLOUT, 0 };
    pfd[2] = (struct linux_pollfd){ FD_MAX - 1, POLLIN, 0 };
    pfd[3] = (struct linux_pollfd){ rfd, POLLIN, 0 };
    CHECK(kpoll(pfd, 4, KWAIT_FOREVER) == 2, "two with events");
    CHECK(pfd[0].revents == 0, "fd -1: revents 0");
    CHECK(pfd[1].revents == (POLLOUT), "write end: POLLOUT");
    CHECK(pfd[2].revents == POLLNVAL, "closed fd: POLLNVAL");
    CHECK(pfd[3].revents == 0, "empty read end: nothing");

    /* A write from another CPU wakes a poll with no timeout. */
    struct delayed_write dw = { p[1], 20 * MS, 0 };
    t0 = now_ns();
    struct thread *t = spawn("delayed-write", delayed_writer, &dw);
    pfd[0] = (struct linux_pollfd){ rfd, POLLIN, 0 };
    CHECK(kpoll(pfd, 1, kwait_deadline_after(5000 * MS)) == 1 && pfd[0].revents == POLLIN,
          "woken by the write");
    CHECK(now_ns() - t0 >= 20 * MS, "not before the write");
    thread_join(t);

    /* select: readable, then empty with a timeout, then a closed fd. */
    uint64_t in[FD_MAX / 64], out[FD_MAX / 64];
    memset(in, 0, sizeof(in));
    memset(out, 0, sizeof(out));
    in[rfd / 64] |= 1ULL << (rfd % 64);
    out[wfd / 64] |= 1ULL << (wfd % 64);
    int n = MAX(rfd, wfd) + 1;
    CHECK(kselect(n, in, out, NULL, 0) == 2, "select: both ready");
    CHECK((in[rfd / 64] >> (rfd % 64)) & 1, "select: the read bit");
    CHECK((out[wfd / 64] >> (wfd % 64)) & 1, "select: the write bit");
    CHECK(kread(p[0], &c, 1) == 1, "read the byte");
    in[rfd / 64] |= 1ULL << (rfd % 64);
    t0 = now_ns();
    CHECK(kselect(n, in, NULL, NULL, kwait_deadline_after(20 * MS)) == 0, "select times out");
    CHECK(now_ns() - t0 >= 20 * MS, "select: not before 20 ms");
    CHECK(!((in[rfd / 64] >> (rfd % 64)) & 1), "select clears what is not ready");
    in[(FD_MAX - 1) / 64] |= 1ULL << ((FD_MAX - 1) % 64);
    CHECK(kselect(FD_MAX, in, NULL, NULL, 0) == -EBADF, "select on a closed fd: EBADF");

    /* Many descriptors (past the on-stack array): only the written one. */
    struct kfile *e[MANY];
    struct linux_pollfd *many = kmalloc(MANY * sizeof(*many));
    for (int i = 0; i < MANY; i++) {
        CHECK(eventfd_open(0, EFD_NONBLOCK, &e[i]) == 0, "eventfd_open");
        many[i] = (struct linux_pollfd){ install(e[i]), POLLIN, 0 };
    }
    struct delayed_write dw2 = { e[MANY - 7], 10 * MS, 1 };
    t = spawn("delayed-write", delayed_writer, &dw2);
    CHECK(kpoll(many, MANY, kwait_deadline_after(5000 * MS)) == 1, "one of many");
    CHECK(many[MANY - 7].revents == POLLIN && many[0].revents == 0, "the right one");
    thread_join(t);
    for (int i = 0; i < MANY; i++) {
        fd_close(many[i].fd);
        kfile_put(e[i]);
    }
    kfree(many);

    /* The writer closes: POLLHUP without asking. */
    fd_close(wfd);
    kfile_put(p[1]);
    pfd[0] = (struct linux_pollfd){ rfd, 0, 0 };
    CHECK(kpoll(pfd, 1, 0) == 1 && pfd[0].revents == POLLHUP, "POLLHUP unasked");
    fd_close(rfd);
    kfile_put(p[0]);
}

/* ---- epoll --------------------------------------------------------------- */

static int ctl(struct kfile *ep, int op, int fd, uint32_t events, uint64_t data)
{
    struct linux_epoll_event ev;
    ev.events = events;
    ev.data = data;
    struct kfile *f = fd_get(fd);
    if (!f)
        return -EBADF;
    int r = epoll_ctl_file(ep, op, fd, f, &ev);
    kfile_put(f);
    return r;
}

static int ewait(struct kfile *ep, struct linux_epoll_event *ev, int max, uint64_t ms)
{
    return epoll_wait_file(ep, ev, max, ms == UINT64_MAX ? KWAIT_FOREVER
                                                         : kwait_deadline_after(ms * MS));
}

static const struct kfile_ops dummy_ops = { .kind = "dummy" };

struct epoll_waiter {
    struct kfile *ep;
    int got;
    uint64_t data;
};

static void epoll_waiter(void *arg)
{
    struct epoll_waiter *w = arg;
    struct linux_epoll_event ev;
    w->got = ewait(w->ep, &ev, 1, 5000);
    w->data = ev.data;
}

static void part_epoll_basic(void)
{
    struct kfile *ep, *p[2], *e;
    struct linux_epoll_event ev[16];

    CHECK(epoll_open(1, &ep) == -EINVAL, "bad flags: EINVAL");
    CHECK(epoll_open(EPOLL_CLOEXEC, &ep) == 0, "epoll_open");
    CHECK(pipe_open(0, p) == 0 && eventfd_open(0, EFD_NONBLOCK, &e) == 0, "files");
    int epfd = install(ep), rfd = install(p[0]), wfd = install(p[1]), efd = install(e);

    CHECK(ctl(ep, EPOLL_CTL_ADD, rfd, EPOLLIN, 1) == 0, "ADD the pipe");
    CHECK(ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 2) == 0, "ADD the eventfd");
    CHECK(ctl(ep, EPOLL_CTL_ADD, rfd, EPOLLIN, 1) == -EEXIST, "ADD again: EEXIST");
    CHECK(ctl(ep, EPOLL_CTL_MOD, wfd, EPOLLOUT, 3) == -ENOENT, "MOD unknown: ENOENT");
    CHECK(ctl(ep, EPOLL_CTL_DEL, wfd, 0, 0) == -ENOENT, "DEL unknown: ENOENT");
    CHECK(ctl(ep, EPOLL_CTL_ADD, epfd, EPOLLIN, 0) == -EINVAL, "ADD itself: EINVAL");
    CHECK(ctl(ep, 7, rfd, EPOLLIN, 0) == -EINVAL, "bad op: EINVAL");
    CHECK(ctl(e, EPOLL_CTL_ADD, rfd, EPOLLIN, 0) == -EINVAL, "not an epoll fd: EINVAL");
    CHECK(ctl(ep, EPOLL_CTL_ADD, wfd, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 0) == -EINVAL,
          "EPOLLEXCLUSIVE with EPOLLONESHOT: EINVAL");
    struct kfile *d = kfile_alloc(&dummy_ops, NULL, O_RDONLY);
    int dfd = install(d);
    CHECK(ctl(ep, EPOLL_CTL_ADD, dfd, EPOLLIN, 0) == -EPERM, "a file without poll: EPERM");
    fd_close(dfd);
    kfile_put(d);

    /* Nothing ready: a 10 ms wait times out. */
    uint64_t t0 = now_ns();
    CHECK(ewait(ep, ev, 16, 10) == 0 && now_ns() - t0 >= 10 * MS, "10 ms timeout");
    CHECK(ewait(ep, ev, 16, 0) == 0, "timeout 0");
    CHECK(epoll_wait_file(ep, ev, 0, 0) == -EINVAL, "maxevents 0: EINVAL");

    /* The pipe, then the eventfd, from another CPU. */
    struct delayed_write dw1 = { p[1], 20 * MS, 0 }, dw2 = { e, 100 * MS, 5 };
    struct thread *t1 = spawn("delayed-write", delayed_writer, &dw1);
    struct thread *t2 = spawn("delayed-write", delayed_writer, &dw2);
    CHECK(ewait(ep, ev, 16, 5000) == 1 && ev[0].data == 1 && ev[0].events == EPOLLIN,
          "the pipe first, alone");
    char c;
    CHECK(kread(p[0], &c, 1) == 1, "read the pipe");
    CHECK(ewait(ep, ev, 16, 5000) == 1 && ev[0].data == 2, "then the eventfd, alone");
    thread_join(t1);
    thread_join(t2);

    /* Level-triggered: reported until read. */
    CHECK(ewait(ep, ev, 16, 0) == 1 && ev[0].data == 2, "level-triggered: again");
    CHECK(ewait(ep, ev, 16, 0) == 1 && ev[0].data == 2, "level-triggered: and again");
    CHECK(kread64(e) == 5, "read the eventfd");
    CHECK(ewait(ep, ev, 16, 0) == 0, "nothing once read");

    /* MOD changes events and data. */
    CHECK(ctl(ep, EPOLL_CTL_MOD, efd, EPOLLOUT, 22) == 0, "MOD to EPOLLOUT");
    CHECK(ewait(ep, ev, 16, 0) == 1 && ev[0].data == 22 && ev[0].events == EPOLLOUT,
          "EPOLLOUT reported with the new data");
    CHECK(ctl(ep, EPOLL_CTL_DEL, efd, 0, 0) == 0, "DEL");
    kwrite64(e, 1);
    CHECK(ewait(ep, ev, 16, 0) == 0, "a deleted item is not reported");

    /* Edge-triggered: once per change. */
    CHECK(ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 3) == 0, "ADD EPOLLET");
    CHECK(ewait(ep, ev, 16, 0) == 1 && ev[0].data == 3, "ET: the first edge");
    CHECK(ewait(ep, ev, 16, 0) == 0, "ET: not again without a change");
    kwrite64(e, 1);
    CHECK(ewait(ep, ev, 16, 0) == 1 && ev[0].data == 3, "ET: a new write is a new edge");
    CHECK(ctl(ep, EPOLL_CTL_DEL, efd, 0, 0) == 0, "DEL ET");

    /* One-shot: once, until MOD re-arms it. */
    CHECK(ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLONESHOT, 4) == 0, "ADD EPOLLONESHOT");
    CHECK(ewait(ep, ev, 16, 0) == 1 && ev[0].data == 4, "one-shot fires");
    kwrite64(e, 1);
    CHECK(ewait(ep, ev, 16, 0) == 0, "one-shot: disabled after firing");
    CHECK(ctl(ep, EPOLL_CTL_MOD, efd, EPOLLIN | EPOLLONESHOT, 5) == 0, "MOD re-arms");
    CHECK(ewait(ep, ev, 16, 0) == 1 && ev[0].data == 5, "one-shot fires again");
    CHECK(ctl(ep, EPOLL_CTL_DEL, efd, 0, 0) == 0, "DEL one-shot");
    kread64(e);

    /* maxevents: the rest stays ready, and every item gets its turn. */
    struct kfile *many[10];
    int mfd[10];
    for (int i = 0; i < 10; i++) {
        eventfd_open(1, EFD_NONBLOCK, &many[i]);
        mfd[i] = install(many[i]);
        CHECK(ctl(ep, EPOLL_CTL_ADD, mfd[i], EPOLLIN, 100 + (uint64_t)i) == 0, "ADD many");
    }
    unsigned seen = 0;
    for (int round = 0; round < 3; round++) {
        int n = ewait(ep, ev, 4, 0);
        CHECK(n == 4, "4 at a time");
        for (int i = 0; i < n; i++)
            if (ev[i].data >= 100 && ev[i].data < 110)
                seen |= 1u << (ev[i].data - 100);
    }
    CHECK(seen == 0x3ff, "all 10 within 3 rounds of 4");
    for (int i = 0; i < 10; i++) {
        fd_close(mfd[i]);
        kfile_put(many[i]);         /* the last reference: the items go */
    }
    CHECK(ewait(ep, ev, 16, 0) == 0, "closed files leave the set");

    /* Closing the only reference of a watched write end: the item goes,
     * holding no reference, so the reader sees the hang-up. */
    CHECK(ctl(ep, EPOLL_CTL_ADD, wfd, EPOLLOUT, 9) == 0, "ADD the write end");
    CHECK(ewait(ep, ev, 16, 0) == 1 && ev[0].data == 9, "write end writable");
    fd_close(wfd);
    kfile_put(p[1]);
    CHECK(kfile_poll(p[0]) & POLLHUP, "the epoll item did not keep the write end open");
    CHECK(ctl(ep, EPOLL_CTL_MOD, rfd, EPOLLIN | EPOLLRDHUP, 1) == 0, "MOD the read end");
    CHECK(ewait(ep, ev, 16, 0) == 1 && ev[0].data == 1 && (ev[0].events & EPOLLHUP),
          "EPOLLHUP reported unasked");

    /* Closing the epoll set with items in it unhooks them. */
    fd_close(epfd);
    kfile_put(ep);
    fd_close(efd);
    kfile_put(e);
    fd_close(rfd);
    kfile_put(p[0]);
}

static void part_epoll_nested(void)
{
    struct kfile *a, *b, *c, *p[2];
    struct linux_epoll_event ev[4];

    CHECK(epoll_open(0, &a) == 0 && epoll_open(0, &b) == 0 && epoll_open(0, &c) == 0, "sets");
    CHECK(pipe_open(0, p) == 0, "pipe");
    int afd = install(a), bfd = install(b), cfd = install(c), rfd = install(p[0]);

    /* a watches b watches the pipe. */
    CHECK(ctl(b, EPOLL_CTL_ADD, rfd, EPOLLIN, 1) == 0, "b watches the pipe");
    CHECK(ctl(a, EPOLL_CTL_ADD, bfd, EPOLLIN, 2) == 0, "a watches b");
    CHECK(ctl(b, EPOLL_CTL_ADD, afd, EPOLLIN, 3) == -ELOOP, "b watching a: ELOOP");
    CHECK(ctl(c, EPOLL_CTL_ADD, afd, EPOLLIN, 4) == 0, "c watches a");
    CHECK(ctl(b, EPOLL_CTL_ADD, cfd, EPOLLIN, 5) == -ELOOP, "b watching c: ELOOP (via a)");
    CHECK(ctl(a, EPOLL_CTL_ADD, bfd, EPOLLIN | EPOLLEXCLUSIVE, 2) == -EINVAL,
          "EPOLLEXCLUSIVE on an epoll file: EINVAL");

    struct linux_pollfd pfd = { afd, POLLIN, 0 };
    CHECK(kpoll(&pfd, 1, 0) == 0, "poll on an idle epoll fd");
    CHECK(ewait(a, ev, 4, 0) == 0, "a: nothing yet");

    /* Threads sleeping in a and in c are woken through the chain. */
    struct epoll_waiter wa = { a, -1, 0 }, wc = { c, -1, 0 };
    struct thread *ta = spawn("epoll-wait-a", epoll_waiter, &wa);
    struct thread *tc = thread_create("epoll-wait-c", epoll_waiter, &wc, 0);
    thread_sleep_ns(10 * MS);
    kwrite(p[1], "x", 1);
    thread_join(ta);
    thread_join(tc);
    CHECK(wa.got == 1 && wa.data == 2, "a reports b");
    CHECK(wc.got == 1 && wc.data == 4, "c reports a");
    pfd.revents = 0;
    CHECK(kpoll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN, "poll on a ready epoll fd");
    CHECK(ewait(b, ev, 4, 0) == 1 && ev[0].data == 1, "b reports the pipe");

    /* Drained: every level becomes idle again. */
    char ch;
    kread(p[0], &ch, 1);
    CHECK(ewait(c, ev, 4, 0) == 0 && ewait(a, ev, 4, 0) == 0, "idle after the read");
    pfd.revents = 0;
    CHECK(kpoll(&pfd, 1, 0) == 0, "the epoll fd is idle after the read");

    /* Nesting depth: a chain of sets stops at EP_MAX_NESTS. */
    struct kfile *chain[7];
    int chfd[7], r = 0, depth = 0;
    for (int i = 0; i < 7; i++) {
        epoll_open(0, &chain[i]);
        chfd[i] = install(chain[i]);
        if (i && r == 0) {
            r = ctl(chain[i], EPOLL_CTL_ADD, chfd[i - 1], EPOLLIN, 0);
            if (r == 0)
                depth = i;
        }
    }
    CHECK(r == -ELOOP && depth == 4, "5 sets deep at most");
    for (int i = 6; i >= 0; i--) {
        fd_close(chfd[i]);
        kfile_put(chain[i]);
    }

    /* Close in an awkward order: the inner set before the outer ones. */
    fd_close(bfd);
    kfile_put(b);
    kwrite(p[1], "y", 1);
    CHECK(ewait(a, ev, 4, 0) == 0, "b left a when it closed");
    fd_close(afd);
    kfile_put(a);
    fd_close(cfd);
    kfile_put(c);
    fd_close(rfd);
    kfile_put(p[0]);
    kfile_put(p[1]);
}

/*
 * A file that turns ready in the middle of a poll() call: the change lands
 * exactly between a waiter's look at the file and its sleep, the window
 * a lost wakeup needs. Deterministic, unlike the races below.
 */
struct racy {
    int polls_left;             /* the poll() call that turns it ready */
    bool ready;
};

static unsigned racy_poll(struct kfile *f)
{
    struct racy *r = f->priv;
    unsigned mask = r->ready ? POLLIN : 0;
    if (!r->ready && --r->polls_left == 0) {
        r->ready = true;
        kfile_notify(f, POLLIN);    /* after the answer was made */
    }
    return mask;
}

static const struct kfile_ops racy_ops = { .kind = "racy", .poll = racy_poll };

static void part_lost_wakeup(void)
{
    struct racy r;
    struct kfile *f = kfile_alloc(&racy_ops, &r, O_RDONLY);
    int fd = install(f);

    /* poll: turns ready during the pass made after the hooks went on. */
    r = (struct racy){ 2, false };
    struct linux_pollfd pfd = { fd, POLLIN, 0 };
    uint64_t t0 = now_ns();
    CHECK(kpoll(&pfd, 1, kwait_deadline_after(500 * MS)) == 1 && pfd.revents == POLLIN,
          "poll: a change between the look and the sleep was lost");
    CHECK(now_ns() - t0 < 400 * MS, "poll: slept through a change");

    /* select: the same core. */
    r = (struct racy){ 2, false };
    uint64_t set[FD_MAX / 64];
    memset(set, 0, sizeof(set));
    set[fd / 64] = 1ULL << (fd % 64);
    CHECK(kselect(fd + 1, set, NULL, NULL, kwait_deadline_after(500 * MS)) == 1,
          "select: a change between the look and the sleep was lost");

    /* epoll: a notification puts the item on the ready list while the file
     * is not ready yet; it turns ready while epoll_wait's scan asks it. */
    struct kfile *ep;
    struct linux_epoll_event ev;
    epoll_open(0, &ep);
    for (int et = 0; et < 2; et++) {
        r = (struct racy){ 100, false };
        CHECK(ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN | (et ? EPOLLET : 0), 7) == 0, "ADD racy");
        r.polls_left = 1;
        kfile_notify(f, POLLIN);
        t0 = now_ns();
        CHECK(ewait(ep, &ev, 1, 500) == 1 && ev.data == 7,
              "epoll: a change during the scan was lost");
        CHECK(now_ns() - t0 < 400 * MS, "epoll: slept through a change");
        CHECK(ctl(ep, EPOLL_CTL_DEL, fd, 0, 0) == 0, "DEL racy");
    }
    kfile_put(ep);
    fd_close(fd);
    kfile_put(f);
}

/* Many wakeups racing with sleeps. In the ping-pong each round needs
 * exactly one wakeup on each side, so a lost one stalls a waiter until its
 * 2 s deadline, which counts as a failure. */
#define PONG_ROUNDS  3000
#define RACE_EVENTS 20000

enum wait_how { BY_READ, BY_POLL, BY_SELECT, BY_EPOLL, BY_EPOLL_ET };
static const char *const how_name[] = { "read", "poll", "select", "epoll", "epoll-ET" };

struct pong_side {
    struct kfile *in, *out;     /* wait for and read in; then write out */
    int in_fd;
    enum wait_how how;
    struct kfile *ep;           /* for BY_EPOLL*: watches in */
    int rounds;
    bool stalled;
};

static bool pong_wait(struct pong_side *s)
{
    uint64_t deadline = kwait_deadline_after(2000 * MS);
    struct linux_epoll_event ev;
    uint64_t set[FD_MAX / 64];
    switch (s->how) {
    case BY_READ:
        return true;                /* the read blocks (without a deadline) */
    case BY_POLL: {
        struct linux_pollfd pfd = { s->in_fd, POLLIN, 0 };
        return kpoll(&pfd, 1, deadline) == 1;
    }
    case BY_SELECT:
        memset(set, 0, sizeof(set));
        set[s->in_fd / 64] = 1ULL << (s->in_fd % 64);
        return kselect(s->in_fd + 1, set, NULL, NULL, deadline) == 1;
    default:
        return epoll_wait_file(s->ep, &ev, 1, deadline) == 1;
    }
}

static bool pong_pass(struct pong_side *s)
{
    uint64_t v = 1;
    bool pipe = s->in->ops->kind[0] == 'p';
    if (!pong_wait(s))
        return false;
    if (kread(s->in, &v, pipe ? 1 : 8) <= 0)
        return false;
    return kwrite(s->out, &v, pipe ? 1 : 8) > 0;
}

static void pong_partner(void *arg)
{
    struct pong_side *s = arg;
    while (s->rounds < PONG_ROUNDS && pong_pass(s))
        s->rounds++;
    s->stalled = s->rounds < PONG_ROUNDS;
}

static void pong_setup(struct pong_side *s, enum wait_how how)
{
    s->how = how;
    s->rounds = 0;
    s->stalled = false;
    s->ep = NULL;
    s->in_fd = install(s->in);
    set_nonblock(s->in, how != BY_READ);
    if (how == BY_EPOLL || how == BY_EPOLL_ET) {
        epoll_open(0, &s->ep);
        ctl(s->ep, EPOLL_CTL_ADD, s->in_fd, EPOLLIN | (how == BY_EPOLL_ET ? EPOLLET : 0), 0);
    }
}

static void pong_teardown(struct pong_side *s)
{
    kfile_put(s->ep);
    fd_close(s->in_fd);
}

/* Ping-pong between this thread (waiting with how_a) and one on the other
 * CPU (how_b), over eventfds or pipes. */
static void pingpong(bool pipes, enum wait_how how_a, enum wait_how how_b)
{
    struct kfile *x[2], *y[2];
    struct pong_side a, b;
    if (pipes) {
        pipe_open(0, x);            /* a -> b */
        pipe_open(0, y);            /* b -> a */
        a.in = y[0], a.out = x[1];
        b.in = x[0], b.out = y[1];
    } else {
        eventfd_open(0, 0, &x[0]);
        eventfd_open(0, 0, &y[0]);
        a.in = y[0], a.out = x[0];
        b.in = x[0], b.out = y[0];
    }
    pong_setup(&a, how_a);
    pong_setup(&b, how_b);
    uint64_t one = 1, t0 = now_ns();
    struct thread *t = spawn("pong", pong_partner, &b);
    kwrite(a.out, &one, pipes ? 1 : 8);
    while (a.rounds < PONG_ROUNDS - 1 && pong_pass(&a))
        a.rounds++;
    a.stalled = a.rounds < PONG_ROUNDS - 1;
    thread_join(t);
    pr_info("poll: ping-pong over %s, %s against %s: %d rounds in %llu ms%s\n",
            pipes ? "pipes" : "eventfds", how_name[how_a], how_name[how_b], b.rounds,
            (unsigned long long)((now_ns() - t0) / MS),
            a.stalled || b.stalled ? ", STALLED" : "");
    CHECK(!a.stalled && !b.stalled, "ping-pong stalled: a wakeup was lost");
    pong_teardown(&a);
    pong_teardown(&b);
    kfile_put(x[0]);
    kfile_put(y[0]);
    if (pipes) {
        kfile_put(x[1]);
        kfile_put(y[1]);
    }
}

static void race_producer(void *arg)
{
    struct kfile *e = arg;
    for (int i = 0; i < RACE_EVENTS; i++) {
        kwrite64(e, 1);
        if (rnd() % 8 == 0)
            thread_yield();
    }
}

static void part_race(void)
{
    struct kfile *ep, *e;
    struct linux_epoll_event ev;

    pingpong(false, BY_POLL, BY_EPOLL_ET);
    pingpong(false, BY_EPOLL, BY_SELECT);
    pingpong(false, BY_READ, BY_EPOLL);
    pingpong(true, BY_EPOLL_ET, BY_POLL);
    pingpong(true, BY_READ, BY_READ);
    pingpong(true, BY_SELECT, BY_EPOLL);

    /* A stream of events into an edge-triggered set: all are counted. */
    CHECK(epoll_open(0, &ep) == 0 && eventfd_open(0, EFD_NONBLOCK, &e) == 0, "files");
    int efd = install(e);
    CHECK(ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 1) == 0, "ADD EPOLLET");
    struct thread *t = spawn("race-producer", race_producer, e);
    uint64_t sum = 0;
    bool stalled = false;
    while (sum < RACE_EVENTS) {
        if (ewait(ep, &ev, 1, 2000) != 1) {
            stalled = true;
            break;
        }
        uint64_t v = kread64(e);
        if (v != UINT64_MAX)
            sum += v;
    }
    thread_join(t);
    CHECK(!stalled, "epoll: a wakeup was lost");
    CHECK(sum == RACE_EVENTS, "epoll: every event counted");
    fd_close(efd);
    kfile_put(e);
    kfile_put(ep);
}

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
        fails = 0;
        parts[i].fn();
        pr_info("poll: %s %s\n", parts[i].name, fails ? "FAILED" : "ok");
        total += fails;
    }
    /* Every pipe, item and table went back to the heap. */
    kmalloc_stats(&after);
    long leaked = (long)(after.allocs - after.frees) - (long)(before.allocs - before.frees);
    pr_info("poll: %ld objects not freed\n", leaked);
    if (leaked)
        total++;
    pr_info("poll: %d failures\n", total);
    return total ? 1 : 0;
}
