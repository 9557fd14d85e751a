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
    static bool added;
    memset(&ifp, 0, sizeof(ifp));
    memcpy(ifp.name, "eth0", 5);
    memcpy(ifp.mac, our_mac, 6);
    ifp.mtu = 1500;
    ifp.xmit = fake_xmit;
    if (!added) {
        netif_add(&ifp);
        added = true;
    }
    nsent = 0;
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
    uint8_t r[60] = { 0 };
    memcpy(r, our_mac, 6);
    memcpy(r + 6, peer_mac, 6);
    put_be16(r + 12, ETH_P_ARP);
    uint8_t *a = r + 14;
    put_be16(a, 1);
    put_be16(a + 2, ETH_P_IP);
    a[4] = 6;
    a[5] = 4;
    put_be16(a + 6, 2);
    memcpy(a + 8, peer_mac, 6);
    uint32_t tpa = ip4(10, 0, 0, 2);
    memcpy(a + 14, &spa, 4);
    memcpy(a + 18, our_mac, 6);
    memcpy(a + 24, &tpa, 4);
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
    uint8_t f[60] = { 0 };
    memset(f, 0xff, 6);
    memcpy(f + 6, peer_mac, 6);
    put_be16(f + 12, ETH_P_ARP);
    uint8_t *a = f + 14;
    put_be16(a, 1);
    put_be16(a + 2, ETH_P_IP);
    a[4] = 6;
    a[5] = 4;
    put_be16(a + 6, 1);
    memcpy(a + 8, peer_mac, 6);
    uint32_t spa = ip4(10, 0, 0, 9), tpa = ip4(10, 0, 0, 2);
    memcpy(a + 14, &spa, 4);
    memcpy(a + 24, &tpa, 4);
    inject(f, sizeof(f));
    CHECK(nsent == 1);
    CHECK(!memcmp(sent[0], peer_mac, 6));
    CHECK(get_be16(sent[0] + 14 + 6) == 2);             /* reply */
    CHECK(!memcmp(sent[0] + 14 + 8, our_mac, 6));
    uint8_t mac[6];
    CHECK(arp_lookup(spa, mac) && !memcmp(mac, peer_mac, 6));
    /* A request for someone else is not answered. */
    nsent = 0;
    tpa = ip4(10, 0, 0, 77);
    memcpy(a + 24, &tpa, 4);
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
