/*
 * blkfront: a Xen PV disk (device/vbd/<id>, xen/io/blkif.h) behind the
 * block device interface (kern/blkdev.h), read-only, for the root file
 * system's image.
 *
 * The handshake (xenbus): one ring page granted to the backend, an
 * interdomain event channel, "ring-ref", "event-channel" and "protocol"
 * written in one transaction with our state Initialised; once the backend
 * is Connected its "sectors", "sector-size" and "info" give the size and
 * whether it is read-only, and we go Connected.
 *
 * Data moves through bounce pages granted to the backend once at setup
 * (writable: it writes the data into them); a read is cut into requests
 * of up to BLKIF_MAX_SEGMENTS_PER_REQUEST pages, up to NR_SLOTS in flight,
 * and copied out to the caller's buffer as each comes back. So the
 * caller's buffer needs no alignment, is never granted, and is never
 * written after blk_read returned (also on -ETIME). The cost is one copy,
 * small next to a request's round trip through dom0.
 *
 * One reader at a time (bf->lock); it sleeps on bf->wq until the event
 * channel's handler wakes it, and takes responses off the ring itself.
 */
#include <arch/barrier.h>
#include <arch/mm.h>
#include <kern/blkdev.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/page_alloc.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/timer.h>
#include <kern/waitq.h>
#include "gnttab.h"
#include "xen.h"
#include "xenbus.h"
#include "xenstore.h"
#include <xen/grant_table.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>

#define NR_SLOTS          4
#define SEGS              BLKIF_MAX_SEGMENTS_PER_REQUEST
#define SECTORS_PER_PAGE  (PAGE_SIZE / BLK_SECTOR_SIZE)
#define CONNECT_TIMEOUT_NS (20ULL * 1000 * 1000 * 1000)
#define IO_TIMEOUT_NS      (30ULL * 1000 * 1000 * 1000)

struct slot {
    bool busy;
    int16_t status;
    bool done;
    uint8_t *dst;               /* where its data goes */
    size_t len;
    paddr_t page[SEGS];         /* bounce pages */
    grant_ref_t gref[SEGS];
};

struct blkfront {
    struct xenbus_dev *dev;
    struct blkif_front_ring ring;
    paddr_t ring_pa;
    grant_ref_t ring_ref;
    int port;
    struct mutex lock;
    struct waitq wq;
    struct slot slot[NR_SLOTS];
    struct blkdev bd;
};

static void bf_event(void *arg)
{
    struct blkfront *bf = arg;
    waitq_wake(&bf->wq, -1);
}

/* Take the responses that came back: copy data out, free their slots. */
static int reap(struct blkfront *bf)
{
    int n = 0, more;
    do {
        RING_IDX prod = bf->ring.sring->rsp_prod;
        rmb();                  /* the index before the responses */
        for (RING_IDX i = bf->ring.rsp_cons; i != prod; i++) {
            struct blkif_response *r = RING_GET_RESPONSE(&bf->ring, i);
            if (r->id >= NR_SLOTS || !bf->slot[r->id].busy) {
                pr_err("blkfront: %s: response for unknown request %llu\n", bf->bd.name,
                       (unsigned long long)r->id);
                continue;
            }
            struct slot *s = &bf->slot[r->id];
            s->status = r->status;
            s->done = true;
            n++;
        }
        bf->ring.rsp_cons = prod;
        RING_FINAL_CHECK_FOR_RESPONSES(&bf->ring, more);
    } while (more);
    return n;
}

static int finish(struct blkfront *bf, struct slot *s)
{
    int err = 0;
    if (s->status != BLKIF_RSP_OKAY) {
        pr_err("blkfront: %s: read failed (status %d)\n", bf->bd.name, s->status);
        err = -EIO;
    } else {
        for (size_t off = 0, k = 0; off < s->len; off += PAGE_SIZE, k++) {
            size_t n = s->len - off < PAGE_SIZE ? s->len - off : PAGE_SIZE;
            memcpy(s->dst + off, phys_to_virt(s->page[k]), n);
        }
    }
    s->busy = s->done = false;
    return err;
}

static void submit(struct blkfront *bf, struct slot *s, uint64_t sector, uint8_t *dst,
                   size_t len)
{
    struct blkif_request *rq = RING_GET_REQUEST(&bf->ring, bf->ring.req_prod_pvt);
    bf->ring.req_prod_pvt++;
    rq->operation = BLKIF_OP_READ;
    rq->handle = (blkif_vdev_t)bf->dev->id;
    rq->id = (uint64_t)(s - bf->slot);
    rq->sector_number = sector;
    size_t sectors = len / BLK_SECTOR_SIZE;
    rq->nr_segments = (uint8_t)((sectors + SECTORS_PER_PAGE - 1) / SECTORS_PER_PAGE);
    for (unsigned k = 0; k < rq->nr_segments; k++) {
        size_t in_page = sectors - k * SECTORS_PER_PAGE;
        rq->seg[k].gref = s->gref[k];
        rq->seg[k].first_sect = 0;
        rq->seg[k].last_sect = (uint8_t)((in_page < SECTORS_PER_PAGE ? in_page : SECTORS_PER_PAGE) - 1);
    }
    s->busy = true;
    s->done = false;
    s->dst = dst;
    s->len = len;
}

static int bf_read(struct blkdev *bd, uint64_t sector, void *buf, size_t len)
{
    struct blkfront *bf = bd->priv;
    uint8_t *p = buf;
    int err = 0;
    mutex_lock(&bf->lock);
    for (;;) {
        /* Fill free slots. */
        bool pushed = false;
        for (int i = 0; i < NR_SLOTS && len && !err; i++) {
            struct slot *s = &bf->slot[i];
            if (s->busy)
                continue;
            size_t n = len < SEGS * PAGE_SIZE ? len : SEGS * PAGE_SIZE;
            submit(bf, s, sector, p, n);
            sector += n / BLK_SECTOR_SIZE;
            p += n;
            len -= n;
            pushed = true;
        }
        if (pushed) {
            int notify;
            RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&bf->ring, notify);
            if (notify)
                evtchn_notify(bf->port);
        }
        bool any = false;
        for (int i = 0; i < NR_SLOTS; i++)
            any |= bf->slot[i].busy;
        if (!any)
            break;
        /* Wait for a response. */
        unsigned long flags = spin_lock_irqsave(&bf->wq.lock);
        bool timed_out = false;
        while (!RING_HAS_UNCONSUMED_RESPONSES(&bf->ring) && !timed_out)
            timed_out = !waitq_sleep_locked(&bf->wq, &flags, IO_TIMEOUT_NS) &&
                        !RING_HAS_UNCONSUMED_RESPONSES(&bf->ring);
        spin_unlock_irqrestore(&bf->wq.lock, flags);
        if (timed_out) {
            /* The bounce pages may still be written: the slots stay busy
             * and the disk unusable, the caller's buffer is safe. */
            pr_err("blkfront: %s: no response from the backend in 30 s\n", bd->name);
            err = -ETIME;
            break;
        }
        reap(bf);
        for (int i = 0; i < NR_SLOTS; i++)
            if (bf->slot[i].busy && bf->slot[i].done) {
                int e = finish(bf, &bf->slot[i]);
                if (e && !err)
                    err = e;
            }
    }
    mutex_unlock(&bf->lock);
    return err;
}

static const struct blkdev_ops bf_ops = { .read = bf_read };

static int setup_ring(struct blkfront *bf)
{
    uint16_t be = bf->dev->otherend_id;
    bf->ring_pa = page_alloc(0);
    if (!bf->ring_pa)
        return -ENOMEM;
    struct blkif_sring *sr = phys_to_virt(bf->ring_pa);
    memset(sr, 0, PAGE_SIZE);
    SHARED_RING_INIT(sr);
    FRONT_RING_INIT(&bf->ring, sr, PAGE_SIZE);
    int ref = gnttab_grant(be, bf->ring_pa, false);
    if (ref < 0)
        return ref;
    bf->ring_ref = (grant_ref_t)ref;
    for (int i = 0; i < NR_SLOTS; i++)
        for (int k = 0; k < SEGS; k++) {
            paddr_t pa = page_alloc(0);
            if (!pa)
                return -ENOMEM;
            bf->slot[i].page[k] = pa;
            ref = gnttab_grant(be, pa, false);
            if (ref < 0)
                return ref;
            bf->slot[i].gref[k] = (grant_ref_t)ref;
        }
    bf->port = evtchn_alloc_unbound(be);
    if (bf->port < 0)
        return bf->port;
    if (xen_evtchn_bind((uint32_t)bf->port, bf_event, bf, bf->bd.name) < 0)
        return -EIO;
    return 0;
}

/* Our half of the connection, in one transaction (retried on -EAGAIN). */
static int publish(struct blkfront *bf)
{
    struct xenbus_dev *d = bf->dev;
    char path[128];
    for (int tries = 0; tries < 10; tries++) {
        xs_txn_t t;
        int err = xs_txn_start(&t);
        if (err)
            return err;
        snprintf(path, sizeof(path), "%s/ring-ref", d->nodename);
        err = xs_printf(t, path, "%u", bf->ring_ref);
        if (!err) {
            snprintf(path, sizeof(path), "%s/event-channel", d->nodename);
            err = xs_printf(t, path, "%d", bf->port);
        }
        if (!err) {
            snprintf(path, sizeof(path), "%s/protocol", d->nodename);
            err = xs_write(t, path, XEN_IO_PROTO_ABI_NATIVE);
        }
        if (!err) {
            snprintf(path, sizeof(path), "%s/state", d->nodename);
            err = xs_printf(t, path, "%d", XenbusStateInitialised);
        }
        if (err) {
            xs_txn_end(t, true);
            return err;
        }
        err = xs_txn_end(t, false);
        if (err != -EAGAIN)
            return err;
    }
    return -EAGAIN;
}

int blkfront_probe(struct xenbus_dev *d)
{
    struct blkfront *bf = kzalloc(sizeof(*bf));
    if (!bf)
        return -ENOMEM;
    bf->dev = d;
    d->priv = bf;
    mutex_init(&bf->lock);
    waitq_init(&bf->wq);
    static unsigned count;
    snprintf(bf->bd.name, sizeof(bf->bd.name), "xen-vbd%u", count++);

    int err = setup_ring(bf);
    if (!err)
        err = publish(bf);
    if (err) {
        pr_err("blkfront: %s: setting up the ring failed (%d)\n", d->nodename, err);
        return err;     /* the pages and grants stay: the backend may hold them */
    }
    int got;
    err = xenbus_wait_otherend(d, XenbusStateConnected, CONNECT_TIMEOUT_NS, &got);
    if (err)
        return err;
    long sectors, sector_size = BLK_SECTOR_SIZE, info = 0;
    err = xenbus_read_int(d, true, "sectors", &sectors);
    if (err) {
        pr_err("blkfront: %s: the backend gives no size (%d)\n", d->nodename, err);
        return err;
    }
    xenbus_read_int(d, true, "sector-size", &sector_size);
    xenbus_read_int(d, true, "info", &info);
    err = xenbus_switch_state(d, XenbusStateConnected);
    if (err)
        return err;
    /* "sectors" counts sector-size units; requests always count 512-byte
     * sectors (blkif.h). */
    bf->bd.sectors = (uint64_t)sectors * (uint64_t)sector_size / BLK_SECTOR_SIZE;
    bf->bd.block_size = (uint32_t)sector_size;
    bf->bd.read_only = (info & VDISK_READONLY) != 0;
    bf->bd.ops = &bf_ops;
    bf->bd.priv = bf;
    pr_info("blkfront: %s: %s, %llu sectors of %ld bytes%s, event channel %d\n", bf->bd.name,
            d->nodename, (unsigned long long)bf->bd.sectors, sector_size,
            bf->bd.read_only ? ", read-only" : "", bf->port);
    blkdev_register(&bf->bd);
    return 0;
}
