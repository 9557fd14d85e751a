/*
 * kfiles, their readiness hooks, and the descriptor table (kern/file.h).
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/panic.h>
#include <kern/string.h>

/* ---- readiness hooks ----------------------------------------------------- */

void pollhead_init(struct pollhead *ph)
{
    ph->lock = (spinlock_t)SPINLOCK_INIT;
    list_init(&ph->hooks);
}

void poll_hook_add(struct pollhead *ph, struct poll_hook *h)
{
    unsigned long flags = spin_lock_irqsave(&ph->lock);
    list_add_tail(&h->link, &ph->hooks);
    spin_unlock_irqrestore(&ph->lock, flags);
}

void poll_hook_del(struct pollhead *ph, struct poll_hook *h)
{
    unsigned long flags = spin_lock_irqsave(&ph->lock);
    list_del(&h->link);
    spin_unlock_irqrestore(&ph->lock, flags);
}

void pollhead_notify(struct pollhead *ph, unsigned events)
{
    unsigned long flags = spin_lock_irqsave(&ph->lock);
    struct list_head *pos, *tmp;
    list_for_each_safe(pos, tmp, &ph->hooks) {
        struct poll_hook *h = list_entry(pos, struct poll_hook, link);
        h->fn(h, events);
    }
    spin_unlock_irqrestore(&ph->lock, flags);
}

/* ---- kfiles -------------------------------------------------------------- */

struct kfile *kfile_alloc(const struct kfile_ops *ops, void *priv, unsigned flags)
{
    struct kfile *f = kmalloc(sizeof(*f));
    if (!f)
        return NULL;
    memset(f, 0, sizeof(*f));
    f->ops = ops;
    f->refs = 1;
    f->flags = flags;
    f->priv = priv;
    pollhead_init(&f->poll);
    list_init(&f->epitems);
    return f;
}

int kfile_anon_stat(struct kfile *f, struct kstat *st)
{
    (void)f;
    memset(st, 0, sizeof(*st));
    st->mode = 0600;
    st->nlink = 1;
    return 0;
}

void kfile_get(struct kfile *f)
{
    __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
}

void kfile_put(struct kfile *f)
{
    if (!f || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL))
        return;
    epoll_file_gone(f);
    if (f->ops->release)
        f->ops->release(f);
    kfree(f->path);
    kfree(f);
}

unsigned kfile_poll(struct kfile *f)
{
    return f->ops->poll ? f->ops->poll(f) : POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
}

void kfile_notify(struct kfile *f, unsigned events)
{
    pollhead_notify(&f->poll, events);
}

/* ---- the descriptor table ------------------------------------------------ */

static spinlock_t fd_lock = SPINLOCK_INIT;
static struct kfile *fds[FD_MAX];
static uint8_t fd_flags_of[FD_MAX];

int fd_install(struct kfile *f, int min, unsigned fd_flags)
{
    if (min < 0 || min >= FD_MAX)
        return -EINVAL;
    unsigned long irq = spin_lock_irqsave(&fd_lock);
    for (int fd = min; fd < FD_MAX; fd++) {
        if (!fds[fd]) {
            fds[fd] = f;
            fd_flags_of[fd] = (uint8_t)fd_flags;
            spin_unlock_irqrestore(&fd_lock, irq);
            return fd;
        }
    }
    spin_unlock_irqrestore(&fd_lock, irq);
    return -EMFILE;
}

int fd_install_at(int fd, struct kfile *f, unsigned fd_flags)
{
    if (fd < 0 || fd >= FD_MAX)
        return -EBADF;
    unsigned long irq = spin_lock_irqsave(&fd_lock);
    struct kfile *old = fds[fd];
    fds[fd] = f;
    fd_flags_of[fd] = (uint8_t)fd_flags;
    spin_unlock_irqrestore(&fd_lock, irq);
    kfile_put(old);                 /* outside the lock: release may sleep */
    return fd;
}

struct kfile *fd_get(int fd)
{
    if (fd < 0 || fd >= FD_MAX)
        return NULL;
    unsigned long irq = spin_lock_irqsave(&fd_lock);
    struct kfile *f = fds[fd];
    if (f)
        kfile_get(f);
    spin_unlock_irqrestore(&fd_lock, irq);
    return f;
}

int fd_close(int fd)
{
    if (fd < 0 || fd >= FD_MAX)
        return -EBADF;
    unsigned long irq = spin_lock_irqsave(&fd_lock);
    struct kfile *f = fds[fd];
    fds[fd] = NULL;
    spin_unlock_irqrestore(&fd_lock, irq);
    if (!f)
        return -EBADF;
    kfile_put(f);
    return 0;
}

int fd_get_flags(int fd)
{
    if (fd < 0 || fd >= FD_MAX)
        return -EBADF;
    unsigned long irq = spin_lock_irqsave(&fd_lock);
    int r = fds[fd] ? fd_flags_of[fd] : -EBADF;
    spin_unlock_irqrestore(&fd_lock, irq);
    return r;
}

int fd_set_flags(int fd, unsigned fd_flags)
{
    if (fd < 0 || fd >= FD_MAX)
        return -EBADF;
    unsigned long irq = spin_lock_irqsave(&fd_lock);
    int r = fds[fd] ? 0 : -EBADF;
    if (!r)
        fd_flags_of[fd] = (uint8_t)fd_flags;
    spin_unlock_irqrestore(&fd_lock, irq);
    return r;
}
