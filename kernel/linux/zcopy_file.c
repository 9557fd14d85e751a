/*
 * The completion descriptor of zcopy_tx (include/tern/zcopy.h): readable
 * once every byte of that send was ACKed by the peer and given back by
 * the device. A read returns the 8-byte count 1, as an eventfd would
 * (OSv's zcopy_tx uses an eventfd); it blocks until then unless the file
 * is non-blocking.
 *
 * The notification (kern/socket.h) fires under net_lock, possibly after
 * the app closed the descriptor; whichever of the two comes last frees
 * the object, and net_lock orders them.
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/net.h>
#include <kern/socket.h>
#include <kern/string.h>
#include <kern/waitq.h>
#include "linux.h"

struct zcopy_file {
    struct zc_notify zn;
    struct waitq wq;
    bool done;                  /* fired */
    bool open;                  /* the kfile still exists */
    struct kfile *file;
};

static void zcopy_fire(struct zc_notify *zn)
{
    struct zcopy_file *z = container_of(zn, struct zcopy_file, zn);
    __atomic_store_n(&z->done, true, __ATOMIC_RELEASE);
    if (!z->open) {
        kfree(z);
        return;
    }
    waitq_wake(&z->wq, -1);
    kfile_notify(z->file, POLLIN | POLLRDNORM);
}

static int64_t zcopy_read(struct kfile *f, void *buf, size_t n, uint64_t *pos)
{
    struct zcopy_file *z = f->priv;
    (void)pos;
    if (n < sizeof(uint64_t))
        return -EINVAL;
    unsigned long flags = spin_lock_irqsave(&z->wq.lock);
    while (!__atomic_load_n(&z->done, __ATOMIC_ACQUIRE)) {
        if (f->flags & O_NONBLOCK) {
            spin_unlock_irqrestore(&z->wq.lock, flags);
            return -EAGAIN;
        }
        waitq_sleep_locked(&z->wq, &flags, 0);
    }
    spin_unlock_irqrestore(&z->wq.lock, flags);
    uint64_t one = 1;
    memcpy(buf, &one, sizeof(one));
    return sizeof(one);
}

static unsigned zcopy_poll(struct kfile *f)
{
    struct zcopy_file *z = f->priv;
    return __atomic_load_n(&z->done, __ATOMIC_ACQUIRE) ? POLLIN | POLLRDNORM : 0;
}

static void zcopy_release(struct kfile *f)
{
    struct zcopy_file *z = f->priv;
    net_lock();
    z->open = false;
    bool done = z->done;
    net_unlock();
    if (done)
        kfree(z);
}

static const struct kfile_ops zcopy_ops = {
    .kind = "zcopy",
    .read = zcopy_read,
    .poll = zcopy_poll,
    .release = zcopy_release,
};

struct zc_notify *zcopy_file_new(struct kfile **out)
{
    struct zcopy_file *z = kzalloc(sizeof(*z));
    if (!z)
        return NULL;
    waitq_init(&z->wq);
    z->zn.pending = 1;                  /* the sender's, until zc_notify_seal */
    z->zn.fire = zcopy_fire;
    z->open = true;
    z->file = kfile_alloc(&zcopy_ops, z, O_RDONLY);
    if (!z->file) {
        kfree(z);
        return NULL;
    }
    *out = z->file;
    return &z->zn;
}
