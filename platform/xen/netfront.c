/*
 * Xen netfront: a vif (device/vif/N in xenstore) behind the same netdev
 * interface as virtio-net (kern/netdev.h). The ring layouts and flags are
 * Xen's public interface (xen/io/netif.h, xen/io/ring.h from libxen-dev).
 *
 * Transmit is zero-copy: every page a frame's segments touch (app pages
 * included) is granted read-only to the backend for the time the frame is
 * in the ring; one request ("slot") per page piece, the first one carrying
 * the whole frame's size, NETTXF_more_data chaining the rest. The first
 * bytes of each frame (up to TX_HEAD_MAX, the headers) are copied into a
 * per-frame head buffer whose page stays granted for good, since netback
 * copies the head anyway and maps only the rest. A frame's completion
 * (netdev_tx_done_fn, which is what lets MSG_ZEROCOPY / zcopy_tx release
 * the app's buffer once TCP has its ACK) runs only when the backend has
 * answered every slot of the frame AND every grant of it has been ended:
 * gnttab_end returning -EBUSY means the backend still maps the page, and
 * the slot is then retried from the device thread until it returns 0.
 * Only then is the page the app's again.
 *
 * Receive uses rx-copy: the ring's 256 buffers are pages granted writable
 * for good; the backend copies frames into them. A frame that spans slots
 * (NETRXF_more_data: GSO frames, since we advertise feature-gso-tcpv4) is
 * copied into one reassembly buffer, an ordinary one is handed to the
 * stack where it lies and its page goes straight back to the ring.
 *
 * One event channel for both rings. Its handler only wakes the device's
 * kernel thread, which drains both rings and runs the hooks and
 * completions (the netdev rules: never from an interrupt handler).
 */
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/netdev.h>
#include <kern/page_alloc.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include "xen.h"
#include "gnttab.h"
#include "xenbus.h"
#include "xenstore.h"

/* ring.h asks its includer for the barriers; on x86 the kernel's are
 * the right ones (kernel/arch/x86_64/include/arch/barrier.h). */
#include <arch/barrier.h>
#define xen_mb()  mb()
#define xen_rmb() rmb()
#define xen_wmb() wmb()
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#define TX_RING_SIZE    __CONST_RING_SIZE(netif_tx, PAGE_SIZE)   /* 256 */
#define RX_RING_SIZE    __CONST_RING_SIZE(netif_rx, PAGE_SIZE)   /* 256 */
#define TX_HEAD_MAX     128     /* frame bytes copied into the head slot */
#define HEADS_PER_PAGE  (PAGE_SIZE / TX_HEAD_MAX)
/* netif.h: a backend must take at least this many slots per frame; Linux
 * netback disconnects a frontend that sends many more, so a frame that
 * needs more is copied into contiguous pages first. */
#define TX_MAX_SLOTS    XEN_NETIF_NR_SLOTS_MIN
#define VLAN_HLEN       4
#define RX_MERGE_MAX    (NETDEV_TSO_MAX_FRAME + VLAN_HLEN)
#define RECLAIM_BATCH   32
/* How long the handshake waits for the backend (nested TCG is slow). */
#define BACKEND_TIMEOUT_NS (60ULL * 1000000000ULL)
/* How often the thread retries grants the backend still maps. */
#define GRANT_RETRY_NS  (5ULL * 1000000ULL)

/* What woke the device thread. */
#define PEND_RING       0x1     /* the event channel */
#define PEND_BACKEND    0x2     /* the backend's state changed */

/* A transmit slot (ids 0 .. TX_RING_SIZE-1, echoed in responses). */
enum { SLOT_FREE, SLOT_IN_RING, SLOT_ENDING };

struct nf_frame;

struct nf_slot {
    uint8_t state;
    bool own_grant;             /* false: the head page's permanent grant */
    uint16_t next_free;
    grant_ref_t gref;
    struct nf_frame *fr;
};

/* One frame in flight; its index picks its head buffer. */
struct nf_frame {
    netdev_tx_done_fn done;
    void *cookie;
    unsigned left;              /* slots not answered or not yet ended */
    int status;
    paddr_t bounce;             /* copy of a frame that needed too many slots */
    unsigned bounce_order;
    struct nf_frame *next_free;
};

struct netfront {
    struct netdev nd;
    struct xenbus_dev *dev;
    uint16_t backend;
    int port;                   /* the event channel */
    bool gso;                   /* the backend takes GSO (feature-gso-tcpv4) */

    spinlock_t tx_lock;         /* tx ring, slots, frames, tx_stopped */
    netif_tx_front_ring_t tx;
    grant_ref_t tx_ring_ref;
    netif_tx_sring_t *tx_sring;
    struct nf_slot slots[TX_RING_SIZE];
    uint16_t slot_free;         /* head of the free list; TX_RING_SIZE: none */
    unsigned slots_free;
    unsigned slots_ending;      /* SLOT_ENDING: grants to retry */
    struct nf_frame frames[TX_RING_SIZE];
    struct nf_frame *frame_free;
    uint8_t *heads[TX_RING_SIZE / HEADS_PER_PAGE];
    grant_ref_t head_ref[TX_RING_SIZE / HEADS_PER_PAGE];
    bool tx_stopped;

    /* Receive: the thread's alone. */
    netif_rx_front_ring_t rx;
    grant_ref_t rx_ring_ref;
    netif_rx_sring_t *rx_sring;
    uint8_t *rx_buf[RX_RING_SIZE];
    grant_ref_t rx_ref[RX_RING_SIZE];
    uint16_t rx_posted[RX_RING_SIZE];   /* ring index & mask -> buffer id */
    uint8_t *merge;             /* a frame that spans slots, gathered */
    size_t merge_len;
    bool in_frame, merge_bad;
    bool want_extra;            /* the next slot is extra info */
    bool last_more;             /* the last data slot had NETRXF_more_data */
    unsigned merge_rxflags;     /* the frame's first slot's NETRXF_* */
    struct netdev_rx_meta merge_meta;

    struct waitq wq;
    volatile uint32_t pending;  /* PEND_* */

    /* The backend going away and coming back (xl network-detach/attach):
     * a watch on its state node wakes the thread, which does the rest. */
    struct xs_watch state_watch;
    char state_path[112];
    volatile bool connected;    /* rings in use; false: transmit fails */
    bool want_connect;          /* a new backend waits for our grants to end */
    bool connecting;            /* published again; the backend not yet Connected */
    uint64_t grant_busy;        /* gnttab_end said -EBUSY (statistics) */
    uint64_t bounced;           /* frames copied: too many slots */
};

/* ------------------------------------------------------------ receive ---- */

static void rx_post(struct netfront *nf, uint16_t id)
{
    RING_IDX i = nf->rx.req_prod_pvt++;
    netif_rx_request_t *req = RING_GET_REQUEST(&nf->rx, i);
    req->id = id;
    req->gref = nf->rx_ref[id];
    nf->rx_posted[i & (RX_RING_SIZE - 1)] = id;
}

static void rx_push(struct netfront *nf)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->rx, notify);
    if (notify)
        evtchn_notify(nf->port);
}

/* NETRXF_csum_blank: the sender left the L4 checksum to offload (it never
 * crossed a wire). Say where it lies, as virtio-net's NEEDS_CSUM does. */
static void rx_csum_partial(const uint8_t *f, size_t len, struct netdev_rx_meta *m)
{
    m->flags |= NETDEV_RX_CSUM_VALID;
    if (len < ETH_HDR_LEN + 20 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4)
        return;
    unsigned ihl = (f[14] & 0xf) * 4u;
    uint8_t proto = f[14 + 9];
    if (proto != 6 && proto != 17)
        return;
    m->flags |= NETDEV_RX_CSUM_PARTIAL;
    m->csum_start = (uint16_t)(ETH_HDR_LEN + ihl);
    m->csum_offset = proto == 6 ? 16 : 6;
}

static void rx_deliver(struct netfront *nf, const uint8_t *f, size_t len,
                       struct netdev_rx_meta *m, unsigned rxflags)
{
    if (len < ETH_HDR_LEN) {
        netdev_stat_add(&nf->nd.stats.rx_errors, 1);
        return;
    }
    if (rxflags & NETRXF_csum_blank)
        rx_csum_partial(f, len, m);
    else if (rxflags & NETRXF_data_validated)
        m->flags |= NETDEV_RX_CSUM_VALID;
    netdev_input(&nf->nd, f, len, m);
}

/* The frame gathered in nf->merge is complete. */
static void rx_finish(struct netfront *nf)
{
    nf->in_frame = false;
    if (nf->merge_bad)
        netdev_stat_add(&nf->nd.stats.rx_dropped, 1);
    else
        rx_deliver(nf, nf->merge, nf->merge_len, &nf->merge_meta, nf->merge_rxflags);
}

/* An extra-info slot (after a frame's first slot with NETRXF_extra_info):
 * the GSO segment size of a coalesced TCP frame. */
static void rx_extra(struct netfront *nf, const struct netif_extra_info *x)
{
    if (x->type == XEN_NETIF_EXTRA_TYPE_GSO && x->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4 &&
        x->u.gso.size) {
        nf->merge_meta.flags |= NETDEV_RX_GSO;
        nf->merge_meta.gso_size = x->u.gso.size;
    }
    nf->want_extra = x->flags & XEN_NETIF_EXTRA_FLAG_MORE;
}

/* Take every response; each one's buffer goes back to the ring at once
 * (the hook has returned by then; extra-info slots carry no data). The
 * buffer of ring index i is the one we posted there (rx_posted): an
 * extra-info response has no id to say so. */
static unsigned rx_drain(struct netfront *nf)
{
    unsigned n = 0;
    int more;
    do {
        RING_IDX rp = nf->rx.sring->rsp_prod;
        rmb();
        for (RING_IDX i = nf->rx.rsp_cons; i != rp; i++) {
            const netif_rx_response_t *r = RING_GET_RESPONSE(&nf->rx, i);
            uint16_t id = nf->rx_posted[i & (RX_RING_SIZE - 1)];
            if (nf->want_extra) {
                rx_extra(nf, (const struct netif_extra_info *)r);
                if (!nf->want_extra && !nf->last_more)
                    rx_finish(nf);
                goto repost;
            }
            int16_t st = r->status;
            bool bad = st < 0 || (uint32_t)r->offset + (uint16_t)st > PAGE_SIZE;
            size_t len = bad ? 0 : (size_t)st;
            const uint8_t *data = nf->rx_buf[id] + r->offset;
            if (bad)
                netdev_stat_add(&nf->nd.stats.rx_errors, 1);
            if (!nf->in_frame) {
                /* A frame's first slot: its flags speak for the frame. */
                memset(&nf->merge_meta, 0, sizeof(nf->merge_meta));
                nf->merge_rxflags = r->flags;
                if (!(r->flags & (NETRXF_more_data | NETRXF_extra_info))) {
                    if (!bad)       /* the common case: delivered in place */
                        rx_deliver(nf, data, len, &nf->merge_meta, r->flags);
                    goto repost;
                }
                nf->in_frame = true;
                nf->merge_len = 0;
                nf->merge_bad = !nf->merge;
                nf->want_extra = r->flags & NETRXF_extra_info;
            }
            if (bad || nf->merge_bad || nf->merge_len + len > RX_MERGE_MAX)
                nf->merge_bad = true;
            else
                memcpy(nf->merge + nf->merge_len, data, len);
            nf->merge_len += len;
            nf->last_more = r->flags & NETRXF_more_data;
            if (!nf->last_more && !nf->want_extra)
                rx_finish(nf);
        repost:
            nf->rx.rsp_cons = i + 1;
            rx_post(nf, id);
            /* Under a flood, give buffers back before the ring runs dry. */
            if (++n % 64 == 0)
                rx_push(nf);
        }
        RING_FINAL_CHECK_FOR_RESPONSES(&nf->rx, more);
    } while (more);
    rx_push(nf);
    return n;
}

/* ----------------------------------------------------------- transmit ---- */

/* Copy bytes [off, off+len) of the frame out of its segments. */
static void gather(const struct netdev_seg *segs, unsigned nsegs, size_t off, uint8_t *out,
                   size_t len)
{
    for (unsigned i = 0; i < nsegs && len; i++) {
        if (off >= segs[i].len) {
            off -= segs[i].len;
            continue;
        }
        size_t n = MIN(segs[i].len - off, len);
        memcpy(out, (const uint8_t *)segs[i].base + off, n);
        out += n;
        len -= n;
        off = 0;
    }
}

static int check_request(struct netfront *nf, const struct netdev_tx_meta *m, size_t total)
{
    if (total < ETH_HDR_LEN)
        return -EINVAL;
    if (m->flags & ~(NETDEV_TX_CSUM | NETDEV_TX_TSO4))
        return -EINVAL;
    if ((m->flags & NETDEV_TX_CSUM) && (size_t)m->csum_start + m->csum_offset + 2 > total)
        return -EINVAL;
    if (m->flags & NETDEV_TX_TSO4) {
        if (!nf->gso)
            return -EOPNOTSUPP;
        if (!(m->flags & NETDEV_TX_CSUM) || m->gso_size == 0 || m->hdr_len > total ||
            m->hdr_len < ETH_HDR_LEN + 20 + 20 || total > XEN_NETIF_MAX_TX_SIZE)
            return -EINVAL;
        return 0;
    }
    if (total > ETH_HDR_LEN + VLAN_HLEN + (size_t)nf->nd.mtu)
        return -EINVAL;
    return 0;
}

/* A piece of a frame inside one page: what one slot carries. */
struct piece {
    paddr_t pa;
    uint16_t len;
    int gref;
};

/* Cut [va, va+len) at page boundaries into pieces (by physical address:
 * app pages through the page tables, kernel memory directly). */
static int pieces_of(const void *va, size_t len, struct piece *pc, unsigned *n, unsigned max)
{
    uintptr_t p = (uintptr_t)va, end = p + len;
    if (end < p)
        return -EFAULT;
    while (p < end) {
        size_t chunk = MIN(end, ALIGN_DOWN(p, PAGE_SIZE) + PAGE_SIZE) - p;
        paddr_t pa;
        if ((intptr_t)p >= 0) {
            /* App memory: the caller keeps it mapped until completion. */
            if (!arch_lookup(ALIGN_DOWN(p, PAGE_SIZE), &pa, NULL))
                return -EFAULT;
            pa += p & (PAGE_SIZE - 1);
        } else {
            pa = arch_virt_to_phys(p);
        }
        if (*n >= max)
            return -EMSGSIZE;
        pc[*n].pa = pa;
        pc[*n].len = (uint16_t)chunk;
        pc[*n].gref = -1;
        (*n)++;
        p += chunk;
    }
    return 0;
}

static void ungrant_pieces(struct piece *pc, unsigned n)
{
    /* Never posted: the backend cannot hold any of them. */
    for (unsigned i = 0; i < n; i++)
        if (pc[i].gref >= 0)
            gnttab_end((grant_ref_t)pc[i].gref);
}

static uint8_t *head_of(struct netfront *nf, unsigned frame, grant_ref_t *ref, uint16_t *off)
{
    *ref = nf->head_ref[frame / HEADS_PER_PAGE];
    *off = (uint16_t)((frame % HEADS_PER_PAGE) * TX_HEAD_MAX);
    return nf->heads[frame / HEADS_PER_PAGE] + *off;
}

static uint16_t slot_take(struct netfront *nf, struct nf_frame *fr, grant_ref_t ref, bool own)
{
    uint16_t id = nf->slot_free;
    struct nf_slot *s = &nf->slots[id];
    nf->slot_free = s->next_free;
    nf->slots_free--;
    s->state = SLOT_IN_RING;
    s->own_grant = own;
    s->gref = ref;
    s->fr = fr;
    return id;
}

static void slot_put(struct netfront *nf, uint16_t id)
{
    struct nf_slot *s = &nf->slots[id];
    s->state = SLOT_FREE;
    s->fr = NULL;
    s->next_free = nf->slot_free;
    nf->slot_free = id;
    nf->slots_free++;
}

static int nf_transmit(struct netdev *nd, const struct netdev_seg *segs, unsigned nsegs,
                       const struct netdev_tx_meta *meta, netdev_tx_done_fn done, void *cookie)
{
    static const struct netdev_tx_meta no_meta;
    struct netfront *nf = nd->priv;
    if (!meta)
        meta = &no_meta;
    size_t total = 0;
    for (unsigned i = 0; i < nsegs; i++) {
        if (total + segs[i].len < total)
            return -EINVAL;
        total += segs[i].len;
    }
    int r = check_request(nf, meta, total);
    if (r == 0 && !nf->connected)
        r = -ENETDOWN;      /* detached: dropped, as a cable pulled */
    if (r < 0) {
        netdev_stat_add(&nd->stats.tx_errors, 1);
        return r;
    }

    /* The pieces after the copied head, by reference. */
    size_t copy = MIN(total, (size_t)TX_HEAD_MAX);
    struct piece pc[NETDEV_MAX_PIECES];
    unsigned n = 0;
    size_t skip = copy;
    for (unsigned i = 0; i < nsegs && r == 0; i++) {
        if (skip >= segs[i].len) {
            skip -= segs[i].len;
            continue;
        }
        r = pieces_of((const uint8_t *)segs[i].base + skip, segs[i].len - skip, pc, &n,
                      ARRAY_SIZE(pc));
        skip = 0;
    }
    if (r == -EFAULT) {
        netdev_stat_add(&nd->stats.tx_errors, 1);
        return r;
    }
    /* Too many slots for the backend (or for us): one contiguous copy. */
    paddr_t bounce = 0;
    unsigned bounce_order = 0;
    if (r == -EMSGSIZE || 1 + n > TX_MAX_SLOTS) {
        bounce_order = page_order_for(total - copy);
        bounce = page_alloc(bounce_order);
        if (!bounce) {
            netdev_stat_add(&nd->stats.tx_busy, 1);
            return -EAGAIN;
        }
        gather(segs, nsegs, copy, phys_to_virt(bounce), total - copy);
        n = 0;
        r = pieces_of(phys_to_virt(bounce), total - copy, pc, &n, ARRAY_SIZE(pc));
        netdev_stat_add(&nf->bounced, 1);
    }
    /* Grant outside the lock: the table may have to grow. */
    for (unsigned i = 0; i < n && r == 0; i++) {
        int g = gnttab_grant(nf->backend, ALIGN_DOWN(pc[i].pa, PAGE_SIZE), true);
        if (g < 0)
            r = -EAGAIN;     /* no free grant: wait for completions */
        else
            pc[i].gref = g;
    }
    bool extra = meta->flags & NETDEV_TX_TSO4;
    unsigned need = 1 + n + (extra ? 1 : 0);

    /* Room for the whole frame, taken and filled in one go (another CPU
     * may be transmitting too). */
    unsigned long flags = spin_lock_irqsave(&nf->tx_lock);
    struct nf_frame *fr = NULL;
    if (r == 0 && !nf->connected) {
        r = -ENETDOWN;      /* backend_gone ran since the check above */
    } else if (r == 0 && nf->frame_free && nf->slots_free >= 1 + n &&
               RING_FREE_REQUESTS(&nf->tx) >= need) {
        fr = nf->frame_free;
        nf->frame_free = fr->next_free;
    } else if (r == 0 || r == -EAGAIN) {
        nf->tx_stopped = true;
        r = -EAGAIN;
    }
    if (!fr) {
        spin_unlock_irqrestore(&nf->tx_lock, flags);
        ungrant_pieces(pc, n);
        if (bounce)
            page_free(bounce, bounce_order);
        netdev_stat_add(r == -EAGAIN ? &nd->stats.tx_busy : &nd->stats.tx_errors, 1);
        return r;
    }

    unsigned fi = (unsigned)(fr - nf->frames);
    grant_ref_t head_ref;
    uint16_t head_off;
    uint8_t *head = head_of(nf, fi, &head_ref, &head_off);
    gather(segs, nsegs, 0, head, copy);
    fr->done = done;
    fr->cookie = cookie;
    fr->status = 0;
    fr->left = 1 + n;
    fr->bounce = bounce;
    fr->bounce_order = bounce_order;

    RING_IDX i = nf->tx.req_prod_pvt;
    netif_tx_request_t *req = RING_GET_REQUEST(&nf->tx, i++);
    req->gref = head_ref;
    req->offset = head_off;
    req->size = (uint16_t)total;        /* the first slot: the whole frame */
    req->flags = 0;
    if (meta->flags & NETDEV_TX_CSUM)
        req->flags |= NETTXF_csum_blank | NETTXF_data_validated;
    if (n)
        req->flags |= NETTXF_more_data;
    if (extra)
        req->flags |= NETTXF_extra_info;
    req->id = slot_take(nf, fr, head_ref, false);
    if (extra) {
        struct netif_extra_info *x = (void *)RING_GET_REQUEST(&nf->tx, i++);
        memset(x, 0, sizeof(*x));
        x->type = XEN_NETIF_EXTRA_TYPE_GSO;
        x->u.gso.size = meta->gso_size;
        x->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
    }
    for (unsigned k = 0; k < n; k++) {
        req = RING_GET_REQUEST(&nf->tx, i++);
        req->gref = (grant_ref_t)pc[k].gref;
        req->offset = (uint16_t)(pc[k].pa & (PAGE_SIZE - 1));
        req->size = pc[k].len;
        req->flags = k + 1 < n ? NETTXF_more_data : 0;
        req->id = slot_take(nf, fr, (grant_ref_t)pc[k].gref, true);
    }
    nf->tx.req_prod_pvt = i;
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->tx, notify);
    spin_unlock_irqrestore(&nf->tx_lock, flags);
    if (notify)
        evtchn_notify(nf->port);
    netdev_stat_add(&nd->stats.tx_packets, 1);
    netdev_stat_add(&nd->stats.tx_bytes, total);
    return 0;
}

struct done_entry {
    netdev_tx_done_fn done;
    void *cookie;
    int status;
};

/* One slot of fr is finished (answered and its grant ended): the frame's
 * completion is due when it was the last. Called with tx_lock held. */
static void slot_finished(struct netfront *nf, uint16_t id, struct done_entry *batch,
                          unsigned *nb)
{
    struct nf_frame *fr = nf->slots[id].fr;
    slot_put(nf, id);
    if (--fr->left)
        return;
    batch[*nb].done = fr->done;
    batch[*nb].cookie = fr->cookie;
    batch[*nb].status = fr->status;
    (*nb)++;
    if (fr->bounce)
        page_free(fr->bounce, fr->bounce_order);
    fr->bounce = 0;
    fr->next_free = nf->frame_free;
    nf->frame_free = fr;
}

/* End the grant of an answered slot; false while the backend still maps
 * the page (the slot waits in SLOT_ENDING and the page stays out of use). */
static bool slot_end_grant(struct netfront *nf, uint16_t id)
{
    struct nf_slot *s = &nf->slots[id];
    if (!s->own_grant)
        return true;
    int r = gnttab_end(s->gref);
    if (r == 0)
        return true;
    nf->grant_busy++;
    return false;
}

/* Take the backend's responses and retry busy grants; run the completions
 * that became due outside the lock, so that they may transmit again. */
static void tx_reclaim(struct netfront *nf)
{
    struct done_entry batch[RECLAIM_BATCH];
    unsigned nb;
    bool again;
    do {
        bool room = false;
        nb = 0;
        again = false;
        unsigned long flags = spin_lock_irqsave(&nf->tx_lock);
        if (nf->slots_ending) {
            for (uint16_t id = 0; id < TX_RING_SIZE && nb < RECLAIM_BATCH; id++) {
                if (nf->slots[id].state != SLOT_ENDING || !slot_end_grant(nf, id))
                    continue;
                nf->slots_ending--;
                slot_finished(nf, id, batch, &nb);
            }
        }
        RING_IDX rp = nf->tx.sring->rsp_prod;
        rmb();
        RING_IDX i;
        for (i = nf->tx.rsp_cons; i != rp && nb < RECLAIM_BATCH; i++) {
            const netif_tx_response_t *rsp = RING_GET_RESPONSE(&nf->tx, i);
            if (rsp->status == NETIF_RSP_NULL)
                continue;           /* the answer to an extra-info slot */
            uint16_t id = rsp->id;
            if (id >= TX_RING_SIZE || nf->slots[id].state != SLOT_IN_RING) {
                netdev_stat_add(&nf->nd.stats.tx_errors, 1);
                continue;
            }
            if (rsp->status != NETIF_RSP_OKAY)
                nf->slots[id].fr->status = -EIO;
            if (!slot_end_grant(nf, id)) {
                nf->slots[id].state = SLOT_ENDING;
                nf->slots_ending++;
                continue;
            }
            slot_finished(nf, id, batch, &nb);
        }
        nf->tx.rsp_cons = i;
        if (i != rp) {
            again = true;
        } else {
            int more;
            RING_FINAL_CHECK_FOR_RESPONSES(&nf->tx, more);
            again = more;
        }
        if (nb && nf->tx_stopped) {
            nf->tx_stopped = false;
            room = true;
        }
        spin_unlock_irqrestore(&nf->tx_lock, flags);
        for (unsigned k = 0; k < nb; k++) {
            netdev_stat_add(&nf->nd.stats.tx_completed, 1);
            if (batch[k].status)
                netdev_stat_add(&nf->nd.stats.tx_errors, 1);
            if (batch[k].done)
                batch[k].done(&nf->nd, batch[k].cookie, batch[k].status);
        }
        if (room)
            netdev_tx_room(&nf->nd);
    } while (again || nb == RECLAIM_BATCH);
}

static const struct netdev_ops nf_ops = {
    .transmit = nf_transmit,
};

/* ------------------------------------------------ interrupts, thread ---- */

static void nf_wake(struct netfront *nf, uint32_t what)
{
    __atomic_fetch_or(&nf->pending, what, __ATOMIC_RELEASE);
    waitq_wake(&nf->wq, 1);
}

static void nf_irq(void *arg)
{
    struct netfront *nf = arg;
    netdev_stat_add(&nf->nd.stats.interrupts, 1);
    nf_wake(nf, PEND_RING);
}

static void backend_changed(struct xs_watch *w, const char *path)
{
    (void)path;
    nf_wake(w->arg, PEND_BACKEND);
}

static int connect_backend(struct netfront *nf, bool wait);
static const char *state_name(int s);

/* The backend left (Closing, Closed, or its node gone: xl network-detach):
 * it will answer nothing more, and closing unmapped what it had mapped.
 * Every frame in flight fails (-EIO) once its grants are ended; the slots
 * wait in SLOT_ENDING for tx_reclaim to end them, as for a busy grant. */
static void backend_gone(struct netfront *nf, int s)
{
    nf->connected = false;
    pr_warn("%s: the backend of %s is %s (detached?): link down; frames in flight "
            "fail, sending fails until a backend connects again\n", nf->nd.name,
            nf->dev->nodename, s < 0 ? "gone" : state_name(s));
    netdev_set_link(&nf->nd, false);
    unsigned long flags = spin_lock_irqsave(&nf->tx_lock);
    for (unsigned id = 0; id < TX_RING_SIZE; id++) {
        struct nf_slot *sl = &nf->slots[id];
        if (sl->state != SLOT_IN_RING)
            continue;
        sl->fr->status = -EIO;
        sl->state = SLOT_ENDING;
        nf->slots_ending++;
    }
    spin_unlock_irqrestore(&nf->tx_lock, flags);
    /* Our Closed lets the backend finish closing (it waits for it). */
    if (s == XenbusStateClosing)
        xenbus_switch_state(nf->dev, XenbusStateClosed);
}

/* Follow the backend: gone while connected, or a new one (the toolstack
 * re-created device/vif/N with the same backend path) waiting for us. */
static void backend_check(struct netfront *nf)
{
    int s = xenbus_read_otherend_state(nf->dev);
    if (nf->connected) {
        if (s < 0 || s == XenbusStateClosing || s == XenbusStateClosed ||
            s < XenbusStateInitWait)
            backend_gone(nf, s);
        return;
    }
    if (nf->connecting) {
        /* Published and Connected on our side: wait for the backend's
         * (its hotplug script may take long), however long it takes. */
        if (s == XenbusStateConnected) {
            nf->connecting = false;
            nf->connected = true;
            evtchn_notify(nf->port);
            pr_info("%s: connected again to %s\n", nf->nd.name, nf->dev->otherend);
            netdev_set_link(&nf->nd, true);
        } else if (s < 0 || s >= XenbusStateClosing) {
            nf->connecting = false;     /* gone again before it connected */
        }
        return;
    }
    if (s != XenbusStateInitWait)
        return;
    /* The old one is gone for good: once its grants have ended (the
     * thread retries them), nothing of ours is mapped any more. */
    tx_reclaim(nf);
    nf->want_connect = nf->slots_ending != 0;
    if (nf->want_connect)
        return;
    pr_info("%s: a backend waits at %s: connecting again\n", nf->nd.name, nf->dev->otherend);
    int r = connect_backend(nf, false);
    if (r < 0)
        pr_err("%s: reconnecting failed (%d); the device stays down\n", nf->nd.name, r);
}

static void nf_thread(void *arg)
{
    struct netfront *nf = arg;
    for (;;) {
        unsigned long flags = spin_lock_irqsave(&nf->wq.lock);
        /* With grants the backend still maps, look again soon. */
        uint64_t wait = __atomic_load_n(&nf->slots_ending, __ATOMIC_RELAXED) ? GRANT_RETRY_NS : 0;
        uint32_t what;
        while (!(what = __atomic_exchange_n(&nf->pending, 0, __ATOMIC_ACQUIRE)) &&
               waitq_sleep_locked(&nf->wq, &flags, wait))
            ;
        spin_unlock_irqrestore(&nf->wq.lock, flags);
        if ((what & PEND_BACKEND) || (nf->want_connect && !nf->slots_ending))
            backend_check(nf);
        if (nf->connected)
            rx_drain(nf);
        tx_reclaim(nf);
    }
}

/* ---------------------------------------------------------- handshake ---- */

static bool parse_mac(const char *s, uint8_t mac[ETH_ADDR_LEN])
{
    for (int i = 0; i < ETH_ADDR_LEN; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++, s++) {
            char c = *s;
            unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
                         c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) :
                         c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
            if (d > 15)
                return false;
            v = v * 16 + d;
        }
        mac[i] = (uint8_t)v;
        if (i < ETH_ADDR_LEN - 1 && *s++ != ':')
            return false;
    }
    return *s == 0 || *s == '\n';
}

/* A backend feature flag: otherend/NAME is "1". */
static bool backend_has(struct netfront *nf, const char *name)
{
    char path[160];
    long v = 0;
    snprintf(path, sizeof(path), "%s/%s", nf->dev->otherend, name);
    return xs_read_int(0, path, &v) == 0 && v == 1;
}

/* Write what the backend reads in one transaction (retried when xenstored
 * says another one got in between). */
static int publish(struct netfront *nf)
{
    const char *fe = nf->dev->nodename;
    char p[8][96];
    const char *k[] = { "tx-ring-ref", "rx-ring-ref", "event-channel", "request-rx-copy",
                        "feature-rx-notify", "feature-sg", "feature-gso-tcpv4",
                        "feature-no-csum-offload" };
    unsigned long v[] = { nf->tx_ring_ref, nf->rx_ring_ref, (unsigned long)nf->port, 1, 1, 1,
                          1, 0 };
    for (unsigned i = 0; i < ARRAY_SIZE(k); i++)
        snprintf(p[i], sizeof(p[i]), "%s/%s", fe, k[i]);
    for (int tries = 0; tries < 10; tries++) {
        xs_txn_t t;
        int r = xs_txn_start(&t);
        if (r < 0)
            return r;
        for (unsigned i = 0; i < ARRAY_SIZE(k) && r >= 0; i++)
            r = xs_printf(t, p[i], "%lu", v[i]);
        if (r < 0) {
            xs_txn_end(t, true);
            return r;
        }
        r = xs_txn_end(t, false);
        if (r != -EAGAIN)
            return r;
    }
    return -EAGAIN;
}

static void *granted_page(uint16_t dom, bool readonly, grant_ref_t *ref)
{
    paddr_t pa = page_alloc(0);
    if (!pa)
        return NULL;
    memset(phys_to_virt(pa), 0, PAGE_SIZE);
    int g = gnttab_grant(dom, pa, readonly);
    if (g < 0) {
        page_free(pa, 0);
        return NULL;
    }
    *ref = (grant_ref_t)g;
    return phys_to_virt(pa);
}

static int setup_rings(struct netfront *nf)
{
    uint16_t be = nf->backend;
    netif_tx_sring_t *txs = granted_page(be, false, &nf->tx_ring_ref);
    netif_rx_sring_t *rxs = granted_page(be, false, &nf->rx_ring_ref);
    if (!txs || !rxs)
        return -ENOMEM;
    nf->tx_sring = txs;
    nf->rx_sring = rxs;

    for (unsigned i = 0; i < ARRAY_SIZE(nf->heads); i++)
        if (!(nf->heads[i] = granted_page(be, true, &nf->head_ref[i])))
            return -ENOMEM;
    nf->slot_free = TX_RING_SIZE;
    for (int id = TX_RING_SIZE - 1; id >= 0; id--) {
        nf->slots[id].next_free = nf->slot_free;
        nf->slot_free = (uint16_t)id;
    }
    nf->slots_free = TX_RING_SIZE;
    for (int f = TX_RING_SIZE - 1; f >= 0; f--) {
        nf->frames[f].next_free = nf->frame_free;
        nf->frame_free = &nf->frames[f];
    }
    for (unsigned id = 0; id < RX_RING_SIZE; id++)
        if (!(nf->rx_buf[id] = granted_page(be, false, &nf->rx_ref[id])))
            return -ENOMEM;
    nf->merge = kmalloc(RX_MERGE_MAX);
    if (!nf->merge)
        return -ENOMEM;
    return 0;
}

static const char *state_name(int s)
{
    static const char *const names[] = { "Unknown", "Initialising", "InitWait", "Initialised",
                                         "Connected", "Closing", "Closed",
                                         "Reconfiguring", "Reconfigured" };
    return s >= 0 && s < (int)ARRAY_SIZE(names) ? names[s] : "?";
}

/* Fresh rings with every receive buffer posted, our keys published, our
 * end Connected, and with wait the backend's too (at boot: bounded; on a
 * reconnect backend_check sees it come, however late). The pages, their grants and the event channel are
 * reused: after a detach, the old backend has unmapped the pages, and its
 * closing left our port unbound to the backend domain, as alloc_unbound
 * made it, for the next backend to bind. */
static int connect_backend(struct netfront *nf, bool wait)
{
    const char *node = nf->dev->nodename;
    unsigned long flags = spin_lock_irqsave(&nf->tx_lock);
    SHARED_RING_INIT(nf->tx_sring);
    FRONT_RING_INIT(&nf->tx, nf->tx_sring, PAGE_SIZE);
    spin_unlock_irqrestore(&nf->tx_lock, flags);
    SHARED_RING_INIT(nf->rx_sring);
    FRONT_RING_INIT(&nf->rx, nf->rx_sring, PAGE_SIZE);
    nf->in_frame = nf->want_extra = false;
    /* The buffers go in before the backend connects: it reads the ring
     * once it is Connected. */
    for (uint16_t id = 0; id < RX_RING_SIZE; id++)
        rx_post(nf, id);
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->rx, notify);
    (void)notify;

    int r = publish(nf);
    if (r < 0) {
        pr_err("netfront %s: writing the ring references to xenstore failed (%d)\n", node, r);
        return r;
    }
    if ((r = xenbus_switch_state(nf->dev, XenbusStateConnected)) < 0) {
        pr_err("netfront %s: cannot switch to Connected (%d)\n", node, r);
        return r;
    }
    if (!wait) {
        nf->connecting = true;  /* backend_check finishes it */
        return 0;
    }
    int got = XenbusStateUnknown;
    r = xenbus_wait_otherend(nf->dev, XenbusStateConnected, BACKEND_TIMEOUT_NS, &got);
    if (r < 0 || got != XenbusStateConnected) {
        pr_err("netfront %s: backend %s is %s, not Connected (%d)\n", node,
               nf->dev->otherend, state_name(got), r);
        return r < 0 ? r : -ENODEV;
    }
    nf->connected = true;
    evtchn_notify(nf->port);
    return 0;
}

int netfront_probe(struct xenbus_dev *dev)
{
    const char *node = dev->nodename;
    struct netfront *nf = kzalloc(sizeof(*nf));
    if (!nf)
        return -ENOMEM;
    nf->dev = dev;
    nf->backend = dev->otherend_id;
    nf->tx_lock = (spinlock_t)SPINLOCK_INIT;
    waitq_init(&nf->wq);

    char buf[64], path[96];
    int got, r;
    snprintf(path, sizeof(path), "%s/mac", node);
    r = xs_read(0, path, buf, sizeof(buf) - 1);
    if (r < 0 || (buf[r] = 0, !parse_mac(buf, nf->nd.mac))) {
        pr_err("netfront %s: no usable mac in %s (%d); device ignored\n", node, path, r);
        return -ENODEV;
    }

    got = XenbusStateUnknown;
    r = xenbus_wait_otherend(dev, XenbusStateInitWait, BACKEND_TIMEOUT_NS, &got);
    if (r < 0 || got > XenbusStateInitialised) {
        pr_err("netfront %s: backend %s is %s, not InitWait (%d); device ignored\n", node,
               dev->otherend, state_name(got), r);
        return r < 0 ? r : -ENODEV;
    }
    if (!backend_has(nf, "feature-rx-copy")) {
        pr_err("netfront %s: the backend lacks feature-rx-copy (only rx-copy is "
               "supported); device ignored\n", node);
        return -ENODEV;
    }
    /* Every frame longer than TX_HEAD_MAX takes more than one slot. */
    if (!backend_has(nf, "feature-sg")) {
        pr_err("netfront %s: the backend lacks feature-sg (scatter-gather, which "
               "zero-copy transmit needs); device ignored\n", node);
        return -ENODEV;
    }
    nf->gso = backend_has(nf, "feature-gso-tcpv4");

    if ((r = setup_rings(nf)) < 0) {
        pr_err("netfront %s: out of memory or grants for the rings (%d)\n", node, r);
        return r;
    }
    r = evtchn_alloc_unbound(nf->backend);
    if (r < 0) {
        pr_err("netfront %s: EVTCHNOP_alloc_unbound for domain %u failed (%d)\n", node,
               nf->backend, r);
        return r;
    }
    nf->port = r;

    struct netdev *nd = &nf->nd;
    nd->ops = &nf_ops;
    nd->priv = nf;
    nd->mtu = 1500;
    /* Checksums: netback always takes NETTXF_csum_blank for IPv4, and we
     * said feature-no-csum-offload=0, so it may hand us csum_blank frames
     * (rx_csum_partial). Multi-slot frames need feature-sg. */
    nd->features = NETDEV_F_TX_CSUM | NETDEV_F_RX_CSUM | NETDEV_F_RX_GSO4;
    if (nf->gso)
        nd->features |= NETDEV_F_TSO4;

    if (xen_evtchn_bind((uint32_t)nf->port, nf_irq, nf, "netfront") < 0) {
        pr_err("netfront %s: cannot attach event channel %d\n", node, nf->port);
        return -EIO;
    }
    char tname[THREAD_NAME_MAX];
    snprintf(tname, sizeof(tname), "netfront %s", node);
    if (!thread_create(tname, nf_thread, nf, -5)) {
        pr_err("netfront %s: cannot start its thread\n", node);
        return -ENOMEM;
    }
    if ((r = connect_backend(nf, true)) < 0)
        return r;
    nd->link_up = true;
    netdev_register(nd);
    const uint8_t *m = nd->mac;
    pr_info("%s: netfront %s (backend %s, domain %u), mac %02x:%02x:%02x:%02x:%02x:%02x, "
            "event channel %d, rings tx %u rx %u\n", nd->name, node, dev->otherend,
            nf->backend, m[0], m[1], m[2], m[3], m[4], m[5], nf->port, (unsigned)TX_RING_SIZE,
            (unsigned)RX_RING_SIZE);
    pr_info("%s: features sg%s, csum offload both ways, zero-copy transmit by read-only "
            "grants\n", nd->name, nf->gso ? " gso-tcpv4" : "");

    /* From now on the thread follows the backend (detach, attach). */
    snprintf(nf->state_path, sizeof(nf->state_path), "%s/state", dev->otherend);
    nf->state_watch.path = nf->state_path;
    nf->state_watch.fn = backend_changed;
    nf->state_watch.arg = nf;
    if ((r = xs_watch_add(&nf->state_watch)) < 0)
        pr_warn("%s: no watch on %s (%d): a detach will go unnoticed\n", nd->name,
                nf->state_path, r);
    return 0;
}
