/*
 * One host of the twin harness (twin.h): compiled into each copy of the
 * stack, so everything defined here exists twice (a_side_init,
 * b_side_init...). It supplies the kernel's side of the stack
 * (net_host.h: allocator, lock, clock), a random_u64 of its own, one
 * interface, and a device behind it that does what virtio-net does for
 * the stack — finish checksums, cut TSO frames into segments — before it
 * hands the frames to the harness's wire.
 */
#include <stdlib.h>
#include <string.h>

#include <kern/byteorder.h>
#include <kern/errno.h>
#include <kern/net.h>
#include <kern/socket.h>
#include "net_internal.h"

#include "net_host.h"
#include "twin.h"

/* TCP may not be part of this build yet: its entry points are weak, so
 * the copy links without them and side_has_tcp says so. */
int tcp_socket(struct sock **out);
void tcp_tx_room(void);
#pragma weak tcp_socket
#pragma weak tcp_tx_room
#pragma weak zc_notify_seal

/* TCP header flags the device's segmentation touches */
#define TF_FIN 0x01
#define TF_PSH 0x08
#define TF_CWR 0x80

static struct netif ifp;
static int side_id;
static uint64_t rng_state;

/* The stack's random numbers (ISNs, ephemeral ports, DHCP xids): seeded
 * per side so that a run is reproducible and the sides differ. */
uint64_t random_u64(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

/* FNV-1a over the frame as the stack handed it to the device: linear
 * part, then fragments. */
static uint64_t frame_hash(const struct netbuf *nb)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint32_t i = 0; i < nb->len; i++)
        h = (h ^ nb->data[i]) * 0x100000001b3ULL;
    for (unsigned f = 0; f < nb->nfrags; f++) {
        const uint8_t *p = nb->frags[f].data;
        for (uint32_t i = 0; i < nb->frags[f].len; i++)
            h = (h ^ p[i]) * 0x100000001b3ULL;
    }
    return h;
}

/* One's-complement sum of n bytes, starting from sum (not folded). */
static uint32_t csum_add(const uint8_t *p, uint32_t n, uint32_t sum)
{
    uint64_t s = sum;
    for (uint32_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

/* Checksum offload as a virtio device does it: the field holds the
 * pseudo-header sum; sum from csum_start to the end over it and store
 * the complement. */
static void finish_csum(uint8_t *f, uint32_t len, uint32_t start, uint32_t off)
{
    uint16_t c = (uint16_t)~csum_add(f + start, len - start, 0);
    /* UDP sends 0 as all ones (RFC 768); TCP's checksum is never 0xffff... */
    if (c == 0 && f[ETH_HLEN + 9] == IPPROTO_UDP)
        c = 0xffff;
    put_be16(f + start + off, c);
}

/* TSO as Linux does it behind virtio-net (tcp_gso_segment): every segment
 * gets the headers, its own IP id, length and checksum, its sequence
 * number; FIN and PSH only on the last, CWR only on the first. The TCP
 * checksum field holds the pseudo-header sum over the whole frame's TCP
 * length, which each segment adjusts to its own. */
static void segment(uint8_t *f, uint32_t len, const struct netbuf *nb)
{
    uint32_t hdr = nb->hdr_len, mss = nb->gso_size;
    uint8_t *ip = f + ETH_HLEN;
    uint32_t ihl = (ip[0] & 0xfu) * 4;
    uint8_t *th = ip + ihl;
    if (len < ETH_HLEN + 40 || ip[9] != IPPROTO_TCP || ihl < 20 ||
        hdr != ETH_HLEN + ihl + (th[12] >> 4) * 4u || hdr > len || mss == 0 ||
        !(nb->flags & NETBUF_CSUM_PARTIAL) || nb->csum_start != ETH_HLEN + ihl ||
        nb->csum_offset != 16) {
        twin_dev_error(side_id, "malformed TSO request");
        return;
    }
    uint32_t payload = len - hdr, full_l4 = len - ETH_HLEN - ihl;
    uint32_t seq = get_be32(th + 4);
    uint16_t id = get_be16(ip + 4);
    uint16_t pseudo = get_be16(th + 16);
    uint8_t flags = th[13];
    uint8_t *seg = malloc(hdr + mss);
    uint32_t nseg = payload ? (payload + mss - 1) / mss : 1;
    for (uint32_t i = 0; i < nseg; i++) {
        uint32_t off = i * mss, n = payload - off < mss ? payload - off : mss;
        bool last = i == nseg - 1;
        memcpy(seg, f, hdr);
        memcpy(seg + hdr, f + hdr + off, n);
        uint8_t *sip = seg + ETH_HLEN, *sth = sip + ihl;
        put_be16(sip + 2, (uint16_t)(hdr - ETH_HLEN + n));
        put_be16(sip + 4, (uint16_t)(id + i));
        put_be16(sip + 10, 0);
        put_be16(sip + 10, (uint16_t)~csum_add(sip, ihl, 0));
        put_be32(sth + 4, seq + off);
        sth[13] = (uint8_t)(flags & ~((last ? 0 : (TF_FIN | TF_PSH)) | (i ? TF_CWR : 0)));
        /* pseudo + this length - the whole length, one's complement */
        uint32_t l4 = hdr - ETH_HLEN - ihl + n;
        uint32_t p = pseudo + l4 + (uint16_t)~full_l4;
        p = (p & 0xffff) + (p >> 16);
        p = (p & 0xffff) + (p >> 16);
        put_be16(sth + 16, (uint16_t)p);
        finish_csum(seg, hdr + n, ETH_HLEN + ihl, 16);
        twin_dev_wire(side_id, seg, hdr + n);
    }
    free(seg);
}

/* The interface's xmit: the device reads the frame now (the wire gets a
 * copy) and says when it is done with the netbuf's memory. */
static int side_xmit(struct netif *i, struct netbuf *nb)
{
    (void)i;
    if (!twin_dev_can_xmit(side_id))
        return -EAGAIN;
    uint32_t len = netbuf_total(nb);
    bool tso = nb->gso_type == NETBUF_GSO_TCPV4;
    if (tso && !(ifp.features & NETIF_F_TSO4))
        twin_dev_error(side_id, "TSO frame to a device without TSO");
    if ((nb->flags & NETBUF_CSUM_PARTIAL) && !(ifp.features & NETIF_F_TX_CSUM))
        twin_dev_error(side_id, "checksum offload on a device without it");
    if (!tso && len > ETH_HLEN + (uint32_t)ifp.mtu)
        twin_dev_error(side_id, "frame longer than the MTU");
    if (tso && len > 65536 + ETH_HLEN)
        twin_dev_error(side_id, "TSO frame over 64 KiB");
    uint8_t *f = malloc(len ? len : 1);
    netbuf_copy_out(nb, 0, f, len);
    if (tso) {
        segment(f, len, nb);
    } else {
        if (nb->flags & NETBUF_CSUM_PARTIAL) {
            if ((uint32_t)nb->csum_start + nb->csum_offset + 2 > len)
                twin_dev_error(side_id, "checksum offload past the frame");
            else
                finish_csum(f, len, nb->csum_start, nb->csum_offset);
        }
        twin_dev_wire(side_id, f, len);
    }
    free(f);
    if (!twin_dev_hold(side_id, nb, frame_hash(nb)))
        netbuf_complete(nb);
    return 0;
}

void side_init(const struct twin_side_cfg *cfg)
{
    side_id = cfg->id;
    rng_state = cfg->seed ? cfg->seed : 1;
    memset(&ifp, 0, sizeof(ifp));
    memcpy(ifp.name, "eth0", 5);
    memcpy(ifp.mac, cfg->mac, ETH_ALEN);
    ifp.mtu = cfg->mtu ? cfg->mtu : 1500;
    ifp.features = cfg->features;
    ifp.xmit = side_xmit;
    netif_add(&ifp);
    netif_set_addr(&ifp, cfg->ip, cfg->netmask, cfg->gateway);
}

void side_input(const void *frame, uint32_t len, bool csum_valid)
{
    struct netbuf *nb = netbuf_alloc(len);
    if (!nb)
        return;
    memcpy(netbuf_put(nb, len), frame, len);
    if (csum_valid && (ifp.features & NETIF_F_RX_CSUM))
        nb->flags |= NETBUF_CSUM_VALID;
    net_input(&ifp, nb);
}

void side_tick(void)
{
    net_tick();
}

void side_set_clock(uint64_t now)
{
    fake_now = now;
}

/* A held frame's completion: the device read the netbuf's memory until
 * now, so it must still hold what was handed over (zero-copy lifetime:
 * AddressSanitizer catches freed memory, the hash a reused buffer). */
void side_complete(void *p, uint64_t hash)
{
    struct netbuf *nb = p;
    if (frame_hash(nb) != hash)
        twin_dev_error(side_id, "frame memory changed before the device completed it");
    netbuf_complete(nb);
}

void side_tx_room(void)
{
    if (tcp_tx_room)
        tcp_tx_room();
}

bool side_has_tcp(void)
{
    return tcp_socket != NULL;
}

void side_zc_seal(struct zc_notify *zn)
{
    if (zc_notify_seal)
        zc_notify_seal(zn);
}

int side_udp_socket(struct sock **out)
{
    return udp_socket(out);
}

int side_tcp_socket(struct sock **out)
{
    return tcp_socket ? tcp_socket(out) : -EPROTONOSUPPORT;
}

int side_ping_socket(struct sock **out)
{
    return ping_socket(out);
}

bool side_arp_lookup(uint32_t ip, uint8_t *mac)
{
    return arp_lookup(ip, mac);
}

struct netif *side_netif(void)
{
    return &ifp;
}
