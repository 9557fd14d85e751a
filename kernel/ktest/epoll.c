/* ktest=poll, epoll: level and edge triggering, nested sets, and a
 * readiness change during the scan that must not be lost. */
#include "poll.h"

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

void part_epoll_basic(void)
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

    /* The pipe, then the eventfd, from another CPU. The eventfd's writer
     * starts only once the pipe was reported: with both writers started
     * together, a loaded host could delay this thread past the second
     * write and the pipe would not come alone. */
    struct delayed_write dw1 = { p[1], 20 * MS, 0 }, dw2 = { e, 80 * MS, 5 };
    struct thread *t1 = spawn("delayed-write", delayed_writer, &dw1);
    CHECK(ewait(ep, ev, 16, 5000) == 1 && ev[0].data == 1 && ev[0].events == EPOLLIN,
          "the pipe first, alone");
    struct thread *t2 = spawn("delayed-write", delayed_writer, &dw2);
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

void part_epoll_nested(void)
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

void part_lost_wakeup(void)
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
