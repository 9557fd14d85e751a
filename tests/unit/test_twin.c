/*
 * The twin harness (tests/unit/twin/) checked on what the stack had before
 * TCP: two copies of the stack resolve each other with ARP, ping each
 * other, and exchange UDP datagrams over a link that loses, reorders,
 * duplicates, corrupts, queues and delays frames as configured. Also
 * checks the harness itself: a seed replays the same traffic, the
 * bottleneck's queue and rate, devices that hold frames and run out of
 * descriptors. Each test runs in its own process with fresh stacks.
 */
#include "check.h"

#include <kern/byteorder.h>
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/net.h>
#include <kern/socket.h>

#include "net_internal.h"
#include "twin_test.h"

/* The two stacks' IP counters (net_internal.h), for diagnostics. */
extern struct net_counters a_net_stats, b_net_stats;

#define A TWIN_A
#define B TWIN_B

static struct sock *udp_open(int side, uint16_t port)
{
    struct sock *s = NULL;
    CHECK(twin_sides[side].udp_socket(&s) == 0);
    if (!s)
        return NULL;
    struct sock_addr a = { 0, htons(port) };
    CHECK(s->ops->bind(s, &a) == 0);
    return s;
}

/* Payload byte i of datagram n: anything that differs between datagrams. */
static uint8_t pattern(uint32_t n, uint32_t i)
{
    uint32_t x = n * 2654435761u + i * 40503u;
    return (uint8_t)(x ^ x >> 13);
}

/* Datagram n: its number, then the pattern; its size from n. */
static uint32_t dgram_size(uint32_t n, uint32_t max)
{
    return 4 + (n * 7919u) % (max - 4 + 1);
}

static int64_t udp_send(struct sock *s, int to_side, uint16_t port, uint32_t n, uint32_t max)
{
    static uint8_t buf[65536];
    uint32_t len = dgram_size(n, max);
    put_be32(buf, n);
    for (uint32_t i = 4; i < len; i++)
        buf[i] = pattern(n, i);
    struct sock_iov iov = { buf, len };
    struct sock_addr to = { twin_ip(to_side), htons(port) };
    return s->ops->sendmsg(s, &iov, 1, &to, 0);
}

struct rx_log {
    uint32_t count, dups, out_of_order, bad;
    uint32_t max_seen;
    bool any;
    uint8_t seen[65536];
};

/* Drain s, checking each datagram against what was sent. */
static void udp_drain(struct sock *s, struct rx_log *log, uint32_t max)
{
    static uint8_t buf[65536];
    for (;;) {
        struct sock_iov iov = { buf, sizeof(buf) };
        int mflags = 0;
        struct sock_addr from;
        int64_t n = s->ops->recvmsg(s, &iov, 1, &from, 0, &mflags);
        if (n == -EAGAIN)
            return;
        if (n < 4) {
            log->bad++;
            return;
        }
        uint32_t k = get_be32(buf);
        bool ok = k < sizeof(log->seen) && (uint32_t)n == dgram_size(k, max);
        for (uint32_t i = 4; ok && i < (uint32_t)n; i++)
            ok = buf[i] == pattern(k, i);
        if (!ok) {
            log->bad++;
            continue;
        }
        log->count++;
        if (log->seen[k])
            log->dups++;
        log->seen[k] = 1;
        if (log->any && k < log->max_seen)
            log->out_of_order++;
        if (!log->any || k > log->max_seen)
            log->max_seen = k;
        log->any = true;
    }
}

/* Datagrams 0..n-1 (of up to max bytes) from tx to port on side to_side,
 * gap_ns apart, draining rx into log after each; then until the link is
 * empty. must_send: every send must be accepted. */
static void udp_stream(struct sock *tx, int to_side, uint16_t port, struct sock *rx,
                       struct rx_log *log, uint32_t n, uint32_t max, uint64_t gap_ns,
                       bool must_send)
{
    for (uint32_t k = 0; k < n; k++) {
        int64_t r = udp_send(tx, to_side, port, k, max);
        if (must_send)
            CHECK(r > 0);
        twin_run_for(gap_ns);
        udp_drain(rx, log, max);
    }
    RUN_UNTIL((udp_drain(rx, log, max), twin_in_flight() == 0), 1 * SEC);
}

/* One echo request from side `from` to the other; true when its reply came. */
static bool ping_once(struct sock *p, int from, uint16_t seq, uint64_t timeout)
{
    uint8_t req[8 + 56] = { 8, 0 };
    put_be16(req + 6, seq);
    for (int i = 8; i < (int)sizeof(req); i++)
        req[i] = (uint8_t)(i + seq);
    struct sock_iov iov = { req, sizeof(req) };
    struct sock_addr to = { twin_ip(!from), 0 };
    CHECK(p->ops->sendmsg(p, &iov, 1, &to, 0) == (int64_t)sizeof(req));
    uint64_t deadline = twin_now() + timeout;
    while (twin_now() < deadline) {
        if (!RUN_UNTIL(p->ops->poll(p) & POLLIN, deadline - twin_now()))
            return false;
        uint8_t rep[128];
        struct sock_iov riov = { rep, sizeof(rep) };
        int mflags = 0;
        struct sock_addr src;
        int64_t n = p->ops->recvmsg(p, &riov, 1, &src, 0, &mflags);
        /* a late reply to an earlier request: keep waiting for ours */
        if (n != (int64_t)sizeof(req) || get_be16(rep + 6) != seq)
            continue;
        CHECK(rep[0] == 0);
        CHECK(src.addr == twin_ip(!from));
        CHECK(!memcmp(rep + 8, req + 8, sizeof(req) - 8));
        return true;
    }
    return false;
}

/* Counts the UDP datagrams (unfragmented) the wire delivered to port. */
struct udp_wire_count {
    uint16_t port;
    uint32_t frames, distinct;
    uint8_t seen[65536];
};

static void count_udp(int to, const uint8_t *f, uint32_t len, bool intact, void *arg)
{
    struct udp_wire_count *c = arg;
    (void)to;
    if (!intact || len < 14 + 20 + 8 + 4 || get_be16(f + 12) != ETH_P_IP || f[14 + 9] != 17 ||
        (get_be16(f + 14 + 6) & 0x3fff) || get_be16(f + 14 + 20 + 2) != c->port)
        return;
    uint32_t k = get_be32(f + 14 + 20 + 8);
    c->frames++;
    if (k < sizeof(c->seen) && !c->seen[k]++)
        c->distinct++;
}

/* ---- tests ------------------------------------------------------------------------- */

TWIN_TEST(arp_and_ping_on_a_clean_link)
{
    /* Each side announced itself when its address was set (gratuitous
     * ARP); with the link cut those are lost, so the first ping needs an
     * ARP exchange. */
    struct twin_cfg cfg = { .seed = 1, .link = { .delay_ns = 100 * US, .cut = true } };
    twin_begin(&cfg);
    CHECK_EQ_INT(twin_stats()->sent[A], 1);
    CHECK_EQ_INT(twin_stats()->sent[B], 1);
    twin_run_for(1 * MS);
    twin_link()->cut = false;
    uint8_t mac[6];
    CHECK(!twin_sides[A].arp_lookup(twin_ip(B), mac));
    struct sock *p;
    CHECK(twin_sides[A].ping_socket(&p) == 0);
    uint64_t t0 = twin_now();
    CHECK(ping_once(p, A, 1, 1 * SEC));
    /* ARP request and reply, echo request and reply: four crossings. */
    CHECK_EQ_INT(twin_now() - t0, 4 * 100 * US);
    CHECK(twin_sides[A].arp_lookup(twin_ip(B), mac) && mac[5] == 0x0b);
    CHECK(twin_sides[B].arp_lookup(twin_ip(A), mac) && mac[5] == 0x0a);
    /* Now resolved: one round trip. */
    t0 = twin_now();
    CHECK(ping_once(p, A, 2, 1 * SEC));
    CHECK_EQ_INT(twin_now() - t0, 2 * 100 * US);
    p->ops->close(p);
}

TWIN_TEST(ping_over_a_lossy_link)
{
    struct twin_cfg cfg = { .seed = 0x5eed0001,
                            .link = { .loss_ppm = 300000, .delay_ns = 1 * MS } };
    twin_begin(&cfg);
    struct sock *p;
    CHECK(twin_sides[B].ping_socket(&p) == 0);
    int replies = 0;
    for (int i = 0; i < 200; i++) {
        replies += ping_once(p, B, (uint16_t)i, 1 * SEC);
        twin_run_for(1 * SEC);
    }
    /* Two crossings at 30% loss each: about half come back (ARP, lost now
     * and then, costs a few more). */
    printf("  %d of 200 replies, %llu + %llu frames lost\n", replies,
           (unsigned long long)twin_stats()->lost[A], (unsigned long long)twin_stats()->lost[B]);
    CHECK(replies > 70 && replies < 130);
    CHECK(twin_stats()->lost[A] > 0 && twin_stats()->lost[B] > 0);
    p->ops->close(p);
}

TWIN_TEST(udp_over_loss_reordering_and_duplication)
{
    struct twin_cfg cfg = { .seed = 0x5eed0002,
                            .link = { .loss_ppm = 50000, .reorder_ppm = 100000,
                                      .reorder_ns = 3 * MS, .dup_ppm = 50000,
                                      .delay_ns = 2 * MS, .jitter_ns = 200 * US } };
    twin_begin(&cfg);
    struct sock *tx = udp_open(A, 4000), *rx = udp_open(B, 5000);
    struct sock *p;
    CHECK(twin_sides[A].ping_socket(&p) == 0);
    /* Resolve ARP first, so that no datagram waits for it. */
    CHECK(RUN_UNTIL(ping_once(p, A, 1, 1 * SEC), 10 * SEC));
    static struct rx_log log;
    static struct udp_wire_count wire = { .port = 5000 };
    twin_set_rx_tap(count_udp, &wire);
    const uint32_t n = 3000, max = 1400;
    udp_stream(tx, B, 5000, rx, &log, n, max, 100 * US, true);
    udp_drain(rx, &log, max);
    const struct twin_stats *st = twin_stats();
    printf("  sent %u, received %u (%u duplicates, %u out of order), lost %llu, "
           "duplicated %llu, reordered %llu\n", n, log.count, log.dups, log.out_of_order,
           (unsigned long long)st->lost[A], (unsigned long long)st->dups[A],
           (unsigned long long)st->reordered[A]);
    CHECK_EQ_INT(log.bad, 0);
    /* Every datagram the wire delivered reached the socket, copies too. */
    CHECK_EQ_INT(log.count, wire.frames);
    CHECK_EQ_INT(log.dups, wire.frames - wire.distinct);
    CHECK(n - wire.distinct > n / 40 && n - wire.distinct < n / 10);
    CHECK(log.out_of_order > 0 && log.dups > 0);
    tx->ops->close(tx);
    rx->ops->close(rx);
    p->ops->close(p);
}

/* Fragmented datagrams: reassembly copes with fragments that come in any
 * order. */
TWIN_TEST(fragmented_udp_over_reordering)
{
    struct twin_cfg cfg = { .seed = 0x5eed0003,
                            .link = { .reorder_ppm = 300000, .reorder_ns = 1 * MS,
                                      .delay_ns = 1 * MS, .jitter_ns = 300 * US } };
    twin_begin(&cfg);
    struct sock *tx = udp_open(B, 4001), *rx = udp_open(A, 5001);
    static struct rx_log log;
    const uint32_t n = 500, max = 9000;
    udp_stream(tx, A, 5001, rx, &log, n, max, 2 * MS, true);
    printf("  %u of %u datagrams, %u out of order, %llu frames reordered\n", log.count, n,
           log.out_of_order, (unsigned long long)twin_stats()->reordered[B]);
    CHECK_EQ_INT(log.bad, 0);
    /* ARP holds a few datagrams while it resolves; the first may go. */
    CHECK(log.count >= n - 3 && log.dups == 0);
    CHECK(twin_stats()->reordered[B] > 0);
    tx->ops->close(tx);
    rx->ops->close(rx);
}

/* A datagram whose fragments all arrive is delivered, even when others
 * lost a fragment (or got one duplicated after they were complete): as on
 * Linux, incomplete datagrams must not keep the reassembly table full. */
TWIN_TEST(fragment_reassembly_survives_lost_fragments)
{
    struct twin_cfg cfg = { .seed = 0x5eed0008,
                            .link = { .loss_ppm = 20000, .dup_ppm = 20000,
                                      .delay_ns = 1 * MS } };
    twin_begin(&cfg);
    struct sock *tx = udp_open(B, 4001), *rx = udp_open(A, 5001);
    static struct rx_log log;
    const uint32_t n = 500, max = 9000;
    udp_stream(tx, A, 5001, rx, &log, n, max, 2 * MS, true);
    printf("  %u of %u datagrams (%llu fragments lost, %llu duplicated); receiver: %llu "
           "reassembled, %llu fragments dropped for want of a slot, %llu timed out\n",
           log.count, n, (unsigned long long)twin_stats()->lost[B],
           (unsigned long long)twin_stats()->dups[B], (unsigned long long)a_net_stats.ip_reasm_ok,
           (unsigned long long)a_net_stats.ip_frag_dropped,
           (unsigned long long)a_net_stats.ip_reasm_fail);
    CHECK_EQ_INT(log.bad, 0);
    /* About 4 fragments each, 2% lost: some 90% complete. */
    CHECK(log.count > n * 8 / 10);
    tx->ops->close(tx);
    rx->ops->close(rx);
}

/* A corrupted frame must never reach a socket: the receiver verifies the
 * IPv4 and UDP checksums itself (no RX offload), or the device does and
 * does not vouch for a damaged frame (RX offload). */
TEST(corrupted_frames_are_dropped_by_checksums)
{
    for (int offload = 0; offload < 2; offload++) {
        pid_t pid = fork();
        if (pid == 0) {
            struct twin_cfg cfg = { .seed = 0x5eed0004 + (uint64_t)offload,
                                    .link = { .corrupt_ppm = 200000, .delay_ns = 1 * MS } };
            if (offload) {
                cfg.features[A] = NETIF_F_TX_CSUM | NETIF_F_RX_CSUM;
                cfg.features[B] = NETIF_F_TX_CSUM | NETIF_F_RX_CSUM;
            }
            twin_begin(&cfg);
            struct sock *tx = udp_open(A, 4002), *rx = udp_open(B, 5002);
            static struct rx_log log;
            const uint32_t n = 1000, max = 1000;
            udp_stream(tx, B, 5002, rx, &log, n, max, 1 * MS, false);
            printf("  offload %d: %u of %u datagrams, %llu frames corrupted\n", offload,
                   log.count, n, (unsigned long long)twin_stats()->corrupted[A]);
            CHECK_EQ_INT(log.bad, 0);
            CHECK(twin_stats()->corrupted[A] > n / 10);
            CHECK(log.count > n * 7 / 10 && log.count < n);
            twin_report_end();
            fflush(stdout);
            exit(check_failed_current);
        }
        int st;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
}

/* The bottleneck: 10 Mbit/s behind a queue of 20 frames (the one being
 * serialized included). Of a burst of 200 datagrams 20 get through, one
 * serialization time apart. */
TWIN_TEST(bottleneck_rate_and_queue)
{
    struct twin_cfg cfg = { .seed = 0x5eed0005,
                            .link = { .bandwidth_bps = 10000000, .queue_frames = 20,
                                      .delay_ns = 5 * MS } };
    twin_begin(&cfg);
    struct sock *tx = udp_open(A, 4003), *rx = udp_open(B, 5003);
    struct sock *p;
    CHECK(twin_sides[A].ping_socket(&p) == 0);
    CHECK(ping_once(p, A, 1, 1 * SEC));
    twin_run_for(100 * MS);
    /* Same-size datagrams make the arithmetic plain: 1000 bytes of
     * payload, 1042 on the wire, 833.6 us each at 10 Mbit/s. */
    static uint8_t buf[1000];
    struct sock_iov iov = { buf, sizeof(buf) };
    struct sock_addr to = { twin_ip(B), htons(5003) };
    uint64_t t0 = twin_now();
    for (uint32_t k = 0; k < 200; k++)
        CHECK(tx->ops->sendmsg(tx, &iov, 1, &to, 0) == (int64_t)sizeof(buf));
    CHECK_EQ_INT(twin_stats()->queue_drops[A], 200 - 20);
    int got = 0;
    uint64_t last = 0;
    while (RUN_UNTIL(rx->ops->poll(rx) & POLLIN, 1 * SEC)) {
        int mflags = 0;
        while (rx->ops->recvmsg(rx, &iov, 1, NULL, 0, &mflags) == (int64_t)sizeof(buf)) {
            got++;
            last = twin_now() - t0;
        }
    }
    CHECK_EQ_INT(got, 20);
    uint64_t ser = 1042ULL * 8 * 1000000000ULL / 10000000;
    CHECK_EQ_INT(last, 20 * ser + 5 * MS);
    tx->ops->close(tx);
    rx->ops->close(rx);
    p->ops->close(p);
}

/* A device that holds frames: completions come 5 ms late, and with 8
 * descriptors a burst finds the ring full. The held netbufs are checked
 * unchanged at completion (side.c) and none leaks (LeakSanitizer). */
TWIN_TEST(device_holds_frames_and_runs_out_of_descriptors)
{
    struct twin_cfg cfg = { .seed = 0x5eed0006,
                            .link = { .delay_ns = 1 * MS, .complete_ns = 5 * MS,
                                      .tx_ring = 8 } };
    twin_begin(&cfg);
    struct sock *tx = udp_open(A, 4004), *rx = udp_open(B, 5004);
    struct sock *p;
    CHECK(twin_sides[A].ping_socket(&p) == 0);
    CHECK(ping_once(p, A, 1, 1 * SEC));
    twin_run_for(100 * MS);
    static struct rx_log log;
    for (uint32_t k = 0; k < 20; k++)
        udp_send(tx, B, 5004, k, 100);
    CHECK_EQ_INT(twin_stats()->held_max[A], 8);
    CHECK_EQ_INT(twin_stats()->refused[A], 12);
    CHECK_EQ_INT(twin_sides[A].netif()->stats.tx_dropped, 12);
    RUN_UNTIL((udp_drain(rx, &log, 100), twin_in_flight() == 0), 1 * SEC);
    CHECK_EQ_INT(log.count, 8);
    /* Room again once completions came: a second burst gets 8 through. */
    for (uint32_t k = 20; k < 40; k++)
        udp_send(tx, B, 5004, k, 100);
    RUN_UNTIL((udp_drain(rx, &log, 100), twin_in_flight() == 0), 1 * SEC);
    CHECK_EQ_INT(log.count, 16);
    CHECK_EQ_INT(log.bad, 0);
    tx->ops->close(tx);
    rx->ops->close(rx);
    p->ops->close(p);
}

/* UDP with checksum offload on the sender: the simulated device finishes
 * the checksums (of whole datagrams; fragmented ones the stack finishes),
 * the receiver, without offload, checks them. */
TWIN_TEST(udp_with_tx_checksum_offload)
{
    struct twin_cfg cfg = { .seed = 0x5eed0007, .features = { NETIF_F_TX_CSUM, 0 },
                            .link = { .delay_ns = 1 * MS } };
    twin_begin(&cfg);
    struct sock *tx = udp_open(A, 4005), *rx = udp_open(B, 5005);
    static struct rx_log log;
    const uint32_t n = 300, max = 4000;
    udp_stream(tx, B, 5005, rx, &log, n, max, 1 * MS, true);
    /* ARP holds only a few datagrams while it resolves: the first may go. */
    CHECK(log.count >= n - 3);
    CHECK_EQ_INT(log.bad, 0);
    tx->ops->close(tx);
    rx->ops->close(rx);
}

/* The same seed gives the same traffic, to the byte and the nanosecond;
 * another seed does not. Each run is a process of its own. */
static uint64_t digest_of_run(uint64_t seed)
{
    int fd[2];
    if (pipe(fd))
        return 0;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        struct twin_cfg cfg = { .seed = seed,
                                .link = { .loss_ppm = 100000, .reorder_ppm = 100000,
                                          .reorder_ns = 2 * MS, .dup_ppm = 50000,
                                          .delay_ns = 1 * MS, .jitter_ns = 500 * US } };
        twin_start(&cfg);
        struct sock *tx = udp_open(A, 4006), *rx = udp_open(B, 5006);
        static struct rx_log log;
        for (uint32_t k = 0; k < 300; k++) {
            udp_send(tx, B, 5006, k, 3000);
            udp_send(rx, A, 4006, k, 3000);     /* and back */
            twin_run_for(1 * MS);
            udp_drain(rx, &log, 3000);
        }
        twin_run_for(1 * SEC);
        uint64_t d = twin_stats()->digest ^ log.count;
        if (write(fd[1], &d, sizeof(d)) != sizeof(d))
            _exit(1);
        twin_finish();
        _exit(0);
    }
    close(fd[1]);
    uint64_t d = 0;
    if (read(fd[0], &d, sizeof(d)) != sizeof(d))
        d = 0;
    close(fd[0]);
    waitpid(pid, NULL, 0);
    return d;
}

TEST(same_seed_same_traffic)
{
    uint64_t x = digest_of_run(42), y = digest_of_run(42), z = digest_of_run(43);
    CHECK(x != 0);
    CHECK(x == y);
    CHECK(x != z);
}
