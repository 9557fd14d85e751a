/*
 * poll(2), ppoll(2), select(2), pselect6(2), and the deadline helpers the
 * other readiness files share (linux_io.h).
 *
 * One waiting call is a poll_table: a wait queue and a "triggered" flag,
 * with one poll_entry (a poll_hook) on each watched file's pollhead. The
 * loop is: clear triggered, ask every file's poll(), return if any is
 * ready, otherwise sleep unless triggered was set meanwhile. A hook sets
 * triggered under the table's lock and then wakes the queue, and the
 * check of triggered and the sleep happen under that same lock, so a
 * change that a file's poll() did not see yet cannot be missed: either
 * its hook ran before the check, or it finds us on the queue. The first
 * pass runs without hooks (most calls find something ready or do not
 * wait); the hooks go on before the pass that may sleep.
 *
 * Signals: Tern does not deliver signals to handlers yet; a signal can
 * only end the whole process with its default action. So the signal masks
 * that ppoll and pselect6 would install for the wait change nothing: they
 * are checked as Linux checks them and otherwise ignored, and no call
 * here ends with EINTR.
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/timer.h>
#include <kern/uaccess.h>
#include <kern/waitq.h>
#include "linux_io.h"

#define NS_PER_SEC  1000000000ULL
#define NS_PER_MS   1000000ULL
#define NS_PER_US   1000ULL

/* ---- deadlines (linux_io.h) --------------------------------------------- */

uint64_t kwait_deadline_after(uint64_t ns)
{
    uint64_t now = clock_monotonic_ns();
    return ns >= KWAIT_FOREVER - now ? KWAIT_FOREVER : now + ns;
}

static uint64_t sec_ns_sat(uint64_t sec, uint64_t ns)
{
    if (sec > (UINT64_MAX - ns) / NS_PER_SEC)
        return UINT64_MAX;
    return sec * NS_PER_SEC + ns;
}

bool kwait_until_locked(struct waitq *wq, unsigned long *flags, uint64_t deadline)
{
    if (deadline == KWAIT_FOREVER) {
        waitq_sleep_locked(wq, flags, 0);
        return true;
    }
    uint64_t now = clock_monotonic_ns();
    if (now >= deadline)
        return false;
    return waitq_sleep_locked(wq, flags, deadline - now);
}

/* The time left until deadline (0 once passed). */
static uint64_t time_left(uint64_t deadline)
{
    uint64_t now = clock_monotonic_ns();
    return deadline > now ? deadline - now : 0;
}

/* ---- the waiting core ---------------------------------------------------- */

struct poll_table {
    struct waitq wq;
    bool triggered;             /* a hook ran; guarded by wq.lock */
};

struct poll_entry {
    struct poll_hook hook;
    struct poll_table *pt;
    struct kfile *f;            /* with a reference; NULL: nothing to poll */
    int fd;
    unsigned mask;              /* the events that count */
    unsigned revents;           /* preset when f is NULL (POLLNVAL) */
};

/* Could a notification with this hint matter to mask? POLLIN and
 * POLLRDNORM (POLLOUT and POLLWRNORM) are treated as one, in case a
 * notifier names only one of them; 0 means "unknown". */
bool poll_hint_matters(unsigned hint, unsigned mask)
{
    if (!hint)
        return true;
    if (hint & (POLLIN | POLLRDNORM))
        hint |= POLLIN | POLLRDNORM;
    if (hint & (POLLOUT | POLLWRNORM))
        hint |= POLLOUT | POLLWRNORM;
    return hint & mask;
}

/* A hook: runs under the file's pollhead lock with interrupts off. */
static void poll_entry_hook(struct poll_hook *h, unsigned events)
{
    struct poll_entry *e = container_of(h, struct poll_entry, hook);
    if (!poll_hint_matters(events, e->mask))
        return;
    struct poll_table *pt = e->pt;
    unsigned long flags = spin_lock_irqsave(&pt->wq.lock);
    pt->triggered = true;
    spin_unlock_irqrestore(&pt->wq.lock, flags);
    waitq_wake(&pt->wq, -1);
}

/* Fill every entry's revents; the number with events, 0 at the deadline. */
static int poll_entries(struct poll_entry *ents, unsigned n, uint64_t deadline)
{
    struct poll_table pt;
    bool hooked = false;
    int ready;

    waitq_init(&pt.wq);
    pt.triggered = false;
    for (;;) {
        unsigned long flags = spin_lock_irqsave(&pt.wq.lock);
        pt.triggered = false;
        spin_unlock_irqrestore(&pt.wq.lock, flags);

        ready = 0;
        for (unsigned i = 0; i < n; i++) {
            struct poll_entry *e = &ents[i];
            if (e->f)
                e->revents = kfile_poll(e->f) & e->mask;
            if (e->revents)
                ready++;
        }
        if (ready)
            break;
        if (!hooked) {
            if (clock_monotonic_ns() >= deadline)
                break;
            for (unsigned i = 0; i < n; i++) {
                if (!ents[i].f)
                    continue;
                ents[i].pt = &pt;
                ents[i].hook.fn = poll_entry_hook;
                poll_hook_add(&ents[i].f->poll, &ents[i].hook);
            }
            hooked = true;
            continue;               /* look again, now that changes are caught */
        }
        flags = spin_lock_irqsave(&pt.wq.lock);
        bool go_on = pt.triggered || kwait_until_locked(&pt.wq, &flags, deadline);
        spin_unlock_irqrestore(&pt.wq.lock, flags);
        if (!go_on)
            break;                  /* the deadline */
    }
    if (hooked) {
        /* After this no hook of ours runs, so pt may go. */
        for (unsigned i = 0; i < n; i++)
            if (ents[i].f)
                poll_hook_del(&ents[i].f->poll, &ents[i].hook);
    }
    return ready;
}

#define SMALL_ENTRIES 16            /* on the stack; more come from kmalloc */

static struct poll_entry *entries_alloc(struct poll_entry *small, unsigned n)
{
    if (n <= SMALL_ENTRIES)
        return small;
    return kmalloc(n * sizeof(struct poll_entry));
}

static void entries_free(struct poll_entry *ents, struct poll_entry *small, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        kfile_put(ents[i].f);
    if (ents != small)
        kfree(ents);
}

int kpoll(struct linux_pollfd *fds, unsigned nfds, uint64_t deadline)
{
    struct poll_entry small[SMALL_ENTRIES];
    struct poll_entry *ents = entries_alloc(small, nfds);
    if (!ents)
        return -ENOMEM;
    for (unsigned i = 0; i < nfds; i++) {
        struct poll_entry *e = &ents[i];
        memset(e, 0, sizeof(*e));
        e->fd = fds[i].fd;
        if (e->fd < 0)
            continue;               /* ignored, revents 0 */
        e->f = fd_get(e->fd);
        if (!e->f)
            e->revents = POLLNVAL;
        /* POLLERR and POLLHUP are reported whether asked for or not. */
        e->mask = (unsigned short)fds[i].events | POLLERR | POLLHUP;
    }
    int r = poll_entries(ents, nfds, deadline);
    for (unsigned i = 0; i < nfds; i++)
        fds[i].revents = (short)ents[i].revents;
    entries_free(ents, small, nfds);
    return r;
}

/* What each of select's sets means in poll terms (as Linux maps them). */
#define SEL_IN  (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR)
#define SEL_OUT (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR)
#define SEL_EX  (POLLPRI)

static bool bit_test(const uint64_t *set, int fd)
{
    return set && (set[fd / 64] >> (fd % 64)) & 1;
}

static void bit_set(uint64_t *set, int fd)
{
    set[fd / 64] |= 1ULL << (fd % 64);
}

int kselect(int nfds, uint64_t *in, uint64_t *out, uint64_t *ex, uint64_t deadline)
{
    struct poll_entry small[SMALL_ENTRIES];
    unsigned n = 0;
    if (nfds < 0)
        return -EINVAL;
    for (int fd = 0; fd < nfds; fd++)
        if (bit_test(in, fd) || bit_test(out, fd) || bit_test(ex, fd))
            n++;
    struct poll_entry *ents = entries_alloc(small, n);
    if (!ents)
        return -ENOMEM;
    unsigned k = 0;
    for (int fd = 0; fd < nfds && k < n; fd++) {
        unsigned mask = (bit_test(in, fd) ? SEL_IN : 0) | (bit_test(out, fd) ? SEL_OUT : 0) |
                        (bit_test(ex, fd) ? SEL_EX : 0);
        if (!mask)
            continue;
        struct poll_entry *e = &ents[k];
        memset(e, 0, sizeof(*e));
        e->fd = fd;
        e->mask = mask;
        e->f = fd_get(fd);
        if (!e->f) {
            entries_free(ents, small, k);
            return -EBADF;
        }
        k++;
    }
    poll_entries(ents, n, deadline);
    size_t words = ((size_t)nfds + 63) / 64;
    if (in)
        memset(in, 0, words * 8);
    if (out)
        memset(out, 0, words * 8);
    if (ex)
        memset(ex, 0, words * 8);
    int bits = 0;
    for (unsigned i = 0; i < n; i++) {
        struct poll_entry *e = &ents[i];
        /* e->mask tells which sets held the descriptor. */
        if ((e->mask & POLLIN) && (e->revents & SEL_IN)) {
            bit_set(in, e->fd);
            bits++;
        }
        if ((e->mask & POLLOUT) && (e->revents & SEL_OUT)) {
            bit_set(out, e->fd);
            bits++;
        }
        if ((e->mask & POLLPRI) && (e->revents & SEL_EX)) {
            bit_set(ex, e->fd);
            bits++;
        }
    }
    entries_free(ents, small, n);
    return bits;
}

/* ---- system calls -------------------------------------------------------- */

#define SIGSET_SIZE 8               /* the kernel's sigset_t: 64 signals on every arch */

/* Copy the pollfd array in, wait, copy the revents back. */
static int64_t poll_user(struct linux_pollfd *ufds, unsigned nfds, uint64_t deadline)
{
    if (nfds > FD_MAX)
        return -EINVAL;
    struct linux_pollfd small[SMALL_ENTRIES];
    struct linux_pollfd *k = small;
    if (nfds > SMALL_ENTRIES && !(k = kmalloc(nfds * sizeof(*k))))
        return -ENOMEM;
    int r = 0;
    if (nfds && copy_from_user(k, ufds, nfds * sizeof(*k)) < 0)
        r = -EFAULT;
    if (r == 0)
        r = kpoll(k, nfds, deadline);
    /* Only revents is written back, as Linux does. */
    for (unsigned i = 0; r >= 0 && i < nfds; i++)
        if (copy_to_user(&ufds[i].revents, &k[i].revents, sizeof(k[i].revents)) < 0)
            r = -EFAULT;
    if (k != small)
        kfree(k);
    return r;
}

LEGACY_SYSCALL3(poll, struct linux_pollfd *, ufds, unsigned, nfds, int, timeout_ms)
{
    uint64_t deadline = timeout_ms < 0 ? KWAIT_FOREVER
                                       : kwait_deadline_after((uint64_t)timeout_ms * NS_PER_MS);
    return poll_user(ufds, nfds, deadline);
}

/* Read an optional timespec timeout: *deadline, and whether the time left
 * is to be written back (Linux skips that for a zero timeout). */
static int timeout_from_user(const struct linux_timespec *uts, uint64_t *deadline, bool *update)
{
    struct linux_timespec ts;
    uint64_t ns;
    *deadline = KWAIT_FOREVER;
    *update = false;
    if (!uts)
        return 0;
    if (copy_from_user(&ts, uts, sizeof(ts)) < 0)
        return -EFAULT;
    if (!timespec_valid(&ts))
        return -EINVAL;
    ns = timespec_to_ns(&ts);
    *deadline = kwait_deadline_after(ns);
    *update = ns != 0;
    return 0;
}

/* Write the time left back, as Linux does for ppoll, select and pselect6
 * (a failure to write it is ignored, as there). */
static void timespec_left_to_user(struct linux_timespec *uts, uint64_t deadline)
{
    struct linux_timespec ts = ns_to_timespec(time_left(deadline));
    copy_to_user(uts, &ts, sizeof(ts));
}

SYSCALL5(ppoll, struct linux_pollfd *, ufds, unsigned, nfds, struct linux_timespec *, uts,
         const void *, usigmask, size_t, sigsetsize)
{
    uint64_t deadline, mask;
    bool update;
    int r = timeout_from_user(uts, &deadline, &update);
    if (r < 0)
        return r;
    if (usigmask) {                 /* ignored: see the top of the file */
        if (sigsetsize != SIGSET_SIZE)
            return -EINVAL;
        if (copy_from_user(&mask, usigmask, sizeof(mask)) < 0)
            return -EFAULT;
    }
    int64_t ret = poll_user(ufds, nfds, deadline);
    if (update)
        timespec_left_to_user(uts, deadline);
    return ret;
}

/* select's sets in and out of app memory around kselect. */
static int64_t select_user(int n, uint64_t *uin, uint64_t *uout, uint64_t *uex,
                           uint64_t deadline)
{
    uint64_t sets[3][FD_MAX / 64];
    uint64_t *usets[3] = { uin, uout, uex };
    uint64_t *k[3];
    if (n < 0)
        return -EINVAL;
    if (n > FD_MAX)
        n = FD_MAX;                 /* Linux caps it at the table's size */
    size_t bytes = (((size_t)n + 63) / 64) * 8;
    for (int i = 0; i < 3; i++) {
        k[i] = NULL;
        if (!usets[i])
            continue;
        k[i] = sets[i];
        if (bytes && copy_from_user(k[i], usets[i], bytes) < 0)
            return -EFAULT;
    }
    int r = kselect(n, k[0], k[1], k[2], deadline);
    if (r < 0)
        return r;
    for (int i = 0; i < 3; i++)
        if (usets[i] && bytes && copy_to_user(usets[i], k[i], bytes) < 0)
            return -EFAULT;
    return r;
}

LEGACY_SYSCALL5(select, int, n, uint64_t *, uin, uint64_t *, uout, uint64_t *, uex,
                struct linux_timeval *, utv)
{
    struct linux_timeval tv;
    uint64_t deadline = KWAIT_FOREVER;
    bool update = false;
    if (utv) {
        if (copy_from_user(&tv, utv, sizeof(tv)) < 0)
            return -EFAULT;
        /* Linux folds whole seconds of tv_usec into tv_sec. */
        if (tv.tv_sec < 0 || tv.tv_usec < 0)
            return -EINVAL;
        uint64_t ns = sec_ns_sat((uint64_t)tv.tv_sec + (uint64_t)tv.tv_usec / 1000000,
                                 (uint64_t)tv.tv_usec % 1000000 * NS_PER_US);
        deadline = kwait_deadline_after(ns);
        update = ns != 0;
    }
    int64_t r = select_user(n, uin, uout, uex, deadline);
    if (update) {
        uint64_t left = time_left(deadline);
        tv.tv_sec = (int64_t)(left / NS_PER_SEC);
        tv.tv_usec = (int64_t)(left % NS_PER_SEC / NS_PER_US);
        copy_to_user(utv, &tv, sizeof(tv));
    }
    return r;
}

/* pselect6's sixth argument: { const sigset_t *ss; size_t ss_len; }. */
struct pselect_sig {
    uint64_t ss;
    uint64_t ss_len;
};

SYSCALL6(pselect6, int, n, uint64_t *, uin, uint64_t *, uout, uint64_t *, uex,
         struct linux_timespec *, uts, const struct pselect_sig *, usig)
{
    uint64_t deadline;
    bool update;
    int r = timeout_from_user(uts, &deadline, &update);
    if (r < 0)
        return r;
    if (usig) {                     /* ignored: see the top of the file */
        struct pselect_sig sig;
        uint64_t mask;
        if (copy_from_user(&sig, usig, sizeof(sig)) < 0)
            return -EFAULT;
        if (sig.ss) {
            if (sig.ss_len != SIGSET_SIZE)
                return -EINVAL;
            if (copy_from_user(&mask, (const void *)sig.ss, sizeof(mask)) < 0)
                return -EFAULT;
        }
    }
    int64_t ret = select_user(n, uin, uout, uex, deadline);
    if (update)
        timespec_left_to_user(uts, deadline);
    return ret;
}
