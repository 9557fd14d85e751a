/*
 * virtio-net (Virtio 1.2, 5.1): one receive and one transmit queue behind
 * the netdev interface (kern/netdev.h).
 *
 * Transmit: a frame goes out as one chain: a 12-byte virtio_net_hdr (with
 * the checksum and TSO requests) and then the caller's segments by
 * physical address, not copied. Small frames, and the headers of a frame
 * whose checksum we compute ourselves, are copied in right behind the
 * virtio header. Each chain's cookie is its transmit context; when the
 * device returns it, the device thread runs the caller's completion.
 *
 * Receive: page-sized buffers. With VIRTIO_NET_F_MRG_RXBUF a large frame
 * (coalesced TCP with GUEST_TSO4) spans several, which are copied into one
 * reassembly buffer; an ordinary frame is handed to the stack where it lies
 * and its page goes straight back to the ring.
 *
 * The interrupt handlers only note what happened and wake the device's
 * kernel thread, which drains both rings, runs the hooks and completions,
 * and follows the link status.
 */
#include <arch/mm.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/options.h>
#include <kern/netdev.h>
#include <kern/page_alloc.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/random.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include "virtio.h"
#include "virtqueue.h"

/* 5.1.3 Feature bits. */
#define VIRTIO_NET_F_CSUM        0
#define VIRTIO_NET_F_GUEST_CSUM  1
#define VIRTIO_NET_F_MTU         3
#define VIRTIO_NET_F_MAC         5
#define VIRTIO_NET_F_GUEST_TSO4  7
#define VIRTIO_NET_F_HOST_TSO4   11
#define VIRTIO_NET_F_MRG_RXBUF   15
#define VIRTIO_NET_F_STATUS      16

/* 5.1.4 Device configuration layout. */
#define VIRTIO_NET_CFG_MAC       0   /* u8[6] */
#define VIRTIO_NET_CFG_STATUS    6   /* le16 */
#define VIRTIO_NET_CFG_MTU       10  /* le16 */
#define VIRTIO_NET_S_LINK_UP     1

/* 5.1.2 Virtqueues. */
#define RX_QUEUE 0
#define TX_QUEUE 1

/* 5.1.6 Device Operation: the header in front of every packet. With
 * VIRTIO_F_VERSION_1 it always has num_buffers (12 bytes). */
struct virtio_net_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1

#define QUEUE_SIZE_MAX  256
#define TX_HEAD_MAX     128     /* frame bytes copied behind the header */
#define VLAN_HLEN       4
#define RX_MERGE_MAX    (NETDEV_TSO_MAX_FRAME + VLAN_HLEN)
#define RECLAIM_BATCH   32

/* What woke the device thread. */
#define PEND_RX         0x1
#define PEND_TX         0x2
#define PEND_CONFIG     0x4

/* How often the device thread looks for a stalled queue. */
#define STALL_CHECK_NS  500000000ULL

/* One frame in flight. hdr and head are one piece of memory (one
 * descriptor): the pool comes from the page allocator, so it is
 * physically contiguous. */
struct vnet_tx {
    struct virtio_net_hdr hdr;
    uint8_t head[TX_HEAD_MAX];
    netdev_tx_done_fn done;
    void *cookie;
    struct vnet_tx *next_free;
};
_Static_assert(__builtin_offsetof(struct vnet_tx, head) == sizeof(struct virtio_net_hdr),
               "the copied frame head must follow the virtio header");

struct vnet {
    struct netdev nd;
    struct virtio_dev *vd;
    struct virtqueue *rxq, *txq;
    bool mrg_rxbuf;
    bool hw_csum;
    unsigned rx_buf_order;      /* each receive buffer: 2^order pages */

    /* Frames spread over several receive buffers (MRG_RXBUF). */
    uint8_t *merge;
    size_t merge_len;
    unsigned merge_left;        /* buffers still to come */
    bool merge_bad;
    struct virtio_net_hdr merge_hdr;

    spinlock_t tx_lock;         /* txq, the free contexts, tx_stopped */
    struct vnet_tx *tx_pool, *tx_free;
    paddr_t tx_pool_pa;
    unsigned tx_pool_order;
    bool tx_stopped;            /* a transmit got -EAGAIN */

    struct waitq wq;            /* the device thread sleeps here */
    volatile uint32_t pending;  /* PEND_* */

    uint64_t checked_ns;        /* the last stall check */
    bool tx_stall_seen;         /* a transmit stall was logged */
};

/* ------------------------------------------------------------ receive ---- */

static int rx_post(struct vnet *vn, void *buf)
{
    struct vq_seg sg = { virt_to_phys(buf), (uint32_t)(PAGE_SIZE << vn->rx_buf_order) };
    return vq_add(vn->rxq, &sg, 0, 1, buf);
}

static void rx_deliver(struct vnet *vn, const struct virtio_net_hdr *h, const uint8_t *frame,
                       size_t len)
{
    if (len < ETH_HDR_LEN) {
        netdev_stat_add(&vn->nd.stats.rx_errors, 1);
        return;
    }
    struct netdev_rx_meta meta = { 0 };
    if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID)
        meta.flags |= NETDEV_RX_CSUM_VALID;
    /* 5.1.6.4.1: NEEDS_CSUM on receive means the packet came from a
     * sender on this host that left the checksum to offload; its data
     * never crossed a wire, so it is as good as verified. */
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        meta.flags |= NETDEV_RX_CSUM_VALID | NETDEV_RX_CSUM_PARTIAL;
        meta.csum_start = h->csum_start;
        meta.csum_offset = h->csum_offset;
    }
    if ((h->gso_type & 0x7f) != VIRTIO_NET_HDR_GSO_NONE) {
        meta.flags |= NETDEV_RX_GSO;
        meta.gso_size = h->gso_size;
    }
    netdev_input(&vn->nd, frame, len, &meta);
}

/* One used receive buffer of len bytes. */
static void rx_buffer(struct vnet *vn, uint8_t *buf, uint32_t len)
{
    size_t cap = PAGE_SIZE << vn->rx_buf_order;
    if (len > cap) {
        netdev_stat_add(&vn->nd.stats.rx_errors, 1);
        len = (uint32_t)cap;
        if (vn->merge_left)
            vn->merge_bad = true;
    }
    if (vn->merge_left) {           /* the continuation of a merged frame */
        if (vn->merge && vn->merge_len + len <= RX_MERGE_MAX)
            memcpy(vn->merge + vn->merge_len, buf, len);
        else
            vn->merge_bad = true;
        vn->merge_len += len;
        if (--vn->merge_left == 0) {
            if (vn->merge_bad)
                netdev_stat_add(&vn->nd.stats.rx_dropped, 1);
            else
                rx_deliver(vn, &vn->merge_hdr, vn->merge, vn->merge_len);
        }
        return;
    }

    struct virtio_net_hdr h;
    if (len < sizeof(h)) {
        netdev_stat_add(&vn->nd.stats.rx_errors, 1);
        return;
    }
    memcpy(&h, buf, sizeof(h));
    unsigned n = vn->mrg_rxbuf ? h.num_buffers : 1;
    if (n <= 1) {
        rx_deliver(vn, &h, buf + sizeof(h), len - sizeof(h));
        return;
    }
    if (n > vn->rxq->size) {
        netdev_stat_add(&vn->nd.stats.rx_errors, 1);
        return;
    }
    vn->merge_hdr = h;
    vn->merge_left = n - 1;
    vn->merge_len = len - sizeof(h);
    vn->merge_bad = !vn->merge;
    if (vn->merge)
        memcpy(vn->merge, buf + sizeof(h), vn->merge_len);
}

static void rx_drain(struct vnet *vn)
{
    void *buf;
    uint32_t len;
    unsigned n = 0;
    while ((buf = vq_get_used(vn->rxq, &len))) {
        rx_buffer(vn, buf, len);
        /* The hook has returned: the buffer is ours again. */
        if (rx_post(vn, buf) < 0)
            page_free(virt_to_phys(buf), vn->rx_buf_order);
        /* Under a flood, give buffers back before the ring runs dry. */
        if (++n % 64 == 0)
            vq_kick(vn->rxq);
    }
    if (n)
        vq_kick(vn->rxq);
}

static unsigned rx_fill(struct vnet *vn)
{
    unsigned n = 0;
    while (vq_num_free(vn->rxq) > 0) {
        paddr_t pa = page_alloc(vn->rx_buf_order);
        if (!pa)
            break;
        if (rx_post(vn, phys_to_virt(pa)) < 0) {
            page_free(pa, vn->rx_buf_order);
            break;
        }
        n++;
    }
    vq_kick(vn->rxq);
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

/* The Internet checksum's running sum (RFC 1071) over bytes that continue
 * a stream: *odd says whether the stream so far had an odd length. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len, bool *odd)
{
    if (len && *odd) {
        sum += *p++;
        len--;
        *odd = false;
    }
    for (; len >= 2; p += 2, len -= 2)
        sum += (uint32_t)p[0] << 8 | p[1];
    if (len) {
        sum += (uint32_t)p[0] << 8;
        *odd = true;
    }
    return sum;
}

/* What a device with VIRTIO_NET_F_CSUM would do: sum from csum_start to
 * the end (the field holds the pseudo-header sum) and store the
 * complement. head holds the first copied bytes, the rest is read in
 * place. */
static void soft_checksum(uint8_t *head, size_t copied, const struct netdev_seg *segs,
                          unsigned nsegs, const struct netdev_tx_meta *meta)
{
    bool odd = false;
    uint64_t sum = csum_add(0, head + meta->csum_start, copied - meta->csum_start, &odd);
    size_t skip = copied;
    for (unsigned i = 0; i < nsegs; i++) {
        if (skip >= segs[i].len) {
            skip -= segs[i].len;
            continue;
        }
        sum = csum_add(sum, (const uint8_t *)segs[i].base + skip, segs[i].len - skip, &odd);
        skip = 0;
    }
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t c = (uint16_t)~sum;
    head[meta->csum_start + meta->csum_offset] = (uint8_t)(c >> 8);
    head[meta->csum_start + meta->csum_offset + 1] = (uint8_t)c;
}

static int check_request(struct vnet *vn, const struct netdev_tx_meta *m, size_t total)
{
    if (total < ETH_HDR_LEN)
        return -EINVAL;
    if (m->flags & ~(NETDEV_TX_CSUM | NETDEV_TX_TSO4))
        return -EINVAL;
    if (m->flags & NETDEV_TX_CSUM) {
        size_t field = (size_t)m->csum_start + m->csum_offset + 2;
        if (field > total || (!vn->hw_csum && field > TX_HEAD_MAX))
            return -EINVAL;
    }
    if (m->flags & NETDEV_TX_TSO4) {
        if (!(vn->nd.features & NETDEV_F_TSO4))
            return -EOPNOTSUPP;
        /* Every segment gets its own checksum, so segmentation comes
         * with the checksum request (HOST_TSO4 needs CSUM, 5.1.3.1). */
        if (!(m->flags & NETDEV_TX_CSUM) || m->gso_size == 0 || m->hdr_len > total ||
            m->hdr_len < ETH_HDR_LEN + 20 + 20 || total > NETDEV_TSO_MAX_FRAME)
            return -EINVAL;
        return 0;
    }
    if (total > ETH_HDR_LEN + VLAN_HLEN + (size_t)vn->nd.mtu)
        return -EINVAL;
    return 0;
}

static void tx_put(struct vnet *vn, struct vnet_tx *t)
{
    t->next_free = vn->tx_free;
    vn->tx_free = t;
}

static int vnet_transmit(struct netdev *nd, const struct netdev_seg *segs, unsigned nsegs,
                         const struct netdev_tx_meta *meta, netdev_tx_done_fn done,
                         void *cookie)
{
    static const struct netdev_tx_meta no_meta;
    struct vnet *vn = nd->priv;
    if (!meta)
        meta = &no_meta;
    size_t total = 0;
    for (unsigned i = 0; i < nsegs; i++) {
        if (total + segs[i].len < total)
            return -EINVAL;
        total += segs[i].len;
    }
    int r = check_request(vn, meta, total);
    if (r < 0) {
        netdev_stat_add(&nd->stats.tx_errors, 1);
        return r;
    }

    unsigned long flags = spin_lock_irqsave(&vn->tx_lock);
    struct vnet_tx *t = vn->tx_free;
    if (t)
        vn->tx_free = t->next_free;
    else
        vn->tx_stopped = true;
    spin_unlock_irqrestore(&vn->tx_lock, flags);
    if (!t) {
        netdev_stat_add(&nd->stats.tx_busy, 1);
        return -EAGAIN;
    }

    memset(&t->hdr, 0, sizeof(t->hdr));
    size_t copy = total <= TX_HEAD_MAX ? total : 0;
    bool soft_csum = (meta->flags & NETDEV_TX_CSUM) && !vn->hw_csum;
    if (meta->flags & NETDEV_TX_CSUM) {
        if (soft_csum) {
            copy = MAX(copy, (size_t)meta->csum_start + meta->csum_offset + 2);
        } else {
            t->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
            t->hdr.csum_start = meta->csum_start;
            t->hdr.csum_offset = meta->csum_offset;
        }
    }
    if (meta->flags & NETDEV_TX_TSO4) {
        t->hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        t->hdr.gso_size = meta->gso_size;
        t->hdr.hdr_len = meta->hdr_len;
    }
    gather(segs, nsegs, 0, t->head, copy);
    if (soft_csum)
        soft_checksum(t->head, copy, segs, nsegs, meta);

    /* The header (and the copied head), then the rest by reference. */
    struct vq_seg sg[NETDEV_MAX_PIECES + 1];
    unsigned n = 1;
    sg[0].addr = virt_to_phys(&t->hdr);
    sg[0].len = (uint32_t)(sizeof(t->hdr) + copy);
    size_t skip = copy;
    for (unsigned i = 0; i < nsegs && r == 0; i++) {
        if (skip >= segs[i].len) {
            skip -= segs[i].len;
            continue;
        }
        r = vq_sg_from_virt((const uint8_t *)segs[i].base + skip, segs[i].len - skip, sg, &n,
                            ARRAY_SIZE(sg));
        skip = 0;
    }
    t->done = done;
    t->cookie = cookie;

    flags = spin_lock_irqsave(&vn->tx_lock);
    if (r == 0) {
        r = vq_add(vn->txq, sg, n, 0, t);
        if (r == 0)
            vq_kick(vn->txq);
        else if (r == -ENOSPC)
            vn->tx_stopped = true;
    }
    if (r < 0)
        tx_put(vn, t);
    spin_unlock_irqrestore(&vn->tx_lock, flags);

    if (r == -ENOSPC) {
        netdev_stat_add(&nd->stats.tx_busy, 1);
        return -EAGAIN;
    }
    if (r < 0) {
        netdev_stat_add(&nd->stats.tx_errors, 1);
        return r == -EINVAL ? -EMSGSIZE : r;     /* longer than the ring */
    }
    netdev_stat_add(&nd->stats.tx_packets, 1);
    netdev_stat_add(&nd->stats.tx_bytes, total);
    return 0;
}

/* Run the completions of what the device has sent, outside the lock, so
 * that a completion may transmit again. */
static void tx_reclaim(struct vnet *vn)
{
    struct {
        netdev_tx_done_fn done;
        void *cookie;
    } batch[RECLAIM_BATCH];
    unsigned n;
    do {
        bool room = false;
        struct vnet_tx *t;
        n = 0;
        unsigned long flags = spin_lock_irqsave(&vn->tx_lock);
        while (n < RECLAIM_BATCH && (t = vq_get_used(vn->txq, NULL))) {
            batch[n].done = t->done;
            batch[n].cookie = t->cookie;
            n++;
            tx_put(vn, t);
        }
        if (n && vn->tx_stopped) {
            vn->tx_stopped = false;
            room = true;
        }
        spin_unlock_irqrestore(&vn->tx_lock, flags);
        for (unsigned i = 0; i < n; i++) {
            netdev_stat_add(&vn->nd.stats.tx_completed, 1);
            if (batch[i].done)
                batch[i].done(&vn->nd, batch[i].cookie, 0);
        }
        if (room)
            netdev_tx_room(&vn->nd);
    } while (n == RECLAIM_BATCH);
}

static bool tx_enable_cb(struct vnet *vn)
{
    unsigned long flags = spin_lock_irqsave(&vn->tx_lock);
    bool more = vq_enable_cb(vn->txq);
    spin_unlock_irqrestore(&vn->tx_lock, flags);
    return more;
}

static const struct netdev_ops vnet_ops = {
    .transmit = vnet_transmit,
};

/* ------------------------------------------------ interrupts, thread ---- */

static void kick_thread(struct vnet *vn, uint32_t what)
{
    netdev_stat_add(&vn->nd.stats.interrupts, 1);
    __atomic_fetch_or(&vn->pending, what, __ATOMIC_RELEASE);
    waitq_wake(&vn->wq, 1);
}

static void irq_rx(void *arg)     { kick_thread(arg, PEND_RX); }
static void irq_tx(void *arg)     { kick_thread(arg, PEND_TX); }
static void irq_config(void *arg) { kick_thread(arg, PEND_CONFIG); }
static void irq_all(void *arg)    { kick_thread(arg, PEND_RX | PEND_TX | PEND_CONFIG); }

static bool read_link(struct vnet *vn)
{
    uint16_t status;
    if (!virtio_has(vn->vd, VIRTIO_NET_F_STATUS))
        return true;        /* 5.1.4: without STATUS the link is up */
    if (virtio_config_read(vn->vd, VIRTIO_NET_CFG_STATUS, &status, 2) < 0)
        return true;
    return status & VIRTIO_NET_S_LINK_UP;
}

/*
 * QEMU's virtio-net (7.2, on a tap, under loss and reordering) was seen
 * to stop taking sent chains: 136 posted and unused, its avail_event at
 * its used index, and no notification due by that event index. Receive
 * went on (the peer's retransmissions came in), but every ACK for them
 * piled up behind the rest, so the peer backed off until the test timed
 * out. One notification got it going again.
 *
 * The likely cause, from QEMU's source: when the tap had refused a frame,
 * virtio_net_tx_complete turns notifications back on and flushes, and
 * each virtqueue_pop there stores avail_event and then, with no full
 * barrier in between, loads avail->idx to see whether the queue is empty.
 * x86 lets that load pass the store. Our side is the mirror image (store
 * avail->idx, mb, load avail_event), so both can read the old value: we
 * see no notification due, the device sees an empty queue, and
 * tx_complete does not look again when its flush ran dry. No driver-side
 * ordering can close that window, so every STALL_CHECK_NS the
 * device thread notifies a queue that holds work and has not moved since
 * its last look. Receive gets the same: QEMU has had a receive stall of
 * the same kind (a device waiting, with mergeable buffers, for a kick the
 * event index never asked for; fixed in QEMU 9.1), and an idle receive
 * queue cannot be told from a stuck one: one notification per period,
 * harmless to a device. guest:tcp_lost_kicks drops notifications on
 * purpose (net_lose_kicks=N) to prove the transmit side recovers.
 */
static void stall_check(struct vnet *vn)
{
    /* The receive queue is this thread's alone; transmit takes its lock. */
    if (vq_stood_still(vn->rxq)) {
        vq_notify(vn->rxq);
        netdev_stat_add(&vn->nd.stats.stall_kicks, 1);
    }
    unsigned long flags = spin_lock_irqsave(&vn->tx_lock);
    bool stuck = vq_stood_still(vn->txq);
    if (stuck)
        vq_notify(vn->txq);
    spin_unlock_irqrestore(&vn->tx_lock, flags);
    if (stuck) {
        netdev_stat_add(&vn->nd.stats.stall_kicks, 1);
        /* Never normal: say so once; the count is in the statistics. */
        if (!vn->tx_stall_seen)
            pr_warn("%s: the device left sent frames untouched for %llu ms; "
                    "notified it again\n", vn->nd.name, STALL_CHECK_NS / 1000000);
        vn->tx_stall_seen = true;
    }
}

static void vnet_thread(void *arg)
{
    struct vnet *vn = arg;
    for (;;) {
        unsigned long flags = spin_lock_irqsave(&vn->wq.lock);
        uint32_t what;
        while (!(what = __atomic_exchange_n(&vn->pending, 0, __ATOMIC_ACQUIRE)) &&
               waitq_sleep_locked(&vn->wq, &flags, STALL_CHECK_NS))
            ;
        spin_unlock_irqrestore(&vn->wq.lock, flags);

        /* By the clock, not only after a quiet sleep: a flow of receive
         * interrupts must not hide a transmit queue that stands still. */
        uint64_t now = clock_monotonic_ns();
        if (now - vn->checked_ns >= STALL_CHECK_NS) {
            stall_check(vn);
            vn->checked_ns = now;
        }
        if (what & PEND_CONFIG)
            netdev_set_link(&vn->nd, read_link(vn));
        /* Drain with the device's interrupts off, then turn them back on
         * and look once more: anything used in between is ours to take. */
        bool more;
        do {
            vq_disable_cb(vn->rxq);
            rx_drain(vn);
            tx_reclaim(vn);
            more = vq_enable_cb(vn->rxq);
            more |= tx_enable_cb(vn);
        } while (more);
    }
}

/* --------------------------------------------------------------- probe ---- */

static void describe(struct vnet *vn, const char *where)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        { VIRTIO_NET_F_CSUM, "csum" },          { VIRTIO_NET_F_GUEST_CSUM, "guest_csum" },
        { VIRTIO_NET_F_HOST_TSO4, "host_tso4" }, { VIRTIO_NET_F_GUEST_TSO4, "guest_tso4" },
        { VIRTIO_NET_F_MRG_RXBUF, "mrg_rxbuf" }, { VIRTIO_NET_F_MAC, "mac" },
        { VIRTIO_NET_F_STATUS, "status" },      { VIRTIO_NET_F_MTU, "mtu" },
        { VIRTIO_F_INDIRECT_DESC, "indirect_desc" }, { VIRTIO_F_EVENT_IDX, "event_idx" },
        { VIRTIO_F_VERSION_1, "version_1" },    { VIRTIO_F_ACCESS_PLATFORM, "access_platform" },
    };
    char feat[256];
    size_t len = 0;
    feat[0] = 0;
    for (size_t i = 0; i < ARRAY_SIZE(names) && len < sizeof(feat); i++)
        if (virtio_has(vn->vd, names[i].bit))
            len += (size_t)snprintf(feat + len, sizeof(feat) - len, "%s%s", len ? " " : "",
                                    names[i].name);
    const uint8_t *m = vn->nd.mac;
    pr_info("%s: virtio-net at %s, mac %02x:%02x:%02x:%02x:%02x:%02x, mtu %u, link %s, "
            "queues rx %u tx %u\n", vn->nd.name, where, m[0], m[1], m[2], m[3], m[4], m[5],
            vn->nd.mtu, vn->nd.link_up ? "up" : "down", vn->rxq->size, vn->txq->size);
    pr_info("%s: features %s\n", vn->nd.name, feat);
}

static int setup_irqs(struct vnet *vn)
{
    struct virtio_dev *vd = vn->vd;
    int r;
    if (vd->num_irqs >= 3) {
        /* One vector each: configuration, receive, transmit. */
        if ((r = virtio_irq(vd, 0, irq_config, vn, "virtio-net config")) < 0 ||
            (r = virtio_irq(vd, 1, irq_rx, vn, "virtio-net rx")) < 0 ||
            (r = virtio_irq(vd, 2, irq_tx, vn, "virtio-net tx")) < 0)
            return r;
        if ((r = virtio_config_irq(vd, 0)) < 0 ||
            (r = virtio_queue_enable(vd, RX_QUEUE, vn->rxq, 1)) < 0 ||
            (r = virtio_queue_enable(vd, TX_QUEUE, vn->txq, 2)) < 0)
            return r;
        return 0;
    }
    /* A small table: everything on entry 0, the thread sorts it out. */
    if ((r = virtio_irq(vd, 0, irq_all, vn, "virtio-net")) < 0)
        return r;
    if ((r = virtio_config_irq(vd, 0)) < 0 ||
        (r = virtio_queue_enable(vd, RX_QUEUE, vn->rxq, 0)) < 0 ||
        (r = virtio_queue_enable(vd, TX_QUEUE, vn->txq, 0)) < 0)
        return r;
    return 0;
}

static uint16_t queue_size(struct virtio_dev *vd, unsigned index)
{
    unsigned max = virtio_queue_max(vd, index);
    unsigned size = 1;
    while (size * 2 <= max && size * 2 <= QUEUE_SIZE_MAX)
        size *= 2;
    return max ? (uint16_t)size : 0;
}

int virtio_net_probe(struct virtio_dev *vd)
{
    const char *where = vd->where;
    if (vd->num_irqs == 0) {
        pr_err("virtio-net %s: no interrupt it can use (MSI-X on PCI; INTx is not "
               "supported); device ignored\n", where);
        return -ENODEV;
    }
    struct vnet *vn = kzalloc(sizeof(*vn));
    if (!vn)
        return -ENOMEM;
    vn->vd = vd;
    vn->tx_lock = (spinlock_t)SPINLOCK_INIT;
    waitq_init(&vn->wq);

    virtio_begin(vd);
    uint64_t want = VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
                    VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) |
                    VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) |
                    VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |
                    VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_NET_F_MTU);
    /* 5.1.3.1: TSO4 needs checksum offload in the same direction; and
     * receiving coalesced frames without MRG_RXBUF would need 64 KiB
     * buffers, so we take GUEST_TSO4 only with it. */
    if (!(vd->offered & VIRTIO_BIT(VIRTIO_NET_F_CSUM)))
        want &= ~VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4);
    if (!(vd->offered & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)) ||
        !(vd->offered & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)))
        want &= ~VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4);
    int r = virtio_negotiate(vd, want);
    if (r < 0) {
        pr_err("virtio-net %s: %s; device ignored\n", where,
               r == -ENODEV ? "no VIRTIO_F_VERSION_1 (a legacy-only device)"
                            : "the device refused our features");
        goto fail;
    }

    struct netdev *nd = &vn->nd;
    nd->ops = &vnet_ops;
    nd->priv = vn;
    nd->mtu = 1500;
    if (virtio_has(vd, VIRTIO_NET_F_MTU)) {
        uint16_t mtu;
        if (virtio_config_read(vd, VIRTIO_NET_CFG_MTU, &mtu, 2) == 0 && mtu >= 68)
            nd->mtu = mtu;
    }
    if (!virtio_has(vd, VIRTIO_NET_F_MAC) ||
        virtio_config_read(vd, VIRTIO_NET_CFG_MAC, nd->mac, ETH_ADDR_LEN) < 0) {
        /* 5.1.5: no address from the device: make up a local unicast one. */
        random_bytes(nd->mac, ETH_ADDR_LEN);
        nd->mac[0] = (uint8_t)((nd->mac[0] & 0xfe) | 0x02);
    }
    vn->mrg_rxbuf = virtio_has(vd, VIRTIO_NET_F_MRG_RXBUF);
    vn->hw_csum = virtio_has(vd, VIRTIO_NET_F_CSUM);
    if (vn->hw_csum)
        nd->features |= NETDEV_F_TX_CSUM;
    if (virtio_has(vd, VIRTIO_NET_F_GUEST_CSUM))
        nd->features |= NETDEV_F_RX_CSUM;
    if (virtio_has(vd, VIRTIO_NET_F_HOST_TSO4))
        nd->features |= NETDEV_F_TSO4;
    if (virtio_has(vd, VIRTIO_NET_F_GUEST_TSO4))
        nd->features |= NETDEV_F_RX_GSO4;
    /* Without merging, one buffer must hold the largest frame. */
    vn->rx_buf_order = vn->mrg_rxbuf ? 0 :
        page_order_for(sizeof(struct virtio_net_hdr) + ETH_HDR_LEN + VLAN_HLEN + nd->mtu);

    unsigned vqflags = (virtio_has(vd, VIRTIO_F_INDIRECT_DESC) ? VQ_INDIRECT : 0) |
                       (virtio_has(vd, VIRTIO_F_EVENT_IDX) ? VQ_EVENT_IDX : 0);
    uint16_t rx_size = queue_size(vd, RX_QUEUE), tx_size = queue_size(vd, TX_QUEUE);
    if (!rx_size || !tx_size) {
        pr_err("virtio-net %s: the device has no receive or transmit queue\n", where);
        r = -ENODEV;
        goto fail;
    }
    vn->rxq = vq_create(rx_size, RX_QUEUE, vqflags, 0);
    vn->txq = vq_create(tx_size, TX_QUEUE, vqflags, NETDEV_MAX_PIECES + 1);
    vn->tx_pool_order = page_order_for(sizeof(struct vnet_tx) * tx_size);
    vn->tx_pool_pa = page_alloc(vn->tx_pool_order);
    if (vn->mrg_rxbuf)
        vn->merge = kmalloc(RX_MERGE_MAX);
    if (!vn->rxq || !vn->txq || !vn->tx_pool_pa) {
        pr_err("virtio-net %s: out of memory\n", where);
        r = -ENOMEM;
        goto fail;
    }
    vn->tx_pool = phys_to_virt(vn->tx_pool_pa);
    for (unsigned i = 0; i < tx_size; i++)
        tx_put(vn, &vn->tx_pool[i]);
    /* Tests: a device that misses notifications (stall_check recovers). */
    vn->txq->lose_every = (unsigned)kopt.net_lose_kicks;

    if ((r = setup_irqs(vn)) < 0) {
        pr_err("virtio-net %s: interrupt setup failed (%d)\n", where, r);
        goto fail;
    }
    nd->link_up = read_link(vn);

    virtio_driver_ok(vd);
    /* The device touches no buffer before DRIVER_OK (2.1.2); hand it the
     * receive buffers now. Only then start the thread: until it runs, the
     * receive queue is ours alone, and what the interrupt handlers noted
     * meanwhile waits for it in vn->pending. */
    rx_fill(vn);
    char tname[THREAD_NAME_MAX];
    snprintf(tname, sizeof(tname), "virtio-net %s", where);
    /* On the CPU its interrupts come to: each one wakes this thread, and
     * a wakeup there is a local switch, not an IPI to another CPU. */
    if (!thread_create_on(IRQ_DEVICE_CPU, tname, vnet_thread, vn, -5)) {
        pr_err("virtio-net %s: cannot start its thread\n", where);
        r = -ENOMEM;
        goto fail;
    }
    netdev_register(nd);
    describe(vn, where);
    return 0;

fail:
    virtio_fail(vd);
    /* The rings and pages stay allocated when a device half set up
     * fails: it may still hold their addresses until reset. */
    return r;
}
