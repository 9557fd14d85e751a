/*
 * ktest=net_smoke: the first network device, driven by hand-made frames,
 * on QEMU's user-mode network (slirp: we are 10.0.2.15, the gateway
 * 10.0.2.2 answers ARP and ICMP echo itself). tests/guest/net.sh boots it.
 *
 *   1. ARP request for 10.0.2.2; the reply gives the gateway's MAC.
 *   2. Five ICMP echo requests, round-trip times printed.
 *   3. Large ICMP echo requests (full 1514-byte frames) built from several
 *      segments, one crossing a page boundary in memory that is not
 *      physically contiguous, with the ICMP checksum left to the device
 *      (NETDEV_TX_CSUM). slirp drops echo requests with a bad checksum, so
 *      each reply, compared byte for byte, proves the checksum and the
 *      scatter-gather path.
 *   4. Large UDP datagrams to 10.0.2.2 port 9 with checksum offload (slirp
 *      passes them on to the host's discard port, or drops them).
 *   5. A burst of small frames, more than the ring holds: -EAGAIN, waiting
 *      for room, and a completion for every frame.
 *   6. With TSO (a tap backend only; slirp's has none): one 16 KiB TCP
 *      segment; the device must return it.
 *
 * Every frame sent must complete exactly once, with status 0. Each part
 * prints "net_smoke: ..." lines; the last is "net_smoke: passed" or
 * "net_smoke: FAILED".
 *
 * Beside it: net_rx_gso.c (a TCP stream from a tap's host, for the
 * receive offloads) and net_link.c (link changes from QEMU's monitor).
 */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/byteorder.h>
#include <kern/ktest.h>
#include <kern/kva.h>
#include <kern/net.h>
#include <kern/netdev.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include "net_frames.h"

#define ETH_P_TEST  0x88b5      /* IEEE 802 local experimental: dropped by slirp */
#define ICMP_ECHO_REPLY   0
#define ICMP_ECHO_REQUEST 8
#define ICMP_HDR_LEN 8
#define UDP_HDR_LEN 8
#define ICMP_ID     0x7e57

#define RXQ_LEN     32
#define FRAME_MAX   2048
#define MAX_TRACKED 1024
#define BURST       600

static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static int fails;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            pr_info("net_smoke: FAIL: " __VA_ARGS__);                          \
            fails++;                                                           \
        }                                                                      \
    } while (0)

/* ------------------------------------------------ frames received ---- */

struct rx_queue {
    struct waitq wq;            /* its lock guards the rest */
    unsigned head, tail;
    uint64_t overflow;
    uint16_t len[RXQ_LEN];
    uint8_t data[RXQ_LEN][FRAME_MAX];
};

static struct rx_queue *rxq;

static void on_rx(struct netdev *dev, const void *frame, size_t len,
                  const struct netdev_rx_meta *meta, void *arg)
{
    struct rx_queue *q = arg;
    unsigned long flags = spin_lock_irqsave(&q->wq.lock);
    if (q->tail - q->head == RXQ_LEN || len > FRAME_MAX) {
        q->overflow++;
    } else {
        unsigned slot = q->tail % RXQ_LEN;
        memcpy(q->data[slot], frame, len);
        q->len[slot] = (uint16_t)len;
        q->tail++;
    }
    spin_unlock_irqrestore(&q->wq.lock, flags);
    waitq_wake(&q->wq, 1);
}

/* The next frame received before deadline (monotonic ns): its length, or
 * 0 when none came. */
static size_t next_frame(uint8_t *buf, uint64_t deadline)
{
    struct rx_queue *q = rxq;
    unsigned long flags = spin_lock_irqsave(&q->wq.lock);
    while (q->head == q->tail) {
        uint64_t now = clock_monotonic_ns();
        if (now >= deadline) {
            spin_unlock_irqrestore(&q->wq.lock, flags);
            return 0;
        }
        waitq_sleep_locked(&q->wq, &flags, deadline - now);
    }
    unsigned slot = q->head % RXQ_LEN;
    size_t len = q->len[slot];
    memcpy(buf, q->data[slot], len);
    q->head++;
    spin_unlock_irqrestore(&q->wq.lock, flags);
    return len;
}

/* -------------------------------------------- transmit completions ---- */

static volatile uint8_t completed[MAX_TRACKED];
static volatile uint32_t completions, bad_completions;
static uint32_t next_cookie;

static void on_tx_done(struct netdev *dev, void *cookie, int status)
{
    uintptr_t i = (uintptr_t)cookie;
    if (i >= MAX_TRACKED || status != 0 || __atomic_fetch_add(&completed[i], 1, __ATOMIC_RELAXED))
        __atomic_fetch_add(&bad_completions, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&completions, 1, __ATOMIC_RELEASE);
}

/* Send one frame, waiting for ring room as long as it takes (up to 5 s).
 * Returns 0 or the error; *busy counts the -EAGAIN answers. */
static int send_frame(struct netdev *dev, const struct netdev_seg *segs, unsigned n,
                      const struct netdev_tx_meta *meta, unsigned *busy)
{
    uint64_t deadline = clock_monotonic_ns() + 5000 * MS;
    if (next_cookie >= MAX_TRACKED)
        return -ENOSPC;
    for (;;) {
        uint32_t seq = netdev_tx_room_seq(dev);
        int r = netdev_transmit(dev, segs, n, meta, on_tx_done, (void *)(uintptr_t)next_cookie);
        if (r == 0) {
            next_cookie++;
            return 0;
        }
        if (r != -EAGAIN)
            return r;
        if (busy)
            (*busy)++;
        uint64_t now = clock_monotonic_ns();
        if (now >= deadline || !netdev_wait_tx_room(dev, seq, deadline - now))
            return -ETIMEDOUT;
    }
}

/* Wait until every frame sent so far has completed; false after 5 s. */
static bool wait_completions(void)
{
    uint64_t deadline = clock_monotonic_ns() + 5000 * MS;
    while (__atomic_load_n(&completions, __ATOMIC_ACQUIRE) < next_cookie) {
        if (clock_monotonic_ns() >= deadline)
            return false;
        thread_sleep_ns(1 * MS);
    }
    return true;
}

/* ---------------------------------------------------- frame building ---- */

static uint8_t payload_byte(size_t i, unsigned seq)
{
    return (uint8_t)(i * 7 + seq * 13 + 1);
}

/* Is frame an ICMP echo reply from the gateway with this seq? Returns the
 * ICMP payload length, or -1. */
static long echo_reply(const uint8_t *f, size_t len, uint16_t seq)
{
    if (len < ETH_HDR_LEN + IP_HDR_LEN + ICMP_HDR_LEN || get_be16(f + 12) != ETH_P_IP)
        return -1;
    const uint8_t *ip = f + ETH_HDR_LEN;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t total = get_be16(ip + 2);
    if (ip[9] != 1 || memcmp(ip + 12, gw_ip, 4) || ihl < IP_HDR_LEN || total < ihl + ICMP_HDR_LEN ||
        ETH_HDR_LEN + total > len)
        return -1;
    const uint8_t *icmp = ip + ihl;
    if (icmp[0] != ICMP_ECHO_REPLY || get_be16(icmp + 4) != ICMP_ID || get_be16(icmp + 6) != seq)
        return -1;
    return (long)(total - ihl - ICMP_HDR_LEN);
}

/* ------------------------------------------------------------ parts ---- */

static bool arp_gateway(struct netdev *dev, uint8_t *gw_mac, uint8_t *buf)
{
    uint8_t *frame = kzalloc(64);
    if (!frame)
        return false;
    uint8_t *p = put_eth(frame, broadcast, dev->mac, ETH_P_ARP);
    put_be16(p, 1);                /* Ethernet */
    put_be16(p + 2, ETH_P_IP);
    p[4] = 6;
    p[5] = 4;
    put_be16(p + 6, 1);            /* request */
    memcpy(p + 8, dev->mac, 6);
    memcpy(p + 14, our_ip, 4);
    memcpy(p + 24, gw_ip, 4);   /* target MAC stays zero */
    struct netdev_seg seg = { frame, 60 };  /* padded to the Ethernet minimum */

    bool found = false;
    for (int attempt = 0; attempt < 3 && !found; attempt++) {
        uint64_t t0 = clock_monotonic_ns();
        int r = send_frame(dev, &seg, 1, NULL, NULL);
        CHECK(r == 0, "ARP request: transmit returned %d\n", r);
        uint64_t deadline = t0 + 1000 * MS;
        size_t len;
        while (!found && (len = next_frame(buf, deadline)) > 0) {
            const uint8_t *a = buf + ETH_HDR_LEN;
            if (len >= ETH_HDR_LEN + 28 && get_be16(buf + 12) == ETH_P_ARP &&
                get_be16(a + 6) == 2 && !memcmp(a + 14, gw_ip, 4) && !memcmp(a + 24, our_ip, 4)) {
                memcpy(gw_mac, a + 8, 6);
                found = true;
                pr_info("net_smoke: ARP reply: 10.0.2.2 is at "
                        "%02x:%02x:%02x:%02x:%02x:%02x (%llu us)\n", gw_mac[0], gw_mac[1],
                        gw_mac[2], gw_mac[3], gw_mac[4], gw_mac[5],
                        (unsigned long long)((clock_monotonic_ns() - t0) / US));
            }
        }
    }
    CHECK(wait_completions(), "ARP: transmit completions missing\n");
    kfree(frame);
    CHECK(found, "no ARP reply from 10.0.2.2\n");
    return found;
}

/* Small pings: the whole frame in one buffer, checksum computed here. */
static void ping(struct netdev *dev, const uint8_t *gw_mac, uint8_t *buf)
{
    enum { COUNT = 5, DATA = 56 };
    size_t frame_len = ETH_HDR_LEN + IP_HDR_LEN + ICMP_HDR_LEN + DATA;
    uint8_t *frame = kzalloc(frame_len);
    if (!frame)
        return;
    unsigned received = 0;
    uint64_t min = UINT64_MAX, max = 0, sum = 0;
    for (uint16_t seq = 1; seq <= COUNT; seq++) {
        uint8_t *p = put_eth(frame, gw_mac, dev->mac, ETH_P_IP);
        p = put_ip(p, 1, ICMP_HDR_LEN + DATA, seq);
        p[0] = ICMP_ECHO_REQUEST;
        p[1] = 0;
        put_be16(p + 2, 0);
        put_be16(p + 4, ICMP_ID);
        put_be16(p + 6, seq);
        for (size_t i = 0; i < DATA; i++)
            p[ICMP_HDR_LEN + i] = payload_byte(i, seq);
        put_be16(p + 2, inet_fold(inet_sum(p, ICMP_HDR_LEN + DATA, 0)));

        struct netdev_seg seg = { frame, frame_len };
        uint64_t t0 = clock_monotonic_ns();
        int r = send_frame(dev, &seg, 1, NULL, NULL);
        CHECK(r == 0, "echo request %u: transmit returned %d\n", seq, r);
        uint64_t deadline = t0 + 2000 * MS;
        size_t len;
        bool got = false;
        while (!got && (len = next_frame(buf, deadline)) > 0) {
            long n = echo_reply(buf, len, seq);
            if (n < 0)
                continue;
            uint64_t rtt = clock_monotonic_ns() - t0;
            got = true;
            const uint8_t *data = buf + len - (size_t)n;
            bool same = n == DATA;
            for (size_t i = 0; same && i < DATA; i++)
                same = data[i] == payload_byte(i, seq);
            CHECK(same, "echo reply %u: payload differs\n", seq);
            received++;
            sum += rtt;
            min = MIN(min, rtt);
            max = MAX(max, rtt);
            pr_info("net_smoke: ICMP echo reply from 10.0.2.2: seq=%u bytes=%ld ttl=%u "
                    "time=%llu us\n", seq, n + ICMP_HDR_LEN, buf[ETH_HDR_LEN + 8],
                    (unsigned long long)(rtt / US));
        }
        CHECK(got, "no echo reply %u\n", seq);
        /* The frame buffer is reused: wait until the device gave it back. */
        CHECK(wait_completions(), "echo request %u never completed\n", seq);
    }
    if (received)
        pr_info("net_smoke: ping 10.0.2.2: %u sent, %u received, rtt min/avg/max = "
                "%llu/%llu/%llu us\n", COUNT, received, (unsigned long long)(min / US),
                (unsigned long long)(sum / received / US), (unsigned long long)(max / US));
    CHECK(received == COUNT, "ping: %u of %u replies\n", received, COUNT);
    kfree(frame);
}

/* Full-size echo requests in three segments (headers; a kmalloc block; a
 * stretch across a page boundary of kva memory, whose pages come one by
 * one from the page allocator), checksum by the device. */
static void big_pings(struct netdev *dev, const uint8_t *gw_mac, uint8_t *buf)
{
    enum { COUNT = 8, DATA = 1472, PART1 = 500, PART2 = DATA - PART1 };
    size_t hdrs = ETH_HDR_LEN + IP_HDR_LEN + ICMP_HDR_LEN;
    if (ETH_HDR_LEN + IP_HDR_LEN + ICMP_HDR_LEN + DATA > ETH_HDR_LEN + (size_t)dev->mtu) {
        pr_info("net_smoke: large echo: MTU %u too small, skipped\n", dev->mtu);
        return;
    }
    uint8_t *head = kzalloc(hdrs * COUNT);
    uint8_t *part1 = kzalloc((size_t)PART1 * COUNT);
    uint8_t *kva = kva_alloc_guarded(2 * 4096);
    if (!head || !part1 || !kva) {
        CHECK(false, "large echo: out of memory\n");
        goto out;
    }
    unsigned replies = 0, sent = 0;
    for (uint16_t k = 0; k < COUNT; k++) {
        uint16_t seq = (uint16_t)(100 + k);
        uint8_t *h = head + hdrs * k;
        uint8_t *p1 = part1 + (size_t)PART1 * k;
        /* Straddles the page boundary at kva + 4096. Frames share it:
         * each is built only after the previous one completed. */
        uint8_t *p2 = kva + 4096 - 300;
        uint8_t *p = put_eth(h, gw_mac, dev->mac, ETH_P_IP);
        p = put_ip(p, 1, ICMP_HDR_LEN + DATA, seq);
        p[0] = ICMP_ECHO_REQUEST;
        p[1] = 0;
        put_be16(p + 4, ICMP_ID);
        put_be16(p + 6, seq);
        put_be16(p + 2, 0);        /* ICMP has no pseudo-header: the sum starts at 0 */
        for (size_t i = 0; i < PART1; i++)
            p1[i] = payload_byte(i, seq);
        for (size_t i = 0; i < PART2; i++)
            p2[i] = payload_byte(PART1 + i, seq);
        struct netdev_seg segs[3] = { { h, hdrs }, { p1, PART1 }, { p2, PART2 } };
        struct netdev_tx_meta meta = {
            .flags = NETDEV_TX_CSUM,
            .csum_start = ETH_HDR_LEN + IP_HDR_LEN,
            .csum_offset = 2,
        };
        int r = send_frame(dev, segs, 3, &meta, NULL);
        CHECK(r == 0, "large echo %u: transmit returned %d\n", seq, r);
        if (r)
            continue;
        sent++;
        uint64_t deadline = clock_monotonic_ns() + 2000 * MS;
        size_t len;
        bool got = false;
        while (!got && (len = next_frame(buf, deadline)) > 0) {
            long n = echo_reply(buf, len, seq);
            if (n < 0)
                continue;
            got = true;
            const uint8_t *data = buf + len - (size_t)n;
            bool same = n == DATA;
            for (size_t i = 0; same && i < DATA; i++)
                same = data[i] == payload_byte(i, seq);
            CHECK(same, "large echo reply %u: %ld bytes, payload differs\n", seq, n);
            replies += same;
        }
        CHECK(got, "no reply to large echo %u (a bad checksum is dropped)\n", seq);
        CHECK(wait_completions(), "large echo %u never completed\n", seq);
    }
    pr_info("net_smoke: large ICMP echo, %u-byte frames in 3 segments, checksum by the %s: "
            "%u sent, %u replies intact\n", (unsigned)(hdrs + DATA),
            (dev->features & NETDEV_F_TX_CSUM) ? "device" : "driver", sent, replies);
out:
    kfree(head);
    kfree(part1);
    if (kva)
        kva_free_guarded(kva, 2 * 4096);
}

/* UDP to the discard port: the checksum field starts as the pseudo-header
 * sum, as virtio wants it. */
static void udp_discard(struct netdev *dev, const uint8_t *gw_mac)
{
    enum { COUNT = 8, DATA = 1472 };
    size_t hdrs = ETH_HDR_LEN + IP_HDR_LEN + UDP_HDR_LEN;
    uint8_t *frames = kzalloc((hdrs + DATA) * COUNT);
    if (!frames) {
        CHECK(false, "UDP: out of memory\n");
        return;
    }
    uint32_t before = next_cookie;
    unsigned sent = 0;
    for (unsigned k = 0; k < COUNT; k++) {
        uint8_t *f = frames + (hdrs + DATA) * k;
        uint8_t *p = put_eth(f, gw_mac, dev->mac, ETH_P_IP);
        p = put_ip(p, 17, UDP_HDR_LEN + DATA, (uint16_t)(200 + k));
        put_be16(p, 40000);
        put_be16(p + 2, 9);
        put_be16(p + 4, UDP_HDR_LEN + DATA);
        for (size_t i = 0; i < DATA; i++)
            p[UDP_HDR_LEN + i] = payload_byte(i, k);
        uint32_t pseudo = inet_sum(gw_ip, 4, inet_sum(our_ip, 4, 0)) + 17 + UDP_HDR_LEN + DATA;
        put_be16(p + 6, (uint16_t)~inet_fold(pseudo));   /* the seed: folded, not complemented */
        /* Two segments: the headers and the data, both by reference. */
        struct netdev_seg segs[2] = { { f, hdrs }, { f + hdrs, DATA } };
        struct netdev_tx_meta meta = {
            .flags = NETDEV_TX_CSUM,
            .csum_start = ETH_HDR_LEN + IP_HDR_LEN,
            .csum_offset = 6,
        };
        int r = send_frame(dev, segs, 2, &meta, NULL);
        CHECK(r == 0, "UDP %u: transmit returned %d\n", k, r);
        sent += r == 0;
    }
    bool all = wait_completions();
    CHECK(all, "UDP: completions missing\n");
    pr_info("net_smoke: UDP to 10.0.2.2:9, %u-byte frames with checksum offload: "
            "%u sent, %u completed\n", (unsigned)(hdrs + DATA), sent,
            (unsigned)(__atomic_load_n(&completions, __ATOMIC_ACQUIRE) >= next_cookie
                       ? next_cookie - before : 0));
    kfree(frames);
}

/* More frames than the ring has room for, as fast as we can. */
static void burst(struct netdev *dev)
{
    enum { SIZE = 200 };
    uint8_t *frames = kzalloc(SIZE * BURST);
    if (!frames) {
        CHECK(false, "burst: out of memory\n");
        return;
    }
    unsigned busy = 0, sent = 0;
    uint32_t before = next_cookie;
    uint64_t t0 = clock_monotonic_ns();
    for (unsigned k = 0; k < BURST; k++) {
        uint8_t *f = frames + SIZE * k;
        uint8_t *p = put_eth(f, broadcast, dev->mac, ETH_P_TEST);
        put_be16(p, (uint16_t)k);
        /* Too big to be copied, in two segments: a chain of three
         * descriptors, or one indirect one. */
        struct netdev_seg segs[2] = { { f, ETH_HDR_LEN }, { p, SIZE - ETH_HDR_LEN } };
        int r = send_frame(dev, segs, 2, NULL, &busy);
        CHECK(r == 0, "burst frame %u: transmit returned %d\n", k, r);
        if (r)
            break;
        sent++;
    }
    bool all = wait_completions();
    CHECK(all, "burst: completions missing\n");
    pr_info("net_smoke: burst: %u frames in %llu us, ring full %u times, %u completed\n", sent,
            (unsigned long long)((clock_monotonic_ns() - t0) / US), busy,
            all ? next_cookie - before : 0);
    kfree(frames);
}

/* One TCP segment of 16 KiB for the device to cut (only where it can).
 * Nobody listens; the peer answers with a reset, or nothing. */
static void tso(struct netdev *dev, const uint8_t *gw_mac, uint8_t *buf)
{
    enum { DATA = 16384, TCP_HDR_LEN = 20 };
    if (!(dev->features & NETDEV_F_TSO4)) {
        pr_info("net_smoke: TSO: the device has none, skipped\n");
        struct netdev_tx_meta meta = { .flags = NETDEV_TX_TSO4 | NETDEV_TX_CSUM,
                                       .gso_size = 1460, .hdr_len = 54 };
        uint8_t frame[60] = { 0 };
        struct netdev_seg seg = { frame, sizeof(frame) };
        int r = netdev_transmit(dev, &seg, 1, &meta, on_tx_done, NULL);
        CHECK(r == -EOPNOTSUPP, "TSO without the feature: transmit returned %d\n", r);
        return;
    }
    size_t hdrs = ETH_HDR_LEN + IP_HDR_LEN + TCP_HDR_LEN;
    uint8_t *f = kzalloc(hdrs + DATA);
    if (!f) {
        CHECK(false, "TSO: out of memory\n");
        return;
    }
    uint8_t *p = put_eth(f, gw_mac, dev->mac, ETH_P_IP);
    p = put_ip(p, 6, TCP_HDR_LEN + DATA, 300);
    put_be16(p, 40001);
    put_be16(p + 2, 9);
    p[12] = (TCP_HDR_LEN / 4) << 4;
    p[13] = 0x18;               /* PSH|ACK */
    put_be16(p + 14, 65535);
    uint32_t pseudo = inet_sum(gw_ip, 4, inet_sum(our_ip, 4, 0)) + 6 + TCP_HDR_LEN + DATA;
    put_be16(p + 16, (uint16_t)~inet_fold(pseudo));  /* the seed: folded, not complemented */
    struct netdev_seg segs[2] = { { f, hdrs }, { f + hdrs, DATA } };
    struct netdev_tx_meta meta = {
        .flags = NETDEV_TX_CSUM | NETDEV_TX_TSO4,
        .csum_start = ETH_HDR_LEN + IP_HDR_LEN,
        .csum_offset = 16,
        .gso_size = 1448,
        .hdr_len = (uint16_t)hdrs,
    };
    int r = send_frame(dev, segs, 2, &meta, NULL);
    CHECK(r == 0, "TSO: transmit returned %d\n", r);
    bool all = wait_completions();
    CHECK(all, "TSO: no completion\n");
    /* Nothing listens on the peer's port 9: a reset to our port says the
     * segments arrived with headers it believed. */
    bool rst = false;
    uint64_t deadline = clock_monotonic_ns() + 2000 * MS;
    size_t len;
    while (!rst && (len = next_frame(buf, deadline)) > 0) {
        const uint8_t *ip = buf + ETH_HDR_LEN;
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        if (len >= ETH_HDR_LEN + ihl + TCP_HDR_LEN && get_be16(buf + 12) == ETH_P_IP &&
            ip[9] == 6 && get_be16(ip + ihl) == 9 && get_be16(ip + ihl + 2) == 40001 &&
            (ip[ihl + 13] & 0x04))
            rst = true;
    }
    CHECK(rst, "TSO: no reset from the peer\n");
    pr_info("net_smoke: TSO: one %u-byte TCP segment, %s, %s\n", (unsigned)(hdrs + DATA),
            all && r == 0 ? "completed" : "lost", rst ? "the peer answered" : "no answer");
    kfree(f);
}

KTEST(net_smoke, "ARP and ping the slirp gateway; checksum offload, bursts, completions")
{
    struct netdev *dev = netdev_next(NULL);
    if (!dev) {
        pr_info("net_smoke: FAIL: no network device (boot with a virtio-net NIC)\n");
        return 1;
    }
    const uint8_t *m = dev->mac;
    pr_info("net_smoke: %s mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u features%s%s%s%s\n",
            dev->name, m[0], m[1], m[2], m[3], m[4], m[5], dev->mtu,
            (dev->features & NETDEV_F_TX_CSUM) ? " tx-csum" : "",
            (dev->features & NETDEV_F_RX_CSUM) ? " rx-csum" : "",
            (dev->features & NETDEV_F_TSO4) ? " tso4" : "",
            (dev->features & NETDEV_F_RX_GSO4) ? " rx-gso4" : "");

    rxq = kzalloc(sizeof(*rxq));
    uint8_t *buf = kmalloc(FRAME_MAX);
    if (!rxq || !buf) {
        pr_info("net_smoke: FAIL: out of memory\n");
        return 1;
    }
    waitq_init(&rxq->wq);
    /* Take the device from the stack, if one had it, for the test. */
    const struct netdev_hooks *old = dev->hooks;
    netdev_set_hooks(dev, on_rx, NULL, NULL, rxq);

    for (int i = 0; i < 200 && !dev->link_up; i++)
        thread_sleep_ns(10 * MS);
    CHECK(dev->link_up, "%s: link down\n", dev->name);

    uint8_t gw_mac[6];
    if (arp_gateway(dev, gw_mac, buf)) {
        ping(dev, gw_mac, buf);
        big_pings(dev, gw_mac, buf);
        udp_discard(dev, gw_mac);
        tso(dev, gw_mac, buf);
    }
    burst(dev);

    CHECK(wait_completions(), "completions missing at the end\n");
    uint32_t done = __atomic_load_n(&completions, __ATOMIC_ACQUIRE);
    CHECK(done == next_cookie, "%u frames sent, %u completions\n", next_cookie, done);
    CHECK(bad_completions == 0, "%u completions were duplicates or failed\n", bad_completions);
    struct netdev_stats st;
    netdev_get_stats(dev, &st);
    CHECK(st.interrupts > 0, "no interrupts counted\n");
    CHECK(st.tx_completed == st.tx_packets, "stats: %llu sent, %llu completed\n",
          (unsigned long long)st.tx_packets, (unsigned long long)st.tx_completed);
    pr_info("net_smoke: %u frames sent, %u completed; %llu received\n", next_cookie, done,
            (unsigned long long)st.rx_packets);
    netdev_print_stats(dev);

    if (old)
        netdev_set_hooks(dev, old->rx, old->tx_room, old->link_change, old->arg);
    else
        netdev_set_hooks(dev, NULL, NULL, NULL, NULL);
    pr_info("net_smoke: %s\n", fails ? "FAILED" : "passed");
    return fails ? 1 : 0;
}
