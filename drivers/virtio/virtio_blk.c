/*
 * virtio-blk (Virtio 1.2, 5.2): reads from one request queue, behind the
 * block device interface (kern/blkdev.h).
 *
 * A request is one chain (5.2.6): a 16-byte header the device reads (the
 * type, VIRTIO_BLK_T_IN, and the first sector), the caller's buffer by
 * physical address as device-writable pieces, and one status byte the
 * device writes last. A read is cut into requests of at most req_max bytes
 * and seg_max pieces, and up to NR_SLOTS of them are kept in flight, so a
 * large read (the root file system's image at boot) costs a few
 * interrupts per request rather than a round trip per page.
 *
 * One reader at a time owns the queue (vb->lock); it sleeps on vb->wq
 * until the device's MSI-X interrupt says a request came back, and takes
 * the finished requests off the used ring itself. The interrupt handler
 * only wakes it. A device without MSI-X is polled instead.
 */
#include <arch/mm.h>
#include <kern/blkdev.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/page_alloc.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <kern/waitq.h>
#include "virtio.h"
#include "virtqueue.h"

/* 5.2.3 Feature bits. */
#define VIRTIO_BLK_F_SIZE_MAX    1
#define VIRTIO_BLK_F_SEG_MAX     2
#define VIRTIO_BLK_F_RO          5
#define VIRTIO_BLK_F_BLK_SIZE    6

/* 5.2.4 Device configuration layout. */
#define VIRTIO_BLK_CFG_CAPACITY  0   /* le64, in 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX  8   /* le32, bytes in one piece */
#define VIRTIO_BLK_CFG_SEG_MAX   12  /* le32, pieces in one request */
#define VIRTIO_BLK_CFG_BLK_SIZE  20  /* le32 */

/* 5.2.6 Device Operation. */
#define VIRTIO_BLK_T_IN          0
#define VIRTIO_BLK_S_OK          0
#define VIRTIO_BLK_S_IOERR       1
#define VIRTIO_BLK_S_UNSUPP      2
/* Not a status the device writes: a request it returned without one. */
#define STATUS_UNSET             0xff

struct virtio_blk_req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

#define REQUEST_QUEUE   0
#define QUEUE_SIZE_MAX  128
#define NR_SLOTS        8           /* requests in flight for one read */
#define SEGS_MAX        64          /* data pieces in one request we build */
#define REQ_BYTES_MAX   (1u << 20)  /* bytes in one request */
/* A request not back after this long means the device is gone; the read
 * fails rather than hanging the boot. Generous: TCG on a loaded host. */
#define WAIT_TIMEOUT_NS (30ull * 1000000000)

/* What the device sees of a request: the header and the status byte. It
 * lives in a page of its own (the slot page), so both are physically
 * contiguous and reachable through virt_to_phys. */
struct vblk_slot {
    struct virtio_blk_req_hdr hdr;
    uint8_t status;
    bool busy;                      /* ours: handed to the device */
};

struct vblk {
    struct blkdev bd;
    struct virtio_dev *vd;
    struct virtqueue *vq;
    struct mutex lock;              /* one reader owns the queue */
    struct waitq wq;                /* that reader waits here */
    struct vblk_slot *slots;        /* NR_SLOTS, in one page */
    unsigned seg_max;               /* data pieces per request */
    uint32_t req_max;               /* bytes per request */
    bool polled;                    /* no MSI-X: poll the used ring */
    bool dead;                      /* a request never came back */
    bool lost_irq_reported;
};

static unsigned nr_units;           /* names virtio-blk0, virtio-blk1, ... */

static void vblk_irq(void *arg)
{
    struct vblk *vb = arg;
    waitq_wake(&vb->wq, -1);
}

/* Sleep until the device has returned a request. The check and the sleep
 * happen under the wait queue's lock, which the interrupt handler takes to
 * wake us, so a completion between them cannot be missed. Returns 0, or
 * -ETIME when nothing came back in WAIT_TIMEOUT_NS. */
static int wait_used(struct vblk *vb)
{
    uint64_t deadline = clock_monotonic_ns() + WAIT_TIMEOUT_NS;
    if (vb->polled) {
        while (!vq_has_used(vb->vq)) {
            if (clock_monotonic_ns() > deadline)
                return -ETIME;
            thread_yield();
        }
        return 0;
    }
    int r = 0;
    unsigned long flags = spin_lock_irqsave(&vb->wq.lock);
    while (!vq_enable_cb(vb->vq)) {
        if (!waitq_sleep_locked(&vb->wq, &flags, WAIT_TIMEOUT_NS) ||
            clock_monotonic_ns() > deadline) {
            /* A completion that came without its interrupt is still a
             * completion, but the interrupt path is broken: say so once. */
            if (vq_has_used(vb->vq)) {
                if (!vb->lost_irq_reported)
                    pr_warn("%s: a request completed without an interrupt\n", vb->bd.name);
                vb->lost_irq_reported = true;
            } else {
                r = -ETIME;
            }
            break;
        }
    }
    spin_unlock_irqrestore(&vb->wq.lock, flags);
    return r;
}

static struct vblk_slot *free_slot(struct vblk *vb)
{
    for (unsigned i = 0; i < NR_SLOTS; i++)
        if (!vb->slots[i].busy)
            return &vb->slots[i];
    return NULL;
}

/* Make the data pieces sg[1..*n) a whole number of sectors (5.2.6.1: a
 * read's length is a multiple of 512). Only a buffer that is not
 * sector-aligned and ran out of pieces needs it. Returns the bytes left. */
static size_t trim_to_sectors(struct vq_seg *sg, unsigned *n)
{
    size_t total = 0;
    for (unsigned i = 1; i < *n; i++)
        total += sg[i].len;
    size_t extra = total % BLK_SECTOR_SIZE;
    total -= extra;
    while (extra) {
        struct vq_seg *last = &sg[*n - 1];
        if (last->len > extra) {
            last->len -= (uint32_t)extra;
            extra = 0;
        } else {
            extra -= last->len;
            (*n)--;
        }
    }
    return total;
}

static const char *status_name(uint8_t s)
{
    switch (s) {
    case VIRTIO_BLK_S_IOERR:  return "I/O error";
    case VIRTIO_BLK_S_UNSUPP: return "unsupported request";
    case STATUS_UNSET:        return "no status written";
    default:                  return "unknown status";
    }
}

/* Queue one request for the start of [*p, *p + *len), if a slot and the
 * descriptors for it are free. Returns 1 when queued, 0 when the ring is
 * full (wait for completions), or -errno. */
static int submit(struct vblk *vb, uint8_t **p, uint64_t *sector, size_t *len)
{
    struct vblk_slot *s = free_slot(vb);
    if (!s)
        return 0;
    struct vq_seg sg[SEGS_MAX + 2];
    unsigned n = 1;
    int r = vq_sg_from_virt(*p, MIN(*len, (size_t)vb->req_max), sg, &n, 1 + vb->seg_max);
    if (r < 0 && r != -EMSGSIZE)
        return r;
    /* -EMSGSIZE: the pieces that fit make a shorter request. */
    size_t bytes = trim_to_sectors(sg, &n);
    if (bytes == 0)
        return -EINVAL;     /* an unaligned buffer and a device taking one piece */
    if (!vq_fits(vb->vq, n + 1))
        return 0;
    s->hdr.type = VIRTIO_BLK_T_IN;
    s->hdr.reserved = 0;
    s->hdr.sector = *sector;
    s->status = STATUS_UNSET;
    sg[0].addr = virt_to_phys(&s->hdr);
    sg[0].len = sizeof(s->hdr);
    sg[n].addr = virt_to_phys(&s->status);
    sg[n].len = 1;
    r = vq_add(vb->vq, sg, 1, n, s);
    if (r < 0)
        return r;
    s->busy = true;
    *p += bytes;
    *sector += bytes / BLK_SECTOR_SIZE;
    *len -= bytes;
    return 1;
}

static int vblk_read(struct blkdev *bd, uint64_t sector, void *buf, size_t len)
{
    struct vblk *vb = bd->priv;
    uint8_t *p = buf;
    unsigned inflight = 0;
    int err = 0;

    mutex_lock(&vb->lock);
    if (vb->dead)
        err = -EIO;
    while (!err || inflight) {
        /* Fill the ring, unless a request failed: then only wait for
         * the others, which still point into buf. */
        int r;
        while (!err && len && (r = submit(vb, &p, &sector, &len)) != 0) {
            if (r < 0)
                err = r;
            else
                inflight++;
        }
        if (inflight == 0)
            break;
        vq_kick(vb->vq);
        if (wait_used(vb) < 0) {
            /* The device still holds requests: it may write into buf at
             * any time from now on, so the caller must abandon it. */
            pr_err("%s: no answer for %llu s: device abandoned\n", bd->name,
                   WAIT_TIMEOUT_NS / 1000000000);
            vb->dead = true;
            err = -ETIME;
            break;
        }
        struct vblk_slot *s;
        while ((s = vq_get_used(vb->vq, NULL))) {
            inflight--;
            s->busy = false;
            if (s->status != VIRTIO_BLK_S_OK) {
                if (!err)
                    pr_err("%s: read at sector %llu failed: %s\n", bd->name,
                           (unsigned long long)s->hdr.sector, status_name(s->status));
                err = -EIO;
            }
        }
        if (vb->vq->broken) {
            /* vq_get_used said why; nothing more will come back. */
            vb->dead = true;
            err = -ETIME;
            break;
        }
        if (!len && !inflight)
            break;
    }
    /* Never report success for a read that did not cover all of buf. */
    if (!err && len)
        err = -EIO;
    mutex_unlock(&vb->lock);
    return err;
}

static const struct blkdev_ops vblk_ops = {
    .read = vblk_read,
};

/* --------------------------------------------------------------- probe ---- */

/* 4.1.3.1: a 64-bit field is read as two 32-bit halves; the generation
 * check covers one half at a time, so read until the low half is stable
 * (the capacity changes only on a resize). */
static int read_config64(struct virtio_dev *vd, unsigned off, uint64_t *v)
{
    uint32_t lo, hi, again;
    do {
        if (virtio_config_read(vd, off, &lo, 4) < 0 ||
            virtio_config_read(vd, off + 4, &hi, 4) < 0 ||
            virtio_config_read(vd, off, &again, 4) < 0)
            return -EINVAL;
    } while (lo != again);
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

static uint32_t config32(struct virtio_dev *vd, unsigned bit, unsigned off, uint32_t dflt)
{
    uint32_t v;
    if (!virtio_has(vd, bit) || virtio_config_read(vd, off, &v, 4) < 0)
        return dflt;
    return v;
}

static uint16_t queue_size(struct virtio_dev *vd)
{
    unsigned max = virtio_queue_max(vd, REQUEST_QUEUE);
    unsigned size = 1;
    while (size * 2 <= max && size * 2 <= QUEUE_SIZE_MAX)
        size *= 2;
    return max ? (uint16_t)size : 0;
}

static int setup(struct vblk *vb, const char *where)
{
    struct virtio_dev *vd = vb->vd;
    uint64_t want = VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
                    VIRTIO_BIT(VIRTIO_BLK_F_RO) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE);
    int r = virtio_negotiate(vd, want);
    if (r < 0) {
        pr_err("virtio-blk %s: %s; device ignored\n", where,
               r == -ENODEV ? "no VIRTIO_F_VERSION_1 (a legacy-only device)"
                            : "the device refused our features");
        return r;
    }
    if (read_config64(vd, VIRTIO_BLK_CFG_CAPACITY, &vb->bd.sectors) < 0) {
        pr_err("virtio-blk %s: no device configuration; device ignored\n", where);
        return -ENODEV;
    }

    uint16_t qsize = queue_size(vd);
    if (qsize < 4) {
        pr_err("virtio-blk %s: request queue of %u entries, too small\n", where, qsize);
        return -ENODEV;
    }
    /* Without SEG_MAX the device takes any number of pieces; the ring
     * still bounds a chain to its size (header and status included). */
    uint32_t seg_max = config32(vd, VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_CFG_SEG_MAX, SEGS_MAX);
    vb->seg_max = MIN(MIN(seg_max, (uint32_t)SEGS_MAX), (uint32_t)qsize - 2);
    if (vb->seg_max == 0)
        vb->seg_max = 1;
    /* A request no longer than size_max keeps every piece within it. */
    uint32_t size_max = config32(vd, VIRTIO_BLK_F_SIZE_MAX, VIRTIO_BLK_CFG_SIZE_MAX, 0);
    vb->req_max = REQ_BYTES_MAX;
    if (size_max) {
        if (size_max < BLK_SECTOR_SIZE) {
            pr_err("virtio-blk %s: size_max %u is less than a sector; device ignored\n",
                   where, size_max);
            return -ENODEV;
        }
        vb->req_max = MIN(vb->req_max, ALIGN_DOWN(size_max, BLK_SECTOR_SIZE));
    }
    uint32_t blk_size = config32(vd, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_CFG_BLK_SIZE,
                                 BLK_SECTOR_SIZE);
    if (blk_size < BLK_SECTOR_SIZE || blk_size > 65536 || (blk_size & (blk_size - 1)))
        blk_size = BLK_SECTOR_SIZE;     /* only a hint: ignore nonsense */
    vb->bd.block_size = blk_size;
    vb->bd.read_only = virtio_has(vd, VIRTIO_BLK_F_RO);

    paddr_t slots_pa = page_alloc(0);
    vb->vq = vq_create(qsize, REQUEST_QUEUE, 0, 0);
    if (!slots_pa || !vb->vq) {
        pr_err("virtio-blk %s: out of memory\n", where);
        return -ENOMEM;
    }
    vb->slots = phys_to_virt(slots_pa);
    memset(vb->slots, 0, PAGE_SIZE);

    if (vd->num_irqs == 0) {
        vb->polled = true;
        r = virtio_queue_enable(vd, REQUEST_QUEUE, vb->vq, VIRTIO_NO_IRQ);
    } else if ((r = virtio_irq(vd, 0, vblk_irq, vb, "virtio-blk")) >= 0) {
        r = virtio_queue_enable(vd, REQUEST_QUEUE, vb->vq, 0);
    }
    if (r < 0) {
        pr_err("virtio-blk %s: queue or interrupt setup failed (%d)\n", where, r);
        return r;
    }
    return 0;
}

int virtio_blk_probe(struct virtio_dev *vd)
{
    const char *where = vd->where;
    struct vblk *vb = kzalloc(sizeof(*vb));
    if (!vb)
        return -ENOMEM;
    vb->vd = vd;
    mutex_init(&vb->lock);
    waitq_init(&vb->wq);

    virtio_begin(vd);
    int r = setup(vb, where);
    if (r < 0) {
        virtio_fail(vd);
        /* The queue and slot page stay allocated: the device may hold
         * their addresses until it is reset. */
        return r;
    }
    virtio_driver_ok(vd);

    struct blkdev *bd = &vb->bd;
    snprintf(bd->name, sizeof(bd->name), "virtio-blk%u", nr_units++);
    bd->ops = &vblk_ops;
    bd->priv = vb;
    blkdev_register(bd);
    pr_info("%s: virtio-blk at %s, %llu sectors (%llu KiB)%s, block size %u, queue %u, "
            "requests of up to %u pieces and %u KiB%s\n", bd->name, where,
            (unsigned long long)bd->sectors, (unsigned long long)bd->sectors / 2,
            bd->read_only ? ", read-only" : "", bd->block_size, vb->vq->size, vb->seg_max,
            vb->req_max / 1024, vb->polled ? ", polled (no MSI-X)" : "");
    return 0;
}
