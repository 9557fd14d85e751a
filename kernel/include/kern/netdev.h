/*
 * Network devices, as the TCP/IP stack sees them: Ethernet frames out as
 * scatter-gather lists with offload requests, frames in through a hook,
 * a completion per transmitted frame.
 *
 * Transmit is by reference. netdev_transmit hands the device the physical
 * pages behind each segment (app pages included) without copying them, and
 * the caller must leave those bytes alone until the frame's completion
 * runs: only then has the device returned every descriptor that pointed at
 * them. That completion is the device half of the zero-copy rule "a buffer
 * is free after ACK and after the device gave it back".
 *
 * Drivers: platform/kvm/virtio_net.c (virtio-net over PCI).
 */
#ifndef KERN_NETDEV_H
#define KERN_NETDEV_H

#include <kern/types.h>
#include <kern/waitq.h>

#define NETDEV_NAME_MAX   16
#define ETH_ADDR_LEN      6
#define ETH_HDR_LEN       14
/* The largest frame with TSO: an Ethernet header and a 64 KiB IP packet. */
#define NETDEV_TSO_MAX_FRAME (ETH_HDR_LEN + 65535)
/* Physically contiguous pieces in one frame: segments are split where
 * their pages are not contiguous (app memory: at every page boundary). */
#define NETDEV_MAX_PIECES 64

struct netdev;

/* Offloads the device has (netdev.features). Without NETDEV_F_TX_CSUM a
 * NETDEV_TX_CSUM request is still honoured, by the driver in software
 * (it reads the data once; it never writes the caller's buffers). TSO
 * without NETDEV_F_TSO4 is refused. */
#define NETDEV_F_TX_CSUM  0x1   /* fills in TCP/UDP checksums */
#define NETDEV_F_RX_CSUM  0x2   /* reports checksums it verified */
#define NETDEV_F_TSO4     0x4   /* segments TCP/IPv4 (NETDEV_TX_TSO4) */
#define NETDEV_F_RX_GSO4  0x8   /* may deliver coalesced TCP/IPv4 frames
                                   larger than the MTU (NETDEV_RX_GSO) */

/* One piece of a frame to send: kernel memory or mapped app memory. */
struct netdev_seg {
    const void *base;
    size_t len;
};

/* What to do to a frame on its way out (netdev_tx_meta.flags). */
#define NETDEV_TX_CSUM  0x1     /* checksum [csum_start, end) into the 16
                                   bits at csum_start + csum_offset, which
                                   hold the pseudo-header sum (not
                                   complemented), as for virtio */
#define NETDEV_TX_TSO4  0x2     /* cut into TCP segments of gso_size payload
                                   bytes, each with a copy of the first
                                   hdr_len bytes (Ethernet+IP+TCP headers);
                                   needs NETDEV_TX_CSUM too */

struct netdev_tx_meta {
    unsigned flags;
    uint16_t csum_start;        /* from the first byte of the frame */
    uint16_t csum_offset;       /* from csum_start: 16 for TCP, 6 for UDP */
    uint16_t gso_size;          /* TSO: the MSS */
    uint16_t hdr_len;           /* TSO: bytes of headers */
};

/* Called once per frame that netdev_transmit accepted, from the device's
 * kernel thread (never from an interrupt handler, never from inside
 * netdev_transmit), when the device has returned all of its descriptors.
 * status is 0, or -EIO when the device failed and dropped it. */
typedef void (*netdev_tx_done_fn)(struct netdev *dev, void *cookie, int status);

/* What the device says about a received frame (netdev_rx_meta.flags). */
#define NETDEV_RX_CSUM_VALID   0x1  /* the TCP/UDP checksum was verified,
                                       or never computed by a sender that
                                       shares our host: do not check it */
#define NETDEV_RX_CSUM_PARTIAL 0x2  /* with CSUM_VALID: the checksum field
                                       holds only the pseudo-header sum
                                       (csum_start/csum_offset locate it) */
#define NETDEV_RX_GSO          0x4  /* coalesced TCP/IPv4 larger than the
                                       MTU; gso_size was the sender's MSS */

struct netdev_rx_meta {
    unsigned flags;
    uint16_t csum_start, csum_offset;
    uint16_t gso_size;
};

/* The stack's receive hook: one Ethernet frame (without FCS), valid only
 * during the call (copy what must be kept). Called from the device's
 * kernel thread, one frame at a time; it may transmit.
 *
 * All hooks and completions of a device run on that one thread, which is
 * also the one that reclaims the transmit ring. So none of them may wait
 * for ring room, and no thread may wait for ring room while holding a
 * lock that a hook or completion takes: the room would never come. */
typedef void (*netdev_rx_fn)(struct netdev *dev, const void *frame, size_t len,
                             const struct netdev_rx_meta *meta, void *arg);
typedef void (*netdev_event_fn)(struct netdev *dev, void *arg);

/* One set of hooks and their argument, replaced as a whole so that a hook
 * never runs with another one's argument. */
struct netdev_hooks {
    netdev_rx_fn rx;
    netdev_event_fn tx_room, link_change;
    void *arg;
};

struct netdev_stats {
    uint64_t rx_packets, rx_bytes;
    uint64_t rx_dropped;        /* no hook yet, or no memory to reassemble */
    uint64_t rx_errors;         /* malformed by the device */
    uint64_t tx_packets, tx_bytes;      /* accepted by netdev_transmit */
    uint64_t tx_completed;      /* completions run */
    uint64_t tx_busy;           /* -EAGAIN: ring full */
    uint64_t tx_errors;         /* refused (bad request) or failed */
    uint64_t interrupts;
    uint64_t stall_kicks;       /* notifications for a queue that stood still */
};

struct netdev_ops {
    int (*transmit)(struct netdev *dev, const struct netdev_seg *segs, unsigned nsegs,
                    const struct netdev_tx_meta *meta, netdev_tx_done_fn done, void *cookie);
};

struct netdev {
    char name[NETDEV_NAME_MAX];         /* "net0", ... */
    uint8_t mac[ETH_ADDR_LEN];
    uint16_t mtu;                       /* IP bytes per frame, 1500 usually */
    uint32_t features;                  /* NETDEV_F_* */
    volatile bool link_up;
    const struct netdev_ops *ops;
    void *priv;                         /* the driver's */

    /* Set by the stack through netdev_set_hooks; NULL: none. */
    const struct netdev_hooks *hooks;

    struct netdev_stats stats;          /* read with netdev_get_stats */
    struct waitq tx_wait;               /* netdev_wait_tx_room */
    volatile uint32_t tx_room_seq;
    struct netdev *next;
};

/* ---- for the stack ---- */

/* The devices registered, in order; NULL to start. */
struct netdev *netdev_next(struct netdev *prev);
struct netdev *netdev_find(const char *name);

/* Install the stack's hooks (any may be NULL): rx for every frame
 * received, tx_room when a ring that refused a frame with -EAGAIN has
 * room again, link_change when link_up changed. Frames that arrive with
 * no rx hook are counted as dropped. A hook being replaced may still run
 * once more; old hooks and their arg must stay valid. Each call keeps a
 * few bytes for good (hooks change a few times per boot, if ever). */
void netdev_set_hooks(struct netdev *dev, netdev_rx_fn rx, netdev_event_fn tx_room,
                      netdev_event_fn link_change, void *arg);

/* Queue one frame of nsegs segments (a frame starts with its Ethernet
 * header). Returns 0: done(dev, cookie, status) will run exactly once
 * later. Otherwise done never runs: -EAGAIN when the ring is full now
 * (wait for tx_room or netdev_wait_tx_room), -EINVAL for bad metadata or
 * length, -EOPNOTSUPP for TSO the device lacks, -EFAULT for an unmapped
 * app page, -EMSGSIZE for more than NETDEV_MAX_PIECES pieces. */
static inline int netdev_transmit(struct netdev *dev, const struct netdev_seg *segs,
                                  unsigned nsegs, const struct netdev_tx_meta *meta,
                                  netdev_tx_done_fn done, void *cookie)
{
    return dev->ops->transmit(dev, segs, nsegs, meta, done, cookie);
}

/* Block until a ring that refused a frame has room. Take seq from
 * netdev_tx_room_seq before the netdev_transmit that failed, so room made
 * in between is not missed. false on timeout (timeout_ns 0: none). */
static inline uint32_t netdev_tx_room_seq(const struct netdev *dev)
{
    return __atomic_load_n(&dev->tx_room_seq, __ATOMIC_ACQUIRE);
}
bool netdev_wait_tx_room(struct netdev *dev, uint32_t seq, uint64_t timeout_ns);

void netdev_get_stats(const struct netdev *dev, struct netdev_stats *out);
void netdev_print_stats(const struct netdev *dev);

/* ---- for drivers ---- */

/* Name it "netN" when name is empty, and list it. */
void netdev_register(struct netdev *dev);
/* Hand a received frame to the stack (counts it). */
void netdev_input(struct netdev *dev, const void *frame, size_t len,
                  const struct netdev_rx_meta *meta);
/* A full ring has room again: wake waiters and run the tx_room hook. */
void netdev_tx_room(struct netdev *dev);
/* The link went up or down: record it, say so, run the link_change hook. */
void netdev_set_link(struct netdev *dev, bool up);

static inline void netdev_stat_add(uint64_t *counter, uint64_t n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

#endif
