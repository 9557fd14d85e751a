/*
 * timerfd_create(2), timerfd_settime(2), timerfd_gettime(2): a timer
 * whose expirations are counted and read as an 8-byte number.
 *
 * Expirations are counted by arithmetic, not by interrupts: "account"
 * moves every expiration due by now into ticks. The kernel timer only
 * has to fire when the file turns readable, so it is queued while the
 * timer is armed and ticks is 0, and a periodic timer that nobody reads
 * costs no interrupts at all (and a 1 ns interval cannot flood the CPU).
 *
 * The callback runs in interrupt context, possibly on another CPU than
 * the thread that re-arms or closes the timerfd. "queued" is true from
 * timer_add until the callback has finished with the timerfd; settime
 * and release wait for that (cancel_sync) before they change or free
 * anything, since timer_cancel cannot stop a callback already running.
 *
 * CLOCK_BOOTTIME is CLOCK_MONOTONIC (a guest does not suspend), and
 * CLOCK_REALTIME only differs by a constant offset since Tern never sets
 * the clock, so absolute realtime deadlines are converted once, at
 * settime; TFD_TIMER_CANCEL_ON_SET is accepted and never fires.
 */
#include <arch/irq.h>
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/timer.h>
#include <kern/uaccess.h>
#include <kern/waitq.h>
#include "linux_io.h"

struct timerfd {
    struct waitq wq;            /* its lock guards the fields below */
    struct timer timer;
    struct kfile *file;
    int clockid;
    bool armed;                 /* an expiration is due at next_ns */
    bool queued;                /* timer added, its callback not yet over */
    uint64_t next_ns;           /* monotonic */
    uint64_t interval_ns;       /* 0: one-shot */
    uint64_t ticks;             /* expirations not yet read */
};

static const struct kfile_ops timerfd_ops;
static void timerfd_fire(struct timer *tm);

static bool nonblocking(const struct kfile *f)
{
    return __atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK;
}

/* Count the expirations due by now. */
static void account(struct timerfd *t, uint64_t now)
{
    if (!t->armed || now < t->next_ns)
        return;
    if (t->interval_ns) {
        uint64_t k = (now - t->next_ns) / t->interval_ns + 1;
        uint64_t step = k * t->interval_ns;     /* k > 1 only for small intervals */
        t->ticks += k;
        /* An interval too long to ever come round again saturates. */
        t->next_ns = step > UINT64_MAX - t->next_ns ? UINT64_MAX : t->next_ns + step;
    } else {
        t->ticks++;
        t->armed = false;
    }
}

/* Keep the rule: armed with nothing to read means a timer is queued. */
static void queue_locked(struct timerfd *t)
{
    if (t->armed && t->ticks == 0 && !t->queued) {
        t->queued = true;
        timer_add(&t->timer, t->next_ns, timerfd_fire);
    }
}

/* Make sure the callback neither is pending nor runs. */
static void cancel_sync(struct timerfd *t, unsigned long *flags)
{
    while (t->queued) {
        if (timer_cancel(&t->timer)) {
            t->queued = false;
            break;
        }
        /* Dequeued and running on another CPU (on this one it would have
         * run to the end before we got here): let it finish. */
        spin_unlock_irqrestore(&t->wq.lock, *flags);
        arch_cpu_relax();
        *flags = spin_lock_irqsave(&t->wq.lock);
    }
}

/* Interrupt context: only the lock, wakeups and kfile_notify. */
static void timerfd_fire(struct timer *tm)
{
    struct timerfd *t = container_of(tm, struct timerfd, timer);
    unsigned long flags = spin_lock_irqsave(&t->wq.lock);
    account(t, clock_monotonic_ns());
    bool ready = t->ticks > 0;
    spin_unlock_irqrestore(&t->wq.lock, flags);
    if (ready) {
        waitq_wake(&t->wq, -1);
        kfile_notify(t->file, POLLIN | POLLRDNORM);
    }
    flags = spin_lock_irqsave(&t->wq.lock);
    t->queued = false;
    /* A read may have taken the ticks meanwhile and found us queued. */
    queue_locked(t);
    spin_unlock_irqrestore(&t->wq.lock, flags);
}

static int64_t timerfd_read(struct kfile *f, void *buf, size_t n, uint64_t *pos)
{
    struct timerfd *t = f->priv;
    (void)pos;
    if (n < sizeof(uint64_t))
        return -EINVAL;
    unsigned long flags = spin_lock_irqsave(&t->wq.lock);
    for (;;) {
        account(t, clock_monotonic_ns());
        if (t->ticks)
            break;
        if (nonblocking(f)) {
            spin_unlock_irqrestore(&t->wq.lock, flags);
            return -EAGAIN;
        }
        /* Disarmed: sleeps until a settime arms it and it fires. */
        waitq_sleep_locked(&t->wq, &flags, 0);
    }
    uint64_t v = t->ticks;
    t->ticks = 0;
    queue_locked(t);
    spin_unlock_irqrestore(&t->wq.lock, flags);
    memcpy(buf, &v, sizeof(v));
    return sizeof(v);
}

static unsigned timerfd_poll(struct kfile *f)
{
    struct timerfd *t = f->priv;
    unsigned long flags = spin_lock_irqsave(&t->wq.lock);
    account(t, clock_monotonic_ns());
    bool ready = t->ticks > 0;
    spin_unlock_irqrestore(&t->wq.lock, flags);
    return ready ? POLLIN | POLLRDNORM : 0;
}

static void timerfd_release(struct kfile *f)
{
    struct timerfd *t = f->priv;
    unsigned long flags = spin_lock_irqsave(&t->wq.lock);
    t->armed = false;                   /* so the callback does not requeue */
    cancel_sync(t, &flags);
    spin_unlock_irqrestore(&t->wq.lock, flags);
    kfree(t);
}

static const struct kfile_ops timerfd_ops = {
    .kind = "timerfd",
    .read = timerfd_read,
    .stat = kfile_anon_stat,
    .poll = timerfd_poll,
    .release = timerfd_release,
};

int timerfd_open(int clockid, int flags, struct kfile **out)
{
    switch (clockid) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
    case CLOCK_REALTIME_ALARM:          /* apps run as root: allowed */
    case CLOCK_BOOTTIME_ALARM:
        break;
    default:
        return -EINVAL;
    }
    if (flags & ~(TFD_NONBLOCK | TFD_CLOEXEC))
        return -EINVAL;
    struct timerfd *t = kzalloc(sizeof(*t));
    if (!t)
        return -ENOMEM;
    waitq_init(&t->wq);
    t->clockid = clockid;
    struct kfile *f = kfile_alloc(&timerfd_ops, t, O_RDWR | (flags & TFD_NONBLOCK));
    if (!f) {
        kfree(t);
        return -ENOMEM;
    }
    t->file = f;
    *out = f;
    return 0;
}

static void current_value(struct timerfd *t, uint64_t now, struct linux_itimerspec *cur)
{
    account(t, now);
    cur->it_value = ns_to_timespec(t->armed ? t->next_ns - now : 0);
    cur->it_interval = ns_to_timespec(t->interval_ns);
}

int timerfd_set(struct kfile *f, int flags, const struct linux_itimerspec *nv,
                struct linux_itimerspec *old)
{
    uint64_t value, interval;
    if (f->ops != &timerfd_ops)
        return -EINVAL;
    if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
        return -EINVAL;
    if (!timespec_valid(&nv->it_value) || !timespec_valid(&nv->it_interval))
        return -EINVAL;
    value = timespec_to_ns(&nv->it_value);
    interval = timespec_to_ns(&nv->it_interval);
    struct timerfd *t = f->priv;

    /* The first expiration, on the monotonic clock. */
    uint64_t now = clock_monotonic_ns(), deadline = 0;
    if (!(flags & TFD_TIMER_ABSTIME)) {
        deadline = value > UINT64_MAX - now ? UINT64_MAX : now + value;
    } else if (t->clockid == CLOCK_REALTIME || t->clockid == CLOCK_REALTIME_ALARM) {
        uint64_t offset = clock_realtime_offset_ns();
        deadline = value > offset ? value - offset : 0;  /* 0: in the past */
    } else {
        deadline = value;
    }

    unsigned long irq = spin_lock_irqsave(&t->wq.lock);
    cancel_sync(t, &irq);
    if (old)
        current_value(t, clock_monotonic_ns(), old);
    t->ticks = 0;
    t->interval_ns = interval;          /* kept even when disarming, as Linux */
    t->armed = value != 0;
    t->next_ns = deadline;
    queue_locked(t);
    spin_unlock_irqrestore(&t->wq.lock, irq);
    return 0;
}

int timerfd_get(struct kfile *f, struct linux_itimerspec *cur)
{
    if (f->ops != &timerfd_ops)
        return -EINVAL;
    struct timerfd *t = f->priv;
    unsigned long flags = spin_lock_irqsave(&t->wq.lock);
    current_value(t, clock_monotonic_ns(), cur);
    spin_unlock_irqrestore(&t->wq.lock, flags);
    return 0;
}

/* ---- system calls -------------------------------------------------------- */

SYSCALL2(timerfd_create, int, clockid, int, flags)
{
    struct kfile *f;
    int r = timerfd_open(clockid, flags, &f);
    if (r < 0)
        return r;
    r = fd_install(f, 0, (flags & TFD_CLOEXEC) ? FD_CLOEXEC : 0);
    if (r < 0)
        kfile_put(f);
    return r;
}

SYSCALL4(timerfd_settime, int, fd, int, flags, const struct linux_itimerspec *, unew,
         struct linux_itimerspec *, uold)
{
    struct linux_itimerspec nv, old;
    if (copy_from_user(&nv, unew, sizeof(nv)) < 0)
        return -EFAULT;
    struct kfile *f = fd_get(fd);
    if (!f)
        return -EBADF;
    int r = timerfd_set(f, flags, &nv, uold ? &old : NULL);
    kfile_put(f);
    if (r == 0 && uold && copy_to_user(uold, &old, sizeof(old)) < 0)
        return -EFAULT;
    return r;
}

SYSCALL2(timerfd_gettime, int, fd, struct linux_itimerspec *, ucur)
{
    struct linux_itimerspec cur;
    struct kfile *f = fd_get(fd);
    if (!f)
        return -EBADF;
    int r = timerfd_get(f, &cur);
    kfile_put(f);
    if (r == 0 && copy_to_user(ucur, &cur, sizeof(cur)) < 0)
        return -EFAULT;
    return r;
}
