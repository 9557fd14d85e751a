/*
 * What the network ktests (net_smoke.c, net_rx_gso.c) share: QEMU's
 * user-network addresses and hand-built Ethernet and IPv4 headers.
 */
#ifndef KTEST_NET_FRAMES_H
#define KTEST_NET_FRAMES_H

#include <kern/byteorder.h>
#include <kern/net.h>
#include <kern/string.h>

#define MS          1000000ULL
#define US          1000ULL

#define ETH_P_IP    0x0800
#define ETH_P_ARP   0x0806
#define IP_HDR_LEN  20

/* slirp: we are 10.0.2.15, the gateway 10.0.2.2. */
static const uint8_t our_ip[4] = { 10, 0, 2, 15 };
static const uint8_t gw_ip[4] = { 10, 0, 2, 2 };

/* An Ethernet header at p; returns what follows it. */
static inline uint8_t *put_eth(uint8_t *p, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    memcpy(p, dst, 6);
    memcpy(p + 6, src, 6);
    put_be16(p + 12, type);
    return p + ETH_HDR_LEN;
}

/* An IPv4 header from us to the gateway, checksummed; returns what follows. */
static inline uint8_t *put_ip(uint8_t *p, uint8_t proto, size_t payload, uint16_t id)
{
    memset(p, 0, IP_HDR_LEN);
    p[0] = 0x45;
    put_be16(p + 2, (uint16_t)(IP_HDR_LEN + payload));
    put_be16(p + 4, id);
    p[8] = 64;                  /* TTL */
    p[9] = proto;
    memcpy(p + 12, our_ip, 4);
    memcpy(p + 16, gw_ip, 4);
    put_be16(p + 10, inet_fold(inet_sum(p, IP_HDR_LEN, 0)));
    return p + IP_HDR_LEN;
}

#endif
