/* Ethernet II framing: demultiplex received frames by EtherType, prepend
 * the header on the way out. */
#include <kern/string.h>
#include "net_internal.h"

const uint8_t eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void net_input(struct netif *ifp, struct netbuf *nb)
{
    ifp->stats.rx_packets++;
    ifp->stats.rx_bytes += nb->len;
    if (nb->len < ETH_HLEN || nb->nfrags) {
        ifp->stats.rx_errors++;
        netbuf_free(nb);
        return;
    }
    const uint8_t *h = nb->data;
    /* Ours, broadcast or multicast; a promiscuous device could hand us
     * others, which are not for this host. */
    if (memcmp(h, ifp->mac, ETH_ALEN) && !(h[0] & 1)) {
        ifp->stats.rx_dropped++;
        netbuf_free(nb);
        return;
    }
    uint16_t type = get_be16(h + 12);
    netbuf_pull(nb, ETH_HLEN);
    switch (type) {
    case ETH_P_IP:
        ip_input(ifp, nb);
        break;
    case ETH_P_ARP:
        arp_input(ifp, nb);
        break;
    default:
        ifp->stats.rx_dropped++;
        netbuf_free(nb);
    }
}

int eth_output(struct netif *ifp, struct netbuf *nb, const uint8_t *dst, uint16_t type)
{
    uint8_t *h = netbuf_push(nb, ETH_HLEN);
    if (!h) {
        ifp->stats.tx_errors++;
        netbuf_free(nb);
        return -1;
    }
    memcpy(h, dst, ETH_ALEN);
    memcpy(h + 6, ifp->mac, ETH_ALEN);
    put_be16(h + 12, type);
    /* Frames shorter than the minimum are padded by the device. */
    uint32_t bytes = netbuf_total(nb);
    int err = ifp->xmit(ifp, nb);
    if (err) {
        ifp->stats.tx_dropped++;
        netbuf_free(nb);
        return err;
    }
    ifp->stats.tx_packets++;
    ifp->stats.tx_bytes += bytes;
    return 0;
}
