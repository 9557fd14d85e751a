/*
 * epoll_create(2), epoll_create1(2), epoll_ctl(2), epoll_wait(2),
 * epoll_pwait(2), epoll_pwait2(2).
 *
 * An epoll set holds items, each watching one (file, fd) pair through a
 * poll_hook on the file's pollhead. When the hook fires the item goes on
 * the ready list; epoll_wait takes the ready list, asks each file's poll()
 * what holds now and reports that. Level-triggered items that reported
 * something go back on the ready list (so the next call asks again);
 * EPOLLET items do not, and come back only on the next notification;
 * EPOLLONESHOT items are disabled until EPOLL_CTL_MOD. EPOLLEXCLUSIVE is
 * checked as Linux checks it and then treated as a plain item (every
 * waiter is woken); EPOLLWAKEUP is dropped.
 *
 * An epoll file is pollable itself (POLLIN when an item would report), so
 * it can be watched by poll/select and by other epoll sets. Cycles are
 * refused with ELOOP, as are chains of more than EP_MAX_NESTS sets.
 *
 * Item lifetime, as in Linux: an item holds no reference to its file. It
 * goes away with EPOLL_CTL_DEL, when the epoll file is released, or when
 * the last reference to the watched file goes (kfile_put calls
 * epoll_file_gone before the file's release). So closing a descriptor
 * removes its items only if no dup of it remains open, and an item whose
 * descriptor was closed but whose file lives on in a dup still reports,
 * under the old descriptor number: the same quirk as Linux.
 *
 * Locks. Sleeping ones, outermost first:
 *   ep_global           serializes ADD, DEL, the release of epoll sets
 *                       and epoll_file_gone: every change to an items
 *                       list or to a file's epitems list. The loop check
 *                       walks other sets under it. (MOD changes no list.)
 *   ep->mtx             one set's items and the scans of its ready list
 *                       (ctl, epoll_wait, poll of the epoll file). A scan
 *                       calls files' poll(), so an outer set's mtx is
 *                       taken before an inner one's; cycles are refused.
 * Spinlocks (interrupts off):
 *   file->poll.lock     a file's hooks and its epitems list. A hook runs
 *                       under it and takes ep->lock; after dropping that,
 *                       it wakes ep->wq and notifies the epoll file's own
 *                       pollhead, which nests poll.locks upwards through
 *                       the (acyclic) nesting of sets.
 *   ep->wq.lock         epoll_wait sleepers; held while checking the
 *                       ready list under ep->lock.
 *   ep->lock            the ready list, item states, item events.
 * Nothing calls poll() or takes a mutex with a spinlock held, and nothing
 * takes a file's poll.lock while holding ep->lock. kfile_put (which may
 * take ep_global through epoll_file_gone) is never called with any of
 * these held.
 *
 * No lost wakeups: a hook puts the item on the ready list under ep->lock
 * and then wakes ep->wq; epoll_wait checks the ready list while holding
 * ep->wq.lock and sleeps without dropping it, so the wake finds it
 * queued. Notifications that arrive while a scan has an item in hand set
 * item->again, and the scan puts the item back rather than losing them.
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/uaccess.h>
#include <kern/waitq.h>
#include "linux_io.h"

#define EP_MAX_NESTS    4           /* epoll sets below one another, as Linux */
#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EP_EXCLUSIVE_OK (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | \
                         EPOLLEXCLUSIVE)
#define EP_MAX_EVENTS   (0x7fffffff / (int)sizeof(struct linux_epoll_event))
#define EP_BATCH        1024        /* events reported by one call, at most */
#define SIGSET_SIZE     8

struct epoll {
    struct mutex mtx;           /* items; scans */
    spinlock_t lock;            /* ready and the items' state, again, events */
    struct waitq wq;            /* epoll_wait sleepers */
    struct list_head items;
    struct list_head ready;
    struct kfile *file;
};

enum { EPI_IDLE, EPI_READY, EPI_SCANNING };

struct epitem {
    struct list_head link;      /* ep->items */
    struct list_head rdlink;    /* ep->ready, or a scan's batch */
    struct list_head flink;     /* target->epitems */
    struct poll_hook hook;
    struct epoll *ep;
    struct kfile *target;       /* no reference: see the top */
    int fd;
    uint32_t events;            /* what was asked for, with EPOLLERR|EPOLLHUP */
    uint64_t data;
    int state;                  /* EPI_* */
    bool again;                 /* notified while a scan had it */
};

static struct mutex ep_global = MUTEX_INIT(ep_global);
static const struct kfile_ops epoll_ops;

/* The events an item waits for now (none once a one-shot has fired). */
static uint32_t item_want(const struct epitem *it)
{
    return it->events & ~EP_PRIVATE_BITS;
}

/* Put an item on the ready list (if it is not there or being scanned)
 * and wake the set's waiters. Any context. */
static void ep_make_ready(struct epitem *it, unsigned hint)
{
    struct epoll *ep = it->ep;
    bool wake = false;
    unsigned long flags = spin_lock_irqsave(&ep->lock);
    uint32_t want = item_want(it);
    if (want && poll_hint_matters(hint, want)) {
        if (it->state == EPI_IDLE) {
            list_add_tail(&it->rdlink, &ep->ready);
            it->state = EPI_READY;
            wake = true;
        } else if (it->state == EPI_SCANNING) {
            it->again = true;
        }
    }
    spin_unlock_irqrestore(&ep->lock, flags);
    if (wake) {
        waitq_wake(&ep->wq, -1);
        kfile_notify(ep->file, POLLIN | POLLRDNORM);
    }
}

static void ep_hook(struct poll_hook *h, unsigned events)
{
    ep_make_ready(container_of(h, struct epitem, hook), events);
}

/*
 * Look at the ready items: report up to max events into out, or, with out
 * NULL, only count ready items (at most max) and leave them ready.
 * Called with ep->mtx held.
 */
static int ep_scan(struct epoll *ep, struct linux_epoll_event *out, int max)
{
    struct list_head batch, *pos;
    struct epitem *it;
    int n = 0;

    /* Take the whole ready list; hooks meanwhile set "again". */
    list_init(&batch);
    unsigned long flags = spin_lock_irqsave(&ep->lock);
    if (!list_empty(&ep->ready)) {
        batch.next = ep->ready.next;
        batch.prev = ep->ready.prev;
        batch.next->prev = &batch;
        batch.prev->next = &batch;
        list_init(&ep->ready);
    }
    list_for_each(pos, &batch) {
        it = list_entry(pos, struct epitem, rdlink);
        it->state = EPI_SCANNING;
        it->again = false;
    }
    spin_unlock_irqrestore(&ep->lock, flags);

    while (n < max && !list_empty(&batch)) {
        it = list_first_entry(&batch, struct epitem, rdlink);
        /* events only change under ep->mtx, which we hold. */
        uint32_t want = item_want(it);
        uint32_t r = want ? kfile_poll(it->target) & want : 0;

        flags = spin_lock_irqsave(&ep->lock);
        list_del(&it->rdlink);
        bool keep = it->again;
        if (r) {
            n++;
            if (!out) {
                keep = true;
            } else {
                out[n - 1].events = r;
                out[n - 1].data = it->data;
                if (it->events & EPOLLONESHOT)
                    it->events &= EP_PRIVATE_BITS;
                else if (!(it->events & EPOLLET))
                    keep = true;        /* level-triggered: ask again next time */
            }
        }
        if (keep) {
            list_add_tail(&it->rdlink, &ep->ready);
            it->state = EPI_READY;
        } else {
            it->state = EPI_IDLE;
        }
        spin_unlock_irqrestore(&ep->lock, flags);
    }

    /* What was not looked at stays ready, ahead of the rest. */
    flags = spin_lock_irqsave(&ep->lock);
    while (!list_empty(&batch)) {
        it = list_entry(batch.prev, struct epitem, rdlink);
        list_del(&it->rdlink);
        list_add(&it->rdlink, &ep->ready);
        it->state = EPI_READY;
    }
    bool more = !list_empty(&ep->ready);
    spin_unlock_irqrestore(&ep->lock, flags);
    /* Other waiters may take what is left (Linux does the same). */
    if (more && out)
        waitq_wake(&ep->wq, -1);
    return n;
}

/* ---- items --------------------------------------------------------------- */

/* The item of ep watching (target, fd), or NULL. The caller holds ep->mtx
 * and a reference to target, so the item cannot go meanwhile. */
static struct epitem *ep_find(struct epoll *ep, struct kfile *target, int fd)
{
    struct epitem *found = NULL;
    struct list_head *pos;
    unsigned long flags = spin_lock_irqsave(&target->poll.lock);
    list_for_each(pos, &target->epitems) {
        struct epitem *it = list_entry(pos, struct epitem, flink);
        if (it->ep == ep && it->fd == fd) {
            found = it;
            break;
        }
    }
    spin_unlock_irqrestore(&target->poll.lock, flags);
    return found;
}

/* ep_global and ep->mtx held. */
static int ep_insert(struct epoll *ep, struct kfile *target, int fd, uint32_t events,
                     uint64_t data)
{
    struct epitem *it = kzalloc(sizeof(*it));
    if (!it)
        return -ENOMEM;
    it->ep = ep;
    it->target = target;
    it->fd = fd;
    it->events = events;
    it->data = data;
    it->state = EPI_IDLE;
    list_init(&it->rdlink);
    it->hook.fn = ep_hook;
    list_add_tail(&it->link, &ep->items);
    unsigned long flags = spin_lock_irqsave(&target->poll.lock);
    list_add_tail(&it->flink, &target->epitems);
    spin_unlock_irqrestore(&target->poll.lock, flags);
    poll_hook_add(&target->poll, &it->hook);
    /* Already ready? (A change from here on fires the hook.) */
    if (kfile_poll(target) & item_want(it))
        ep_make_ready(it, 0);
    return 0;
}

/* ep->mtx held. */
static void ep_modify(struct epitem *it, uint32_t events, uint64_t data)
{
    unsigned long flags = spin_lock_irqsave(&it->ep->lock);
    it->events = events;
    it->data = data;
    spin_unlock_irqrestore(&it->ep->lock, flags);
    if (kfile_poll(it->target) & item_want(it))
        ep_make_ready(it, 0);
}

/* ep_global and ep->mtx held; no scan runs, so the item is not in one. */
static void ep_remove(struct epoll *ep, struct epitem *it)
{
    /* Once off the pollhead its hook neither runs nor will run. */
    poll_hook_del(&it->target->poll, &it->hook);
    unsigned long flags = spin_lock_irqsave(&it->target->poll.lock);
    list_del(&it->flink);
    spin_unlock_irqrestore(&it->target->poll.lock, flags);
    flags = spin_lock_irqsave(&ep->lock);
    if (it->state == EPI_READY)
        list_del(&it->rdlink);
    spin_unlock_irqrestore(&ep->lock, flags);
    list_del(&it->link);
    kfree(it);
}

void epoll_file_gone(struct kfile *f)
{
    /* No new item can appear: adding one needs a reference to f. */
    unsigned long flags = spin_lock_irqsave(&f->poll.lock);
    bool watched = !list_empty(&f->epitems);
    spin_unlock_irqrestore(&f->poll.lock, flags);
    if (!watched)
        return;
    mutex_lock(&ep_global);
    for (;;) {
        struct epitem *it = NULL;
        flags = spin_lock_irqsave(&f->poll.lock);
        if (!list_empty(&f->epitems))
            it = list_first_entry(&f->epitems, struct epitem, flink);
        spin_unlock_irqrestore(&f->poll.lock, flags);
        if (!it)
            break;
        /* Stable: removals need ep_global, which we hold. */
        struct epoll *ep = it->ep;
        mutex_lock(&ep->mtx);
        ep_remove(ep, it);
        mutex_unlock(&ep->mtx);
    }
    mutex_unlock(&ep_global);
}

/* ---- nesting ------------------------------------------------------------- */

static bool is_epoll(const struct kfile *f)
{
    return f->ops == &epoll_ops;
}

/* How many levels of epoll sets hang below ep (none: 0), or -1 when the
 * sets below reach `to` or nest too deep. ep_global held. */
static int depth_below(struct epoll *ep, struct epoll *to, int level)
{
    struct list_head *pos;
    int d = 0;
    if (ep == to || level > EP_MAX_NESTS)
        return -1;
    list_for_each(pos, &ep->items) {
        struct epitem *it = list_entry(pos, struct epitem, link);
        if (!is_epoll(it->target))
            continue;
        int sub = depth_below(it->target->priv, to, level + 1);
        if (sub < 0)
            return -1;
        d = MAX(d, sub + 1);
    }
    return d;
}

/* How many levels of epoll sets ep hangs below. ep_global held. */
static int depth_above(struct epoll *ep, int level)
{
    struct list_head *pos;
    int d = 0;
    if (level > EP_MAX_NESTS)
        return level;
    /* flink changes only under ep_global, which we hold. */
    list_for_each(pos, &ep->file->epitems) {
        struct epitem *it = list_entry(pos, struct epitem, flink);
        d = MAX(d, 1 + depth_above(it->ep, level + 1));
    }
    return d;
}

/* Would watching the epoll set inner from ep close a cycle or nest too
 * deep? */
static bool ep_loops(struct epoll *ep, struct epoll *inner)
{
    int below = depth_below(inner, ep, 0);
    return below < 0 || depth_above(ep, 0) + 1 + below > EP_MAX_NESTS;
}

/* ---- the core of the system calls ---------------------------------------- */

int epoll_ctl_file(struct kfile *epf, int op, int fd, struct kfile *target,
                   const struct linux_epoll_event *ev)
{
    uint32_t events = 0;
    uint64_t data = 0;
    if (!target->ops->poll)
        return -EPERM;              /* regular files: as Linux */
    if (!is_epoll(epf) || target == epf)
        return -EINVAL;
    struct epoll *ep = epf->priv;
    switch (op) {
    case EPOLL_CTL_ADD:
    case EPOLL_CTL_MOD:
        events = ev->events;
        data = ev->data;
        if (events & EPOLLEXCLUSIVE) {
            if (op == EPOLL_CTL_MOD || is_epoll(target) || (events & ~EP_EXCLUSIVE_OK))
                return -EINVAL;
        }
        /* EPOLLWAKEUP needs CAP_BLOCK_SUSPEND in Linux and means nothing
         * here; errors and hang-ups are always reported. */
        events = (events & ~EPOLLWAKEUP) | EPOLLERR | EPOLLHUP;
        break;
    case EPOLL_CTL_DEL:
        break;
    default:
        return -EINVAL;
    }

    int r = 0;
    if (op == EPOLL_CTL_MOD) {
        /* Touches no list: ep->mtx is enough. */
        mutex_lock(&ep->mtx);
        struct epitem *it = ep_find(ep, target, fd);
        if (!it)
            r = -ENOENT;
        else if (it->events & EPOLLEXCLUSIVE)
            r = -EINVAL;
        else
            ep_modify(it, events, data);
        mutex_unlock(&ep->mtx);
        return r;
    }

    mutex_lock(&ep_global);
    mutex_lock(&ep->mtx);
    struct epitem *it = ep_find(ep, target, fd);
    if (op == EPOLL_CTL_DEL) {
        if (it)
            ep_remove(ep, it);
        else
            r = -ENOENT;
    } else if (it) {
        r = -EEXIST;
    } else if (is_epoll(target) && ep_loops(ep, target->priv)) {
        r = -ELOOP;
    } else {
        r = ep_insert(ep, target, fd, events, data);
    }
    mutex_unlock(&ep->mtx);
    mutex_unlock(&ep_global);
    return r;
}

int epoll_wait_file(struct kfile *epf, struct linux_epoll_event *out, int max, uint64_t deadline)
{
    if (!is_epoll(epf) || max <= 0)
        return -EINVAL;
    struct epoll *ep = epf->priv;
    for (;;) {
        mutex_lock(&ep->mtx);
        int n = ep_scan(ep, out, max);
        mutex_unlock(&ep->mtx);
        if (n)
            return n;
        unsigned long flags = spin_lock_irqsave(&ep->wq.lock);
        unsigned long inner = spin_lock_irqsave(&ep->lock);
        bool idle = list_empty(&ep->ready);
        spin_unlock_irqrestore(&ep->lock, inner);
        bool go_on = !idle || kwait_until_locked(&ep->wq, &flags, deadline);
        spin_unlock_irqrestore(&ep->wq.lock, flags);
        if (!go_on)
            return 0;               /* the deadline */
    }
}

/* The epoll file itself: readable when some item would report. Takes
 * ep->mtx, so unlike most poll()s this one may sleep. */
static unsigned epoll_poll(struct kfile *f)
{
    struct epoll *ep = f->priv;
    mutex_lock(&ep->mtx);
    int n = ep_scan(ep, NULL, 1);
    mutex_unlock(&ep->mtx);
    return n ? POLLIN | POLLRDNORM : 0;
}

/* The last reference is gone; epoll_file_gone already took this set out
 * of any set that watched it. */
static void epoll_release(struct kfile *f)
{
    struct epoll *ep = f->priv;
    mutex_lock(&ep_global);
    mutex_lock(&ep->mtx);
    while (!list_empty(&ep->items))
        ep_remove(ep, list_first_entry(&ep->items, struct epitem, link));
    mutex_unlock(&ep->mtx);
    mutex_unlock(&ep_global);
    kfree(ep);
}

static const struct kfile_ops epoll_ops = {
    .kind = "epoll",
    /* No read or write: the system call layer says EINVAL, as Linux. */
    .stat = kfile_anon_stat,
    .poll = epoll_poll,
    .release = epoll_release,
};

int epoll_open(int flags, struct kfile **out)
{
    if (flags & ~EPOLL_CLOEXEC)
        return -EINVAL;
    struct epoll *ep = kzalloc(sizeof(*ep));
    if (!ep)
        return -ENOMEM;
    mutex_init(&ep->mtx);
    ep->lock = (spinlock_t)SPINLOCK_INIT;
    waitq_init(&ep->wq);
    list_init(&ep->items);
    list_init(&ep->ready);
    ep->file = kfile_alloc(&epoll_ops, ep, O_RDWR);
    if (!ep->file) {
        kfree(ep);
        return -ENOMEM;
    }
    *out = ep->file;
    return 0;
}

/* ---- system calls -------------------------------------------------------- */

SYSCALL1(epoll_create1, int, flags)
{
    struct kfile *f;
    int r = epoll_open(flags, &f);
    if (r < 0)
        return r;
    r = fd_install(f, 0, (flags & EPOLL_CLOEXEC) ? FD_CLOEXEC : 0);
    if (r < 0)
        kfile_put(f);
    return r;
}

LEGACY_SYSCALL1(epoll_create, int, size)
{
    if (size <= 0)
        return -EINVAL;             /* the size is otherwise a relic */
    return sys_epoll_create1(0);
}

SYSCALL4(epoll_ctl, int, epfd, int, op, int, fd, const struct linux_epoll_event *, uev)
{
    struct linux_epoll_event ev = { 0, 0 };
    if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && copy_from_user(&ev, uev, sizeof(ev)) < 0)
        return -EFAULT;
    struct kfile *epf = fd_get(epfd);
    if (!epf)
        return -EBADF;
    struct kfile *target = fd_get(fd);
    if (!target) {
        kfile_put(epf);
        return -EBADF;
    }
    int r = epoll_ctl_file(epf, op, fd, target, &ev);
    /* Outside every epoll lock: if fd was closed meanwhile, this may be
     * the last reference, and its epoll_file_gone takes them. */
    kfile_put(target);
    kfile_put(epf);
    return r;
}

#define SMALL_EVENTS 32             /* on the stack; more come from kmalloc */

static int64_t epoll_wait_user(int epfd, struct linux_epoll_event *uev, int max,
                               uint64_t deadline)
{
    struct linux_epoll_event small[SMALL_EVENTS];
    if (max <= 0 || max > EP_MAX_EVENTS)
        return -EINVAL;
    if (!user_writable(uev, (size_t)max * sizeof(*uev)))
        return -EFAULT;
    struct kfile *epf = fd_get(epfd);
    if (!epf)
        return -EBADF;
    if (!is_epoll(epf)) {
        kfile_put(epf);
        return -EINVAL;
    }
    /* One call reports at most EP_BATCH; the rest stay ready. */
    int n = MIN(max, EP_BATCH);
    struct linux_epoll_event *k = small;
    if (n > SMALL_EVENTS && !(k = kmalloc((size_t)n * sizeof(*k)))) {
        kfile_put(epf);
        return -ENOMEM;
    }
    int r = epoll_wait_file(epf, k, n, deadline);
    kfile_put(epf);
    if (r > 0 && copy_to_user(uev, k, (size_t)r * sizeof(*k)) < 0)
        r = -EFAULT;
    if (k != small)
        kfree(k);
    return r;
}

static uint64_t deadline_ms(int timeout_ms)
{
    return timeout_ms < 0 ? KWAIT_FOREVER : kwait_deadline_after((uint64_t)timeout_ms * 1000000);
}

/* The signal mask of epoll_pwait and epoll_pwait2 is checked and ignored:
 * Tern delivers no signals to handlers (see poll.c). */
static int check_sigmask(const void *usigmask, size_t sigsetsize)
{
    uint64_t mask;
    if (!usigmask)
        return 0;
    if (sigsetsize != SIGSET_SIZE)
        return -EINVAL;
    return copy_from_user(&mask, usigmask, sizeof(mask));
}

SYSCALL6(epoll_pwait, int, epfd, struct linux_epoll_event *, uev, int, max, int, timeout_ms,
         const void *, usigmask, size_t, sigsetsize)
{
    int r = check_sigmask(usigmask, sigsetsize);
    if (r < 0)
        return r;
    return epoll_wait_user(epfd, uev, max, deadline_ms(timeout_ms));
}

LEGACY_SYSCALL4(epoll_wait, int, epfd, struct linux_epoll_event *, uev, int, max, int, timeout_ms)
{
    return sys_epoll_pwait(epfd, uev, max, timeout_ms, NULL, 0);
}

SYSCALL6(epoll_pwait2, int, epfd, struct linux_epoll_event *, uev, int, max,
         const struct linux_timespec *, uts, const void *, usigmask, size_t, sigsetsize)
{
    uint64_t deadline = KWAIT_FOREVER;
    if (uts) {
        struct linux_timespec ts;
        if (copy_from_user(&ts, uts, sizeof(ts)) < 0)
            return -EFAULT;
        if (!timespec_valid(&ts))
            return -EINVAL;
        deadline = kwait_deadline_after(timespec_to_ns(&ts));
    }
    int r = check_sigmask(usigmask, sigsetsize);
    if (r < 0)
        return r;
    return epoll_wait_user(epfd, uev, max, deadline);
}
