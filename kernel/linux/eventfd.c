/*
 * eventfd(2) and eventfd2(2): a 64-bit counter behind a descriptor.
 *
 * write adds an 8-byte value (never UINT64_MAX) and blocks while the sum
 * would pass UINT64_MAX - 1; read takes the whole count (or 1 with
 * EFD_SEMAPHORE) and blocks while it is 0. Both want buffers of at least
 * 8 bytes (EINVAL otherwise) and move exactly 8.
 *
 * efd->wq.lock guards the count and both readers and writers sleep on
 * efd->wq; the value is copied to or from the app buffer outside the lock.
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/waitq.h>
#include "linux_io.h"

#define EVENTFD_MAX (UINT64_MAX - 1)    /* the highest count */

struct eventfd {
    struct waitq wq;            /* its lock guards count */
    uint64_t count;
    bool semaphore;
};

static bool nonblocking(const struct kfile *f)
{
    return __atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK;
}

static int64_t eventfd_read(struct kfile *f, void *buf, size_t n, uint64_t *pos)
{
    struct eventfd *e = f->priv;
    (void)pos;
    if (n < sizeof(uint64_t))
        return -EINVAL;
    unsigned long flags = spin_lock_irqsave(&e->wq.lock);
    while (e->count == 0) {
        if (nonblocking(f)) {
            spin_unlock_irqrestore(&e->wq.lock, flags);
            return -EAGAIN;
        }
        waitq_sleep_locked(&e->wq, &flags, 0);
    }
    uint64_t v = e->semaphore ? 1 : e->count;
    e->count -= v;
    spin_unlock_irqrestore(&e->wq.lock, flags);
    waitq_wake(&e->wq, -1);
    kfile_notify(f, POLLOUT | POLLWRNORM);
    memcpy(buf, &v, sizeof(v));
    return sizeof(v);
}

static int64_t eventfd_write(struct kfile *f, const void *buf, size_t n, uint64_t *pos)
{
    struct eventfd *e = f->priv;
    uint64_t v;
    (void)pos;
    if (n < sizeof(v))
        return -EINVAL;
    memcpy(&v, buf, sizeof(v));
    if (v == UINT64_MAX)
        return -EINVAL;
    unsigned long flags = spin_lock_irqsave(&e->wq.lock);
    while (EVENTFD_MAX - e->count < v) {
        if (nonblocking(f)) {
            spin_unlock_irqrestore(&e->wq.lock, flags);
            return -EAGAIN;
        }
        waitq_sleep_locked(&e->wq, &flags, 0);
    }
    e->count += v;
    spin_unlock_irqrestore(&e->wq.lock, flags);
    /* Even for 0, as Linux does: an edge-triggered epoll sees a new edge
     * when the count is already above 0. */
    waitq_wake(&e->wq, -1);
    kfile_notify(f, POLLIN | POLLRDNORM);
    return sizeof(v);
}

static unsigned eventfd_poll(struct kfile *f)
{
    struct eventfd *e = f->priv;
    unsigned long flags = spin_lock_irqsave(&e->wq.lock);
    uint64_t c = e->count;
    spin_unlock_irqrestore(&e->wq.lock, flags);
    unsigned mask = 0;
    if (c > 0)
        mask |= POLLIN | POLLRDNORM;
    if (c < EVENTFD_MAX)
        mask |= POLLOUT | POLLWRNORM;
    if (c == UINT64_MAX)                /* cannot happen; Linux says so too */
        mask |= POLLERR;
    return mask;
}

static void eventfd_release(struct kfile *f)
{
    kfree(f->priv);
}

static const struct kfile_ops eventfd_ops = {
    .kind = "eventfd",
    .read = eventfd_read,
    .write = eventfd_write,
    .stat = kfile_anon_stat,
    .poll = eventfd_poll,
    .release = eventfd_release,
};

int eventfd_open(uint64_t initval, int flags, struct kfile **out)
{
    if (flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC))
        return -EINVAL;
    struct eventfd *e = kzalloc(sizeof(*e));
    if (!e)
        return -ENOMEM;
    waitq_init(&e->wq);
    e->count = initval;
    e->semaphore = flags & EFD_SEMAPHORE;
    struct kfile *f = kfile_alloc(&eventfd_ops, e, O_RDWR | (flags & EFD_NONBLOCK));
    if (!f) {
        kfree(e);
        return -ENOMEM;
    }
    *out = f;
    return 0;
}

/* ---- system calls -------------------------------------------------------- */

SYSCALL2(eventfd2, unsigned, initval, int, flags)
{
    struct kfile *f;
    int r = eventfd_open(initval, flags, &f);
    if (r < 0)
        return r;
    r = fd_install(f, 0, (flags & EFD_CLOEXEC) ? FD_CLOEXEC : 0);
    if (r < 0)
        kfile_put(f);
    return r;
}

LEGACY_SYSCALL1(eventfd, unsigned, initval)
{
    return sys_eventfd2(initval, 0);
}
