/* ktest=poll, poll and select over the descriptor table. */
#include "poll.h"

#define MANY 40

void part_poll(void)
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
