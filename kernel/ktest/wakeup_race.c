/* ktest=poll, wakeup races: ping-pong between CPUs over eventfds and
 * pipes with every way of waiting, and a stream of events into an
 * edge-triggered set. */
#include "poll.h"

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

void part_race(void)
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
