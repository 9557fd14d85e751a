/*
 * ARP for IPv4 over Ethernet (RFC 826): a small cache of resolved
 * neighbours that age out, requests retried a few times for unresolved
 * ones with their first packets held meanwhile, replies to requests for
 * our address, and a gratuitous ARP when an interface gets its address
 * (RFC 5227's announcement), so neighbours update stale entries.
 */
#include <kern/string.h>
#include "net_internal.h"

#define ARP_HLEN        28
#define ARP_REQUEST     1
#define ARP_REPLY       2
#define CACHE_SIZE      32
#define PENDING_MAX     4               /* packets held per unresolved address */
#define REACHABLE_NS    (300ULL * 1000000000)   /* entries live 5 minutes */
#define RETRY_NS        (1000ULL * 1000000)     /* re-ask every second */
#define MAX_TRIES       3

struct arp_entry {
    uint32_t ip;                        /* 0: free */
    uint8_t mac[ETH_ALEN];
    bool resolved;
    uint8_t tries;
    uint64_t stamp;                     /* resolved: when; else last request */
    struct netif *ifp;
    struct netbuf *pending;             /* a queue, through netbuf->next */
    unsigned npending;
};

static struct arp_entry cache[CACHE_SIZE];

static struct arp_entry *find(uint32_t ip)
{
    for (int i = 0; i < CACHE_SIZE; i++)
        if (cache[i].ip == ip)
            return &cache[i];
    return NULL;
}

static void drop_pending(struct arp_entry *e)
{
    while (e->pending) {
        struct netbuf *nb = e->pending;
        e->pending = nb->next;
        netbuf_free(nb);
        net_stats.arp_queue_dropped++;
    }
    e->npending = 0;
}

/* A free entry, or the oldest one recycled. */
static struct arp_entry *allocate(uint32_t ip)
{
    struct arp_entry *victim = &cache[0];
    for (int i = 0; i < CACHE_SIZE; i++) {
        if (!cache[i].ip) {
            victim = &cache[i];
            break;
        }
        if (cache[i].stamp < victim->stamp)
            victim = &cache[i];
    }
    drop_pending(victim);
    memset(victim, 0, sizeof(*victim));
    victim->ip = ip;
    return victim;
}

static void send_arp(struct netif *ifp, uint16_t op, const uint8_t *tha, uint32_t tip,
                     const uint8_t *eth_dst)
{
    struct netbuf *nb = netbuf_alloc(ARP_HLEN);
    if (!nb)
        return;
    uint8_t *p = netbuf_put(nb, ARP_HLEN);
    put_be16(p, 1);                     /* hardware: Ethernet */
    put_be16(p + 2, ETH_P_IP);
    p[4] = ETH_ALEN;
    p[5] = 4;
    put_be16(p + 6, op);
    memcpy(p + 8, ifp->mac, ETH_ALEN);
    memcpy(p + 14, &ifp->ip, 4);
    memcpy(p + 18, tha, ETH_ALEN);
    memcpy(p + 24, &tip, 4);
    net_stats.arp_out++;
    eth_output(ifp, nb, eth_dst, ETH_P_ARP);
}

static const uint8_t zero_mac[ETH_ALEN];

static void request(struct arp_entry *e)
{
    e->tries++;
    e->stamp = net_now_ns();
    send_arp(e->ifp, ARP_REQUEST, zero_mac, e->ip, eth_broadcast);
}

void arp_announce(struct netif *ifp)
{
    /* Gratuitous ARP: a request for our own address, from it. */
    if (ifp->loopback)
        return;
    send_arp(ifp, ARP_REQUEST, zero_mac, ifp->ip, eth_broadcast);
}

/* A resolved entry: send what waited for it. */
static void flush(struct arp_entry *e)
{
    while (e->pending) {
        struct netbuf *nb = e->pending;
        e->pending = nb->next;
        nb->next = NULL;
        eth_output(e->ifp, nb, e->mac, ETH_P_IP);
    }
    e->npending = 0;
}

void arp_input(struct netif *ifp, struct netbuf *nb)
{
    net_stats.arp_in++;
    const uint8_t *p = nb->data;
    if (nb->len < ARP_HLEN || get_be16(p) != 1 || get_be16(p + 2) != ETH_P_IP ||
        p[4] != ETH_ALEN || p[5] != 4) {
        netbuf_free(nb);
        return;
    }
    uint16_t op = get_be16(p + 6);
    uint8_t sha[ETH_ALEN];
    uint32_t spa, tpa;
    memcpy(sha, p + 8, ETH_ALEN);
    memcpy(&spa, p + 14, 4);
    memcpy(&tpa, p + 24, 4);
    netbuf_free(nb);
    if (!spa || (sha[0] & 1))
        return;                         /* probes and nonsense teach nothing */

    /* RFC 826: update an existing entry from any packet; add one only
     * when the packet was meant for us. */
    bool for_us = ifp->ip && tpa == ifp->ip;
    struct arp_entry *e = find(spa);
    if (e || for_us) {
        if (!e)
            e = allocate(spa);
        memcpy(e->mac, sha, ETH_ALEN);
        e->resolved = true;
        e->ifp = ifp;
        e->stamp = net_now_ns();
        flush(e);
    }
    if (op == ARP_REQUEST && for_us) {
        net_stats.arp_requests_answered++;
        send_arp(ifp, ARP_REPLY, sha, spa, sha);
    }
}

int arp_output(struct netif *ifp, struct netbuf *nb, uint32_t next_hop)
{
    if (ifp->loopback)
        return eth_output(ifp, nb, ifp->mac, ETH_P_IP);
    if (next_hop == 0xffffffff || (ifp->netmask && (next_hop | ifp->netmask) == 0xffffffff))
        return eth_output(ifp, nb, eth_broadcast, ETH_P_IP);
    struct arp_entry *e = find(next_hop);
    if (e && e->resolved)
        return eth_output(ifp, nb, e->mac, ETH_P_IP);
    if (!e) {
        e = allocate(next_hop);
        e->ifp = ifp;
        request(e);
    }
    if (e->npending == PENDING_MAX) {
        net_stats.arp_queue_dropped++;
        netbuf_free(nb);
        return 0;
    }
    nb->next = NULL;
    struct netbuf **tail = &e->pending;
    while (*tail)
        tail = &(*tail)->next;
    *tail = nb;
    e->npending++;
    return 0;
}

void arp_tick(uint64_t now)
{
    for (int i = 0; i < CACHE_SIZE; i++) {
        struct arp_entry *e = &cache[i];
        if (!e->ip)
            continue;
        if (e->resolved) {
            if (now - e->stamp > REACHABLE_NS) {
                drop_pending(e);
                e->ip = 0;
            }
        } else if (now - e->stamp >= RETRY_NS) {
            if (e->tries >= MAX_TRIES) {
                drop_pending(e);        /* host unreachable */
                e->ip = 0;
            } else {
                request(e);
            }
        }
    }
}

bool arp_lookup(uint32_t ip, uint8_t *mac)
{
    struct arp_entry *e = find(ip);
    if (!e || !e->resolved)
        return false;
    memcpy(mac, e->mac, ETH_ALEN);
    return true;
}
