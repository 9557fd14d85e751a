/*
 * Readiness and pipe-like files of the Linux layer: pipes, eventfds,
 * timerfds, poll/select and epoll (kernel/linux/{pipe,eventfd,timerfd,
 * poll,epoll}.c). Private to kernel/linux/, and to the in-kernel tests.
 *
 * Each system call there is a thin wrapper that copies the app's
 * arguments in and out (kern/uaccess.h) around a kernel-side core
 * declared here, which only sees kernel memory. The in-kernel tests
 * (kernel/ktest/poll.c) call the cores directly from kernel threads.
 *
 * Timeouts are absolute deadlines on the monotonic clock
 * (clock_monotonic_ns): KWAIT_FOREVER waits without end, and any deadline
 * already past (0 included) means "do not wait".
 */
#ifndef LINUX_LINUX_IO_H
#define LINUX_LINUX_IO_H

#include <arch/linux_abi.h>             /* struct linux_epoll_event */
#include <kern/file.h>
#include <kern/types.h>
#include <kern/waitq.h>
#include "linux_time.h"

/* Linux layouts shared by every arch; struct linux_epoll_event, which is
 * not (packed on x86_64 only), is the arch's (arch/linux_abi.h). */
struct linux_itimerspec {
    struct linux_timespec it_interval;
    struct linux_timespec it_value;
};

struct linux_pollfd {
    int fd;
    short events;
    short revents;
};

#ifndef S_IFIFO
#define S_IFIFO     0010000
#endif
#define FIONREAD    0x541B
#define PIPE_BUF    4096            /* writes up to this size are atomic */
#define PIPE_SIZE   (64 * 1024)     /* the ring of every pipe */

#define EFD_SEMAPHORE 1
#define EFD_NONBLOCK  O_NONBLOCK
#define EFD_CLOEXEC   O_CLOEXEC

#define CLOCK_REALTIME_ALARM  8
#define CLOCK_BOOTTIME_ALARM  9
#define TFD_NONBLOCK          O_NONBLOCK
#define TFD_CLOEXEC           O_CLOEXEC
#define TFD_TIMER_ABSTIME     1
#define TFD_TIMER_CANCEL_ON_SET 2

#define EPOLLIN       0x001u
#define EPOLLPRI      0x002u
#define EPOLLOUT      0x004u
#define EPOLLERR      0x008u
#define EPOLLHUP      0x010u
#define EPOLLRDNORM   0x040u
#define EPOLLRDBAND   0x080u
#define EPOLLWRNORM   0x100u
#define EPOLLWRBAND   0x200u
#define EPOLLMSG      0x400u
#define EPOLLRDHUP    0x2000u
#define EPOLLEXCLUSIVE (1u << 28)
#define EPOLLWAKEUP   (1u << 29)
#define EPOLLONESHOT  (1u << 30)
#define EPOLLET       (1u << 31)
#define EPOLL_CLOEXEC O_CLOEXEC
#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3

#define KWAIT_FOREVER UINT64_MAX

/* The deadline ns from now, saturating to KWAIT_FOREVER. */
uint64_t kwait_deadline_after(uint64_t ns);
/* waitq_sleep_locked until an absolute deadline: false (without
 * sleeping, if it has passed already) when the deadline ended the wait. */
bool kwait_until_locked(struct waitq *wq, unsigned long *flags, uint64_t deadline);

/* Could a kfile_notify hint matter to a waiter for the events in mask?
 * (0 = unknown: yes; POLLIN and POLLRDNORM count as one, and so do
 * POLLOUT and POLLWRNORM.) */
bool poll_hint_matters(unsigned hint, unsigned mask);

/* pipe.c: a pipe's two ends, [0] for reading, [1] for writing; flags may
 * hold O_NONBLOCK (for both). */
int pipe_open(unsigned flags, struct kfile *ends[2]);
/* Bytes waiting in the pipe behind f (FIONREAD); -ENOTTY: not a pipe. */
int64_t pipe_nread(struct kfile *f);

/* eventfd.c: flags are EFD_*. */
int eventfd_open(uint64_t initval, int flags, struct kfile **out);

/* timerfd.c: flags are TFD_NONBLOCK | TFD_CLOEXEC (the latter ignored
 * here: it belongs to the descriptor). */
int timerfd_open(int clockid, int flags, struct kfile **out);
/* -EINVAL: f is not a timerfd, or bad flags or values. old may be NULL. */
int timerfd_set(struct kfile *f, int flags, const struct linux_itimerspec *nv,
                struct linux_itimerspec *old);
int timerfd_get(struct kfile *f, struct linux_itimerspec *cur);

/* poll.c: fds[i].revents filled in; returns how many have events (bad
 * descriptors get POLLNVAL and count), 0 when the deadline passed. */
int kpoll(struct linux_pollfd *fds, unsigned nfds, uint64_t deadline);
/* select on bitmaps of nfds bits (64-bit words; NULL for an empty set),
 * rewritten with the ready descriptors; the number of bits set, or
 * -EBADF when a set names a closed descriptor. */
int kselect(int nfds, uint64_t *in, uint64_t *out, uint64_t *ex, uint64_t deadline);

/* epoll.c */
int epoll_open(int flags, struct kfile **out);
/* target is the file behind fd (the caller holds a reference); ev is
 * ignored for EPOLL_CTL_DEL. */
int epoll_ctl_file(struct kfile *ep, int op, int fd, struct kfile *target,
                   const struct linux_epoll_event *ev);
/* Up to max events into out; 0 when the deadline passed. */
int epoll_wait_file(struct kfile *ep, struct linux_epoll_event *out, int max, uint64_t deadline);

#endif
