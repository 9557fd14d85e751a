/*
 * Pipes: pipe(2) and pipe2(2). A pipe is a 64 KiB byte ring shared by two
 * kfiles, the read end and the write end (dup shares a kfile, so each end
 * is open or closed as a whole).
 *
 * Locking. p->wq.lock (a spinlock) guards the ring indices and the open
 * flags, and readers and writers both sleep on p->wq. Bytes are copied
 * to and from app buffers without it, since those copies may fault and
 * sleep: a reader first takes rd_mutex, so that it alone consumes, reads
 * the indices under the spinlock, copies out of the filled part of the
 * ring (which writers never touch), then commits the new indices under
 * the spinlock. Writers do the mirror image with wr_mutex and the free
 * part. Holding wr_mutex across one whole copy makes writes of at most
 * PIPE_BUF bytes atomic; nobody sleeps for room or data while holding a
 * mutex, so a non-blocking caller never waits behind a blocked one.
 *
 * Readiness is announced with kfile_notify while holding the spinlock,
 * because the other end's kfile may be released the moment we let go of
 * it; a released end is set to NULL under the same lock. That nests
 * pollhead locks and hook locks inside p->wq.lock; nothing takes them in
 * the other order (hooks never touch pipes).
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/uaccess.h>
#include <kern/waitq.h>
#include "linux_io.h"

struct pipe {
    struct waitq wq;            /* its lock guards the fields below */
    struct mutex rd_mutex;      /* one reader copies at a time */
    struct mutex wr_mutex;      /* one writer copies at a time */
    char *buf;                  /* PIPE_SIZE bytes */
    size_t rpos;                /* where the next byte is read */
    size_t count;               /* bytes in the ring */
    struct kfile *rfile;        /* the read end, NULL once released */
    struct kfile *wfile;        /* the write end, likewise */
    uint64_t ino;
};

static const struct kfile_ops pipe_ops;

static bool is_reader(const struct kfile *f)
{
    unsigned acc = f->flags & O_ACCMODE;
    return acc == O_RDONLY || acc == O_RDWR;
}

static bool is_writer(const struct kfile *f)
{
    unsigned acc = f->flags & O_ACCMODE;
    return acc == O_WRONLY || acc == O_RDWR;
}

static bool nonblocking(const struct kfile *f)
{
    return __atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK;
}

static int64_t pipe_read(struct kfile *f, void *buf, size_t n, uint64_t *pos)
{
    struct pipe *p = f->priv;
    (void)pos;
    if (!is_reader(f))
        return -EBADF;
    if (n == 0)
        return 0;
    for (;;) {
        /* Wait for bytes (or for EOF) without holding rd_mutex. */
        unsigned long flags = spin_lock_irqsave(&p->wq.lock);
        while (p->count == 0) {
            if (!p->wfile) {
                spin_unlock_irqrestore(&p->wq.lock, flags);
                return 0;
            }
            if (nonblocking(f)) {
                spin_unlock_irqrestore(&p->wq.lock, flags);
                return -EAGAIN;
            }
            waitq_sleep_locked(&p->wq, &flags, 0);
        }
        spin_unlock_irqrestore(&p->wq.lock, flags);

        mutex_lock(&p->rd_mutex);
        flags = spin_lock_irqsave(&p->wq.lock);
        size_t start = p->rpos, avail = p->count;
        spin_unlock_irqrestore(&p->wq.lock, flags);
        if (avail == 0) {               /* another reader was quicker */
            mutex_unlock(&p->rd_mutex);
            continue;
        }
        /* Linux semantics: take what is there, do not wait for more. */
        size_t k = MIN(n, avail);
        size_t first = MIN(k, PIPE_SIZE - start);
        memcpy(buf, p->buf + start, first);
        memcpy((char *)buf + first, p->buf, k - first);

        flags = spin_lock_irqsave(&p->wq.lock);
        p->rpos = (p->rpos + k) % PIPE_SIZE;
        p->count -= k;
        if (p->wfile)
            kfile_notify(p->wfile, POLLOUT | POLLWRNORM);
        spin_unlock_irqrestore(&p->wq.lock, flags);
        waitq_wake(&p->wq, -1);
        mutex_unlock(&p->rd_mutex);
        return (int64_t)k;
    }
}

static int64_t pipe_write(struct kfile *f, const void *buf, size_t n, uint64_t *pos)
{
    struct pipe *p = f->priv;
    size_t done = 0;
    (void)pos;
    if (!is_writer(f))
        return -EBADF;
    if (n == 0)
        return 0;
    /* A write of at most PIPE_BUF bytes goes in whole or not at all; a
     * longer one may be split, as room appears. */
    bool atomic = n <= PIPE_BUF;
    for (;;) {
        size_t need = atomic ? n : 1;
        unsigned long flags = spin_lock_irqsave(&p->wq.lock);
        for (;;) {
            if (!p->rfile) {
                spin_unlock_irqrestore(&p->wq.lock, flags);
                /* Linux also sends SIGPIPE here, whose default action
                 * ends the process; Tern has no signal delivery yet, so
                 * the writer only sees EPIPE. */
                return done ? (int64_t)done : -EPIPE;
            }
            if (PIPE_SIZE - p->count >= need)
                break;
            if (nonblocking(f)) {
                spin_unlock_irqrestore(&p->wq.lock, flags);
                return done ? (int64_t)done : -EAGAIN;
            }
            waitq_sleep_locked(&p->wq, &flags, 0);
        }
        spin_unlock_irqrestore(&p->wq.lock, flags);

        mutex_lock(&p->wr_mutex);
        flags = spin_lock_irqsave(&p->wq.lock);
        size_t wpos = (p->rpos + p->count) % PIPE_SIZE;
        size_t room = PIPE_SIZE - p->count;
        spin_unlock_irqrestore(&p->wq.lock, flags);
        if (room < need) {              /* another writer took the room */
            mutex_unlock(&p->wr_mutex);
            continue;
        }
        size_t k = MIN(room, n - done);
        size_t first = MIN(k, PIPE_SIZE - wpos);
        memcpy(p->buf + wpos, (const char *)buf + done, first);
        memcpy(p->buf, (const char *)buf + done + first, k - first);

        flags = spin_lock_irqsave(&p->wq.lock);
        p->count += k;
        if (p->rfile)
            kfile_notify(p->rfile, POLLIN | POLLRDNORM);
        spin_unlock_irqrestore(&p->wq.lock, flags);
        waitq_wake(&p->wq, -1);
        mutex_unlock(&p->wr_mutex);
        done += k;
        if (done == n)
            return (int64_t)n;
    }
}

static unsigned pipe_poll(struct kfile *f)
{
    struct pipe *p = f->priv;
    unsigned mask = 0;
    unsigned long flags = spin_lock_irqsave(&p->wq.lock);
    if (is_reader(f)) {
        if (p->count)
            mask |= POLLIN | POLLRDNORM;
        if (!p->wfile)
            mask |= POLLHUP;
    }
    if (is_writer(f)) {
        /* Writable when a PIPE_BUF write would not block. */
        if (PIPE_SIZE - p->count >= PIPE_BUF)
            mask |= POLLOUT | POLLWRNORM;
        if (!p->rfile)
            mask |= POLLERR;
    }
    spin_unlock_irqrestore(&p->wq.lock, flags);
    return mask;
}

int64_t pipe_nread(struct kfile *f)
{
    if (f->ops != &pipe_ops)
        return -ENOTTY;
    struct pipe *p = f->priv;
    unsigned long flags = spin_lock_irqsave(&p->wq.lock);
    int64_t n = (int64_t)p->count;
    spin_unlock_irqrestore(&p->wq.lock, flags);
    return n;
}

static int64_t pipe_ioctl(struct kfile *f, unsigned long cmd, uintptr_t arg)
{
    if (cmd != FIONREAD)
        return -ENOTTY;
    int n = (int)pipe_nread(f);
    return copy_to_user((void *)arg, &n, sizeof(n));
}

static int pipe_stat(struct kfile *f, struct kstat *st)
{
    struct pipe *p = f->priv;
    memset(st, 0, sizeof(*st));
    st->ino = p->ino;
    st->mode = S_IFIFO | 0600;
    st->nlink = 1;
    return 0;
}

static void pipe_release(struct kfile *f)
{
    struct pipe *p = f->priv;
    unsigned long flags = spin_lock_irqsave(&p->wq.lock);
    if (f == p->rfile) {
        p->rfile = NULL;
        if (p->wfile)
            kfile_notify(p->wfile, POLLERR);
    } else {
        p->wfile = NULL;
        if (p->rfile)
            kfile_notify(p->rfile, POLLIN | POLLRDNORM | POLLHUP);
    }
    bool last = !p->rfile && !p->wfile;
    spin_unlock_irqrestore(&p->wq.lock, flags);
    if (last) {
        /* Nobody sleeps on p: a sleeper holds a reference to its end. */
        kfree(p->buf);
        kfree(p);
        return;
    }
    waitq_wake(&p->wq, -1);             /* EOF for readers, EPIPE for writers */
}

static const struct kfile_ops pipe_ops = {
    .kind = "pipe",
    .read = pipe_read,
    .write = pipe_write,
    .stat = pipe_stat,
    .ioctl = pipe_ioctl,
    .poll = pipe_poll,
    .release = pipe_release,
};

int pipe_open(unsigned flags, struct kfile *ends[2])
{
    static uint64_t next_ino = 1;
    struct pipe *p = kzalloc(sizeof(*p));
    char *buf = kmalloc(PIPE_SIZE);
    if (!p || !buf)
        goto nomem;
    waitq_init(&p->wq);
    mutex_init(&p->rd_mutex);
    mutex_init(&p->wr_mutex);
    p->buf = buf;
    p->ino = __atomic_fetch_add(&next_ino, 1, __ATOMIC_RELAXED);
    p->rfile = kfile_alloc(&pipe_ops, p, O_RDONLY | (flags & O_NONBLOCK));
    if (!p->rfile)
        goto nomem;
    p->wfile = kfile_alloc(&pipe_ops, p, O_WRONLY | (flags & O_NONBLOCK));
    if (!p->wfile) {
        /* The read end's release finds no write end and frees p. */
        kfile_put(p->rfile);
        return -ENOMEM;
    }
    ends[0] = p->rfile;
    ends[1] = p->wfile;
    return 0;
nomem:
    kfree(buf);
    kfree(p);
    return -ENOMEM;
}

/* ---- system calls -------------------------------------------------------- */

SYSCALL2(pipe2, int *, ufds, int, flags)
{
    /* O_DIRECT (packet mode) is not supported. */
    if (flags & ~(O_CLOEXEC | O_NONBLOCK))
        return -EINVAL;
    if (!user_writable(ufds, 2 * sizeof(int)))
        return -EFAULT;
    struct kfile *ends[2];
    int r = pipe_open((unsigned)flags, ends);
    if (r < 0)
        return r;
    unsigned fdflags = (flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
    int fds[2];
    fds[0] = fd_install(ends[0], 0, fdflags);
    if (fds[0] < 0) {
        kfile_put(ends[0]);
        kfile_put(ends[1]);
        return fds[0];
    }
    fds[1] = fd_install(ends[1], 0, fdflags);
    if (fds[1] < 0) {
        fd_close(fds[0]);
        kfile_put(ends[1]);
        return fds[1];
    }
    if (copy_to_user(ufds, fds, sizeof(fds)) < 0) {
        fd_close(fds[0]);
        fd_close(fds[1]);
        return -EFAULT;
    }
    return 0;
}

LEGACY_SYSCALL1(pipe, int *, ufds)
{
    return sys_pipe2(ufds, 0);
}
