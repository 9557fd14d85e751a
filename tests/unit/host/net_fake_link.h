/*
 * A fake interface for the stack's unit tests: fake_xmit records every
 * frame sent (up to MAX_SENT, in sent[] / sent_len[], nsent counts them)
 * and completes it as a device would; fake_link_reset sets up the
 * interface, fake_arp_frame makes the ARP frames a test feeds the stack.
 * Include once per program.
 */
#ifndef NET_FAKE_LINK_H
#define NET_FAKE_LINK_H

#include <string.h>
#include <kern/byteorder.h>
#include <kern/net.h>

#define MAX_SENT 64
static uint8_t sent[MAX_SENT][2048];
static uint32_t sent_len[MAX_SENT];
static int nsent;

static int fake_xmit(struct netif *ifp, struct netbuf *nb)
{
    (void)ifp;
    uint32_t n = netbuf_total(nb);
    if (nsent < MAX_SENT && n <= sizeof(sent[0])) {
        sent_len[nsent] = n;
        netbuf_copy_out(nb, 0, sent[nsent], n);
        nsent++;
    }
    netbuf_complete(nb);
    return 0;
}

/* Makes ifp a fresh "eth0" with address mac, MTU 1500, sending through
 * fake_xmit (added to the stack the first time; one interface per
 * program), and forgets what was sent. */
static inline void fake_link_reset(struct netif *ifp, const uint8_t mac[6])
{
    static bool added;
    memset(ifp, 0, sizeof(*ifp));
    memcpy(ifp->name, "eth0", 5);
    memcpy(ifp->mac, mac, 6);
    ifp->mtu = 1500;
    ifp->xmit = fake_xmit;
    if (!added) {
        netif_add(ifp);
        added = true;
    }
    nsent = 0;
}

/* A minimum-size Ethernet frame to dst carrying an ARP packet (RFC 826,
 * IPv4 over Ethernet) of operation op (1 request, 2 reply) from sha/spa,
 * which also sends the frame, about tha/tpa (tha NULL: zeros, as in a
 * request). Addresses are in network order. */
static inline void fake_arp_frame(uint8_t f[60], const uint8_t dst[6], uint16_t op,
                                  const uint8_t sha[6], uint32_t spa, const uint8_t *tha,
                                  uint32_t tpa)
{
    memset(f, 0, 60);
    memcpy(f, dst, 6);
    memcpy(f + 6, sha, 6);
    put_be16(f + 12, ETH_P_ARP);
    uint8_t *a = f + 14;
    put_be16(a, 1);                     /* Ethernet */
    put_be16(a + 2, ETH_P_IP);
    a[4] = 6;
    a[5] = 4;
    put_be16(a + 6, op);
    memcpy(a + 8, sha, 6);
    memcpy(a + 14, &spa, 4);
    if (tha)
        memcpy(a + 18, tha, 6);
    memcpy(a + 24, &tpa, 4);
}

#endif
