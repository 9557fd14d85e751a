/*
 * IPv4 (RFC 791, RFC 1122): header checks, delivery to ICMP/UDP/TCP,
 * routing over the configured interfaces (the directly connected subnet,
 * else the default gateway), and output with fragmentation. Fragments
 * received go to reassembly (ipv4_reasm.c); identification values come
 * from ip_next_id (ipv4_id.c). Options are accepted on input and skipped
 * (none is acted on); none are sent.
 */
#include <kern/string.h>
#include "net_internal.h"

#define IP_DF       0x4000
#define IP_MF       0x2000
#define IP_OFFMASK  0x1fff

struct net_counters net_stats;

static struct netif *netifs;

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
    uint16_t id = ip_next_id(src, dst, proto);
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
    write_header(h, total, ip_next_id(src, dst, proto), IP_DF, ttl, proto, src, dst);
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
    ip_reasm_tick(now);
    dhcp_tick(now);
    tcp_tick(now);
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
        nb = ip_reasm(nb, hlen);
        if (!nb)
            return;
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
