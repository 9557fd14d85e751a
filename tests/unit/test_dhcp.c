/*
 * The DHCP client (kernel/net/dhcp.c) on the host, against a fake server
 * written here: the client's frames are captured from a fake interface and
 * parsed, the server's replies are built and fed through net_input, and a
 * fake clock drives net_tick in 100 ms steps as the kernel's timer thread
 * does. Checks the whole DORA exchange and the interface's configuration,
 * retransmission with backoff, NAK, renewal at T1, rebinding at T2, the
 * lease running out, and that malformed or foreign replies are ignored
 * (AddressSanitizer watches the option parser).
 */
#include "check.h"

#include <kern/byteorder.h>
#include <kern/kmalloc.h>
#include <kern/net.h>
#include <kern/socket.h>
#include <kern/waitq.h>
#include "net_internal.h"

#define SEC 1000000000ULL
#define MS  1000000ULL
#define TICK (100 * MS)

#define NET_HOST_START_NS (1000 * SEC)
#include "net_host.h"
#include "net_fake_link.h"

/* Deterministic, so that a failure reproduces; the tests allow for any
 * value (xids differ, jitter stays within ±1 s). */
uint64_t random_u64(void) { return check_rng(); }

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t server_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static struct netif ifp;

#define SERVER   ip4(10, 0, 0, 1)
#define OFFERED  ip4(10, 0, 0, 50)
#define MASK24   ip4(255, 255, 255, 0)
#define BCAST    0xffffffffu

/* A DHCP message from the client, as the server saw it. */
struct cmsg {
    uint64_t at;
    bool ok;                            /* every header and checksum right */
    bool eth_bcast;
    uint32_t ip_src, ip_dst;
    uint8_t type;
    uint32_t xid, ciaddr, requested, server;
    uint16_t secs;
    uint8_t prl[64];
    int nprl;
};

#define MAX_MSGS 512
static struct cmsg msgs[MAX_MSGS];
static int nmsgs;
static int garps;                       /* gratuitous ARPs seen */
static uint32_t garp_ip;
static int other_frames;

static bool csum_ok(const void *p, size_t n, uint32_t sum)
{
    return inet_fold(inet_sum(p, n, sum)) == 0;
}

static void parse_client_msg(const uint8_t *f, uint32_t len)
{
    if (nmsgs == MAX_MSGS)
        return;
    struct cmsg *c = &msgs[nmsgs++];
    memset(c, 0, sizeof(*c));
    c->at = fake_now;
    c->eth_bcast = !memcmp(f, "\xff\xff\xff\xff\xff\xff", 6);
    const uint8_t *ip = f + 14;
    memcpy(&c->ip_src, ip + 12, 4);
    memcpy(&c->ip_dst, ip + 16, 4);
    const uint8_t *u = ip + 20;
    uint16_t ulen = get_be16(u + 4);
    bool ok = !memcmp(f + 6, our_mac, 6) && ip[0] == 0x45 && csum_ok(ip, 20, 0) &&
              get_be16(ip + 2) == len - 14 && ulen == len - 34 && get_be16(u) == 68 &&
              get_be16(u + 2) == 67 && get_be16(u + 6) != 0 &&
              csum_ok(u, ulen, ip_pseudo_sum(c->ip_src, c->ip_dst, 17, ulen));
    const uint8_t *m = u + 8;
    uint32_t mlen = ulen - 8u;
    ok = ok && mlen >= 300 && m[0] == 1 && m[1] == 1 && m[2] == 6 &&
         !memcmp(m + 28, our_mac, 6) && get_be32(m + 236) == 0x63825363;
    c->xid = get_be32(m + 4);
    c->secs = get_be16(m + 8);
    memcpy(&c->ciaddr, m + 12, 4);
    /* The options, strictly: each must fit, and END must come. */
    bool end = false;
    for (uint32_t i = 240; ok && i < mlen && !end;) {
        uint8_t code = m[i++];
        if (code == 0)
            continue;
        if (code == 255) {
            end = true;
            break;
        }
        if (i >= mlen || m[i] > mlen - i - 1) {
            ok = false;
            break;
        }
        uint8_t n = m[i++];
        const uint8_t *v = m + i;
        if (code == 53 && n == 1)
            c->type = v[0];
        else if (code == 50 && n == 4)
            memcpy(&c->requested, v, 4);
        else if (code == 54 && n == 4)
            memcpy(&c->server, v, 4);
        else if (code == 55) {
            memcpy(c->prl, v, n < sizeof(c->prl) ? n : sizeof(c->prl));
            c->nprl = n;
        } else if (code == 61)
            ok = ok && n == 7 && v[0] == 1 && !memcmp(v + 1, our_mac, 6);
        i += n;
    }
    c->ok = ok && end && c->type;
}

/* The server answers ARP for every address but ours (it stands in for
 * the whole link), from its own MAC. */
static void arp_reply_from_server(uint32_t spa)
{
    uint8_t r[60];
    fake_arp_frame(r, our_mac, 2, server_mac, spa, our_mac, ifp.ip);
    struct netbuf *nb = netbuf_alloc(sizeof(r));
    memcpy(netbuf_put(nb, sizeof(r)), r, sizeof(r));
    net_input(&ifp, nb);
}

/* Look at everything the interface sent: DHCP messages are recorded, ARP
 * requests answered (which may send more). */
static void collect(void)
{
    static uint8_t f[MAX_SENT][sizeof(sent[0])];
    static uint32_t flen[MAX_SENT];
    while (nsent) {
        int n = nsent;
        memcpy(f, sent, sizeof(sent[0]) * (size_t)n);
        memcpy(flen, sent_len, sizeof(sent_len[0]) * (size_t)n);
        nsent = 0;
        for (int i = 0; i < n; i++) {
            const uint8_t *p = f[i];
            uint16_t type = get_be16(p + 12);
            if (type == ETH_P_ARP && get_be16(p + 14 + 6) == 1) {
                uint32_t spa, tpa;
                memcpy(&spa, p + 14 + 14, 4);
                memcpy(&tpa, p + 14 + 24, 4);
                if (spa == tpa) {
                    garps++;
                    garp_ip = spa;
                } else {
                    arp_reply_from_server(tpa);
                }
            } else if (type == ETH_P_IP && flen[i] >= 14 + 20 + 8 && p[14 + 9] == 17 &&
                       get_be16(p + 14 + 20 + 2) == 67) {
                parse_client_msg(p, flen[i]);
            } else {
                other_frames++;
            }
        }
    }
}

static struct cmsg *last_msg(void)
{
    return nmsgs ? &msgs[nmsgs - 1] : NULL;
}

/* Tick until the client sends another DHCP message or limit passes;
 * the message, or NULL. */
static struct cmsg *next_msg(uint64_t limit)
{
    int n = nmsgs;
    uint64_t end = fake_now + limit;
    while (nmsgs == n && fake_now < end) {
        fake_now += TICK;
        net_tick();
        collect();
    }
    return nmsgs > n ? &msgs[n] : NULL;
}

/* ---- the fake server's replies ------------------------------------------------------- */

struct reply {
    uint8_t op;                         /* 0: BOOTREPLY */
    uint8_t type;                       /* option 53; 0: none */
    uint32_t xid, yiaddr;
    uint32_t server_id;                 /* 0: none */
    uint32_t mask, router, dns, t1, t2;             /* 0: none */
    uint32_t lease;
    bool no_lease;                      /* leave option 51 out */
    uint16_t mtu;
    bool unicast;                       /* to yiaddr and our MAC, else broadcast */
};

/* The BOOTP message for r into m (at least 576 bytes); its length. */
static uint32_t build_msg(uint8_t *m, const struct reply *r)
{
    memset(m, 0, 576);
    m[0] = r->op ? r->op : 2;
    m[1] = 1;
    m[2] = 6;
    put_be32(m + 4, r->xid);
    memcpy(m + 16, &r->yiaddr, 4);
    memcpy(m + 20, &r->server_id, 4);           /* siaddr, for realism */
    memcpy(m + 28, our_mac, 6);
    put_be32(m + 236, 0x63825363);
    uint8_t *o = m + 240;
    if (r->type) {
        *o++ = 53;
        *o++ = 1;
        *o++ = r->type;
    }
#define OPT4(code, val) do { if (val) { *o++ = (code); *o++ = 4; memcpy(o, &(val), 4); o += 4; } } while (0)
#define OPT4BE(code, val) do { if (val) { *o++ = (code); *o++ = 4; put_be32(o, (val)); o += 4; } } while (0)
    OPT4(54, r->server_id);
    OPT4(1, r->mask);
    OPT4(3, r->router);
    OPT4(6, r->dns);
    if (!r->no_lease) {
        *o++ = 51;
        *o++ = 4;
        put_be32(o, r->lease);
        o += 4;
    }
    OPT4BE(58, r->t1);
    OPT4BE(59, r->t2);
    if (r->mtu) {
        *o++ = 26;
        *o++ = 2;
        put_be16(o, r->mtu);
        o += 2;
    }
    *o++ = 255;
    uint32_t len = (uint32_t)(o - m);
    return len < 300 ? 300 : len;
}

/* Wrap a BOOTP message of mlen bytes into a frame from the server, with
 * right lengths and checksums, and feed it to the stack. */
static void inject_msg(const uint8_t *m, uint32_t mlen, bool unicast, uint32_t yiaddr)
{
    static uint8_t f[2048];
    uint32_t dst = unicast ? yiaddr : BCAST, src = SERVER;
    memcpy(f, unicast ? our_mac : (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 6);
    memcpy(f + 6, server_mac, 6);
    put_be16(f + 12, ETH_P_IP);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put_be16(ip + 2, (uint16_t)(20 + 8 + mlen));
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, &src, 4);
    memcpy(ip + 16, &dst, 4);
    put_be16(ip + 10, inet_fold(inet_sum(ip, 20, 0)));
    uint8_t *u = ip + 20;
    put_be16(u, 67);
    put_be16(u + 2, 68);
    put_be16(u + 4, (uint16_t)(8 + mlen));
    put_be16(u + 6, 0);
    memcpy(u + 8, m, mlen);
    uint16_t c = inet_fold(inet_sum(u, 8 + mlen, ip_pseudo_sum(src, dst, 17, (uint16_t)(8 + mlen))));
    put_be16(u + 6, c ? c : 0xffff);
    uint32_t len = 14 + 20 + 8 + mlen;
    struct netbuf *nb = netbuf_alloc(len);
    memcpy(netbuf_put(nb, len), f, len);
    net_input(&ifp, nb);
    collect();
}

static void reply(const struct reply *r)
{
    uint8_t m[576];
    uint32_t n = build_msg(m, r);
    inject_msg(m, n, r->unicast, r->yiaddr);
}

static struct reply offer_for(uint32_t xid)
{
    struct reply r = { .type = 2, .xid = xid, .yiaddr = OFFERED, .server_id = SERVER,
                       .mask = MASK24, .router = SERVER, .dns = ip4(10, 0, 0, 3),
                       .lease = 3600 };
    return r;
}

static struct reply ack_for(uint32_t xid, uint32_t lease)
{
    struct reply r = offer_for(xid);
    r.type = 5;
    r.lease = lease;
    return r;
}

/* Where build_msg put the END option (walking, since 255 occurs in data). */
static uint8_t *end_option(uint8_t *m)
{
    uint32_t i = 240;
    while (m[i] != 255)
        i += m[i] ? 2u + m[i + 1] : 1u;
    return m + i;
}

static bool prl_has(const struct cmsg *c, uint8_t code)
{
    for (int i = 0; i < c->nprl; i++)
        if (c->prl[i] == code)
            return true;
    return false;
}

/* A fresh interface running the client; its first DISCOVER. */
static struct cmsg *start(void)
{
    fake_link_reset(&ifp, our_mac);
    nmsgs = 0;
    garps = 0;
    other_frames = 0;
    ifp.up = true;
    dhcp_start(&ifp);
    collect();
    return nmsgs == 1 ? &msgs[0] : NULL;
}

/* DISCOVER, OFFER, REQUEST, ACK with the given lease (and the ACK's
 * extra options from ack); the time of the ACK. */
static uint64_t bind_with(struct reply ack)
{
    struct cmsg *d = start();
    CHECK(d && d->type == 1);
    if (!d)
        return 0;
    struct reply o = offer_for(d->xid);
    reply(&o);
    struct cmsg *rq = last_msg();
    CHECK(rq && rq->type == 3 && rq->xid == d->xid);
    ack.xid = d->xid;
    reply(&ack);
    CHECK(ifp.ip == ack.yiaddr);
    return fake_now;
}

static uint64_t bind_lease(uint32_t lease)
{
    return bind_with(ack_for(0, lease));
}

/* ---- tests ----------------------------------------------------------------------------- */

TEST(dora_configures_the_interface)
{
    struct cmsg *d = start();
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK(d->ok);
    CHECK(d->type == 1);                                /* DISCOVER */
    CHECK(d->eth_bcast && d->ip_src == 0 && d->ip_dst == BCAST);
    CHECK(d->ciaddr == 0 && d->requested == 0 && d->server == 0);
    CHECK(prl_has(d, 1) && prl_has(d, 3) && prl_has(d, 6) && prl_has(d, 51) && prl_has(d, 26));
    CHECK(dhcp_pending());
    CHECK(ifp.ip == 0);

    struct reply o = offer_for(d->xid);
    reply(&o);
    CHECK(nmsgs == 2);
    struct cmsg *rq = last_msg();
    CHECK(rq->ok && rq->type == 3);                     /* REQUEST */
    CHECK(rq->xid == d->xid);
    CHECK(rq->eth_bcast && rq->ip_src == 0 && rq->ip_dst == BCAST && rq->ciaddr == 0);
    CHECK(rq->requested == OFFERED && rq->server == SERVER);
    CHECK(ifp.ip == 0);                                 /* not before the ACK */

    struct reply a = ack_for(d->xid, 3600);
    reply(&a);
    CHECK(ifp.ip == OFFERED);
    CHECK(ifp.netmask == MASK24);
    CHECK(ifp.gateway == SERVER);
    CHECK(ifp.up);
    CHECK(!dhcp_pending());
    CHECK(garps == 1 && garp_ip == OFFERED);            /* announced */
    CHECK(other_frames == 0);                           /* no ICMP errors about replies */
    uint32_t hop;
    CHECK(ip_route(ip4(8, 8, 8, 8), &hop) == &ifp && hop == SERVER);
    CHECK(ip_route(ip4(10, 0, 0, 77), &hop) == &ifp && hop == ip4(10, 0, 0, 77));
    /* Quiet until T1 (half of 3600 s). */
    CHECK(next_msg(1799 * SEC) == NULL);
    struct cmsg *renew = next_msg(2 * SEC);
    CHECK(renew && renew->type == 3 && renew->ip_src == OFFERED);
}

TEST(lost_offer_means_discover_again_with_backoff)
{
    struct cmsg *d = start();
    CHECK(d != NULL);
    if (!d)
        return;
    uint32_t xid = d->xid;
    uint64_t last = d->at;
    /* RFC 2131 4.1: 4, 8, 16, 32, 64, 64 s, each ±1 s; ticks add 0.1 s. */
    static const uint64_t want[] = { 4, 8, 16, 32, 64, 64 };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct cmsg *c = next_msg(100 * SEC);
        CHECK(c != NULL);
        if (!c)
            return;
        uint64_t gap = c->at - last;
        if (gap < (want[i] - 1) * SEC || gap > (want[i] + 1) * SEC + TICK)
            printf("  retransmission %zu after %llu ms, wanted %llu s ± 1 s\n", i + 1,
                   (unsigned long long)(gap / MS), (unsigned long long)want[i]);
        CHECK(gap >= (want[i] - 1) * SEC && gap <= (want[i] + 1) * SEC + TICK);
        CHECK(c->ok && c->type == 1 && c->xid == xid);  /* the same exchange */
        CHECK(c->secs == (c->at - d->at) / SEC);        /* secs since it began */
        last = c->at;
    }
    /* Now an answer: on to REQUEST, which is retransmitted the same way,
     * and after four unanswered REQUESTs the client starts over. */
    struct reply o = offer_for(xid);
    reply(&o);
    struct cmsg *rq = last_msg();
    CHECK(rq->type == 3 && rq->xid == xid);
    last = rq->at;
    static const uint64_t want_rq[] = { 4, 8, 16 };
    for (size_t i = 0; i < 3; i++) {
        struct cmsg *c = next_msg(100 * SEC);
        CHECK(c && c->type == 3 && c->requested == OFFERED);
        if (!c)
            return;
        uint64_t gap = c->at - last;
        CHECK(gap >= (want_rq[i] - 1) * SEC && gap <= (want_rq[i] + 1) * SEC + TICK);
        last = c->at;
    }
    struct cmsg *again = next_msg(100 * SEC);
    CHECK(again && again->type == 1 && again->xid != xid);
    if (again)
        CHECK(again->at - last >= 31 * SEC && again->at - last <= 33 * SEC + TICK);
    CHECK(ifp.ip == 0 && dhcp_pending());
    /* And that exchange works. */
    if (again) {
        struct reply o2 = offer_for(again->xid);
        reply(&o2);
        struct reply a = ack_for(again->xid, 600);
        reply(&a);
        CHECK(ifp.ip == OFFERED);
    }
}

TEST(nak_restarts)
{
    struct cmsg *d = start();
    CHECK(d != NULL);
    if (!d)
        return;
    struct reply o = offer_for(d->xid);
    reply(&o);
    struct reply nak = { .type = 6, .xid = d->xid, .server_id = SERVER };
    reply(&nak);
    struct cmsg *c = last_msg();
    CHECK(nmsgs == 3 && c->type == 1 && c->xid != d->xid);  /* DISCOVER at once */
    CHECK(ifp.ip == 0);
    /* A second NAK for the old exchange means nothing now. */
    reply(&nak);
    CHECK(nmsgs == 3);
    struct reply o2 = offer_for(c->xid);
    reply(&o2);
    struct reply a = ack_for(c->xid, 1000);
    reply(&a);
    CHECK(ifp.ip == OFFERED);

    /* A NAK to a renewal takes the address away. */
    struct cmsg *renew = next_msg(501 * SEC);
    CHECK(renew && renew->type == 3 && renew->ciaddr == OFFERED);
    if (!renew)
        return;
    struct reply nak2 = { .type = 6, .xid = renew->xid, .server_id = SERVER,
                          .unicast = true, .yiaddr = 0 };
    /* Unicast to our address, as a server answers a renewing client. */
    uint8_t m[576];
    uint32_t n = build_msg(m, &nak2);
    inject_msg(m, n, true, OFFERED);
    CHECK(ifp.ip == 0 && ifp.gateway == 0);
    c = last_msg();
    CHECK(c->type == 1 && c->ip_src == 0 && c->ciaddr == 0);
    uint32_t hop;
    CHECK(ip_route(ip4(8, 8, 8, 8), &hop) == NULL);
}

TEST(renews_at_t1_from_its_address_to_the_server)
{
    uint64_t bound = bind_lease(1000);
    uint32_t old_xid = msgs[0].xid;
    CHECK(next_msg(499 * SEC) == NULL);
    struct cmsg *c = next_msg(2 * SEC);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(c->at - bound >= 500 * SEC && c->at - bound <= 500 * SEC + TICK);
    CHECK(c->ok && c->type == 3);
    CHECK(!c->eth_bcast);                               /* to the server's MAC (ARP) */
    CHECK(c->ip_src == OFFERED && c->ip_dst == SERVER && c->ciaddr == OFFERED);
    CHECK(c->requested == 0 && c->server == 0);         /* RFC 2131 4.3.2: not when renewing */
    CHECK(c->xid != old_xid);
    CHECK(ifp.ip == OFFERED);                           /* still in use meanwhile */
    /* The ACK extends the lease: the next renewal is T1 after this one. */
    struct reply a = ack_for(c->xid, 1000);
    a.unicast = true;
    reply(&a);
    uint64_t renewed = fake_now;
    CHECK(ifp.ip == OFFERED && ifp.gateway == SERVER);
    CHECK(garps == 1);                                  /* nothing new to announce */
    CHECK(next_msg(499 * SEC) == NULL);
    c = next_msg(2 * SEC);
    CHECK(c && c->type == 3 && c->at - renewed >= 500 * SEC);

    /* T1 and T2 from the server, when they make sense. */
    struct reply ack = ack_for(0, 1000);
    ack.t1 = 100;
    ack.t2 = 200;
    bound = bind_with(ack);
    c = next_msg(150 * SEC);
    CHECK(c && c->type == 3 && !c->eth_bcast && c->at - bound <= 100 * SEC + TICK);
    /* Half the 100 s left to T2 is less than the 60 s minimum. */
    c = next_msg(150 * SEC);
    CHECK(c && c->type == 3 && !c->eth_bcast && c->at - bound >= 160 * SEC &&
          c->at - bound <= 160 * SEC + TICK);
    c = next_msg(150 * SEC);
    CHECK(c && c->type == 3 && c->eth_bcast && c->at - bound >= 200 * SEC &&
          c->at - bound <= 200 * SEC + TICK);
}

TEST(rebinds_at_t2_by_broadcast)
{
    uint64_t bound = bind_lease(1000);
    /* Renewing from 500 s: again after half the time left to T2 (875 s),
     * at least 60 s: 687.5, 781.25, 841.25; then T2. */
    static const uint64_t want_ms[] = { 500000, 687500, 781250, 841250, 875000 };
    struct cmsg *c = NULL;
    for (size_t i = 0; i < sizeof(want_ms) / sizeof(want_ms[0]); i++) {
        c = next_msg(600 * SEC);
        CHECK(c && c->type == 3);
        if (!c)
            return;
        uint64_t at = c->at - bound;
        CHECK(at >= want_ms[i] * MS && at <= want_ms[i] * MS + TICK);
        bool rebinding = i == 4;
        CHECK(c->eth_bcast == rebinding);
        CHECK(c->ip_dst == (rebinding ? BCAST : SERVER));
        CHECK(c->ip_src == OFFERED && c->ciaddr == OFFERED && c->ok);
        CHECK(c->requested == 0 && c->server == 0);
    }
    CHECK(ifp.ip == OFFERED);
    /* Any server may answer a rebinding client; this one does. */
    struct reply a = ack_for(c->xid, 1000);
    a.server_id = ip4(10, 0, 0, 9);
    reply(&a);
    CHECK(ifp.ip == OFFERED && ifp.netmask == MASK24 && ifp.gateway == SERVER);
    uint64_t rebound = fake_now;
    c = next_msg(600 * SEC);
    CHECK(c && c->type == 3 && c->at - rebound >= 500 * SEC);
    CHECK(c && c->ip_dst == ip4(10, 0, 0, 9));          /* the server that answered */
}

TEST(expiry_drops_the_address)
{
    uint64_t bound = bind_lease(1000);
    /* Unanswered: renewing, rebinding at 875 s, again at 937.5 and 997.5 s. */
    struct cmsg *c;
    int rebinds = 0;
    while ((c = next_msg(600 * SEC)) && c->type == 3) {
        CHECK(ifp.ip == OFFERED);
        if (c->eth_bcast)
            rebinds++;
    }
    CHECK(rebinds == 3);
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK(c->type == 1 && c->ip_src == 0 && c->ciaddr == 0 && c->eth_bcast);
    CHECK(c->at - bound >= 1000 * SEC && c->at - bound <= 1000 * SEC + TICK);
    CHECK(ifp.ip == 0 && ifp.netmask == 0 && ifp.gateway == 0);
    uint32_t hop;
    CHECK(ip_route(ip4(10, 0, 0, 1), &hop) == NULL);
    /* A new lease, possibly another address. */
    struct reply o = offer_for(c->xid);
    o.yiaddr = ip4(10, 0, 0, 51);
    reply(&o);
    struct reply a = ack_for(c->xid, 1000);
    a.yiaddr = ip4(10, 0, 0, 51);
    reply(&a);
    CHECK(ifp.ip == ip4(10, 0, 0, 51) && garp_ip == ip4(10, 0, 0, 51));
}

/* Inject a message and check that the client did not move. */
static void ignored(const uint8_t *m, uint32_t len, const char *what)
{
    int before = nmsgs;
    uint32_t ip = ifp.ip;
    inject_msg(m, len, false, 0);
    if (nmsgs != before || ifp.ip != ip)
        printf("  the client acted on: %s\n", what);
    CHECK(nmsgs == before && ifp.ip == ip);
}

TEST(malformed_and_foreign_replies_are_ignored)
{
    struct cmsg *d = start();
    CHECK(d != NULL);
    if (!d)
        return;
    uint32_t xid = d->xid;
    uint8_t m[576];
    struct reply good = offer_for(xid);
    uint32_t n;

    struct reply r = good;
    r.xid = xid + 1;
    n = build_msg(m, &r);
    ignored(m, n, "wrong xid");
    n = build_msg(m, &good);
    m[28 + 5] ^= 1;
    ignored(m, n, "another client's hardware address");
    n = build_msg(m, &good);
    m[0] = 1;
    ignored(m, n, "a BOOTREQUEST");
    n = build_msg(m, &good);
    m[2] = 16;
    ignored(m, n, "hlen 16");
    n = build_msg(m, &good);
    put_be32(m + 236, 0x63825364);
    ignored(m, n, "bad magic cookie");
    n = build_msg(m, &good);
    ignored(m, 239, "truncated before the cookie's end");
    ignored(m, 100, "truncated in the header");
    ignored(m, 0, "empty");
    /* Truncated in the netmask option (after a good type and server id,
     * so only the overrun is wrong): its length says 4, 2 bytes remain. */
    n = build_msg(m, &good);
    CHECK(m[243] == 54 && m[249] == 1);
    ignored(m, 253, "an option running past the end");
    n = build_msg(m, &good);
    m[250] = 200;                                       /* the netmask's length */
    ignored(m, n, "an option length past the end");
    n = build_msg(m, &good);
    m[249] = 3;                                         /* a code, no length byte */
    ignored(m, 250, "an option code as the last byte");
    r = good;
    r.type = 0;
    n = build_msg(m, &r);
    ignored(m, n, "no message type");
    r = good;
    r.server_id = 0;
    n = build_msg(m, &r);
    ignored(m, n, "an offer without a server id");
    r = good;
    r.type = 5;
    n = build_msg(m, &r);
    ignored(m, n, "an ACK while selecting");
    r = good;
    r.type = 6;
    n = build_msg(m, &r);
    ignored(m, n, "a NAK while selecting");
    static const int bad_addrs[][4] = {
        { 0, 0, 0, 0 }, { 127, 0, 0, 1 }, { 224, 0, 0, 1 }, { 255, 255, 255, 255 },
    };
    for (size_t i = 0; i < 4; i++) {
        r = good;
        r.yiaddr = ip4(bad_addrs[i][0], bad_addrs[i][1], bad_addrs[i][2], bad_addrs[i][3]);
        n = build_msg(m, &r);
        ignored(m, n, "an unusable address");
    }
    /* Options overloaded into 'file' that overrun it. */
    n = build_msg(m, &good);
    uint8_t *e = end_option(m);
    e[0] = 52;
    e[1] = 1;
    e[2] = 1;                                           /* file holds options */
    e[3] = 255;
    memset(m + 108, 0, 128);
    m[108] = 3;
    m[109] = 130;
    ignored(m, n, "an option overrunning 'file'");
    CHECK(ifp.ip == 0);

    /* The real offer still works... */
    reply(&good);
    CHECK(last_msg()->type == 3);
    /* ...and in REQUESTING, bad ACKs are ignored too. */
    struct reply a = ack_for(xid, 3600);
    r = a;
    r.no_lease = true;
    n = build_msg(m, &r);
    ignored(m, n, "an ACK without a lease time");
    r = a;
    r.server_id = ip4(10, 0, 0, 99);
    n = build_msg(m, &r);
    ignored(m, n, "an ACK from a server we did not ask");
    r = a;
    r.xid = xid ^ 0x80000000u;
    n = build_msg(m, &r);
    ignored(m, n, "an ACK with the wrong xid");
    r = good;
    n = build_msg(m, &r);
    ignored(m, n, "an offer while requesting");
    CHECK(ifp.ip == 0);
    CHECK(other_frames == 0);       /* port 68 is the client's: no port unreachable */
    reply(&a);
    CHECK(ifp.ip == OFFERED);
}

TEST(random_replies_do_not_crash_the_parser)
{
    check_rng_seed(4242);
    int requests = 0;
    for (int i = 0; i < 20000; i++) {
        struct cmsg *d = start();
        if (!d) {
            CHECK(d != NULL);
            return;
        }
        uint8_t m[576];
        struct reply good = offer_for(d->xid);
        uint32_t n = build_msg(m, &good);
        /* Random bytes over the options (and, often, file and sname with
         * an overload option pointing at them), a random length. */
        /* Keep nothing, the message type, or type and server id. */
        static const uint32_t keep[3] = { 240, 243, 249 };
        uint32_t from = keep[i % 3];
        for (uint32_t k = from; k < sizeof(m); k++)
            m[k] = (uint8_t)check_rng();
        if (i & 2) {
            for (uint32_t k = 44; k < 236; k++)
                m[k] = (uint8_t)check_rng();
            m[243] = 52;
            m[244] = 1;
            m[245] = (uint8_t)(1 + check_rng() % 3);
        }
        n = 240 + (uint32_t)(check_rng() % (sizeof(m) - 240 + 1));
        inject_msg(m, n, false, 0);
        if (nmsgs > 1)
            requests++;                                 /* it took the offer: fine */
    }
    /* Some random options still form an acceptable offer. */
    CHECK(requests > 0);
    /* And garbage of every size to port 68. */
    for (int i = 0; i < 2000; i++) {
        uint8_t m[600];
        uint32_t n = (uint32_t)(check_rng() % sizeof(m));
        for (uint32_t k = 0; k < n; k++)
            m[k] = (uint8_t)check_rng();
        inject_msg(m, n, false, 0);
    }
    CHECK(1);
}

TEST(option_overload_defaults_and_mtu)
{
    /* The server id in 'file', only padding in 'sname' (option 52 = 3). */
    struct cmsg *d = start();
    CHECK(d != NULL);
    if (!d)
        return;
    uint8_t m[576];
    struct reply o = offer_for(d->xid);
    o.server_id = 0;
    uint32_t n = build_msg(m, &o);
    /* OVERLOAD where END was. */
    uint8_t *e = end_option(m);
    e[0] = 52;
    e[1] = 1;
    e[2] = 3;
    e[3] = 255;
    memset(m + 108, 0, 128);
    m[108] = 54;
    m[109] = 4;
    memcpy(m + 110, (uint32_t[]){ SERVER }, 4);
    m[114] = 255;
    memset(m + 44, 0, 64);
    m[44] = 0;                                          /* a pad first */
    m[45] = 255;
    inject_msg(m, n, false, 0);
    struct cmsg *rq = last_msg();
    CHECK(nmsgs == 2 && rq->type == 3 && rq->server == SERVER);

    /* No netmask: the address's class; a smaller MTU holds. */
    struct reply a = ack_for(d->xid, 3600);
    a.yiaddr = ip4(172, 16, 5, 5);
    a.mask = 0;
    a.mtu = 1400;
    reply(&a);
    CHECK(ifp.ip == ip4(172, 16, 5, 5));
    CHECK(ifp.netmask == ip4(255, 255, 0, 0));
    CHECK(ifp.mtu == 1400);

    /* A non-contiguous netmask is not taken either; a larger MTU is not. */
    a = ack_for(0, 3600);
    a.mask = ip4(255, 0, 255, 0);
    a.mtu = 9000;
    bind_with(a);
    CHECK(ifp.netmask == ip4(255, 0, 0, 0));            /* 10.0.0.50: class A */
    CHECK(ifp.mtu == 1500);
}

TEST(short_and_infinite_leases)
{
    /* A lease of 0 s counts as 10 s: renewal at 5 s, not at once. */
    uint64_t bound = bind_lease(0);
    uint64_t zero_floor_ok = 0;
    struct cmsg *c = next_msg(20 * SEC);
    CHECK(c && c->type == 3);
    if (c) {
        zero_floor_ok = c->at - bound;
        CHECK(zero_floor_ok >= 5 * SEC && zero_floor_ok <= 5 * SEC + TICK);
    }
    /* An infinite lease is never renewed. */
    bind_lease(0xffffffffu);
    int before = nmsgs;
    for (int i = 0; i < 1000; i++) {
        fake_now += 100000 * SEC;
        net_tick();
        collect();
    }
    CHECK(nmsgs == before && ifp.ip == OFFERED);
}

TEST(restart_while_bound)
{
    /* dhcp_start again (a reconfiguration) drops the lease and asks anew. */
    bind_lease(3600);
    CHECK(ifp.ip == OFFERED);
    dhcp_start(&ifp);
    collect();
    struct cmsg *c = last_msg();
    CHECK(c && c->type == 1 && c->ip_src == 0);
    CHECK(ifp.ip == 0 && dhcp_pending());
}
