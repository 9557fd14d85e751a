/*
 * pollio: waiting for file descriptors and time, the way event loops do.
 *
 * A writer thread feeds a pipe and an eventfd with delays while the main
 * thread waits for them with epoll, then the same readiness is checked
 * with poll, ppoll and select; each of those must also time out on time
 * (returning 0 no earlier than asked, measured with CLOCK_MONOTONIC), and
 * timerfds must count their expirations. Prints "pollio: ok" when every
 * check held; otherwise names the failed checks and exits 1.
 *
 * System calls: pipe2, eventfd2, epoll_create1, epoll_ctl, epoll_wait (or
 * epoll_pwait), poll (ppoll in musl), ppoll, select (pselect6), timerfd_create,
 * timerfd_settime, timerfd_gettime, clock_gettime, nanosleep, and clone and
 * futex for the writer thread.
 */
#define _GNU_SOURCE             /* pipe2, ppoll */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL            /* nanoseconds */

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("pollio: FAIL: %s\n", what);
        failures++;
    }
}

static void check_sys(long r, const char *what)
{
    if (r < 0) {
        printf("pollio: FAIL: %s: %s\n", what, strerror(errno));
        failures++;
    }
}

static long long now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * MS };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ------------------------------------------------------- writer thread --- */

static int pipe_fd[2], event_fd;

static void *writer(void *arg)
{
    (void)arg;
    sleep_ms(20);
    if (write(pipe_fd[1], "tern", 4) != 4)
        printf("pollio: FAIL: write to the pipe: %s\n", strerror(errno));
    sleep_ms(20);
    uint64_t v = 5;
    if (write(event_fd, &v, sizeof(v)) != sizeof(v))
        printf("pollio: FAIL: write to the eventfd: %s\n", strerror(errno));
    return NULL;
}

/* epoll: the pipe first, then the eventfd, as the writer sends them. */
static void epoll_part(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    check_sys(ep, "epoll_create1");
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 1 };
    check_sys(epoll_ctl(ep, EPOLL_CTL_ADD, pipe_fd[0], &ev), "epoll_ctl ADD pipe");
    ev.data.u32 = 2;
    check_sys(epoll_ctl(ep, EPOLL_CTL_ADD, event_fd, &ev), "epoll_ctl ADD eventfd");

    /* Nothing is ready yet: a 10 ms epoll_wait times out. */
    struct epoll_event got[4];
    long long t0 = now();
    int n = epoll_wait(ep, got, 4, 10);
    check(n == 0, "epoll_wait before any write did not time out");
    check(now() - t0 >= 10 * MS, "epoll_wait returned before its 10 ms timeout");

    pthread_t t;
    if (pthread_create(&t, NULL, writer, NULL) != 0) {
        check(0, "pthread_create");
        return;
    }

    /* First the pipe. */
    n = epoll_wait(ep, got, 4, 5000);
    check(n == 1 && got[0].data.u32 == 1 && (got[0].events & EPOLLIN),
          "the first epoll_wait did not report the pipe alone");
    char buf[8] = { 0 };
    check(read(pipe_fd[0], buf, sizeof(buf)) == 4 && memcmp(buf, "tern", 4) == 0,
          "the pipe did not carry the writer's bytes");

    /* Then the eventfd (the pipe is drained, so it is not reported). */
    n = epoll_wait(ep, got, 4, 5000);
    check(n == 1 && got[0].data.u32 == 2 && (got[0].events & EPOLLIN),
          "the second epoll_wait did not report the eventfd alone");
    pthread_join(t, NULL);

    /* An eventfd adds up writes and a read takes the sum and resets it. */
    uint64_t v = 2;
    check(write(event_fd, &v, sizeof(v)) == sizeof(v), "second write to the eventfd");
    check(read(event_fd, &v, sizeof(v)) == sizeof(v) && v == 7,
          "the eventfd did not sum its writes (5 + 2)");
    check(read(event_fd, &v, sizeof(v)) < 0 && errno == EAGAIN,
          "a drained non-blocking eventfd did not say EAGAIN");

    /* EPOLL_CTL_DEL: a removed descriptor is not reported. */
    check_sys(epoll_ctl(ep, EPOLL_CTL_DEL, event_fd, NULL), "epoll_ctl DEL");
    v = 1;
    check(write(event_fd, &v, sizeof(v)) == sizeof(v), "third write to the eventfd");
    n = epoll_wait(ep, got, 4, 0);
    check(n == 0, "epoll_wait reported a descriptor removed with EPOLL_CTL_DEL");
    check(read(event_fd, &v, sizeof(v)) == sizeof(v) && v == 1, "eventfd read after DEL");
    close(ep);
}

/* poll, ppoll, select: readiness and timeouts on the pipe. */
static void poll_part(void)
{
    struct pollfd p = { .fd = pipe_fd[0], .events = POLLIN };

    /* The README's example: a 50 ms timeout returns 0 after >= 50 ms. */
    long long t0 = now();
    int n = poll(&p, 1, 50);
    long long dt = now() - t0;
    check(n == 0, "poll on an empty pipe did not time out");
    check(dt >= 50 * MS, "poll returned before its 50 ms timeout");
    check(dt < 5000 * MS, "poll took over 5 s for a 50 ms timeout");

    /* The write end is writable. */
    struct pollfd w = { .fd = pipe_fd[1], .events = POLLOUT };
    check(poll(&w, 1, 0) == 1 && (w.revents & POLLOUT), "poll: the pipe's write end is not writable");

    /* ppoll with a timespec timeout, then ready at once. */
    struct timespec ts = { 0, 30 * MS };
    t0 = now();
    n = ppoll(&p, 1, &ts, NULL);
    check(n == 0 && now() - t0 >= 30 * MS, "ppoll did not wait its 30 ms timeout");
    check(write(pipe_fd[1], "x", 1) == 1, "write to the pipe");
    p.revents = 0;
    ts.tv_nsec = 1000 * MS - 1;
    t0 = now();
    n = ppoll(&p, 1, &ts, NULL);
    check(n == 1 && (p.revents & POLLIN), "ppoll did not see the pipe readable");
    check(now() - t0 < 500 * MS, "ppoll waited although the pipe was readable");
    p.revents = 0;
    check(poll(&p, 1, 0) == 1 && (p.revents & POLLIN), "poll did not see the pipe readable");

    /* select on the same, still unread, pipe. */
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(pipe_fd[0], &rd);
    struct timeval tv = { 1, 0 };
    n = select(pipe_fd[0] + 1, &rd, NULL, NULL, &tv);
    check(n == 1 && FD_ISSET(pipe_fd[0], &rd), "select did not see the pipe readable");
    char c;
    check(read(pipe_fd[0], &c, 1) == 1 && c == 'x', "read the byte back");
    FD_ZERO(&rd);
    FD_SET(pipe_fd[0], &rd);
    tv.tv_sec = 0;
    tv.tv_usec = 20000;
    t0 = now();
    n = select(pipe_fd[0] + 1, &rd, NULL, NULL, &tv);
    check(n == 0 && !FD_ISSET(pipe_fd[0], &rd), "select on an empty pipe did not time out");
    check(now() - t0 >= 20 * MS, "select returned before its 20 ms timeout");

    /* A non-blocking empty pipe says EAGAIN. */
    check(read(pipe_fd[0], &c, 1) < 0 && errno == EAGAIN,
          "read on an empty non-blocking pipe did not say EAGAIN");
}

/* timerfd: a periodic timer counts expirations; a one-shot one blocks a
 * read until it fires. */
static void timerfd_part(void)
{
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    check_sys(tfd, "timerfd_create");
    if (tfd < 0)
        return;
    struct itimerspec its = { .it_interval = { 0, 10 * MS }, .it_value = { 0, 10 * MS } };
    long long before = now();
    check_sys(timerfd_settime(tfd, 0, &its, NULL), "timerfd_settime periodic");
    long long t0 = now();
    /* Wait 55 ms from after the timer was armed: at least 5 expirations
     * (10, 20, 30, 40, 50 ms) have happened; no more than the time since
     * before arming allows. */
    while (now() - t0 < 55 * MS)
        sleep_ms(5);
    struct pollfd p = { .fd = tfd, .events = POLLIN };
    check(poll(&p, 1, 1000) == 1 && (p.revents & POLLIN), "poll on an expired timerfd");
    uint64_t exp = 0;
    check(read(tfd, &exp, sizeof(exp)) == sizeof(exp), "read the timerfd");
    long long most = (now() - before) / (10 * MS);
    check(exp >= 5, "the periodic timerfd counted fewer than 5 expirations in 55 ms");
    check((long long)exp <= most, "the periodic timerfd counted more expirations than time allows");
    struct itimerspec cur;
    check_sys(timerfd_gettime(tfd, &cur), "timerfd_gettime");
    check(cur.it_interval.tv_nsec == 10 * MS, "timerfd_gettime lost the interval");
    /* Disarm: no more expirations. */
    struct itimerspec off = { 0 };
    check_sys(timerfd_settime(tfd, 0, &off, NULL), "timerfd_settime disarm");
    p.revents = 0;
    check(poll(&p, 1, 30) == 0, "a disarmed timerfd became readable");
    close(tfd);

    /* A blocking one-shot timer: read() returns 1 after >= 20 ms. */
    tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    check_sys(tfd, "timerfd_create (blocking)");
    if (tfd < 0)
        return;
    struct itimerspec once = { .it_value = { 0, 20 * MS } };
    t0 = now();
    check_sys(timerfd_settime(tfd, 0, &once, NULL), "timerfd_settime one-shot");
    exp = 0;
    check(read(tfd, &exp, sizeof(exp)) == sizeof(exp) && exp == 1,
          "the one-shot timerfd read did not return 1 expiration");
    check(now() - t0 >= 20 * MS, "the one-shot timerfd fired before 20 ms");
    close(tfd);
}

int main(void)
{
    if (pipe2(pipe_fd, O_CLOEXEC | O_NONBLOCK) < 0) {
        printf("pollio: FAIL: pipe2: %s\n", strerror(errno));
        return 1;
    }
    event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (event_fd < 0) {
        printf("pollio: FAIL: eventfd: %s\n", strerror(errno));
        return 1;
    }
    epoll_part();
    poll_part();
    timerfd_part();

    /* Closing the write end: the read end reports POLLHUP (and EOF). */
    close(pipe_fd[1]);
    struct pollfd p = { .fd = pipe_fd[0], .events = POLLIN };
    check(poll(&p, 1, 1000) == 1 && (p.revents & POLLHUP), "no POLLHUP after the write end closed");
    char c;
    check(read(pipe_fd[0], &c, 1) == 0, "read after the write end closed is not EOF");

    if (failures) {
        printf("pollio: %d check(s) failed\n", failures);
        return 1;
    }
    printf("pollio: ok\n");
    return 0;
}
