/*
 * A zero-copy completion queue (include/tern/zcopy.h: zcopy_txq_open,
 * zcopy_txq): one descriptor for many zcopy_tx sends, so that a sender
 * that keeps a ring of buffers in flight pays neither a descriptor per
 * send nor a system call and a wakeup per completion.
 *
 * Each send through the queue gets the next sequence number as its call
 * returns. A read gives, as an 8-byte count, how many more sends have
 * completed *in that order* since the last read: send k counts only once
 * sends 0..k-1 have completed too. A retransmission can hold an older
 * send's pages in the device after a newer send is done; reporting the
 * completed prefix keeps the rule simple for the app: after reading n,
 * its n oldest outstanding buffers are its own again. A read blocks
 * while nothing new completed (EAGAIN when non-blocking); poll reports
 * POLLIN when it would not block. The completion itself is the usual
 * one (kern/socket.h): every byte ACKed and every descriptor back from
 * the device.
 *
 * The queue's state has its own lock, taken inside net_lock where
 * completions fire and alone elsewhere: a small send the stack copies
 * then costs the queue two short critical sections, not two more trips
 * through net_lock, which the device thread on another CPU contends for.
 * The app's side (reported) is under the waitq's lock, which also orders
 * the sleep against the wakeup. The queue is freed when its descriptor is
 * closed and the last send it counts has fired, whichever comes last.
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/net.h>
#include <kern/socket.h>
#include <kern/string.h>
#include <kern/waitq.h>
#include "linux.h"

/* Sends in flight on one queue at most: the done bitmap's window. */
#define TXQ_WINDOW 4096

struct zcopy_txq {
    spinlock_t lock;            /* everything below but wq and reported */
    struct waitq wq;
    struct kfile *file;
    bool open;                  /* the kfile still exists */
    uint32_t live;              /* sends whose notification has not fired */
    uint32_t reserved;          /* sends being queued, without a number yet */
    uint64_t next;              /* the next send's number */
    uint64_t prefix;            /* sends [0, prefix) have completed */
    uint64_t reported;          /* ... of which [0, reported) were read */
    uint8_t done[TXQ_WINDOW / 8];       /* completed, above prefix */
};

struct zcopy_txq_send {
    struct zc_notify zn;
    struct zcopy_txq *q;
    uint64_t seq;
    bool numbered;              /* the call queued bytes: it counts */
};

/* Nothing refers to q any more: it may be freed (once its lock is
 * dropped). Only the change that made it so sees it. Under q->lock. */
static bool txq_unused(struct zcopy_txq *q)
{
    return !q->open && !q->live && !q->reserved;
}

/* Send seq completed: the prefix moves past every completed send, and
 * a reader or poller hears of it. Under q->lock. */
static void txq_done(struct zcopy_txq *q, uint64_t seq)
{
    q->done[(seq % TXQ_WINDOW) / 8] |= (uint8_t)(1u << (seq % 8));
    uint64_t p = q->prefix;
    while (p < q->next && (q->done[(p % TXQ_WINDOW) / 8] & (1u << (p % 8)))) {
        q->done[(p % TXQ_WINDOW) / 8] &= (uint8_t)~(1u << (p % 8));
        p++;
    }
    if (p != q->prefix) {
        __atomic_store_n(&q->prefix, p, __ATOMIC_RELEASE);
        if (q->open) {
            waitq_wake(&q->wq, -1);
            kfile_notify(q->file, POLLIN | POLLRDNORM);
        }
    }
}

static void txq_fire(struct zc_notify *zn)
{
    struct zcopy_txq_send *s = container_of(zn, struct zcopy_txq_send, zn);
    struct zcopy_txq *q = s->q;
    bool counted = s->numbered;
    uint64_t seq = s->seq;
    kfree(s);
    unsigned long flags = spin_lock_irqsave(&q->lock);
    q->live--;
    if (counted)
        txq_done(q, seq);
    bool unused = txq_unused(q);
    spin_unlock_irqrestore(&q->lock, flags);
    if (unused)
        kfree(q);
}

static uint64_t txq_prefix(struct zcopy_txq *q)
{
    return __atomic_load_n(&q->prefix, __ATOMIC_ACQUIRE);
}

static int64_t txq_read(struct kfile *f, void *buf, size_t n, uint64_t *pos)
{
    struct zcopy_txq *q = f->priv;
    (void)pos;
    if (n < sizeof(uint64_t))
        return -EINVAL;
    unsigned long flags = spin_lock_irqsave(&q->wq.lock);
    uint64_t p;
    while ((p = txq_prefix(q)) == q->reported) {
        if (f->flags & O_NONBLOCK) {
            spin_unlock_irqrestore(&q->wq.lock, flags);
            return -EAGAIN;
        }
        waitq_sleep_locked(&q->wq, &flags, 0);
    }
    uint64_t count = p - q->reported;
    q->reported = p;
    spin_unlock_irqrestore(&q->wq.lock, flags);
    memcpy(buf, &count, sizeof(count));
    return sizeof(count);
}

static unsigned txq_poll(struct kfile *f)
{
    struct zcopy_txq *q = f->priv;
    return txq_prefix(q) != __atomic_load_n(&q->reported, __ATOMIC_RELAXED)
               ? POLLIN | POLLRDNORM : 0;
}

static void txq_release(struct kfile *f)
{
    struct zcopy_txq *q = f->priv;
    unsigned long flags = spin_lock_irqsave(&q->lock);
    q->open = false;
    bool unused = txq_unused(q);
    spin_unlock_irqrestore(&q->lock, flags);
    if (unused)
        kfree(q);
}

static const struct kfile_ops txq_ops = {
    .kind = "zcopy_txq",
    .read = txq_read,
    .poll = txq_poll,
    .release = txq_release,
};

struct kfile *zcopy_txq_new(unsigned flags)
{
    struct zcopy_txq *q = kzalloc(sizeof(*q));
    if (!q)
        return NULL;
    q->lock = (spinlock_t)SPINLOCK_INIT;
    waitq_init(&q->wq);
    q->open = true;
    q->file = kfile_alloc(&txq_ops, q, O_RDONLY | (flags & O_NONBLOCK));
    if (!q->file) {
        kfree(q);
        return NULL;
    }
    return q->file;
}

/* Room for one more send on queue file f: 0, or -EINVAL when f is no
 * queue, -ENOBUFS when the window is full. live: the send will fire a
 * notification. */
static int txq_reserve(struct kfile *f, bool live)
{
    if (f->ops != &txq_ops)
        return -EINVAL;
    struct zcopy_txq *q = f->priv;
    int err = 0;
    unsigned long flags = spin_lock_irqsave(&q->lock);
    if (q->next - q->prefix + q->reserved >= TXQ_WINDOW) {
        err = -ENOBUFS;                 /* read the queue first */
    } else {
        q->reserved++;
        q->live += live;
    }
    spin_unlock_irqrestore(&q->lock, flags);
    return err;
}

/* The reserved send's number, if it sent bytes (it counts). Under q->lock. */
static bool txq_number(struct zcopy_txq *q, bool queued, uint64_t *seq)
{
    q->reserved--;
    if (queued)
        *seq = q->next++;
    return queued;
}

struct zc_notify *zcopy_txq_send_new(struct kfile *f, int *err)
{
    struct zcopy_txq_send *s = kzalloc(sizeof(*s));
    if (!s) {
        *err = -ENOMEM;
        return NULL;
    }
    *err = txq_reserve(f, true);
    if (*err) {
        kfree(s);
        return NULL;
    }
    s->q = f->priv;
    s->zn.pending = 1;                  /* the sender's, until zcopy_txq_send_end */
    s->zn.fire = txq_fire;
    return &s->zn;
}

void zcopy_txq_send_end(struct zc_notify *zn, bool queued)
{
    struct zcopy_txq_send *s = container_of(zn, struct zcopy_txq_send, zn);
    unsigned long flags = spin_lock_irqsave(&s->q->lock);
    s->numbered = txq_number(s->q, queued, &s->seq);
    spin_unlock_irqrestore(&s->q->lock, flags);
    zc_notify_seal(zn);
}

/* A send the stack copies (zcopy_copy_max) is complete when its call
 * returns: it takes a number and counts at once, with no notification to
 * allocate, seal and fire - what keeps a small zcopy_txq as cheap as a
 * send(). Reserve, send, then count it. */
int zcopy_txq_copy_begin(struct kfile *f)
{
    return txq_reserve(f, false);
}

void zcopy_txq_copy_end(struct kfile *f, bool sent)
{
    struct zcopy_txq *q = f->priv;
    uint64_t seq;
    unsigned long flags = spin_lock_irqsave(&q->lock);
    if (txq_number(q, sent, &seq))
        txq_done(q, seq);
    spin_unlock_irqrestore(&q->lock, flags);
}
