/*
 * IPv4 (RFC 791, RFC 1122): header checks, delivery to ICMP/UDP/TCP,
 * reassembly of fragmented datagrams (RFC 815's idea: collect, then copy
 * once complete), routing over the configured interfaces (the directly
 * connected subnet, else the default gateway), and output. Options are
 * accepted on input and skipped (none is acted on); none are sent.
 */
#include <kern/kmalloc.h>
#include <kern/string.h>
#include "net_internal.h"

#define IP_DF       0x4000
#define IP_MF       0x2000
#define IP_OFFMASK  0x1fff

#define REASM_SLOTS     8
#define REASM_TIMEOUT   (30ULL * 1000000000)    /* RFC 1122: 15 s to 2 min */
#define REASM_MAX       65535

struct net_counters net_stats;

static struct netif *netifs;
static uint16_t next_id;

void netif_add(struct netif *ifp)
{
    ifp->next = NULL;
    struct netif **p = &netifs;
    while (*p)
        p = &(*p)->next;
    *p = ifp;
}

struct netif *netif_first(void)
{
    return netifs;
}

void netif_set_addr(struct netif *ifp, uint32_t ip, uint32_t netmask, uint32_t gateway)
{
    ifp->ip = ip;
    ifp->netmask = netmask;
    ifp->gateway = gateway;
    ifp->up = true;
    if (ip)
        arp_announce(ifp);
}

bool ip_is_local(uint32_t addr)
{
    for (struct netif *i = netifs; i; i = i->next)
        if (i->ip && i->ip == addr)
            return true;
    return false;
}

struct netif *ip_route(uint32_t dst, uint32_t *next_hop)
{
    /* Our own addresses, whichever interface has them, are reached over
     * the loopback interface, as on Linux. */
    for (struct netif *i = netifs; i; i = i->next)
        if (i->loopback && i->up && ip_is_local(dst)) {
            *next_hop = dst;
            return i;
        }
    for (struct netif *i = netifs; i; i = i->next)
        if (i->up && i->ip && (dst & i->netmask) == (i->ip & i->netmask)) {
            *next_hop = dst;
            return i;
        }
    if (dst == 0xffffffff) {
        for (struct netif *i = netifs; i; i = i->next)
            if (i->up) {
                *next_hop = dst;
                return i;
            }
    }
    for (struct netif *i = netifs; i; i = i->next)
        if (i->up && i->gateway) {
            *next_hop = i->gateway;
            return i;
        }
    return NULL;
}

uint32_t ip_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint8_t ph[12];
    memcpy(ph, &src, 4);
    memcpy(ph + 4, &dst, 4);
    ph[8] = 0;
    ph[9] = proto;
    put_be16(ph + 10, len);
    return inet_sum(ph, sizeof(ph), 0);
}

/* A 20-byte header (no options) with its checksum. */
static void write_header(uint8_t *h, uint32_t total, uint16_t id, uint16_t frag, uint8_t ttl,
                         uint8_t proto, uint32_t src, uint32_t dst)
{
    h[0] = 0x45;
    h[1] = 0;
    put_be16(h + 2, (uint16_t)total);
    put_be16(h + 4, id);
    put_be16(h + 6, frag);
    h[8] = ttl;
    h[9] = proto;
    put_be16(h + 10, 0);
    memcpy(h + 12, &src, 4);
    memcpy(h + 16, &dst, 4);
    put_be16(h + 10, inet_fold(inet_sum(h, IP_HLEN, 0)));
}

/* A datagram larger than the MTU (UDP, ICMP; TCP sizes its segments) goes
 * out in fragments (RFC 791): each a copy of a slice of the payload, a
 * multiple of 8 bytes but the last, with the same identification. A
 * payload the stack would have the device checksum is finished here
 * first, since the device sees only fragments. */
static int fragment(struct netif *ifp, struct netbuf *nb, uint32_t hop, uint32_t src,
                    uint32_t dst, uint8_t proto, uint8_t ttl)
{
    uint32_t len = netbuf_total(nb);
    uint32_t per = (ifp->mtu - IP_HLEN) & ~7u;
    uint16_t id = next_id++;
    if (nb->flags & NETBUF_CSUM_PARTIAL) {
        /* The field holds the pseudo-header sum; add the data to it. */
        uint8_t *l4 = nb->data + nb->csum_start;
        uint8_t *field = l4 + nb->csum_offset;
        uint32_t sum = get_be16(field);
        put_be16(field, 0);
        uint16_t c = inet_fold(netbuf_sum(nb, nb->csum_start, sum));
        put_be16(field, proto == IPPROTO_UDP && !c ? 0xffff : c);
        nb->flags &= (uint8_t)~NETBUF_CSUM_PARTIAL;
    }
    int err = 0;
    for (uint32_t off = 0; off < len && !err; off += per) {
        uint32_t n = MIN(per, len - off);
        struct netbuf *f = netbuf_alloc(IP_HLEN + n);
        if (!f) {
            err = -1;
            break;
        }
        uint8_t *h = netbuf_put(f, IP_HLEN + n);
        netbuf_copy_out(nb, off, h + IP_HLEN, n);
        write_header(h, IP_HLEN + n, id, (uint16_t)((off / 8) | (off + n < len ? IP_MF : 0)),
                     ttl, proto, src, dst);
        net_stats.ip_out++;
        net_stats.ip_frag_created++;
        err = arp_output(ifp, f, hop);
    }
    netbuf_free(nb);
    return err;
}

/* The common tail of ip_output and ip_output_on: header, then the link. */
static int output_via(struct netif *ifp, uint32_t hop, struct netbuf *nb, uint32_t src,
                      uint32_t dst, uint8_t proto, uint8_t ttl)
{
    uint32_t total = netbuf_total(nb) + IP_HLEN;
    if (total > 65535) {
        netbuf_free(nb);
        return -1;
    }
    if (total > ifp->mtu && nb->gso_type == NETBUF_GSO_NONE)
        return fragment(ifp, nb, hop, src, dst, proto, ttl);
    uint8_t *h = netbuf_push(nb, IP_HLEN);
    if (!h) {
        netbuf_free(nb);
        return -1;
    }
    write_header(h, total, next_id++, IP_DF, ttl, proto, src, dst);
    net_stats.ip_out++;
    return arp_output(ifp, nb, hop);
}

int ip_output(struct netbuf *nb, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl)
{
    uint32_t hop;
    struct netif *ifp = ip_route(dst, &hop);
    if (!ifp) {
        net_stats.ip_no_route++;
        netbuf_free(nb);
        return -1;
    }
    return output_via(ifp, hop, nb, src ? src : ifp->ip, dst, proto, ttl);
}

int ip_output_on(struct netif *ifp, struct netbuf *nb, uint32_t src, uint32_t dst,
                 uint8_t proto, uint8_t ttl)
{
    /* No routing: the caller chose the interface, which may not have an
     * address yet (DHCP sends from 0.0.0.0). Broadcasts and the subnet go
     * straight to dst, the rest through the interface's gateway. */
    uint32_t hop = dst;
    bool on_link = dst == 0xffffffff ||
                   (ifp->ip && (dst & ifp->netmask) == (ifp->ip & ifp->netmask));
    if (!on_link && ifp->gateway)
        hop = ifp->gateway;
    return output_via(ifp, hop, nb, src, dst, proto, ttl);
}

void net_tick(void)
{
    uint64_t now = net_now_ns();
    arp_tick(now);
    ip_tick(now);
    dhcp_tick(now);
    tcp_tick(now);
}

/* ---- reassembly -------------------------------------------------------------- */

struct reasm {
    bool used;
    uint32_t src, dst;
    uint16_t id;
    uint8_t proto;
    uint64_t started;
    uint8_t header[IP_HLEN];            /* the first fragment's, options dropped */
    uint32_t total;                     /* payload bytes, once the last fragment came */
    uint32_t have;                      /* bytes received (no overlap counted) */
    uint8_t *data;                      /* REASM_MAX bytes */
    uint8_t *seen;                      /* one bit per 8-byte block */
};

static struct reasm slots[REASM_SLOTS];

static void reasm_free(struct reasm *r)
{
    kfree(r->data);
    kfree(r->seen);
    memset(r, 0, sizeof(*r));
}

/* Add a fragment (payload at off, len bytes); the whole datagram as a new
 * netbuf when complete, else NULL. */
static struct netbuf *reassemble(const uint8_t *iph, const uint8_t *payload, uint32_t len,
                                 uint32_t off, bool more)
{
    uint32_t src, dst;
    memcpy(&src, iph + 12, 4);
    memcpy(&dst, iph + 16, 4);
    uint16_t id = get_be16(iph + 4);
    struct reasm *r = NULL, *free_slot = NULL;
    for (int i = 0; i < REASM_SLOTS; i++) {
        if (slots[i].used && slots[i].src == src && slots[i].dst == dst &&
            slots[i].id == id && slots[i].proto == iph[9])
            r = &slots[i];
        else if (!slots[i].used && !free_slot)
            free_slot = &slots[i];
    }
    if (off + len > REASM_MAX || (more && (len & 7))) {
        net_stats.ip_reasm_fail++;
        if (r)
            reasm_free(r);
        return NULL;
    }
    if (!r) {
        if (!free_slot) {
            /* All busy: the oldest is the likeliest to have lost a
             * fragment for good (or to be a late duplicate's); it makes
             * way, as Linux evicts under its memory limit. */
            struct reasm *oldest = &slots[0];
            for (int i = 1; i < REASM_SLOTS; i++)
                if (slots[i].started < oldest->started)
                    oldest = &slots[i];
            reasm_free(oldest);
            net_stats.ip_reasm_fail++;
            free_slot = oldest;
        }
        r = free_slot;
        r->data = kmalloc(REASM_MAX);
        r->seen = kmalloc(REASM_MAX / 8 / 8 + 1);
        if (!r->data || !r->seen) {
            reasm_free(r);
            net_stats.ip_frag_dropped++;
            return NULL;
        }
        memset(r->seen, 0, REASM_MAX / 8 / 8 + 1);
        r->used = true;
        r->src = src;
        r->dst = dst;
        r->id = id;
        r->proto = iph[9];
        r->started = net_now_ns();
        memcpy(r->header, iph, IP_HLEN);
    }
    if (!more) {
        if (r->total && r->total != off + len) {
            reasm_free(r);                  /* two different ends: drop it all */
            net_stats.ip_reasm_fail++;
            return NULL;
        }
        r->total = off + len;
    }
    memcpy(r->data + off, payload, len);
    for (uint32_t b = off / 8; b < (off + len + 7) / 8; b++) {
        if (!(r->seen[b / 8] & (1u << (b % 8)))) {
            r->seen[b / 8] |= (uint8_t)(1u << (b % 8));
            r->have += MIN(8u, off + len - b * 8);
        }
    }
    if (off == 0)
        memcpy(r->header, iph, IP_HLEN);
    if (!r->total || r->have < r->total)
        return NULL;
    struct netbuf *nb = netbuf_alloc(IP_HLEN + r->total);
    if (nb) {
        uint8_t *h = netbuf_put(nb, IP_HLEN + r->total);
        memcpy(h, r->header, IP_HLEN);
        h[0] = 0x45;
        put_be16(h + 2, (uint16_t)(IP_HLEN + r->total));
        put_be16(h + 6, 0);
        memcpy(h + IP_HLEN, r->data, r->total);
        net_stats.ip_reasm_ok++;
    }
    reasm_free(r);
    return nb;
}

void ip_tick(uint64_t now)
{
    for (int i = 0; i < REASM_SLOTS; i++)
        if (slots[i].used && now - slots[i].started > REASM_TIMEOUT) {
            net_stats.ip_reasm_fail++;
            reasm_free(&slots[i]);
        }
}

/* ---- input ------------------------------------------------------------------ */

void ip_input(struct netif *ifp, struct netbuf *nb)
{
    net_stats.ip_in++;
    const uint8_t *h = nb->data;
    if (nb->len < IP_HLEN || (h[0] >> 4) != 4) {
        net_stats.ip_bad_header++;
        netbuf_free(nb);
        return;
    }
    uint32_t hlen = (h[0] & 0xf) * 4u, total = get_be16(h + 2);
    if (hlen < IP_HLEN || total < hlen || total > nb->len) {
        net_stats.ip_bad_header++;
        netbuf_free(nb);
        return;
    }
    if (inet_fold(inet_sum(h, hlen, 0)) != 0) {
        net_stats.ip_bad_csum++;
        netbuf_free(nb);
        return;
    }
    nb->len = total;                    /* drop Ethernet padding */
    uint32_t src, dst;
    memcpy(&src, h + 12, 4);
    memcpy(&dst, h + 16, 4);
    bool bcast = dst == 0xffffffff || (ifp->netmask && (dst | ifp->netmask) == 0xffffffff);
    /* Until it has an address (DHCP), an interface takes what comes to it. */
    if (ifp->ip && dst != ifp->ip && !bcast) {
        net_stats.ip_not_ours++;        /* we do not forward */
        netbuf_free(nb);
        return;
    }
    uint16_t frag = get_be16(h + 6);
    if (frag & (IP_MF | IP_OFFMASK)) {
        struct netbuf *whole = reassemble(h, h + hlen, total - hlen, (frag & IP_OFFMASK) * 8u,
                                          frag & IP_MF);
        netbuf_free(nb);
        if (!whole)
            return;
        nb = whole;
        h = nb->data;
        hlen = IP_HLEN;
    }
    uint8_t proto = h[9];
    netbuf_pull(nb, hlen);
    switch (proto) {
    case IPPROTO_ICMP:
        icmp_input(ifp, nb, src, dst);
        break;
    case IPPROTO_UDP:
        udp_input(ifp, nb, src, dst);
        break;
    case IPPROTO_TCP:
        if (bcast)
            netbuf_free(nb);                    /* TCP is point to point */
        else
            tcp_input(ifp, nb, src, dst);
        break;
    default:
        /* Put the header back for the ICMP error, which quotes it. */
        netbuf_push(nb, hlen);
        if (!bcast)
            icmp_dest_unreachable(nb, 2);       /* protocol unreachable */
        netbuf_free(nb);
    }
}
