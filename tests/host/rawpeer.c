/*
 * rawpeer: hostile hosts on the guest's link, for tests/guest/attack.sh
 * (issue 18: a network stack that survives a hostile network).
 *
 *   rawpeer ATTACK --dev TAP --to GUEST:PORT [OPTIONS]
 *
 * It plays any number of made-up hosts 10.99.0.x (x in 16..250 of the
 * guest's /24) with an AF_PACKET socket bound to the tap device inside
 * the test's network namespace: frames sent on it go to QEMU, i.e. to the
 * guest, and the guest's frames are read from it. It answers the guest's
 * ARP requests for those addresses with a made-up MAC (02:52:50:00:00:x),
 * so that the guest's replies to spoofed sources go out and vanish as on
 * a real network. The host's own stack ignores them (they are addressed
 * to another MAC). Frames the guest sends are never checksum-verified:
 * they may carry checksums left for the host to complete (offload).
 *
 * Attacks (each bounded in packets and time; a result line each, and
 * "rawpeer: ATTACK: FAIL: why" with status 1 when the check fails):
 *
 *   reasm-leak [--secret-reps N]
 *       Host A (10.99.0.20) sends a 1400-byte UDP datagram of a secret
 *       pattern ("<SECRET-A nnnn>" records), fragmented, to the echo
 *       port and must get it back. Then host B (10.99.0.21) sends
 *       datagrams that must never be delivered: a hole plus a fragment
 *       past the datagram's end (the old bitmap counts the blocks past the
 *       end toward the ones it has, so the datagram is "complete" with a
 *       hole of stale kmalloc memory), a hole of 8 bytes closed "by" a
 *       fragment past a known end, and two fragments overlapping with
 *       different data (dropped whole, as Linux does). Any reply to those,
 *       or any "SECRET-A" in anything echoed to B, fails. Positive
 *       control: a correct fragmented datagram from B comes back intact.
 *
 *   synflood --rate R --seconds S
 *       SYNs at R per second for S seconds from random sources
 *       10.99.0.16-250, random ports and sequence numbers. Prints SYNs
 *       sent and SYN-ACKs seen (total, and to how many distinct
 *       sources). Prints "rawpeer: synflood: flooding" when it starts.
 *       There is no check here (the guest may drop SYNs or answer with
 *       cookies): the test's normal client is the check.
 *
 *   ooo-flood --pps P --seconds S [--min-answer-pct A]
 *       A real connection by hand from 10.99.0.30 (SYN, SYN-ACK, ACK),
 *       then 1-byte segments each leaving a hole (rcv_nxt + 2, + 4, ...,
 *       wrapping inside the guest's window) at P per second for S seconds.
 *       Counts what the guest answered (its duplicate ACKs: a figure, not
 *       a check, since a capped queue may drop segments unanswered as
 *       Linux does; --min-answer-pct A makes it one). Then the first byte
 *       of the hole, in order, must be ACKed within 3 s: the connection
 *       is not wedged. It is reset at the end. The test's control client
 *       measures what the flood does to everyone else.
 *
 *   bcast-syn
 *       SYNs from 10.99.0.255, 255.255.255.255 and 224.0.0.1: the guest
 *       must not answer (RFC 1122 4.2.3.10): a SYN-ACK to that source, or
 *       an ARP request for it, fails. Neither may SYNs from 10.99.0.41 to
 *       those three addresses (the same section: a SYN addressed to a
 *       broadcast or multicast address is discarded). Positive control: a
 *       SYN from 10.99.0.40 gets its SYN-ACK (then a RST).
 *
 *   challenge-ack --count N [--pps P] [--limit L]
 *       After a handshake from 10.99.0.50: N RSTs with in-window but wrong
 *       sequence numbers and N SYNs on the established connection, P
 *       segments per second (default 2000; faster ones only overflow
 *       the tap's queue). Each may draw a challenge ACK (RFC 5961
 *       3.2, 4.2); section 7 asks for a limit. Passes when at least one
 *       came (not silent), at most 1.5 L per started second of the time
 *       they took (L default 1000, Linux's global figure, whose quota
 *       per second is random up to 1.5 L) came, and the connection
 *       still echoes afterwards (no blind reset).
 *
 *   frag-flood --count N [--pps P]
 *       Host G (10.99.0.60) sends the first half of a fragmented datagram;
 *       then N first fragments of different datagrams (distinct IDs, from
 *       random fake sources) at P per second (default 2000); then G's
 *       second half; then host H (10.99.0.61) a whole fragmented datagram.
 *       Both must come back intact (the old kernel's 8 slots evict G's).
 *
 *   udp-quit
 *       A "quit" datagram to the echo port (ends apps/udpecho).
 *
 * Common options: --dev TAP (the tap device; required), --to GUEST:PORT
 * (the guest and its echo port; required), --timeout S (default 60: an
 * alarm ends a stuck run with a FAIL line).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOOL_NAME "rawpeer"
#define TOOL_USAGE \
    "usage: rawpeer ATTACK --dev TAP --to GUEST:PORT [--timeout S] [OPTIONS]\n" \
    "  reasm-leak\n" \
    "  synflood [--rate R] [--seconds S]\n" \
    "  ooo-flood [--pps P] [--seconds S] [--min-answer-pct A]\n" \
    "  bcast-syn\n" \
    "  challenge-ack [--count N] [--pps P] [--limit L]\n" \
    "  frag-flood [--count N] [--pps P]\n" \
    "  udp-quit\n"
#include "../../apps/tool_util.h"

#define ETH_HLEN_ 14
#define IP_HLEN_ 20
#define TCP_HLEN_ 20
#define UDP_HLEN_ 8
#define FRAME_MAX 70000

/* TCP flags. */
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* ------------------------------------------------------------- options --- */

static struct {
    char dev[IF_NAMESIZE];
    struct sockaddr_in to;
    int have_to;
    int rate, seconds, pps, count, limit, min_answer_pct;
    int timeout;
} opt = { .rate = 200, .seconds = 10, .pps = 2000, .count = 1000, .limit = 1000,
          .min_answer_pct = 0, .timeout = 60 };

/* ---------------------------------------------------------------- link --- */

static int pkt_fd = -1;
static int ifindex;
static uint8_t guest_mac[6];
static uint32_t guest_ip;           /* network order, like every address here */
static uint16_t guest_port;         /* network order */
static unsigned long arp_answered;

/* The fake hosts: 10.99.0.x (the guest's /24) with x in FAKE_LO..FAKE_HI. */
#define FAKE_LO 16
#define FAKE_HI 250

static uint32_t host_in_subnet(unsigned x)
{
    return htonl((ntohl(guest_ip) & 0xffffff00u) | (x & 0xff));
}

static int is_fake(uint32_t ip)
{
    if ((ntohl(ip) & 0xffffff00u) != (ntohl(guest_ip) & 0xffffff00u))
        return 0;
    unsigned x = ntohl(ip) & 0xff;
    return x >= FAKE_LO && x <= FAKE_HI;
}

/* A made-up, locally administered MAC per fake host. */
static void fake_mac(uint32_t ip, uint8_t mac[6])
{
    static const uint8_t base[6] = { 0x02, 0x52, 0x50, 0x00, 0x00, 0x00 };
    memcpy(mac, base, 6);
    mac[5] = (uint8_t)(ntohl(ip) & 0xff);
}

static const char *ipstr(uint32_t ip)
{
    static char buf[4][INET_ADDRSTRLEN];
    static int n;
    char *b = buf[n++ % 4];
    inet_ntop(AF_INET, &ip, b, INET_ADDRSTRLEN);
    return b;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (; len > 1; len -= 2, p += 2)
        sum += get16(p);
    if (len)
        sum += (uint32_t)p[0] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The TCP/UDP pseudo-header's sum. */
static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
    uint8_t ph[12];
    memcpy(ph, &src, 4);
    memcpy(ph + 4, &dst, 4);
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, (uint16_t)len);
    return csum_add(0, ph, sizeof(ph));
}

static void send_frame(const uint8_t *frame, size_t len)
{
    for (;;) {
        ssize_t n = send(pkt_fd, frame, len, 0);
        if (n == (ssize_t)len)
            return;
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOBUFS)) {
            struct pollfd p = { pkt_fd, POLLOUT, 0 };
            poll(&p, 1, 10);
            continue;
        }
        die("send on %s: %s", opt.dev, n < 0 ? errstr(errno) : "short");
    }
}

static uint16_t next_ip_id = 1;

/* One IPv4 packet (or fragment: frag is the flags+offset field as on the
 * wire, offset in 8-byte units) from src to the guest. */
static void send_ip(uint32_t src, uint32_t dst, uint8_t proto, uint16_t id, uint16_t frag,
                    const void *payload, size_t len)
{
    static uint8_t f[FRAME_MAX];
    if (len > 65535 - IP_HLEN_)
        die("an IP payload of %zu bytes", len);
    uint8_t smac[6];
    fake_mac(src, smac);
    memcpy(f, guest_mac, 6);
    memcpy(f + 6, smac, 6);
    put16(f + 12, ETHERTYPE_IP);
    uint8_t *ip = f + ETH_HLEN_;
    memset(ip, 0, IP_HLEN_);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(IP_HLEN_ + len));
    put16(ip + 4, id);
    put16(ip + 6, frag);
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, &src, 4);
    memcpy(ip + 16, &dst, 4);
    put16(ip + 10, csum_fold(csum_add(0, ip, IP_HLEN_)));
    memcpy(ip + IP_HLEN_, payload, len);
    send_frame(f, ETH_HLEN_ + IP_HLEN_ + len);
}

static void send_arp(uint16_t op, const uint8_t *eth_dst, const uint8_t *sha, uint32_t spa,
                     const uint8_t *tha, uint32_t tpa)
{
    uint8_t f[ETH_HLEN_ + 28];
    memcpy(f, eth_dst, 6);
    memcpy(f + 6, sha, 6);
    put16(f + 12, ETHERTYPE_ARP);
    uint8_t *a = f + ETH_HLEN_;
    put16(a, 1);
    put16(a + 2, ETHERTYPE_IP);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, op);
    memcpy(a + 8, sha, 6);
    memcpy(a + 14, &spa, 4);
    memcpy(a + 18, tha, 6);
    memcpy(a + 24, &tpa, 4);
    send_frame(f, sizeof(f));
}

/* What the running attack does with each IPv4 packet from the guest
 * (reassembled if the guest fragmented it): ip points at the header. */
static void (*on_guest_ip)(const uint8_t *ip, size_t len);
/* And with each ARP request of the guest's (target address). */
static void (*on_guest_arp_request)(uint32_t target);

/* ---- the guest's fragments, put back together ---------------------------- */

#define RX_REASM_SLOTS 8
static struct rx_reasm {
    int used;
    uint16_t id;
    uint32_t total;                 /* payload length once the last came, else 0 */
    uint32_t have;                  /* bytes seen (the guest's fragments do not overlap) */
    uint8_t hdr[IP_HLEN_];
    uint8_t data[65536];
} rx_reasm[RX_REASM_SLOTS];

static void guest_ip_in(const uint8_t *ip, size_t len)
{
    size_t hl = (size_t)(ip[0] & 15) * 4;
    size_t tot = get16(ip + 2);
    if (hl < IP_HLEN_ || tot < hl || tot > len)
        return;
    uint16_t frag = get16(ip + 6);
    if (!(frag & 0x3fff)) {
        if (on_guest_ip)
            on_guest_ip(ip, tot);
        return;
    }
    uint32_t off = (uint32_t)(frag & 0x1fff) * 8, plen = (uint32_t)(tot - hl);
    uint16_t id = get16(ip + 4);
    struct rx_reasm *r = NULL;
    for (int i = 0; i < RX_REASM_SLOTS && !r; i++)
        if (rx_reasm[i].used && rx_reasm[i].id == id)
            r = &rx_reasm[i];
    for (int i = 0; i < RX_REASM_SLOTS && !r; i++)
        if (!rx_reasm[i].used)
            r = &rx_reasm[i];
    if (!r) {
        r = &rx_reasm[id % RX_REASM_SLOTS];     /* a lost fragment's: reuse */
        r->used = 0;
    }
    if (!r->used) {
        memset(r, 0, offsetof(struct rx_reasm, data));
        r->used = 1;
        r->id = id;
    }
    if (off + plen > sizeof(r->data) - IP_HLEN_)
        return;
    memcpy(r->data + IP_HLEN_ + off, ip + hl, plen);
    r->have += plen;
    if (off == 0)
        memcpy(r->hdr, ip, IP_HLEN_);
    if (!(frag & 0x2000))
        r->total = off + plen;
    if (r->total && r->have >= r->total) {
        memcpy(r->data, r->hdr, IP_HLEN_);
        r->data[0] = 0x45;
        put16(r->data + 2, (uint16_t)(IP_HLEN_ + r->total));
        put16(r->data + 6, 0);
        r->used = 0;
        if (on_guest_ip)
            on_guest_ip(r->data, IP_HLEN_ + r->total);
    }
}

/* Reads the guest's frames for up to ms (0: only what is there now),
 * answering ARP for the fake hosts and handing IPv4 to the attack. */
static void pump(int ms)
{
    static uint8_t f[FRAME_MAX];
    double end = now() + ms / 1000.0;
    for (;;) {
        double left = end - now();
        struct pollfd p = { pkt_fd, POLLIN, 0 };
        int n = poll(&p, 1, left > 0 ? (int)(left * 1000) + 1 : 0);
        if (n < 0 && errno != EINTR)
            die("poll: %s", errstr(errno));
        if (n <= 0) {
            if (now() >= end)
                return;
            continue;
        }
        struct sockaddr_ll from;
        socklen_t flen = sizeof(from);
        ssize_t len = recvfrom(pkt_fd, f, sizeof(f), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (len < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            die("recv on %s: %s", opt.dev, errstr(errno));
        }
        /* Our own frames and the host stack's come back as outgoing. */
        if (from.sll_pkttype == PACKET_OUTGOING || len < ETH_HLEN_)
            continue;
        uint16_t type = get16(f + 12);
        if (type == ETHERTYPE_ARP && len >= ETH_HLEN_ + 28) {
            const uint8_t *a = f + ETH_HLEN_;
            uint32_t spa, tpa;
            memcpy(&spa, a + 14, 4);
            memcpy(&tpa, a + 24, 4);
            if (get16(a + 6) == 1 && spa == guest_ip) {
                if (on_guest_arp_request)
                    on_guest_arp_request(tpa);
                if (is_fake(tpa)) {
                    uint8_t mac[6];
                    fake_mac(tpa, mac);
                    send_arp(2, a + 8, mac, tpa, a + 8, spa);
                    arp_answered++;
                }
            } else if (get16(a + 6) == 2 && spa == guest_ip) {
                memcpy(guest_mac, a + 8, 6);
            }
        } else if (type == ETHERTYPE_IP && len >= ETH_HLEN_ + IP_HLEN_) {
            uint32_t src;
            memcpy(&src, f + ETH_HLEN_ + 12, 4);
            if (src == guest_ip)
                guest_ip_in(f + ETH_HLEN_, (size_t)len - ETH_HLEN_);
        }
    }
}

static void link_open(void)
{
    ifindex = (int)if_nametoindex(opt.dev);
    if (!ifindex)
        die("no device %s: %s", opt.dev, errstr(errno));
    pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (pkt_fd < 0)
        die("packet socket: %s (needs root)", errstr(errno));
    struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                             .sll_ifindex = ifindex };
    if (bind(pkt_fd, (struct sockaddr *)&a, sizeof(a)))
        die("bind to %s: %s", opt.dev, errstr(errno));
    int big = 8 << 20;
    setsockopt(pkt_fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    setsockopt(pkt_fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    guest_ip = opt.to.sin_addr.s_addr;
    guest_port = opt.to.sin_port;
    /* The guest's MAC, from its answer to a fake host's ARP request. */
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, zero[6];
    uint32_t me = host_in_subnet(FAKE_LO);
    uint8_t mac[6];
    fake_mac(me, mac);
    for (int i = 0; i < 5 && !memcmp(guest_mac, zero, 6); i++) {
        send_arp(1, bcast, mac, me, zero, guest_ip);
        double end = now() + 1;
        while (!memcmp(guest_mac, zero, 6) && now() < end)
            pump(50);
    }
    if (!memcmp(guest_mac, zero, 6))
        fail("the guest %s did not answer ARP", ipstr(guest_ip));
}

static uint32_t rnd(void)
{
    static uint64_t s;
    if (!s)
        s = (uint64_t)time(NULL) * 6364136223846793005ull ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ull;
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (uint32_t)((s * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t random_fake_source(void)
{
    return host_in_subnet(FAKE_LO + rnd() % (FAKE_HI - FAKE_LO + 1));
}

/* ----------------------------------------------------------------- UDP --- */

/* A UDP datagram (header and data) into buf; csum 0 means none (RFC 768),
 * which the attacks use for datagrams the guest must never complete. */
static size_t udp_build(uint8_t *buf, uint32_t src, uint16_t sport, const void *data,
                        size_t len, int with_csum)
{
    put16(buf, sport);
    memcpy(buf + 2, &guest_port, 2);
    put16(buf + 4, (uint16_t)(UDP_HLEN_ + len));
    put16(buf + 6, 0);
    memcpy(buf + UDP_HLEN_, data, len);
    if (with_csum) {
        uint32_t s = pseudo_sum(src, guest_ip, IPPROTO_UDP, UDP_HLEN_ + len);
        uint16_t c = csum_fold(csum_add(s, buf, UDP_HLEN_ + len));
        put16(buf + 6, c ? c : 0xffff);
    }
    return UDP_HLEN_ + len;
}

/* One fragment of datagram dg: bytes [off, off+len), more fragments or not. */
static void send_frag(uint32_t src, uint16_t id, const uint8_t *dg, uint32_t off, uint32_t len,
                      int more)
{
    send_ip(src, guest_ip, IPPROTO_UDP, id, (uint16_t)((more ? 0x2000 : 0) | off / 8), dg + off, len);
}

/* The echoes the guest sent to fake hosts, by destination port. */
#define MAX_REPLIES 64
static struct reply {
    uint32_t dst;
    uint16_t dport;                 /* host order */
    size_t len;
    uint8_t *data;
} replies[MAX_REPLIES];
static int n_replies;

static void udp_collect(const uint8_t *ip, size_t len)
{
    if (ip[9] != IPPROTO_UDP || len < IP_HLEN_ + UDP_HLEN_ || n_replies == MAX_REPLIES)
        return;
    const uint8_t *u = ip + IP_HLEN_;
    if (memcmp(u, &guest_port, 2))
        return;
    size_t ulen = get16(u + 4);
    if (ulen < UDP_HLEN_ || ulen > len - IP_HLEN_)
        return;
    struct reply *r = &replies[n_replies++];
    memcpy(&r->dst, ip + 16, 4);
    r->dport = get16(u + 2);
    r->len = ulen - UDP_HLEN_;
    r->data = malloc(r->len + 1);
    if (!r->data)
        die("out of memory");
    memcpy(r->data, u + UDP_HLEN_, r->len);
}

/* The first reply to port within ms, or NULL. */
static struct reply *wait_reply(uint16_t port, int ms)
{
    double end = now() + ms / 1000.0;
    for (;;) {
        for (int i = 0; i < n_replies; i++)
            if (replies[i].dport == port)
                return &replies[i];
        if (now() >= end)
            return NULL;
        pump(20);
    }
}

static int count_replies(uint16_t port)
{
    int n = 0;
    for (int i = 0; i < n_replies; i++)
        n += replies[i].dport == port;
    return n;
}

/* How many times needle occurs in hay. */
static int occurrences(const uint8_t *hay, size_t len, const char *needle)
{
    size_t nl = strlen(needle);
    int n = 0;
    for (size_t i = 0; i + nl <= len; i++)
        n += !memcmp(hay + i, needle, nl);
    return n;
}

/* Sends a whole datagram of data in fragments of frag bytes (a multiple
 * of 8) from src:sport and returns 1 when it comes back intact. */
static int echo_fragmented(uint32_t src, uint16_t sport, const uint8_t *data, size_t len,
                           uint32_t frag, int ms)
{
    static uint8_t dg[65536];
    size_t dl = udp_build(dg, src, sport, data, len, 1);
    uint16_t id = next_ip_id++;
    for (uint32_t off = 0; off < dl; off += frag)
        send_frag(src, id, dg, off, (uint32_t)(dl - off < frag ? dl - off : frag), off + frag < dl);
    struct reply *r = wait_reply(sport, ms);
    return r && r->len == len && !memcmp(r->data, data, len);
}

static int reasm_leak(void)
{
    enum { LEN = 1400 };        /* the IP payload: UDP header + 1392 bytes */
    static uint8_t secret[LEN - UDP_HLEN_], dg[LEN + 8192];
    for (size_t i = 0; i < sizeof(secret); i += 16) {
        char rec[17];
        snprintf(rec, sizeof(rec), "<SECRET-A %04zu>", i / 16);
        memcpy(secret + i, rec, sizeof(secret) - i < 16 ? sizeof(secret) - i : 16);
    }
    on_guest_ip = udp_collect;
    uint32_t a = host_in_subnet(20), b = host_in_subnet(21);

    /* A's datagram, fragmented: the guest reassembles it in a buffer that
     * is freed afterwards, and that the next reassembly may get again. */
    int ok = 0;
    for (int i = 0; i < 3 && !ok; i++)
        ok = echo_fragmented(a, (uint16_t)(4000 + i), secret, sizeof(secret), 704, 3000);
    if (!ok)
        fail("host A's fragmented secret datagram was not echoed intact (is the guest up?)");
    say("host A (%s) got its %zu-byte secret datagram back", ipstr(a), sizeof(secret));

    struct variant {
        const char *name;
        uint16_t port;
    } variants[] = {
        { "hole-and-fragment-past-the-end", 5001 },
        { "fragment-past-a-known-end", 5002 },
        { "overlap-with-different-data", 5003 },
    };
    int bad = 0;
    for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
        uint16_t port = variants[v].port, id = next_ip_id++;
        memset(dg, 'b', sizeof(dg));
        udp_build(dg, b, port, dg + UDP_HLEN_, LEN - UDP_HLEN_, 0);
        switch (v) {
        case 0:
            /* [0,8) and [1392,1400) (the end) and [2000,3384) past the end:
             * 8 + 8 + 1384 = 1400 bytes "had", with [8,1392) never sent. */
            send_frag(b, id, dg, 0, 8, 1);
            send_frag(b, id, dg, 1392, 8, 0);
            send_frag(b, id, dg, 2000, 1384, 1);
            break;
        case 1:
            /* The end first, then all but [1384,1392), then 8 bytes past
             * the known end to "fill" it. */
            send_frag(b, id, dg, 1392, 8, 0);
            send_frag(b, id, dg, 0, 1384, 1);
            send_frag(b, id, dg, 1400, 8, 1);
            break;
        case 2:
            /* [0,1000) of 'b' and [992,1400) of 'o': 8 bytes in both with
             * different data. */
            send_frag(b, id, dg, 0, 1000, 1);
            memset(dg + 992, 'o', LEN - 992);
            send_frag(b, id, dg, 992, LEN - 992, 0);
            break;
        }
        struct reply *r = wait_reply(port, 2000);
        if (r) {
            int leaked = occurrences(r->data, r->len, "SECRET-A");
            say("FAIL: %s: the guest echoed %zu bytes of an incomplete or overlapping datagram "
                "(%d records of host A's secret in it)", variants[v].name, r->len, leaked);
            bad++;
        } else {
            say("%s: nothing echoed (right)", variants[v].name);
        }
    }
    /* The positive control: B's correct datagram. */
    static uint8_t good[LEN - UDP_HLEN_];
    for (size_t i = 0; i < sizeof(good); i++)
        good[i] = (uint8_t)('B' + i % 23);
    ok = 0;
    for (int i = 0; i < 3 && !ok; i++)
        ok = echo_fragmented(b, (uint16_t)(5100 + i), good, sizeof(good), 512, 3000);
    if (!ok) {
        say("FAIL: positive control: host B's correct fragmented datagram was not echoed intact");
        bad++;
    } else {
        say("positive control: host B's correct fragmented datagram echoed intact");
    }
    int leaked = 0, to_b = 0;
    for (int i = 0; i < n_replies; i++)
        if (replies[i].dst == b) {
            to_b++;
            leaked += occurrences(replies[i].data, replies[i].len, "SECRET-A");
        }
    say("%d echoes to host B (%s), %d records of host A's secret in them; %lu ARP answers",
        to_b, ipstr(b), leaked, arp_answered);
    if (leaked)
        fail("host A's secret leaked to host B (%d records)", leaked);
    if (bad)
        fail("%d of 4 checks failed", bad);
    say("ok");
    return 0;
}

/* ----------------------------------------------------------------- TCP --- */

struct tcb {
    uint32_t src;               /* the fake host */
    uint32_t dst;               /* where its segments go: 0 for the guest's address */
    uint16_t sport;             /* host order */
    uint32_t snd_nxt, rcv_nxt;  /* host order */
    uint32_t wnd;               /* the guest's window, scaled */
    int wscale;                 /* the guest's shift, -1 without */
    int synack;                 /* a SYN-ACK came */
    int rst;                    /* a RST came */
    unsigned long segs_in, acks_in, data_in;
    uint32_t last_ack;
    double first_in, last_in;
    uint8_t rx[4096];
    size_t rx_len;
};

static void send_tcp(struct tcb *c, uint8_t flags, uint32_t seq, uint32_t ack, const void *opts,
                     size_t olen, const void *data, size_t len)
{
    static uint8_t seg[TCP_HLEN_ + 40 + 2048];
    size_t hl = TCP_HLEN_ + olen;
    put16(seg, c->sport);
    memcpy(seg + 2, &guest_port, 2);
    put32(seg + 4, seq);
    put32(seg + 8, ack);
    seg[12] = (uint8_t)((hl / 4) << 4);
    seg[13] = flags;
    put16(seg + 14, 65535);
    put16(seg + 16, 0);
    put16(seg + 18, 0);
    memcpy(seg + TCP_HLEN_, opts, olen);
    memcpy(seg + hl, data, len);
    uint32_t dst = c->dst ? c->dst : guest_ip;
    uint32_t s = pseudo_sum(c->src, dst, IPPROTO_TCP, hl + len);
    put16(seg + 16, csum_fold(csum_add(s, seg, hl + len)));
    send_ip(c->src, dst, IPPROTO_TCP, next_ip_id++, 0x4000, seg, hl + len);
}

/* The connections the running attack follows. */
#define MAX_TCB 4
static struct tcb *tcbs[MAX_TCB];
static int n_tcbs;
/* SYN-ACKs to fake hosts no tcb follows (the SYN flood's). */
static unsigned long flood_synacks;
static uint32_t flood_synack_srcs[FAKE_HI + 1];

static void tcp_collect(const uint8_t *ip, size_t len)
{
    if (ip[9] != IPPROTO_TCP || len < IP_HLEN_ + TCP_HLEN_)
        return;
    const uint8_t *t = ip + IP_HLEN_;
    if (memcmp(t, &guest_port, 2))
        return;
    uint32_t dst;
    memcpy(&dst, ip + 16, 4);
    uint16_t dport = get16(t + 2);
    uint8_t flags = t[13];
    size_t hl = (size_t)(t[12] >> 4) * 4;
    if (hl < TCP_HLEN_ || hl > len - IP_HLEN_)
        return;
    size_t dlen = len - IP_HLEN_ - hl;
    struct tcb *c = NULL;
    for (int i = 0; i < n_tcbs; i++)
        if (tcbs[i]->src == dst && tcbs[i]->sport == dport)
            c = tcbs[i];
    if (!c) {
        if ((flags & (F_SYN | F_ACK)) == (F_SYN | F_ACK) && is_fake(dst)) {
            flood_synacks++;
            flood_synack_srcs[ntohl(dst) & 0xff]++;
        }
        return;
    }
    double t_now = now();
    if (!c->segs_in++)
        c->first_in = t_now;
    c->last_in = t_now;
    if (flags & F_RST) {
        c->rst = 1;
        return;
    }
    uint16_t win = get16(t + 14);
    if ((flags & (F_SYN | F_ACK)) == (F_SYN | F_ACK)) {
        c->synack = 1;
        c->rcv_nxt = get32(t + 4) + 1;
        c->wscale = -1;
        for (size_t i = TCP_HLEN_; i < hl;) {
            uint8_t k = t[i];
            if (k == 0)
                break;
            if (k == 1) {
                i++;
                continue;
            }
            if (i + 1 >= hl || t[i + 1] < 2)
                break;
            if (k == 3 && t[i + 1] == 3 && i + 2 < hl)
                c->wscale = t[i + 2];
            i += t[i + 1];
        }
        c->wnd = win;                       /* a SYN's window is never scaled */
        return;
    }
    if (flags & F_ACK) {
        c->acks_in++;
        c->last_ack = get32(t + 8);
        c->wnd = (uint32_t)win << (c->wscale > 0 ? c->wscale : 0);
    }
    if (dlen && get32(t + 4) == c->rcv_nxt) {
        size_t room = sizeof(c->rx) - c->rx_len, n = dlen < room ? dlen : room;
        memcpy(c->rx + c->rx_len, t + hl, n);
        c->rx_len += n;
        c->rcv_nxt += (uint32_t)dlen;
        c->data_in++;
        send_tcp(c, F_ACK, c->snd_nxt, c->rcv_nxt, NULL, 0, NULL, 0);
    }
}

static void tcb_track(struct tcb *c)
{
    if (n_tcbs == MAX_TCB)
        die("too many connections followed");
    tcbs[n_tcbs++] = c;
}

/* SYN from c's fake host (c->src, c->sport set); 1 when the SYN-ACK came
 * within ms (retrying the SYN each second). */
static int tcp_syn(struct tcb *c, int ms, int with_options)
{
    static const uint8_t syn_opts[] = { 2, 4, 0x05, 0xb4,          /* MSS 1460 */
                                        1, 3, 3, 7,                 /* window scale 7 */
                                        1, 1, 4, 2 };               /* SACK permitted */
    c->snd_nxt = rnd();
    c->synack = c->rst = 0;
    tcb_track(c);
    double end = now() + ms / 1000.0;
    while (now() < end && !c->synack && !c->rst) {
        send_tcp(c, F_SYN, c->snd_nxt, 0, syn_opts, with_options ? sizeof(syn_opts) : 0, NULL, 0);
        double step = now() + 1;
        while (now() < step && now() < end && !c->synack && !c->rst)
            pump(20);
    }
    c->snd_nxt++;
    return c->synack;
}

/* A whole handshake from a fake host; fails the run if it does not
 * complete. */
static void tcp_connect(struct tcb *c, uint32_t src)
{
    memset(c, 0, sizeof(*c));
    c->src = src;
    c->sport = (uint16_t)(20000 + rnd() % 40000);
    if (!tcp_syn(c, 5000, 1))
        fail("no SYN-ACK from %s:%u to %s within 5 s%s", ipstr(guest_ip), ntohs(guest_port),
             ipstr(src), c->rst ? " (a RST: nobody listens?)" : "");
    send_tcp(c, F_ACK, c->snd_nxt, c->rcv_nxt, NULL, 0, NULL, 0);
    pump(50);
}

/* Sends a line on c and waits up to ms for it to be echoed. */
static int tcp_echo_line(struct tcb *c, const char *line, int ms)
{
    size_t len = strlen(line), before = c->rx_len;
    send_tcp(c, F_ACK | F_PSH, c->snd_nxt, c->rcv_nxt, NULL, 0, line, len);
    double end = now() + ms / 1000.0, resend = now() + 1;
    while (now() < end && !c->rst) {
        pump(20);
        if (c->rx_len >= before + len)
            break;
        if (now() > resend) {
            send_tcp(c, F_ACK | F_PSH, c->snd_nxt, c->rcv_nxt, NULL, 0, line, len);
            resend = now() + 1;
        }
    }
    c->snd_nxt += (uint32_t)len;
    return c->rx_len >= before + len && !memcmp(c->rx + before, line, len);
}

static void tcp_abort(struct tcb *c)
{
    send_tcp(c, F_RST | F_ACK, c->snd_nxt, c->rcv_nxt, NULL, 0, NULL, 0);
}

/* ---- synflood -------------------------------------------------------------- */

static int synflood(void)
{
    on_guest_ip = tcp_collect;
    unsigned long sent = 0;
    say("flooding %s:%u with %d SYNs/s for %d s from spoofed 10.99.0.%d-%d", ipstr(guest_ip),
        ntohs(guest_port), opt.rate, opt.seconds, FAKE_LO, FAKE_HI);
    double start = now(), end = start + opt.seconds;
    static struct tcb one;
    int second = 0;
    while (now() < end) {
        if (now() >= start + second + 1) {
            second++;
            say("second %d: %lu SYNs sent, %lu SYN-ACKs seen", second, sent, flood_synacks);
        }
        double due = start + (double)sent / opt.rate;
        if (now() < due) {
            pump((int)((due - now()) * 1000));
            continue;
        }
        one.src = random_fake_source();
        one.sport = (uint16_t)(1024 + rnd() % 64000);
        send_tcp(&one, F_SYN, rnd(), 0, NULL, 0, NULL, 0);
        sent++;
    }
    pump(1000);                            /* the SYN-ACKs still on their way */
    int srcs = 0;
    for (int i = 0; i <= FAKE_HI; i++)
        srcs += flood_synack_srcs[i] > 0;
    say("sent %lu SYNs in %.1f s (%.0f/s); SYN-ACKs seen: %lu, to %d distinct sources; "
        "%lu ARP answers", sent, now() - start - 1, sent / (double)opt.seconds, flood_synacks,
        srcs, arp_answered);
    return 0;
}

/* ---- ooo-flood ------------------------------------------------------------- */

static int ooo_flood(void)
{
    on_guest_ip = tcp_collect;
    static struct tcb c;
    tcp_connect(&c, host_in_subnet(30));
    if (!tcp_echo_line(&c, "hello\n", 5000))
        fail("the hand-made connection from %s does not echo", ipstr(c.src));
    say("connected from %s:%u, window %u (scale %d); flooding 1-byte segments with holes at "
        "%d/s for %d s", ipstr(c.src), c.sport, c.wnd, c.wscale, opt.pps, opt.seconds);
    uint32_t hole_at = c.snd_nxt;           /* never sent: every segment is beyond it */
    unsigned long sent = 0, answered_before = c.acks_in, last_second_answers = 0;
    uint32_t k = 1, max_k = 0;
    double start = now(), end = start + opt.seconds;
    unsigned long at_last_second = 0;
    int marked = 0, second = 0;
    while (now() < end && !c.rst) {
        if (now() >= start + second + 1) {
            second++;
            say("second %d: %lu segments sent, %lu answered", second, sent, c.acks_in - answered_before);
        }
        if (!marked && now() > end - 1) {
            at_last_second = c.acks_in;
            marked = 1;
        }
        double due = start + (double)sent / opt.pps;
        if (now() < due) {
            pump((int)((due - now()) * 1000));
            continue;
        }
        /* Inside the window the guest offers, wrapping (repeats then). */
        uint32_t wnd = c.wnd ? c.wnd : 65535;
        if (2 * k + 1 >= wnd)
            k = 1;
        send_tcp(&c, F_ACK, hole_at + 2 * k, c.rcv_nxt, NULL, 0, "x", 1);
        if (k > max_k)
            max_k = k;
        k++;
        sent++;
        if (!(sent & 63))
            pump(0);
    }
    pump(1000);
    if (!marked)
        at_last_second = c.acks_in;
    last_second_answers = c.acks_in - at_last_second;
    unsigned long answered = c.acks_in - answered_before;
    double secs = now() - start - 1;
    say("sent %lu out-of-order 1-byte segments in %.1f s (%.0f/s, up to %u bytes past the hole); "
        "the guest answered %lu (%.0f%%), %lu in the last second%s", sent, secs, sent / secs,
        2 * max_k + 1, answered, sent ? 100.0 * answered / sent : 0.0, last_second_answers,
        c.rst ? "; it reset the connection" : "");
    if (c.rst)
        fail("the guest reset the connection during the flood");
    /* The probe: the first byte of the hole, in order, must be taken and
     * ACKed (a capped queue may drop the flood's segments unanswered, as
     * Linux does, but never the in-order one). */
    double probe_start = now(), probe_end = probe_start + 3, resend = 0;
    while (now() < probe_end && !c.rst && (int32_t)(c.last_ack - (hole_at + 1)) < 0) {
        if (now() >= resend) {
            send_tcp(&c, F_ACK | F_PSH, hole_at, c.rcv_nxt, NULL, 0, "h", 1);
            resend = now() + 0.5;
        }
        pump(20);
    }
    int probe_ok = (int32_t)(c.last_ack - (hole_at + 1)) >= 0;
    if (probe_ok)
        say("the in-order probe after the flood was ACKed in %.0f ms", (now() - probe_start) * 1000);
    tcp_abort(&c);
    if (!probe_ok)
        fail("the in-order byte after the flood was not ACKed within 3 s (last ACK %u, want %u)",
             c.last_ack, hole_at + 1);
    if (answered * 100 < (unsigned long)opt.min_answer_pct * sent)
        fail("the guest answered %lu of %lu segments (< %d%%)", answered, sent, opt.min_answer_pct);
    say("ok");
    return 0;
}

/* ---- bcast-syn --------------------------------------------------------------- */

static uint32_t watched_src;
static uint16_t watched_port;       /* host order; 0: any */
static unsigned long watched_synacks, watched_arps;

static void bcast_collect(const uint8_t *ip, size_t len)
{
    uint32_t dst;
    memcpy(&dst, ip + 16, 4);
    if (ip[9] == IPPROTO_TCP && len >= IP_HLEN_ + TCP_HLEN_ && dst == watched_src &&
        !memcmp(ip + IP_HLEN_, &guest_port, 2) &&
        (!watched_port || get16(ip + IP_HLEN_ + 2) == watched_port) &&
        (ip[IP_HLEN_ + 13] & (F_SYN | F_ACK)) == (F_SYN | F_ACK))
        watched_synacks++;
    else
        tcp_collect(ip, len);
}

static void bcast_arp(uint32_t target)
{
    if (target == watched_src)
        watched_arps++;
}

static int bcast_syn(void)
{
    on_guest_ip = bcast_collect;
    on_guest_arp_request = bcast_arp;
    uint32_t sources[3] = { host_in_subnet(255), htonl(0xffffffffu), htonl(0xe0000001u) };
    int bad = 0;
    for (int i = 0; i < 3; i++) {
        static struct tcb c;
        memset(&c, 0, sizeof(c));
        c.src = watched_src = sources[i];
        c.sport = (uint16_t)(30000 + i);
        watched_synacks = watched_arps = 0;
        for (int j = 0; j < 2; j++) {
            send_tcp(&c, F_SYN, rnd(), 0, NULL, 0, NULL, 0);
            pump(1000);
        }
        if (watched_synacks || watched_arps) {
            say("FAIL: SYN from %s: the guest answered (%lu SYN-ACKs, %lu ARP requests for it)",
                ipstr(sources[i]), watched_synacks, watched_arps);
            bad++;
        } else {
            say("SYN from %s: no answer (right)", ipstr(sources[i]));
        }
    }
    /* RFC 1122 4.2.3.10 also: a SYN addressed to a broadcast or
     * multicast address is silently discarded (the frame still comes to
     * the guest's MAC, as a hostile host would send it). */
    uint32_t dests[3] = { host_in_subnet(255), htonl(0xffffffffu), htonl(0xe0000001u) };
    for (int i = 0; i < 3; i++) {
        static struct tcb c;
        memset(&c, 0, sizeof(c));
        c.src = watched_src = host_in_subnet(41);
        c.dst = dests[i];
        c.sport = (uint16_t)(30010 + i);
        watched_synacks = 0;
        watched_port = c.sport;
        for (int j = 0; j < 2; j++) {
            send_tcp(&c, F_SYN, rnd(), 0, NULL, 0, NULL, 0);
            pump(1000);
        }
        if (watched_synacks) {
            say("FAIL: SYN to %s: the guest answered (%lu SYN-ACKs)", ipstr(dests[i]),
                watched_synacks);
            bad++;
        } else {
            say("SYN to %s: no answer (right)", ipstr(dests[i]));
        }
    }
    watched_src = 0;
    watched_port = 0;
    static struct tcb good;
    memset(&good, 0, sizeof(good));
    good.src = host_in_subnet(40);
    good.sport = 30100;
    if (!tcp_syn(&good, 4000, 0)) {
        say("FAIL: positive control: no SYN-ACK to a SYN from %s", ipstr(good.src));
        bad++;
    } else {
        say("positive control: SYN from %s answered with a SYN-ACK", ipstr(good.src));
        tcp_abort(&good);
    }
    if (bad)
        fail("%d of 7 checks failed", bad);
    say("ok");
    return 0;
}

/* ---- challenge-ack ------------------------------------------------------------ */

static int challenge_ack(void)
{
    on_guest_ip = tcp_collect;
    static struct tcb c;
    tcp_connect(&c, host_in_subnet(50));
    if (!tcp_echo_line(&c, "before\n", 5000))
        fail("the hand-made connection from %s does not echo", ipstr(c.src));
    uint32_t wnd = c.wnd > 2 ? c.wnd : 2;
    unsigned long acks_before = c.acks_in;
    c.segs_in = 0;
    double start = now();
    for (int i = 0; i < opt.count; i++) {
        /* Paced: a burst beyond what the tap queues (500 frames) and the
         * guest's receive ring hold would be dropped before the stack
         * saw it, and the count of answers would say nothing. */
        double due = start + 2.0 * i / opt.pps;
        if (now() < due)
            pump((int)((due - now()) * 1000));
        /* In the window, never the exact next sequence number. */
        send_tcp(&c, F_RST, c.snd_nxt + 1 + (uint32_t)(i % (wnd - 1 < 60000 ? wnd - 1 : 60000)),
                 0, NULL, 0, NULL, 0);
        send_tcp(&c, F_SYN, c.snd_nxt + (uint32_t)(rnd() % wnd), 0, NULL, 0, NULL, 0);
        pump(0);
    }
    double sent_in = now() - start;
    /* Until the answers stop: 1 s of quiet, at most 10 s. */
    double quiet_end = now() + 1, hard_end = now() + 10;
    unsigned long seen = c.acks_in;
    while (now() < quiet_end && now() < hard_end) {
        pump(100);
        if (c.acks_in != seen) {
            seen = c.acks_in;
            quiet_end = now() + 1;
        }
    }
    unsigned long acks = c.acks_in - acks_before;
    double span = acks ? c.last_in - start : sent_in;
    /* L per started second of the answers' span, and half again: Linux
     * draws each second's quota at random from [L/2, 3L/2) so that the
     * count itself says nothing to a blind attacker (CVE-2016-5696). */
    unsigned long allowed = (unsigned long)opt.limit * (1 + (unsigned long)span) * 3 / 2;
    say("sent %d in-window RSTs and %d SYNs in %.2f s; challenge ACKs: %lu over %.2f s "
        "(%.0f/s; allowed %lu at %d/s and a random quota's slack)", opt.count, opt.count, sent_in, acks, span,
        span > 0 ? acks / span : 0.0, allowed, opt.limit);
    int alive = !c.rst && tcp_echo_line(&c, "after\n", 5000);
    say("the connection %s", alive ? "survived and still echoes" : "did not survive");
    tcp_abort(&c);
    if (!acks)
        fail("no challenge ACK at all (RFC 5961 3.2 and 4.2 ask for them)");
    if (acks > allowed)
        fail("%lu challenge ACKs in %.2f s: not rate-limited (RFC 5961 section 7; at most %d/s)",
             acks, span, opt.limit);
    if (!alive)
        fail("the blind RSTs/SYNs ended the connection");
    say("ok");
    return 0;
}

/* ---- frag-flood ------------------------------------------------------------------ */

static int frag_flood(void)
{
    on_guest_ip = udp_collect;
    uint32_t g = host_in_subnet(60), h = host_in_subnet(61);
    static uint8_t data[1392], dg[1400], junk[512];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)('G' + i % 19);
    memset(junk, 'j', sizeof(junk));
    /* A warm-up from H: the guest is up and knows H's MAC. */
    if (!echo_fragmented(h, 6100, data, sizeof(data), 704, 3000))
        fail("a fragmented datagram from %s was not echoed before the flood", ipstr(h));
    size_t dl = udp_build(dg, g, 6000, data, sizeof(data), 1);
    uint16_t gid = next_ip_id++;
    send_frag(g, gid, dg, 0, 704, 1);
    double start = now();
    unsigned long sent = 0;
    while (sent < (unsigned long)opt.count) {
        double due = start + (double)sent / opt.pps;
        if (now() < due) {
            pump((int)((due - now()) * 1000));
            continue;
        }
        static uint8_t first[512];
        uint32_t src = random_fake_source();
        while (src == g || src == h)
            src = random_fake_source();
        udp_build(first, src, (uint16_t)(7000 + sent % 1000), junk, sizeof(first) - UDP_HLEN_, 0);
        /* Claims 1400 bytes in UDP's length; only ever the first 512 come. */
        put16(first + 4, 1400);
        send_ip(src, guest_ip, IPPROTO_UDP, (uint16_t)(0x8000 + sent), 0x2000, first, sizeof(first));
        sent++;
    }
    double took = now() - start;
    send_frag(g, gid, dg, 704, (uint32_t)(dl - 704), 0);
    struct reply *r = wait_reply(6000, 3000);
    int g_ok = r && r->len == sizeof(data) && !memcmp(r->data, data, sizeof(data));
    int h_ok = echo_fragmented(h, 6101, data, sizeof(data), 512, 3000);
    say("sent %lu first fragments of distinct datagrams in %.2f s (%.0f/s), between the halves of "
        "%s's datagram", sent, took, sent / (took > 0 ? took : 1), ipstr(g));
    say("%s's datagram (begun before the flood): %s; %s's (after it): %s; the guest %s",
        ipstr(g), g_ok ? "echoed intact" : "NOT echoed", ipstr(h), h_ok ? "echoed intact" : "NOT echoed",
        h_ok || g_ok ? "stayed up" : "no longer echoes");
    if (count_replies(6000) > 1)
        fail("%s's datagram came back %d times", ipstr(g), count_replies(6000));
    if (!g_ok)
        fail("the flood of first fragments evicted a datagram in progress from %s", ipstr(g));
    if (!h_ok)
        fail("after the flood a fragmented datagram from %s was not echoed", ipstr(h));
    say("ok");
    return 0;
}

/* ---- udp-quit -------------------------------------------------------------------- */

/* "quit" to the echo port from a fake host: ends apps/udpecho, which then
 * prints its counts (the tests' proof that it was alive to the end). */
static int udp_quit(void)
{
    static uint8_t dg[16];
    uint32_t src = host_in_subnet(FAKE_HI);
    size_t len = udp_build(dg, src, 9999, "quit", 4, 1);
    send_ip(src, guest_ip, IPPROTO_UDP, next_ip_id++, 0, dg, len);
    say("sent");
    return 0;
}

/* ----------------------------------------------------------------- main --- */

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "rawpeer: FAIL: not done within --timeout seconds\n";
    ssize_t r = write(1, msg, sizeof(msg) - 1);
    (void)r;
    _exit(1);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        usage("which attack?");
    tool_mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i], *v = option_value(argc, argv, &i);
        if (!strcmp(k, "--dev")) {
            if (strlen(v) >= sizeof(opt.dev))
                usage("--dev: name too long");
            strcpy(opt.dev, v);
        } else if (!strcmp(k, "--to")) {
            const char *why = parse_to_option(v, &opt.to);
            if (why)
                usage(why);
            opt.have_to = 1;
        } else if (!strcmp(k, "--rate")) {
            opt.rate = parse_int(v, "--rate", 1, 100000);
        } else if (!strcmp(k, "--seconds")) {
            opt.seconds = parse_int(v, "--seconds", 1, 600);
        } else if (!strcmp(k, "--pps")) {
            opt.pps = parse_int(v, "--pps", 1, 1000000);
        } else if (!strcmp(k, "--count")) {
            opt.count = parse_int(v, "--count", 1, 1000000);
        } else if (!strcmp(k, "--limit")) {
            opt.limit = parse_int(v, "--limit", 1, 1000000);
        } else if (!strcmp(k, "--min-answer-pct")) {
            opt.min_answer_pct = parse_int(v, "--min-answer-pct", 0, 100);
        } else if (!strcmp(k, "--timeout")) {
            opt.timeout = parse_int(v, "--timeout", 1, 3600);
        } else {
            usage("unknown option");
        }
    }
    if (!opt.dev[0] || !opt.have_to)
        usage("--dev and --to are required");
    static const struct {
        const char *name;
        int (*run)(void);
    } attacks[] = {
        { "reasm-leak", reasm_leak }, { "synflood", synflood }, { "ooo-flood", ooo_flood },
        { "bcast-syn", bcast_syn }, { "challenge-ack", challenge_ack }, { "frag-flood", frag_flood },
        { "udp-quit", udp_quit },
    };
    for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++)
        if (!strcmp(tool_mode, attacks[i].name)) {
            signal(SIGALRM, on_alarm);
            alarm((unsigned)opt.timeout);
            link_open();
            return attacks[i].run();
        }
    usage("unknown attack");
}
