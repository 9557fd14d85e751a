/*
 * The TCP/IP stack's lower layers on the host: frames go in through
 * net_input and come out through a fake interface whose xmit records them;
 * a fake clock drives the timers. Checks ARP (answers, resolution with a
 * held packet, gratuitous announcement), ICMP echo, IPv4 checks and
 * reassembly, UDP delivery and errors, and that random frames cannot crash
 * the input path (AddressSanitizer watches).
 */
#include "check.h"

#include <kern/byteorder.h>
#include <kern/kmalloc.h>
#include <kern/net.h>
#include <kern/socket.h>
#include <kern/waitq.h>
#include <kern/errno.h>
#include "net_internal.h"

#include "net_host.h"
#include "net_fake_link.h"

uint64_t random_u64(void) { return 0x1234; }     /* the DHCP client's xid */

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static struct netif ifp;

static void setup(void)
{
    fake_link_reset(&ifp, our_mac);
    netif_set_addr(&ifp, ip4(10, 0, 0, 2), ip4(255, 255, 255, 0), ip4(10, 0, 0, 1));
}

static void inject(const uint8_t *frame, size_t len)
{
    struct netbuf *nb = netbuf_alloc(len);
    memcpy(netbuf_put(nb, len), frame, len);
    net_input(&ifp, nb);
}

/* An Ethernet + IPv4 header for proto, total_len of IP payload; returns
 * the payload pointer. */
static uint8_t *build_ip(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst,
                         uint16_t payload_len, uint16_t id, uint16_t frag)
{
    memcpy(f, our_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    put_be16(f + 12, ETH_P_IP);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put_be16(ip + 2, (uint16_t)(20 + payload_len));
    put_be16(ip + 4, id);
    put_be16(ip + 6, frag);
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, &src, 4);
    memcpy(ip + 16, &dst, 4);
    put_be16(ip + 10, inet_fold(inet_sum(ip, 20, 0)));
    return ip + 20;
}

/* An ARP reply from ip at peer_mac: the stack learns where ip is. */
static void teach_arp(uint32_t spa)
{
    uint8_t r[60];
    fake_arp_frame(r, our_mac, 2, peer_mac, spa, our_mac, ip4(10, 0, 0, 2));
    inject(r, sizeof(r));
}

static bool ip_csum_ok(const uint8_t *ip)
{
    return inet_fold(inet_sum(ip, (ip[0] & 0xf) * 4u, 0)) == 0;
}

/* ---- tests ----------------------------------------------------------------------------- */

TEST(gratuitous_arp_on_address)
{
    setup();
    CHECK(nsent == 1);
    const uint8_t *f = sent[0];
    CHECK(!memcmp(f, "\xff\xff\xff\xff\xff\xff", 6));
    CHECK(get_be16(f + 12) == ETH_P_ARP);
    CHECK(get_be16(f + 14 + 6) == 1);                   /* request */
    uint32_t spa, tpa;
    memcpy(&spa, f + 14 + 14, 4);
    memcpy(&tpa, f + 14 + 24, 4);
    CHECK(spa == ip4(10, 0, 0, 2) && tpa == spa);
}

TEST(arp_request_for_us_is_answered)
{
    setup();
    nsent = 0;
    static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint32_t spa = ip4(10, 0, 0, 9);
    uint8_t f[60];
    fake_arp_frame(f, broadcast, 1, peer_mac, spa, NULL, ip4(10, 0, 0, 2));
    inject(f, sizeof(f));
    CHECK(nsent == 1);
    CHECK(!memcmp(sent[0], peer_mac, 6));
    CHECK(get_be16(sent[0] + 14 + 6) == 2);             /* reply */
    CHECK(!memcmp(sent[0] + 14 + 8, our_mac, 6));
    uint8_t mac[6];
    CHECK(arp_lookup(spa, mac) && !memcmp(mac, peer_mac, 6));
    /* A request for someone else is not answered. */
    nsent = 0;
    fake_arp_frame(f, broadcast, 1, peer_mac, spa, NULL, ip4(10, 0, 0, 77));
    inject(f, sizeof(f));
    CHECK(nsent == 0);
}

TEST(icmp_echo_is_answered)
{
    setup();
    nsent = 0;
    uint8_t f[14 + 20 + 8 + 32];
    uint8_t *icmp = build_ip(f, 1, ip4(10, 0, 0, 9), ip4(10, 0, 0, 2), 8 + 32, 7, 0);
    memset(icmp, 0, 8);
    icmp[0] = 8;
    put_be16(icmp + 4, 0x1234);
    put_be16(icmp + 6, 1);
    for (int i = 0; i < 32; i++)
        icmp[8 + i] = (uint8_t)i;
    put_be16(icmp + 2, inet_fold(inet_sum(icmp, 40, 0)));
    /* The peer must be known or the reply waits for ARP: teach it. */
    inject(f, sizeof(f));
    /* Either the reply (peer cached) or an ARP request then the reply. */
    int reply = -1;
    for (int i = 0; i < nsent; i++)
        if (get_be16(sent[i] + 12) == ETH_P_IP)
            reply = i;
    if (reply < 0) {
        teach_arp(ip4(10, 0, 0, 9));    /* answer its ARP request */
        for (int i = 0; i < nsent; i++)
            if (get_be16(sent[i] + 12) == ETH_P_IP)
                reply = i;
    }
    CHECK(reply >= 0);
    if (reply < 0)
        return;
    const uint8_t *ip = sent[reply] + 14;
    CHECK(ip_csum_ok(ip));
    CHECK(ip[9] == 1);
    uint32_t src, dst;
    memcpy(&src, ip + 12, 4);
    memcpy(&dst, ip + 16, 4);
    CHECK(src == ip4(10, 0, 0, 2) && dst == ip4(10, 0, 0, 9));
    const uint8_t *r = ip + 20;
    CHECK(r[0] == 0);
    CHECK(get_be16(r + 4) == 0x1234 && get_be16(r + 6) == 1);
    CHECK(inet_fold(inet_sum(r, 40, 0)) == 0);
    for (int i = 0; i < 32; i++)
        CHECK(r[8 + i] == (uint8_t)i);
    CHECK(!memcmp(sent[reply], peer_mac, 6));
}

TEST(bad_ip_checksum_is_dropped)
{
    setup();
    nsent = 0;
    uint8_t f[14 + 20 + 8];
    uint8_t *icmp = build_ip(f, 1, ip4(10, 0, 0, 9), ip4(10, 0, 0, 2), 8, 1, 0);
    memset(icmp, 0, 8);
    icmp[0] = 8;
    put_be16(icmp + 2, inet_fold(inet_sum(icmp, 8, 0)));
    f[14 + 10] ^= 0x55;                                 /* break the header checksum */
    inject(f, sizeof(f));
    CHECK(nsent == 0);
}

static int open_udp(uint16_t port, struct sock **out)
{
    int err = udp_socket(out);
    if (err)
        return err;
    struct sock_addr a = { 0, htons(port) };
    return (*out)->ops->bind(*out, &a);
}

/* Port 0 takes the next port of UDP's ephemeral range (49152-65535) in
 * turn, passing over one that is bound already. */
TEST(udp_port_0_takes_the_next_free_ephemeral_port)
{
    setup();
    struct sock *a, *b, *c, *d;
    CHECK(open_udp(0, &a) == 0 && open_udp(0, &b) == 0);
    uint16_t pa = ntohs(a->local.port), pb = ntohs(b->local.port);
    CHECK(pa >= 49152 && pb >= 49152 && pa < 65534);
    CHECK_EQ_INT(pb, pa + 1);
    CHECK(open_udp((uint16_t)(pb + 1), &c) == 0);       /* the next one, taken */
    CHECK(open_udp(0, &d) == 0);
    CHECK_EQ_INT(ntohs(d->local.port), pb + 2);
    a->ops->close(a);
    b->ops->close(b);
    c->ops->close(c);
    d->ops->close(d);
}

TEST(udp_fragments_reassemble_in_any_order)
{
    setup();
    struct sock *s;
    CHECK(open_udp(5000, &s) == 0);
    /* One datagram of 8 + 3000 bytes in three fragments, sent last-first. */
    uint8_t dgram[8 + 3000];
    put_be16(dgram, 4444);
    put_be16(dgram + 2, 5000);
    put_be16(dgram + 4, sizeof(dgram));
    put_be16(dgram + 6, 0);                             /* no checksum */
    for (int i = 0; i < 3000; i++)
        dgram[8 + i] = (uint8_t)(i * 7);
    static const uint16_t offs[3] = { 0, 1480, 2960 };
    static const uint16_t lens[3] = { 1480, 1480, 48 };
    for (int k = 2; k >= 0; k--) {
        uint8_t f[14 + 20 + 1480];
        uint16_t frag = (uint16_t)(offs[k] / 8) | (k < 2 ? 0x2000 : 0);
        uint8_t *p = build_ip(f, 17, ip4(10, 0, 0, 9), ip4(10, 0, 0, 2), lens[k], 99, frag);
        memcpy(p, dgram + offs[k], lens[k]);
        inject(f, 14 + 20 + lens[k]);
        if (k == 1)                                     /* a duplicate changes nothing */
            inject(f, 14 + 20 + lens[k]);
    }
    uint8_t buf[4000];
    struct sock_iov iov = { buf, sizeof(buf) };
    struct sock_addr from;
    int mflags = 0;
    int64_t n = s->ops->recvmsg(s, &iov, 1, &from, 0, &mflags);
    CHECK(n == 3000);
    CHECK(!memcmp(buf, dgram + 8, 3000));
    CHECK(from.addr == ip4(10, 0, 0, 9) && from.port == htons(4444));
    CHECK(s->ops->recvmsg(s, &iov, 1, &from, 0, &mflags) == -EAGAIN);
    s->ops->close(s);
}

TEST(udp_to_closed_port_gets_port_unreachable)
{
    setup();
    teach_arp(ip4(10, 0, 0, 9));
    nsent = 0;
    uint8_t f[14 + 20 + 8 + 4];
    uint8_t *u = build_ip(f, 17, ip4(10, 0, 0, 9), ip4(10, 0, 0, 2), 12, 5, 0);
    put_be16(u, 1000);
    put_be16(u + 2, 9999);
    put_be16(u + 4, 12);
    put_be16(u + 6, 0);
    memcpy(u + 8, "ping", 4);
    inject(f, sizeof(f));
    CHECK(nsent == 1);
    const uint8_t *ip = sent[0] + 14;
    CHECK(get_be16(sent[0] + 12) == ETH_P_IP && ip[9] == 1 && ip_csum_ok(ip));
    const uint8_t *ic = ip + 20;
    CHECK(ic[0] == 3 && ic[1] == 3);                    /* port unreachable */
    CHECK(inet_fold(inet_sum(ic, 8 + 28, 0)) == 0);
    CHECK(get_be16(ic + 8 + 20 + 2) == 9999);           /* the quoted UDP header */
    /* Nothing is sent about a datagram to the broadcast address. */
    nsent = 0;
    u = build_ip(f, 17, ip4(10, 0, 0, 9), ip4(10, 0, 0, 255), 12, 6, 0);
    put_be16(u, 1000);
    put_be16(u + 2, 9999);
    put_be16(u + 4, 12);
    put_be16(u + 6, 0);
    inject(f, sizeof(f));
    CHECK(nsent == 0);
}

TEST(udp_send_has_a_valid_checksum)
{
    setup();
    struct sock *s;
    CHECK(open_udp(6000, &s) == 0);
    nsent = 0;
    /* The gateway's MAC first, so the datagram is sent at once. */
    teach_arp(ip4(10, 0, 0, 1));
    nsent = 0;
    char msg[] = "hello, udp";
    struct sock_iov iov = { msg, sizeof(msg) };
    struct sock_addr to = { ip4(192, 168, 1, 1), htons(53) };   /* via the gateway */
    CHECK(s->ops->sendmsg(s, &iov, 1, &to, 0) == (int64_t)sizeof(msg));
    CHECK(nsent == 1);
    const uint8_t *ip = sent[0] + 14;
    CHECK(!memcmp(sent[0], peer_mac, 6));
    CHECK(ip_csum_ok(ip));
    uint32_t src, dst;
    memcpy(&src, ip + 12, 4);
    memcpy(&dst, ip + 16, 4);
    const uint8_t *u = ip + 20;
    uint16_t ulen = get_be16(u + 4);
    CHECK(ulen == 8 + sizeof(msg));
    CHECK(get_be16(u + 2) == 53 && get_be16(u) == 6000);
    CHECK(inet_fold(inet_sum(u, ulen, ip_pseudo_sum(src, dst, 17, ulen))) == 0);
    CHECK(!memcmp(u + 8, msg, sizeof(msg)));
    s->ops->close(s);
}

TEST(random_frames_do_not_crash_input)
{
    setup();
    srand(12345);
    for (int i = 0; i < 20000; i++) {
        uint8_t f[1600];
        size_t len = (size_t)(rand() % (int)sizeof(f));
        for (size_t k = 0; k < len; k++)
            f[k] = (uint8_t)rand();
        /* Make most of them reach the IP and ARP code. */
        if (len > 14 && (i & 1)) {
            memcpy(f, our_mac, 6);
            put_be16(f + 12, (i & 2) ? ETH_P_IP : ETH_P_ARP);
            if ((i & 2) && len > 34) {
                f[14] = 0x45;
                put_be16(f + 16, (uint16_t)(len - 14));
                put_be16(f + 24, 0);
                put_be16(f + 24, inet_fold(inet_sum(f + 14, 20, 0)));
            }
        }
        inject(f, len);
        fake_now += 1000000;
        if (i % 100 == 0)
            net_tick();
    }
    nsent = 0;
    CHECK(1);
}

TEST(packets_wait_for_arp_then_go)
{
    setup();
    struct sock *s;
    CHECK(open_udp(7000, &s) == 0);
    nsent = 0;
    char msg[] = "queued";
    struct sock_iov iov = { msg, sizeof(msg) };
    struct sock_addr to = { ip4(10, 0, 0, 33), htons(7) };
    CHECK(s->ops->sendmsg(s, &iov, 1, &to, 0) == (int64_t)sizeof(msg));
    /* First an ARP request for 10.0.0.33, nothing else. */
    CHECK(nsent == 1 && get_be16(sent[0] + 12) == ETH_P_ARP);
    uint32_t tpa;
    memcpy(&tpa, sent[0] + 14 + 24, 4);
    CHECK(tpa == ip4(10, 0, 0, 33));
    /* Retried after a second, given up after three tries... */
    fake_now += 1100000000ULL;
    net_tick();
    CHECK(nsent == 2 && get_be16(sent[1] + 12) == ETH_P_ARP);
    /* ...but the answer comes now: the held datagram goes out. */
    teach_arp(ip4(10, 0, 0, 33));
    CHECK(nsent == 3 && get_be16(sent[2] + 12) == ETH_P_IP);
    CHECK(!memcmp(sent[2], peer_mac, 6));
    CHECK(!memcmp(sent[2] + 14 + 20 + 8, msg, sizeof(msg)));
    s->ops->close(s);
}

TEST(large_udp_datagrams_are_fragmented)
{
    setup();
    teach_arp(ip4(10, 0, 0, 9));
    struct sock *s;
    CHECK(open_udp(8000, &s) == 0);
    nsent = 0;
    static uint8_t msg[4000];
    for (int i = 0; i < (int)sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 13);
    struct sock_iov iov = { msg, sizeof(msg) };
    struct sock_addr to = { ip4(10, 0, 0, 9), htons(9) };
    /* Both with the checksum computed here and with it left to a device. */
    for (int offload = 0; offload < 2; offload++) {
        ifp.features = offload ? NETIF_F_TX_CSUM : 0;
        nsent = 0;
        CHECK(s->ops->sendmsg(s, &iov, 1, &to, 0) == (int64_t)sizeof(msg));
        CHECK(nsent == 3);                              /* 1480 + 1480 + 1048 */
        static uint8_t whole[8 + sizeof(msg)];
        uint32_t got = 0;
        for (int i = 0; i < nsent; i++) {
            const uint8_t *ip = sent[i] + 14;
            CHECK(ip_csum_ok(ip));
            uint16_t frag = get_be16(ip + 6);
            uint32_t off = (frag & 0x1fff) * 8u, n = get_be16(ip + 2) - 20u;
            CHECK(((frag & 0x2000) != 0) == (i < nsent - 1));
            CHECK(off + n <= sizeof(whole));
            if (off + n <= sizeof(whole)) {
                memcpy(whole + off, ip + 20, n);
                got += n;
            }
        }
        CHECK(got == sizeof(whole));
        uint32_t src = ip4(10, 0, 0, 2), dst = ip4(10, 0, 0, 9);
        CHECK(inet_fold(inet_sum(whole, sizeof(whole),
                                 ip_pseudo_sum(src, dst, 17, sizeof(whole)))) == 0);
        CHECK(!memcmp(whole + 8, msg, sizeof(msg)));
    }
    ifp.features = 0;
    s->ops->close(s);
}

/* ---- IPv4 reassembly (issue 18) ----------------------------------------------------------- */

#define PEER     ip4(10, 0, 0, 9)
#define ATTACKER ip4(10, 0, 0, 66)
#define US       ip4(10, 0, 0, 2)

/* One fragment of a datagram: payload bytes [off, off + len) of whole,
 * with MF as given, from src with the given id and protocol. */
static void send_frag(uint8_t proto, uint32_t src, uint16_t id, const uint8_t *whole,
                      uint32_t off, uint32_t len, bool more)
{
    static uint8_t f[14 + 20 + 2048];
    CHECK(len <= 2048);
    uint16_t frag = (uint16_t)((off / 8) | (more ? 0x2000 : 0));
    uint8_t *p = build_ip(f, proto, src, US, (uint16_t)len, id, frag);
    memcpy(p, whole + off, len);
    inject(f, 14 + 20 + len);
}

/* A UDP datagram of 8 + n bytes to port, no checksum, payload from fill. */
static void make_udp(uint8_t *d, uint16_t port, uint32_t n, uint8_t fill)
{
    put_be16(d, 4444);
    put_be16(d + 2, port);
    put_be16(d + 4, (uint16_t)(8 + n));
    put_be16(d + 6, 0);
    for (uint32_t i = 0; i < n; i++)
        d[8 + i] = (uint8_t)(fill + i * 31);
}

/* The next datagram on s into buf; its length, or -EAGAIN when none. */
static int64_t recv_one(struct sock *s, uint8_t *buf, size_t size, struct sock_addr *from)
{
    struct sock_iov iov = { buf, size };
    int mflags = 0;
    return s->ops->recvmsg(s, &iov, 1, from, 0, &mflags);
}

/* The leak of issue 18: a datagram with a hole, made "complete" by a
 * fragment past its end, was delivered with a reassembly buffer's stale
 * bytes (a previous datagram's) in the hole. */
TEST(reasm_hole_plus_fragment_past_end_is_not_delivered)
{
    setup();
    struct sock *s;
    CHECK(open_udp(5100, &s) == 0);
    static uint8_t secret[8 + 3000], evil[8 + 3000 + 1480], buf[8192];
    make_udp(secret, 5100, 3000, 0xa5);
    for (int i = 8; i < (int)sizeof(secret); i++)
        secret[i] = (uint8_t)(0xc0 | (i & 0x3f));              /* the pattern to look for */
    send_frag(17, PEER, 7, secret, 0, 1480, true);
    send_frag(17, PEER, 7, secret, 1480, 1480, true);
    send_frag(17, PEER, 7, secret, 2960, 48, false);
    struct sock_addr from;
    CHECK(recv_one(s, buf, sizeof(buf), &from) == 3000);
    CHECK(!memcmp(buf, secret + 8, 3000));
    /* The attacker: [0, 1480), a hole [1480, 2960), the end [2960, 3008)
     * and a fragment [3008, 4488) past that end. */
    make_udp(evil, 5100, 3000 + 1480, 0x11);
    put_be16(evil + 4, 8 + 3000);
    send_frag(17, ATTACKER, 8, evil, 0, 1480, true);
    send_frag(17, ATTACKER, 8, evil, 2960, 48, false);
    send_frag(17, ATTACKER, 8, evil, 3008, 1480, true);
    int64_t n = recv_one(s, buf, sizeof(buf), &from);
    CHECK(n == -EAGAIN);
    if (n > 0) {
        int leaked = 0;
        for (int64_t i = 0; i < n; i++)
            leaked += buf[i] == secret[8 + i] && buf[i] != evil[8 + i];
        printf("  delivered %lld bytes with a hole, %d of them the earlier datagram's\n",
               (long long)n, leaked);
    }
    /* A hole-free datagram from the attacker carries exactly its own bytes. */
    make_udp(evil, 5100, 3000, 0x22);
    send_frag(17, ATTACKER, 9, evil, 1480, 1480, true);
    send_frag(17, ATTACKER, 9, evil, 2960, 48, false);
    send_frag(17, ATTACKER, 9, evil, 0, 1480, true);
    CHECK(recv_one(s, buf, sizeof(buf), &from) == 3000);
    CHECK(!memcmp(buf, evil + 8, 3000));
    CHECK(from.addr == ATTACKER);
    CHECK(recv_one(s, buf, sizeof(buf), &from) == -EAGAIN);
    s->ops->close(s);
}

/* Drop whatever earlier tests left under reassembly: every datagram times
 * out. Then nothing is held. */
static void reasm_flush(void)
{
    fake_now += 31ULL * 1000000000;
    net_tick();
    struct ip_reasm_usage u;
    ip_reasm_usage(&u);
    CHECK(u.queues == 0 && u.frags == 0 && u.mem == 0);
}

/* A fresh socket on port and the counters as they are now. */
static struct sock *reasm_setup(uint16_t port, struct net_counters *before)
{
    setup();
    reasm_flush();
    struct sock *s = NULL;
    CHECK(open_udp(port, &s) == 0);
    *before = net_stats;
    return s;
}

#define DELTA(field) (net_stats.field - before.field)

TEST(reasm_out_of_order_and_duplicates_deliver_exactly_once)
{
    struct net_counters before;
    struct sock *s = reasm_setup(5101, &before);
    static uint8_t d[8 + 11832], buf[16384];            /* 8 fragments of 1480 */
    make_udp(d, 5101, sizeof(d) - 8, 0x33);
    static const int order[] = { 5, 0, 7, 2, 2, 6, 1, 3, 0, 4, 6 };
    for (unsigned k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        uint32_t off = (uint32_t)order[k] * 1480, len = MIN(1480u, (uint32_t)sizeof(d) - off);
        send_frag(17, PEER, 20, d, off, len, order[k] != 7);
    }
    struct sock_addr from;
    CHECK(recv_one(s, buf, sizeof(buf), &from) == (int64_t)sizeof(d) - 8);
    CHECK(!memcmp(buf, d + 8, sizeof(d) - 8));
    CHECK(recv_one(s, buf, sizeof(buf), &from) == -EAGAIN);
    CHECK_EQ_INT(DELTA(ip_reasm_reqds), 11);
    CHECK_EQ_INT(DELTA(ip_reasm_ok), 1);
    CHECK_EQ_INT(DELTA(ip_reasm_fail), 0);
    CHECK_EQ_INT(DELTA(ip_reasm_overlaps), 0);
    /* The fragment that came after completion began a new datagram,
     * which waits for the rest and then times out. */
    struct ip_reasm_usage u;
    ip_reasm_usage(&u);
    CHECK(u.queues == 1 && u.frags == 1);
    reasm_flush();
    CHECK_EQ_INT(DELTA(ip_reasm_timeout), 1);
    CHECK_EQ_INT(DELTA(ip_reasm_fail), 1);
    s->ops->close(s);
}

TEST(reasm_hole_is_never_delivered_and_times_out)
{
    struct net_counters before;
    struct sock *s = reasm_setup(5102, &before);
    static uint8_t d[8 + 4432], buf[8192];              /* 1480 + 1480 + 1480 */
    make_udp(d, 5102, sizeof(d) - 8, 0x44);
    send_frag(17, PEER, 21, d, 0, 1480, true);
    send_frag(17, PEER, 21, d, 2960, 1480, false);      /* [1480, 2960) missing */
    struct sock_addr from;
    CHECK(recv_one(s, buf, sizeof(buf), &from) == -EAGAIN);
    struct ip_reasm_usage u;
    ip_reasm_usage(&u);
    CHECK(u.queues == 1 && u.frags == 2 && u.mem >= 2 * 1480);
    /* Still waiting just before 30 s, gone after. */
    fake_now += 29ULL * 1000000000;
    net_tick();
    ip_reasm_usage(&u);
    CHECK(u.queues == 1);
    fake_now += 2ULL * 1000000000;
    net_tick();
    ip_reasm_usage(&u);
    CHECK(u.queues == 0 && u.frags == 0 && u.mem == 0);
    CHECK_EQ_INT(DELTA(ip_reasm_timeout), 1);
    CHECK_EQ_INT(DELTA(ip_reasm_fail), 1);
    /* The missing piece now starts a datagram of its own: nothing. */
    send_frag(17, PEER, 21, d, 1480, 1480, true);
    CHECK(recv_one(s, buf, sizeof(buf), &from) == -EAGAIN);
    CHECK_EQ_INT(DELTA(ip_reasm_ok), 0);
    s->ops->close(s);
}

/* Send fragments of one datagram (id) as [off, len, more] triples and
 * report whether anything arrived on s. */
struct frag_spec { uint32_t off, len; bool more; };

static bool deliver(struct sock *s, uint16_t id, const uint8_t *d,
                    const struct frag_spec *fs, int n)
{
    for (int i = 0; i < n; i++)
        send_frag(17, PEER, id, d, fs[i].off, fs[i].len, fs[i].more);
    static uint8_t buf[70000];
    struct sock_addr from;
    bool got = false;
    while (recv_one(s, buf, sizeof(buf), &from) > 0)
        got = true;
    return got;
}

TEST(reasm_overlaps_drop_the_datagram)
{
    struct net_counters before;
    struct sock *s = reasm_setup(5103, &before);
    static uint8_t d[8 + 4000];
    make_udp(d, 5103, 4000, 0x55);
    /* Partial overlap with the fragment before, then the rest: the
     * datagram went at the overlap, so what follows cannot complete it. */
    static const struct frag_spec a[] = {
        { 0, 1480, true }, { 1472, 1480, true }, { 1480, 1480, true }, { 2960, 1048, false },
    };
    CHECK(!deliver(s, 30, d, a, 4));
    CHECK_EQ_INT(DELTA(ip_reasm_overlaps), 1);
    reasm_flush();
    /* Overlap with the fragment after. */
    static const struct frag_spec b[] = {
        { 1480, 1480, true }, { 0, 1488, true }, { 0, 1480, true }, { 2960, 1048, false },
    };
    CHECK(!deliver(s, 31, d, b, 4));
    CHECK_EQ_INT(DELTA(ip_reasm_overlaps), 2);
    reasm_flush();
    /* Same offset, another length; and one fragment containing another. */
    static const struct frag_spec c[] = {
        { 0, 1480, true }, { 0, 1472, true }, { 1480, 1480, true }, { 2960, 1048, false },
    };
    CHECK(!deliver(s, 32, d, c, 4));
    static const struct frag_spec e[] = {
        { 1480, 8, true }, { 1472, 24, true }, { 0, 1480, true }, { 1488, 1472, true },
        { 2960, 1048, false },
    };
    CHECK(!deliver(s, 33, d, e, 5));
    CHECK_EQ_INT(DELTA(ip_reasm_overlaps), 4);
    CHECK_EQ_INT(DELTA(ip_reasm_ok), 0);
    reasm_flush();
    /* Exact duplicates are not overlaps: the same datagram completes. */
    static const struct frag_spec f[] = {
        { 1480, 1480, true }, { 1480, 1480, true }, { 2960, 1048, false },
        { 2960, 1048, false }, { 0, 1480, true },
    };
    CHECK(deliver(s, 34, d, f, 5));
    CHECK_EQ_INT(DELTA(ip_reasm_overlaps), 4);
    CHECK_EQ_INT(DELTA(ip_reasm_ok), 1);
    s->ops->close(s);
}

TEST(reasm_inconsistent_ends_and_sizes_drop_the_datagram)
{
    struct net_counters before;
    struct sock *s = reasm_setup(5104, &before);
    static uint8_t d[65536 + 256];                      /* room past the largest offset */
    make_udp(d, 5104, 4000, 0x66);
    /* A fragment past the known end (either order). */
    static const struct frag_spec past1[] = {
        { 2960, 1048, false }, { 4008, 8, true }, { 0, 1480, true }, { 1480, 1480, true },
    };
    CHECK(!deliver(s, 40, d, past1, 4));
    reasm_flush();
    static const struct frag_spec past2[] = {
        { 2960, 1480, true }, { 2960, 1048, false }, { 0, 1480, true }, { 1480, 1480, true },
    };
    CHECK(!deliver(s, 41, d, past2, 4));                /* the end lies before data held */
    reasm_flush();
    /* Two different ends. */
    static const struct frag_spec ends[] = {
        { 2960, 1048, false }, { 2960, 1040, false }, { 0, 1480, true }, { 1480, 1480, true },
    };
    CHECK(!deliver(s, 42, d, ends, 4));
    reasm_flush();
    /* A fragment but the last whose length is not a multiple of 8. */
    static const struct frag_spec odd[] = {
        { 0, 1479, true }, { 1480, 1480, true }, { 2960, 1048, false },
    };
    CHECK(!deliver(s, 43, d, odd, 3));
    reasm_flush();
    /* An empty fragment. */
    static const struct frag_spec empty[] = {
        { 0, 1480, true }, { 1480, 0, true }, { 1480, 1480, true }, { 2960, 1048, false },
    };
    CHECK(!deliver(s, 44, d, empty, 4));
    reasm_flush();
    /* Each went at the bad fragment; the fragments after it began a new
     * datagram, which timed out in reasm_flush. */
    CHECK_EQ_INT(DELTA(ip_reasm_fail) - DELTA(ip_reasm_timeout), 5);
    CHECK_EQ_INT(DELTA(ip_reasm_timeout), 5);
    CHECK_EQ_INT(DELTA(ip_reasm_ok), 0);
    CHECK_EQ_INT(DELTA(ip_reasm_overlaps), 0);
    /* Over 65535 bytes: the last fragment at the highest offset. */
    struct frag_spec big[2] = { { 0, 1480, true }, { 8189 * 8, 100, false } };
    CHECK(!deliver(s, 45, d, big, 2));
    CHECK_EQ_INT(DELTA(ip_reasm_fail) - DELTA(ip_reasm_timeout), 6);
    struct ip_reasm_usage u;
    ip_reasm_usage(&u);
    CHECK(u.queues == 0);
    /* The largest that fits is fine: 65515 bytes of payload, 45 fragments. */
    reasm_flush();
    make_udp(d, 5104, 65515 - 8, 0x67);
    struct frag_spec most[45];
    for (int i = 0; i < 45; i++) {
        most[i].off = (uint32_t)i * 1480;
        most[i].len = MIN(1480u, 65515u - most[i].off);
        most[i].more = i < 44;
    }
    CHECK(deliver(s, 46, d, most, 45));
    CHECK_EQ_INT(DELTA(ip_reasm_ok), 1);
    s->ops->close(s);
}

TEST(reasm_tiny_fragments_are_capped_per_datagram)
{
    struct net_counters before;
    struct sock *s = reasm_setup(5105, &before);
    struct ip_reasm_usage u;
    ip_reasm_usage(&u);
    static uint8_t d[8 + 8 * 200];
    make_udp(d, 5105, 8 * 200, 0x77);
    /* max_frags 8-byte fragments are held; one more drops the datagram. */
    for (unsigned i = 0; i < u.max_frags; i++)
        send_frag(17, PEER, 50, d, 8 * i, 8, true);
    ip_reasm_usage(&u);
    CHECK(u.queues == 1 && u.frags == u.max_frags);
    send_frag(17, PEER, 50, d, 8 * u.max_frags, 8, true);
    ip_reasm_usage(&u);
    CHECK(u.queues == 0 && u.frags == 0 && u.mem == 0);
    CHECK_EQ_INT(DELTA(ip_reasm_fail), 1);
    s->ops->close(s);
}

/* Datagram for the flood tests: 8 + 4000 bytes, 3 fragments. */
static bool real_datagram_arrives(struct sock *s, uint16_t port, uint16_t id)
{
    static uint8_t d[8 + 4000];
    make_udp(d, port, 4000, (uint8_t)id);
    static const struct frag_spec fs[] = {
        { 0, 1480, true }, { 1480, 1480, true }, { 2960, 1048, false },
    };
    for (int i = 0; i < 3; i++)
        send_frag(17, PEER, id, d, fs[i].off, fs[i].len, fs[i].more);
    static uint8_t buf[8192];
    struct sock_addr from;
    return recv_one(s, buf, sizeof(buf), &from) == 4000 && !memcmp(buf, d + 8, 4000);
}

TEST(reasm_flood_of_first_fragments_is_bounded)
{
    struct net_counters before;
    struct sock *s = reasm_setup(5106, &before);
    static uint8_t d[8 + 1480];
    make_udp(d, 5106, 1480, 0x88);
    struct ip_reasm_usage u;
    unsigned max_queues = 0;
    size_t max_mem = 0;
    /* Small first fragments, so that the datagram cap bounds them before
     * memory does (the next test floods memory). */
    ip_reasm_usage(&u);
    const int flood = (int)u.max_queues + 500;
    for (int i = 0; i < flood; i++) {
        send_frag(17, ip4(10, 0, 0, 100 + i % 100), (uint16_t)i, d, 0, 16, true);
        fake_now += 1000;
        ip_reasm_usage(&u);
        max_queues = MAX(max_queues, u.queues);
        max_mem = MAX(max_mem, u.mem);
    }
    printf("  first-fragment flood: %llu fragments, at most %u datagrams and %zu bytes held, "
           "%llu evicted\n", (unsigned long long)DELTA(ip_reasm_reqds), max_queues, max_mem,
           (unsigned long long)DELTA(ip_reasm_evicted));
    CHECK(max_queues == u.max_queues);
    CHECK(max_mem <= u.mem_high);
    CHECK_EQ_INT(DELTA(ip_reasm_evicted), flood - (int)u.max_queues);
    CHECK_EQ_INT(DELTA(ip_reasm_fail), flood - (int)u.max_queues);
    /* The flood stopped: a real datagram gets through. */
    CHECK(real_datagram_arrives(s, 5106, 60));
    /* The cap: one datagram more than max_queues evicts the oldest only. */
    reasm_flush();
    before = net_stats;
    for (unsigned i = 0; i <= u.max_queues; i++) {
        send_frag(17, PEER, (uint16_t)(1000 + i), d, 0, 16, true);
        fake_now += 1000;
    }
    ip_reasm_usage(&u);
    CHECK(u.queues == u.max_queues);
    CHECK_EQ_INT(DELTA(ip_reasm_evicted), 1);
    s->ops->close(s);
}

TEST(reasm_memory_flood_evicts_oldest_and_stays_under_the_limit)
{
    struct net_counters before;
    struct sock *s = reasm_setup(5107, &before);
    static uint8_t d[8 + 65535];
    make_udp(d, 5107, 60000, 0x99);
    struct ip_reasm_usage u;
    size_t max_mem = 0;
    bool accounted = true;
    /* 100 datagrams of 40 full fragments each, none complete: ~6 MB of
     * frames against a 4 MiB limit. */
    for (int dg = 0; dg < 100; dg++) {
        for (int k = 0; k < 40; k++) {
            send_frag(17, ATTACKER, (uint16_t)(2000 + dg), d, (uint32_t)k * 1480, 1480, true);
            ip_reasm_usage(&u);
            max_mem = MAX(max_mem, u.mem);
            /* Each held fragment costs at least its frame. */
            accounted = accounted && u.mem >= (size_t)u.frags * (14 + 20 + 1480);
        }
        fake_now += 1000000;
    }
    printf("  memory flood: %llu fragments, at most %zu bytes held (high %zu, low %zu), "
           "%llu datagrams evicted\n", (unsigned long long)DELTA(ip_reasm_reqds), max_mem,
           u.mem_high, u.mem_low, (unsigned long long)DELTA(ip_reasm_evicted));
    CHECK(max_mem <= u.mem_high);
    CHECK(max_mem > u.mem_low);                         /* it did fill up */
    CHECK(accounted);
    CHECK(DELTA(ip_reasm_evicted) > 0);
    CHECK(u.queues < 100);
    /* A real datagram after the flood reassembles. */
    CHECK(real_datagram_arrives(s, 5107, 61));
    reasm_flush();
    s->ops->close(s);
}

/* The identification of the IPv4 packet in sent[i]. */
static uint16_t sent_ip_id(int i)
{
    return get_be16(sent[i] + 14 + 4);
}

TEST(ip_ids_are_per_destination_sequences)
{
    setup();
    uint32_t a = ip4(10, 0, 0, 9), b = ip4(10, 0, 0, 10);
    teach_arp(a);
    teach_arp(b);
    struct sock *s;
    CHECK(open_udp(8100, &s) == 0);
    nsent = 0;
    char msg[] = "id";
    struct sock_iov iov = { msg, sizeof(msg) };
    struct sock_addr to_a = { a, htons(9) }, to_b = { b, htons(9) };
    for (int i = 0; i < 4; i++) {
        CHECK(s->ops->sendmsg(s, &iov, 1, &to_a, 0) == (int64_t)sizeof(msg));
        CHECK(s->ops->sendmsg(s, &iov, 1, &to_b, 0) == (int64_t)sizeof(msg));
    }
    CHECK(nsent == 8);
    if (nsent != 8)
        return;
    /* Each destination sees its own sequence, one step per packet; one
     * shared counter would have stepped by two between a's packets. */
    for (int i = 2; i < 8; i += 2) {
        CHECK_EQ_INT(sent_ip_id(i), (uint16_t)(sent_ip_id(i - 2) + 1));
        CHECK_EQ_INT(sent_ip_id(i + 1), (uint16_t)(sent_ip_id(i - 1) + 1));
    }
    /* The hash is keyed: these two did not share a counter. */
    CHECK(ip_next_id(ip4(10, 0, 0, 2), a, 17) == (uint16_t)(sent_ip_id(6) + 1));
    s->ops->close(s);
}

/* The byte at position pos of datagram id in reasm_random_fragments. */
static uint8_t id_pattern(uint16_t id, uint32_t pos)
{
    return (uint8_t)(pos * 7 + id * 13 + (pos >> 8));
}

/* Random fragment sequences, some a valid fragmentation shuffled with
 * duplicates, some with overlaps, holes and bad ends: whatever is
 * delivered carries, at every position, its own datagram's byte there,
 * never one of an earlier datagram; what is held stays within limits. */
TEST(reasm_random_fragments_deliver_only_their_own_bytes)
{
    struct net_counters before;
    struct sock *s = reasm_setup(5108, &before);
    static uint8_t d[8 * 1100 + 1600], buf[16384];
    srand(4242);
    int delivered = 0, wrong = 0;
    size_t max_mem = 0;
    struct ip_reasm_usage u;
    for (int trial = 0; trial < 3000; trial++) {
        uint16_t id = (uint16_t)(3000 + trial);
        uint32_t total = 8 + (uint32_t)(rand() % 8000);
        for (uint32_t p = 0; p < sizeof(d); p++)
            d[p] = id_pattern(id, p);
        make_udp(d, 5108, 0, 0);
        put_be16(d + 4, (uint16_t)total);
        for (uint32_t p = 8; p < sizeof(d); p++)
            d[p] = id_pattern(id, p);
        struct frag_spec fs[32];
        int n = 0;
        if (trial % 2 == 0) {
            /* A valid fragmentation in pieces of 512 to 1480 bytes (at
             * most 16 of them), multiples of 8 but the last. */
            for (uint32_t off = 0; off < total;) {
                uint32_t len = MIN(total - off, 8u * (64 + (uint32_t)(rand() % 122)));
                fs[n++] = (struct frag_spec){ off, len, off + len < total };
                off += len;
            }
        }
        /* Extra random fragments (duplicates, overlaps, ends) on odd
         * trials and some even ones. */
        int extra = trial % 2 ? 1 + rand() % 8 : rand() % 3 == 0;
        for (int k = 0; k < extra && n < 32; k++) {
            if (n && rand() % 2) {
                fs[n] = fs[rand() % n];                 /* a duplicate */
            } else {
                uint32_t off = 8u * (uint32_t)(rand() % 1100), len = (uint32_t)(rand() % 1600);
                fs[n] = (struct frag_spec){ off, len, rand() % 3 != 0 };
            }
            n++;
        }
        for (int k = n - 1; k > 0; k--) {               /* shuffle */
            int j = rand() % (k + 1);
            struct frag_spec t = fs[k];
            fs[k] = fs[j];
            fs[j] = t;
        }
        for (int k = 0; k < n; k++) {
            send_frag(17, PEER, id, d, fs[k].off, fs[k].len, fs[k].more);
            ip_reasm_usage(&u);
            max_mem = MAX(max_mem, u.mem);
            struct sock_addr from;
            int64_t got;
            while ((got = recv_one(s, buf, sizeof(buf), &from)) > 0) {
                delivered++;
                for (int64_t p = 0; p < got; p++)
                    wrong += buf[p] != id_pattern(id, 8 + (uint32_t)p);
            }
        }
        fake_now += 50000000;                           /* 50 ms a trial */
        net_tick();
    }
    printf("  random fragments: %d datagrams delivered, %llu overlaps, %llu failed, "
           "%d wrong bytes, at most %zu bytes held\n", delivered,
           (unsigned long long)DELTA(ip_reasm_overlaps), (unsigned long long)DELTA(ip_reasm_fail),
           wrong, max_mem);
    CHECK(wrong == 0);
    CHECK(delivered >= 1000);                           /* the valid ones, mostly */
    CHECK(DELTA(ip_reasm_overlaps) > 0);
    CHECK(max_mem <= u.mem_high);
    reasm_flush();
    s->ops->close(s);
}
