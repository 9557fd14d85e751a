/*
 * ktest=poll (poll.c runs it): what its parts share. Each part lives in
 * the file of its subject (pipe.c, eventfd.c, timerfd.c, poll_select.c,
 * epoll.c, wakeup_race.c) and counts its failures in poll_fails through
 * CHECK, which prints "poll: FAIL: what (line N)".
 */
#ifndef KTEST_POLL_H
#define KTEST_POLL_H

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

extern int poll_fails;
extern uint32_t poll_rng;           /* rnd's state: one sequence for the suite */

#define CHECK(cond, what)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            pr_info("poll: FAIL: %s (line %d)\n", what, __LINE__);             \
            poll_fails++;                                                      \
        }                                                                      \
    } while (0)

static inline int64_t kread(struct kfile *f, void *buf, size_t n)
{
    return f->ops->read(f, buf, n, NULL);
}

static inline int64_t kwrite(struct kfile *f, const void *buf, size_t n)
{
    return f->ops->write(f, buf, n, NULL);
}

static inline int64_t kwrite64(struct kfile *f, uint64_t v)
{
    return kwrite(f, &v, sizeof(v));
}

static inline uint64_t kread64(struct kfile *f)
{
    uint64_t v = 0;
    return kread(f, &v, sizeof(v)) == sizeof(v) ? v : UINT64_MAX;
}

static inline void set_nonblock(struct kfile *f, bool on)
{
    if (on)
        f->flags |= O_NONBLOCK;
    else
        f->flags &= ~(unsigned)O_NONBLOCK;
}

/* Give f a descriptor while keeping our own reference. */
static inline int install(struct kfile *f)
{
    kfile_get(f);
    int fd = fd_install(f, 3, 0);
    if (fd < 0)
        kfile_put(f);
    return fd;
}

static inline struct thread *spawn(const char *name, thread_fn fn, void *arg)
{
    /* On another CPU when there is one: real races. */
    if (nr_cpus > 1)
        return thread_create_on(1, name, fn, arg, 0);
    return thread_create(name, fn, arg, 0);
}

static inline uint64_t now_ns(void)
{
    return clock_monotonic_ns();
}

static inline uint32_t rnd(void)
{
    poll_rng = poll_rng * 1103515245 + 12345;
    return poll_rng >> 8;
}

/* A thread that writes to a pipe or an eventfd after a delay. */
struct delayed_write {
    struct kfile *f;
    uint64_t delay_ns;
    uint64_t value;                 /* for eventfds; pipes get one byte */
};

static inline void delayed_writer(void *arg)
{
    struct delayed_write *dw = arg;
    thread_sleep_ns(dw->delay_ns);
    if (dw->f->ops->kind[0] == 'p')
        kwrite(dw->f, "!", 1);
    else
        kwrite64(dw->f, dw->value);
}

/* epoll_ctl and epoll_wait on files, the way the system calls reach them. */
static inline int ctl(struct kfile *ep, int op, int fd, uint32_t events, uint64_t data)
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

static inline int ewait(struct kfile *ep, struct linux_epoll_event *ev, int max, uint64_t ms)
{
    return epoll_wait_file(ep, ev, max, ms == UINT64_MAX ? KWAIT_FOREVER
                                                         : kwait_deadline_after(ms * MS));
}

/* The parts, in the order poll.c runs them. */
void part_pipe_basic(void);
void part_pipe_threads(void);
void part_eventfd(void);
void part_timerfd(void);
void part_poll(void);
void part_epoll_basic(void);
void part_epoll_nested(void);
void part_lost_wakeup(void);
void part_race(void);

#endif
