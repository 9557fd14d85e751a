/*
 * ktest=net_rx_gso: the receive side of offloads, on a tap device whose
 * host end is Linux: the host connects to 10.0.2.15:5001 and sends the
 * output of `seq 1 N`.
 * Just enough TCP runs here, in the receive hook, to take it: answer ARP,
 * answer the SYN (MSS only, a 64 KiB window), acknowledge every in-order
 * segment, answer the FIN. With GUEST_TSO4 the host's stack sends
 * coalesced segments far larger than the MTU, which arrive spread over
 * several page-sized receive buffers (MRG_RXBUF) and must come out of the
 * driver as one frame. The stream is checked byte by byte.
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

static int fails;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            pr_info("net_rx_gso: FAIL: " __VA_ARGS__);                         \
            fails++;                                                           \
        }                                                                      \
    } while (0)

#define RX_PORT     5001
#define RX_ISS      0x10000000u
#define RX_POOL     256
#define RX_FRAME    64

struct tcp_rx {
    struct netdev *dev;
    uint8_t peer_mac[6], peer_ip[4];
    uint16_t peer_port;
    int state;                  /* 0 listen, 1 SYN received, 2 open, 3 done */
    uint32_t rcv_nxt;
    /* the stream: the decimal lines 1, 2, 3, ... */
    uint64_t bytes, frames, gso_frames, partial_csum, big_frames, largest;
    uint32_t line;              /* the number being received */
    char digits[16];
    unsigned pos, ndigits;
    bool corrupt;
    /* outgoing frames: a slot stays busy until its completion ran */
    uint8_t out[RX_POOL][RX_FRAME];
    volatile uint8_t busy[RX_POOL];
    unsigned next_slot;
    uint64_t sent, acks_dropped;
    volatile uint32_t tx_done;
    struct waitq done_wq;
    volatile bool done;
};

static struct tcp_rx *tcp_rx_state;

static void tcp_tx_done(struct netdev *dev, void *cookie, int status)
{
    struct tcp_rx *t = tcp_rx_state;
    __atomic_store_n(&t->busy[(uintptr_t)cookie], 0, __ATOMIC_RELEASE);
    __atomic_fetch_add(&t->tx_done, 1, __ATOMIC_RELAXED);
}

/* A free outgoing frame slot, or NULL. */
static uint8_t *tx_slot(struct tcp_rx *t, unsigned *slot)
{
    for (unsigned i = 0; i < RX_POOL; i++) {
        unsigned s = (t->next_slot + i) % RX_POOL;
        if (!__atomic_load_n(&t->busy[s], __ATOMIC_ACQUIRE)) {
            t->next_slot = s + 1;
            *slot = s;
            return t->out[s];
        }
    }
    return NULL;
}

static void tx_send(struct tcp_rx *t, unsigned slot, size_t len)
{
    struct netdev_seg seg = { t->out[slot], len };
    t->busy[slot] = 1;
    if (netdev_transmit(t->dev, &seg, 1, NULL, tcp_tx_done, (void *)(uintptr_t)slot) == 0) {
        t->sent++;
    } else {
        t->busy[slot] = 0;
        t->acks_dropped++;
    }
}

static void arp_answer(struct tcp_rx *t, const uint8_t *f, size_t len)
{
    const uint8_t *a = f + ETH_HDR_LEN;
    unsigned slot;
    uint8_t *o;
    if (len < ETH_HDR_LEN + 28 || get_be16(a + 6) != 1 || memcmp(a + 24, our_ip, 4) ||
        !(o = tx_slot(t, &slot)))
        return;
    memset(o, 0, 60);
    uint8_t *p = put_eth(o, a + 8, t->dev->mac, ETH_P_ARP);
    put_be16(p, 1);
    put_be16(p + 2, ETH_P_IP);
    p[4] = 6;
    p[5] = 4;
    put_be16(p + 6, 2);            /* reply */
    memcpy(p + 8, t->dev->mac, 6);
    memcpy(p + 14, our_ip, 4);
    memcpy(p + 18, a + 8, 10);  /* the asker's MAC and IP */
    tx_send(t, slot, 60);
}

static void tcp_send(struct tcp_rx *t, uint8_t flags, uint32_t seq)
{
    unsigned slot;
    uint8_t *o = tx_slot(t, &slot);
    if (!o) {
        t->acks_dropped++;
        return;
    }
    size_t tcp_len = flags & 0x02 ? 24 : 20;    /* a SYN carries MSS */
    memset(o, 0, RX_FRAME);
    uint8_t *p = put_eth(o, t->peer_mac, t->dev->mac, ETH_P_IP);
    uint8_t *ip = p;
    p = put_ip(p, 6, tcp_len, 0);
    memcpy(ip + 16, t->peer_ip, 4);             /* put_ip aims at the gateway */
    put_be16(ip + 10, 0);
    put_be16(ip + 10, inet_fold(inet_sum(ip, IP_HDR_LEN, 0)));
    put_be16(p, RX_PORT);
    put_be16(p + 2, t->peer_port);
    p[4] = (uint8_t)(seq >> 24);
    p[5] = (uint8_t)(seq >> 16);
    p[6] = (uint8_t)(seq >> 8);
    p[7] = (uint8_t)seq;
    p[8] = (uint8_t)(t->rcv_nxt >> 24);
    p[9] = (uint8_t)(t->rcv_nxt >> 16);
    p[10] = (uint8_t)(t->rcv_nxt >> 8);
    p[11] = (uint8_t)t->rcv_nxt;
    p[12] = (uint8_t)((tcp_len / 4) << 4);
    p[13] = flags | 0x10;                       /* always ACK */
    put_be16(p + 14, 65535);
    if (tcp_len == 24) {
        p[20] = 2;                              /* MSS 1460 */
        p[21] = 4;
        put_be16(p + 22, 1460);
    }
    uint32_t sum = inet_sum(t->peer_ip, 4, inet_sum(our_ip, 4, 0)) + 6 + (uint32_t)tcp_len;
    put_be16(p + 16, inet_fold(inet_sum(p, tcp_len, sum)));
    tx_send(t, slot, ETH_HDR_LEN + IP_HDR_LEN + tcp_len);
}

/* Check the stream's bytes against "1\n2\n3\n...". */
static void check_stream(struct tcp_rx *t, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n && !t->corrupt; i++) {
        char want = t->pos < t->ndigits ? t->digits[t->pos] : '\n';
        if (d[i] != (uint8_t)want) {
            pr_info("net_rx_gso: FAIL: byte %llu is %#x, expected %#x (line %u)\n",
                    (unsigned long long)(t->bytes + i), d[i], (uint8_t)want, t->line);
            t->corrupt = true;
            return;
        }
        if (++t->pos > t->ndigits) {
            t->line++;
            t->ndigits = (unsigned)snprintf(t->digits, sizeof(t->digits), "%u", t->line);
            t->pos = 0;
        }
    }
}

static void finish(struct tcp_rx *t)
{
    t->state = 3;
    __atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
    waitq_wake(&t->done_wq, -1);
}

static void on_tcp_rx(struct netdev *dev, const void *frame, size_t len,
                      const struct netdev_rx_meta *meta, void *arg)
{
    struct tcp_rx *t = arg;
    const uint8_t *f = frame;
    if (get_be16(f + 12) == ETH_P_ARP) {
        arp_answer(t, f, len);
        return;
    }
    if (len < ETH_HDR_LEN + IP_HDR_LEN + 20 || get_be16(f + 12) != ETH_P_IP)
        return;
    const uint8_t *ip = f + ETH_HDR_LEN;
    size_t ihl = (size_t)(ip[0] & 15) * 4, total = get_be16(ip + 2);
    if (ip[9] != 6 || memcmp(ip + 16, our_ip, 4) || ihl < IP_HDR_LEN ||
        ETH_HDR_LEN + total > len || total < ihl + 20)
        return;
    const uint8_t *tcp = ip + ihl;
    size_t doff = (size_t)(tcp[12] >> 4) * 4;
    if (get_be16(tcp + 2) != RX_PORT || doff < 20 || ihl + doff > total || t->state == 3)
        return;
    uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
    uint8_t flags = tcp[13];
    const uint8_t *data = tcp + doff;
    size_t n = total - ihl - doff;

    if (flags & 0x04) {                         /* RST */
        pr_info("net_rx_gso: FAIL: the host reset the connection\n");
        t->corrupt = true;
        finish(t);
        return;
    }
    if (flags & 0x02) {                         /* SYN (or its retransmission) */
        if (t->state > 1)
            return;
        memcpy(t->peer_mac, f + 6, 6);
        memcpy(t->peer_ip, ip + 12, 4);
        t->peer_port = get_be16(tcp);
        t->rcv_nxt = seq + 1;
        t->state = 1;
        tcp_send(t, 0x02, RX_ISS);
        return;
    }
    if (t->state == 0)
        return;
    t->state = 2;
    int32_t off = (int32_t)(t->rcv_nxt - seq);
    if (n && off >= 0 && (size_t)off < n) {     /* new bytes, maybe after old */
        t->frames++;
        if (len > ETH_HDR_LEN + 1500)
            t->big_frames++;
        t->largest = MAX(t->largest, len);
        if (meta && (meta->flags & NETDEV_RX_GSO))
            t->gso_frames++;
        if (meta && (meta->flags & NETDEV_RX_CSUM_PARTIAL))
            t->partial_csum++;
        check_stream(t, data + off, n - (size_t)off);
        t->bytes += n - (size_t)off;
        t->rcv_nxt += (uint32_t)(n - (size_t)off);
    }
    if ((flags & 0x01) && seq + (uint32_t)n == t->rcv_nxt) {  /* FIN, in order */
        t->rcv_nxt++;
        tcp_send(t, 0x01, RX_ISS + 1);
        finish(t);
        return;
    }
    if (n || (flags & 0x01))
        tcp_send(t, 0, RX_ISS + 1);             /* ACK (a duplicate if out of order) */
}

KTEST(net_rx_gso, "receive a TCP stream from a tap's host: coalesced frames, merged buffers")
{
    struct netdev *dev = netdev_next(NULL);
    if (!dev) {
        pr_info("net_rx_gso: FAIL: no network device\n");
        return 1;
    }
    struct tcp_rx *t = kzalloc(sizeof(*t));
    if (!t)
        return 1;
    tcp_rx_state = t;
    t->dev = dev;
    t->line = 1;
    t->ndigits = 1;
    t->digits[0] = '1';
    waitq_init(&t->done_wq);
    netdev_set_hooks(dev, on_tcp_rx, NULL, NULL, t);
    pr_info("net_rx_gso: %s features%s%s; listening on 10.0.2.15:%u\n", dev->name,
            (dev->features & NETDEV_F_RX_CSUM) ? " rx-csum" : "",
            (dev->features & NETDEV_F_RX_GSO4) ? " rx-gso4" : "", RX_PORT);

    uint64_t deadline = clock_monotonic_ns() + 60000 * MS;
    unsigned long flags = spin_lock_irqsave(&t->done_wq.lock);
    while (!t->done) {
        uint64_t now = clock_monotonic_ns();
        if (now >= deadline)
            break;
        waitq_sleep_locked(&t->done_wq, &flags, deadline - now);
    }
    spin_unlock_irqrestore(&t->done_wq.lock, flags);

    fails = 0;
    CHECK(t->done, "the stream did not end within 60 s (%llu bytes so far)\n",
          (unsigned long long)t->bytes);
    CHECK(!t->corrupt, "the stream was damaged\n");
    CHECK(t->pos == 0, "the stream ended in the middle of line %u\n", t->line);
    pr_info("net_rx_gso: %llu bytes, %u lines, in %llu frames: %llu larger than the MTU "
            "(largest %llu bytes), %llu marked GSO, %llu with a partial checksum; "
            "%llu frames sent, %llu not\n", (unsigned long long)t->bytes, t->line - 1,
            (unsigned long long)t->frames, (unsigned long long)t->big_frames,
            (unsigned long long)t->largest, (unsigned long long)t->gso_frames,
            (unsigned long long)t->partial_csum, (unsigned long long)t->sent,
            (unsigned long long)t->acks_dropped);
    if (dev->features & NETDEV_F_RX_GSO4)
        CHECK(t->largest > 4096, "no frame needed more than one receive buffer\n");
    /* Every frame handed out came back. */
    deadline = clock_monotonic_ns() + 5000 * MS;
    while (__atomic_load_n(&t->tx_done, __ATOMIC_ACQUIRE) < t->sent &&
           clock_monotonic_ns() < deadline)
        thread_sleep_ns(1 * MS);
    CHECK(t->tx_done == t->sent, "%llu frames sent, %u completed\n",
          (unsigned long long)t->sent, t->tx_done);
    netdev_set_hooks(dev, NULL, NULL, NULL, NULL);
    netdev_print_stats(dev);
    pr_info("net_rx_gso: %s\n", fails ? "FAILED" : "passed");
    return fails ? 1 : 0;
}
