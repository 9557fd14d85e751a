/*
 * ktest=net_ceiling: the device ceiling of the TCP benchmark (bench/net.sh).
 * The first network device sends pre-built maximal TSO frames for a fixed
 * time with no TCP processing at all: no send queue, no ACKs, no copies,
 * one read-only payload buffer referenced by every frame. Whatever rate
 * this reaches is the most the driver, QEMU's virtio-net and the tap can
 * carry here, the yardstick for the TCP senders on the same path.
 *
 *   ktest=net_ceiling -- [seconds=N] [src=A.B.C.D] [dst=A.B.C.D] [port=P]
 *
 * (the words after "--", which a ktest boot does not use for an app).
 * Defaults: 5 seconds, 10.99.0.2 -> 10.99.0.1 (bench/net.sh's namespace),
 * port 9. The destination's MAC comes from ARP. Each frame is one TCP/IPv4
 * segment of 45 * 1448 = 65160 payload bytes behind a 32-byte TCP header
 * (timestamps option), gso_size 1448: the largest segment Tern's TCP hands
 * the device with a 1460-byte MSS (kernel/net/tcp_output.c,
 * TSO_MAX_PAYLOAD), checksum and segmentation left to the device. The
 * sequence numbers advance as in a real stream. Nobody listens on the
 * port; the host answers each frame with a reset, which is dropped here.
 *
 * Prints "net_ceiling: sent F frames, B payload bytes in T s: G Gbit/s"
 * (payload bytes, as a TCP receiver would count them); the harness checks
 * it against the tap's rx_bytes on the host. Status 0 when frames went out
 * and every one completed.
 */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/byteorder.h>
#include <kern/ktest.h>
#include <kern/net.h>
#include <kern/netdev.h>
#include <kern/options.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>

#define MS              1000000ULL
#define ETH_P_IP        0x0800
#define ETH_P_ARP       0x0806
#define IP_HDR_LEN      20
#define TCP_HDR_LEN     32      /* 20 + NOP NOP TS(10) */
#define HDRS            (ETH_HDR_LEN + IP_HDR_LEN + TCP_HDR_LEN)
#define GSO_SIZE        1448
#define PAYLOAD         (45 * GSO_SIZE)
#define HDR_POOL        512     /* headers in flight; each frame has its own */

struct ceiling {
    struct netdev *dev;
    uint8_t src[4], dst[4], dst_mac[6];
    uint16_t port;
    volatile bool have_mac;
    uint8_t hdr[HDR_POOL][HDRS];
    volatile uint8_t busy[HDR_POOL];
    volatile uint64_t completed, failed, rx_frames;
};

static struct ceiling *C;

/* "a.b.c.d", the whole string, into 4 bytes in network order. */
static bool parse_ip(const char *s, uint8_t out[4])
{
    const char *end;
    uint32_t a;
    if (!ipv4_parse(s, &end, &a) || *end)
        return false;
    memcpy(out, &a, 4);
    return true;
}

static bool parse_num(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > max / 10)
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* The receive hook: only the ARP reply matters; the host's resets and
 * anything else are counted and dropped. */
static void on_rx(struct netdev *dev, const void *frame, size_t len,
                  const struct netdev_rx_meta *meta, void *arg)
{
    struct ceiling *c = arg;
    const uint8_t *f = frame;
    c->rx_frames++;
    if (len < ETH_HDR_LEN + 28 || get_be16(f + 12) != ETH_P_ARP || c->have_mac)
        return;
    const uint8_t *a = f + ETH_HDR_LEN;
    if (get_be16(a + 6) == 2 && !memcmp(a + 14, c->dst, 4) && !memcmp(a + 24, c->src, 4)) {
        memcpy(c->dst_mac, a + 8, 6);
        __atomic_store_n(&c->have_mac, true, __ATOMIC_RELEASE);
    }
}

static void on_done(struct netdev *dev, void *cookie, int status)
{
    uintptr_t slot = (uintptr_t)cookie;
    if (status)
        __atomic_fetch_add(&C->failed, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&C->completed, 1, __ATOMIC_RELAXED);
    if (slot < HDR_POOL)
        __atomic_store_n(&C->busy[slot], 0, __ATOMIC_RELEASE);
}

static bool arp(struct ceiling *c)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint8_t *f = c->hdr[0];     /* not in use yet; 60 bytes fit */
    for (int attempt = 0; attempt < 10 && !c->have_mac; attempt++) {
        if (__atomic_load_n(&c->busy[0], __ATOMIC_ACQUIRE)) {
            thread_sleep_ns(10 * MS);
            continue;
        }
        memset(f, 0, 60);
        memcpy(f, bcast, 6);
        memcpy(f + 6, c->dev->mac, 6);
        put_be16(f + 12, ETH_P_ARP);
        uint8_t *a = f + ETH_HDR_LEN;
        put_be16(a, 1);
        put_be16(a + 2, ETH_P_IP);
        a[4] = 6;
        a[5] = 4;
        put_be16(a + 6, 1);
        memcpy(a + 8, c->dev->mac, 6);
        memcpy(a + 14, c->src, 4);
        memcpy(a + 24, c->dst, 4);
        struct netdev_seg seg = { f, 60 };
        c->busy[0] = 1;
        if (netdev_transmit(c->dev, &seg, 1, NULL, on_done, (void *)0) != 0)
            c->busy[0] = 0;
        for (int i = 0; i < 50 && !__atomic_load_n(&c->have_mac, __ATOMIC_ACQUIRE); i++)
            thread_sleep_ns(10 * MS);
    }
    while (__atomic_load_n(&c->busy[0], __ATOMIC_ACQUIRE))
        thread_sleep_ns(1 * MS);
    return c->have_mac;
}

/* Headers for the frame carrying stream bytes from seq on. */
static void build_header(struct ceiling *c, uint8_t *h, uint32_t seq, uint16_t ip_id)
{
    memcpy(h, c->dst_mac, 6);
    memcpy(h + 6, c->dev->mac, 6);
    put_be16(h + 12, ETH_P_IP);
    uint8_t *ip = h + ETH_HDR_LEN;
    memset(ip, 0, IP_HDR_LEN);
    ip[0] = 0x45;
    put_be16(ip + 2, IP_HDR_LEN + TCP_HDR_LEN + PAYLOAD);
    put_be16(ip + 4, ip_id);
    put_be16(ip + 6, 0x4000);      /* DF, as TCP sends */
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, c->src, 4);
    memcpy(ip + 16, c->dst, 4);
    put_be16(ip + 10, inet_fold(inet_sum(ip, IP_HDR_LEN, 0)));
    uint8_t *t = ip + IP_HDR_LEN;
    memset(t, 0, TCP_HDR_LEN);
    put_be16(t, 40000);
    put_be16(t + 2, c->port);
    put_be32(t + 4, seq);
    put_be32(t + 8, 1);
    t[12] = (TCP_HDR_LEN / 4) << 4;
    t[13] = 0x10;               /* ACK */
    put_be16(t + 14, 65535);
    t[20] = 1;                  /* NOP NOP TS */
    t[21] = 1;
    t[22] = 8;
    t[23] = 10;
    put_be32(t + 24, seq);
    /* The checksum field holds the pseudo-header sum; the device (or the
     * host, for each segment) completes it. */
    uint32_t pseudo = inet_sum(c->dst, 4, inet_sum(c->src, 4, 0)) + 6 + TCP_HDR_LEN + PAYLOAD;
    put_be16(t + 16, (uint16_t)~inet_fold(pseudo));  /* the seed: folded, not complemented */
}

/* A free header slot, waiting for completions while there is none. */
static int free_slot(struct ceiling *c, unsigned *next)
{
    uint64_t deadline = clock_monotonic_ns() + 5000 * MS;
    for (;;) {
        for (unsigned i = 0; i < HDR_POOL; i++) {
            unsigned s = (*next + i) % HDR_POOL;
            if (s && !__atomic_load_n(&c->busy[s], __ATOMIC_ACQUIRE)) {
                *next = s + 1;
                return (int)s;
            }
        }
        if (clock_monotonic_ns() > deadline)
            return -1;
        thread_sleep_ns(50000);
    }
}

KTEST(net_ceiling, "push maximal TSO frames with no TCP: the device's ceiling (bench)")
{
    struct netdev *dev = netdev_next(NULL);
    if (!dev) {
        pr_info("net_ceiling: FAIL: no network device\n");
        return 1;
    }
    if (!(dev->features & NETDEV_F_TSO4)) {
        pr_info("net_ceiling: FAIL: %s has no TSO (a tap backend has it; slirp does not)\n",
                dev->name);
        return 1;
    }
    C = kzalloc(sizeof(*C));
    uint8_t *payload = kmalloc(PAYLOAD);
    if (!C || !payload) {
        pr_info("net_ceiling: FAIL: out of memory\n");
        return 1;
    }
    struct ceiling *c = C;
    c->dev = dev;
    c->port = 9;
    unsigned long seconds = 5, v;
    parse_ip("10.99.0.2", c->src);
    parse_ip("10.99.0.1", c->dst);
    for (int i = 0; i < kopt.app.argc; i++) {
        const char *a = kopt.app.argv[i];
        bool ok;
        if (!strncmp(a, "seconds=", 8))
            ok = parse_num(a + 8, 3600, &seconds) && seconds;
        else if (!strncmp(a, "src=", 4))
            ok = parse_ip(a + 4, c->src);
        else if (!strncmp(a, "dst=", 4))
            ok = parse_ip(a + 4, c->dst);
        else if (!strncmp(a, "port=", 5))
            ok = parse_num(a + 5, 65535, &v) && v && ((c->port = (uint16_t)v), true);
        else
            ok = false;
        if (!ok) {
            pr_info("net_ceiling: FAIL: bad argument '%s' (seconds=N src=IP dst=IP port=P)\n",
                    a);
            return 2;
        }
    }
    /* Something to look at in a capture; its content does not matter. */
    for (size_t i = 0; i < PAYLOAD; i++)
        payload[i] = (uint8_t)(i * 7 + 1);

    /* Take the device from the stack for the run. */
    netdev_set_hooks(dev, on_rx, NULL, NULL, c);
    for (int i = 0; i < 200 && !dev->link_up; i++)
        thread_sleep_ns(10 * MS);
    if (!arp(c)) {
        pr_info("net_ceiling: FAIL: no ARP reply from %u.%u.%u.%u\n", c->dst[0], c->dst[1],
                c->dst[2], c->dst[3]);
        return 1;
    }
    pr_info("net_ceiling: %s -> %u.%u.%u.%u port %u, %u-byte frames (%u payload, gso_size "
            "%u), %lu s\n", dev->name, c->dst[0], c->dst[1], c->dst[2], c->dst[3], c->port,
            HDRS + PAYLOAD, PAYLOAD, GSO_SIZE, seconds);

    struct netdev_tx_meta meta = {
        .flags = NETDEV_TX_CSUM | NETDEV_TX_TSO4,
        .csum_start = ETH_HDR_LEN + IP_HDR_LEN,
        .csum_offset = 16,
        .gso_size = GSO_SIZE,
        .hdr_len = HDRS,
    };
    uint64_t frames = 0, busy = 0;
    uint64_t c0 = c->completed;
    unsigned next = 1;
    uint32_t seq = 1;
    int err = 0;
    pr_info("net_ceiling: start\n");
    uint64_t t0 = clock_monotonic_ns(), end = t0 + seconds * 1000 * MS;
    while (clock_monotonic_ns() < end) {
        int s = free_slot(c, &next);
        if (s < 0) {
            err = -ETIMEDOUT;
            break;
        }
        build_header(c, c->hdr[s], seq, (uint16_t)frames);
        struct netdev_seg segs[2] = { { c->hdr[s], HDRS }, { payload, PAYLOAD } };
        c->busy[s] = 1;
        for (;;) {
            uint32_t room = netdev_tx_room_seq(dev);
            int r = netdev_transmit(dev, segs, 2, &meta, on_done, (void *)(uintptr_t)s);
            if (r == 0)
                break;
            if (r != -EAGAIN) {
                err = r;
                break;
            }
            busy++;
            if (!netdev_wait_tx_room(dev, room, 5000 * MS)) {
                err = -ETIMEDOUT;
                break;
            }
        }
        if (err) {
            c->busy[s] = 0;
            break;
        }
        frames++;
        seq += PAYLOAD;
    }
    /* The rate counts until the device gave the last frame back. */
    uint64_t deadline = clock_monotonic_ns() + 10000 * MS;
    while (__atomic_load_n(&c->completed, __ATOMIC_ACQUIRE) - c0 < frames &&
           clock_monotonic_ns() < deadline)
        thread_sleep_ns(100000);
    uint64_t t1 = clock_monotonic_ns();
    uint64_t done = c->completed - c0;
    uint64_t bytes = frames * PAYLOAD;
    uint64_t ns = t1 - t0 ? t1 - t0 : 1;
    /* Gbit/s with three decimals, in integers (no FP in the kernel). */
    uint64_t mbps = bytes * 8 * 1000 / ns;
    pr_info("net_ceiling: sent %llu frames, %llu payload bytes in %llu.%03llu s: "
            "%llu.%03llu Gbit/s; ring full %llu times; %llu frames received\n",
            (unsigned long long)frames, (unsigned long long)bytes,
            (unsigned long long)(ns / 1000000000), (unsigned long long)(ns / 1000000 % 1000),
            (unsigned long long)(mbps / 1000), (unsigned long long)(mbps % 1000),
            (unsigned long long)busy, (unsigned long long)c->rx_frames);
    netdev_print_stats(dev);
    netdev_set_hooks(dev, NULL, NULL, NULL, NULL);
    int fails = 0;
    if (err) {
        pr_info("net_ceiling: FAIL: transmit: error %d\n", err);
        fails++;
    }
    if (done != frames || c->failed) {
        pr_info("net_ceiling: FAIL: %llu frames sent, %llu completed, %llu failed\n",
                (unsigned long long)frames, (unsigned long long)done,
                (unsigned long long)c->failed);
        fails++;
    }
    if (!frames) {
        pr_info("net_ceiling: FAIL: no frame went out\n");
        fails++;
    }
    /* The payload stays allocated: a frame the device never returned
     * would still point at it. */
    pr_info("net_ceiling: %s\n", fails ? "FAILED" : "passed");
    return fails ? 1 : 0;
}
