/*
 * The stack on network devices (kern/netdev.h): each device becomes an
 * interface. Frames go out as the netbuf's linear part and fragments, by
 * reference, and the netbuf is completed when the device gave back every
 * descriptor; frames come in copied into a netbuf, on the device's thread,
 * and enter the stack under its lock.
 */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/netdev.h>
#include <kern/printk.h>
#include <kern/string.h>
#include "net_internal.h"

static void tx_done(struct netdev *dev, void *cookie, int status)
{
    /* Under the stack's lock: freeing a frame releases what its fragments
     * hold (TCP's send-queue chunks, and with them zero-copy completions),
     * which is stack state. */
    net_lock();
    netbuf_complete(cookie);
    net_unlock();
}

/* The device has room again: TCP sends what it held back. */
static void glue_tx_room(struct netdev *dev, void *arg)
{
    net_lock();
    tcp_tx_room();
    net_unlock();
}

static int glue_xmit(struct netif *ifp, struct netbuf *nb)
{
    struct netdev *dev = ifp->driver;
    struct netdev_seg segs[1 + NETBUF_MAX_FRAGS];
    unsigned n = 0;
    segs[n].base = nb->data;
    segs[n++].len = nb->len;
    for (unsigned i = 0; i < nb->nfrags; i++) {
        segs[n].base = nb->frags[i].data;
        segs[n++].len = nb->frags[i].len;
    }
    struct netdev_tx_meta meta = { 0 };
    if (nb->flags & NETBUF_CSUM_PARTIAL) {
        meta.flags |= NETDEV_TX_CSUM;
        meta.csum_start = nb->csum_start;
        meta.csum_offset = nb->csum_offset;
    }
    if (nb->gso_type == NETBUF_GSO_TCPV4) {
        meta.flags |= NETDEV_TX_TSO4;
        meta.gso_size = nb->gso_size;
        meta.hdr_len = nb->hdr_len;
    }
    return netdev_transmit(dev, segs, n, &meta, tx_done, nb);
}

static void glue_rx(struct netdev *dev, const void *frame, size_t len,
                    const struct netdev_rx_meta *meta, void *arg)
{
    struct netif *ifp = arg;
    struct netbuf *nb = netbuf_alloc(len);
    if (!nb) {
        ifp->stats.rx_dropped++;
        return;
    }
    memcpy(netbuf_put(nb, len), frame, len);
    if (meta && (meta->flags & NETDEV_RX_CSUM_VALID))
        nb->flags |= NETBUF_CSUM_VALID;
    net_lock();
    net_input(ifp, nb);
    net_unlock();
}

void net_init(void)
{
    unsigned n = 0;
    for (struct netdev *dev = netdev_next(NULL); dev; dev = netdev_next(dev), n++) {
        struct netif *ifp = kzalloc(sizeof(*ifp));
        if (!ifp) {
            pr_err("net: no memory for %s\n", dev->name);
            continue;
        }
        /* Interfaces are eth0, eth1... as a Linux guest would name them. */
        ifp->name[0] = 'e';
        ifp->name[1] = 't';
        ifp->name[2] = 'h';
        ifp->name[3] = (char)('0' + n % 10);
        memcpy(ifp->mac, dev->mac, ETH_ALEN);
        ifp->mtu = dev->mtu ? dev->mtu : 1500;
        ifp->features = ((dev->features & NETDEV_F_TX_CSUM) ? NETIF_F_TX_CSUM : 0) |
                        ((dev->features & NETDEV_F_RX_CSUM) ? NETIF_F_RX_CSUM : 0) |
                        ((dev->features & NETDEV_F_TSO4) ? NETIF_F_TSO4 : 0);
        ifp->xmit = glue_xmit;
        ifp->driver = dev;
        net_lock();
        netif_add(ifp);
        net_unlock();
        netdev_set_hooks(dev, glue_rx, glue_tx_room, NULL, ifp);
        net_lock();
        net_configure(ifp);
        net_unlock();
    }
    /* lo after the devices, so that eth0 stays the first interface. */
    loopback_init();
    net_start_timers();
    if (n) {
        /* An app expects its network configured when it starts: wait for
         * a first DHCP lease (a few ms with a server; 10 s without). */
        net_wait_for_dhcp(10 * 1000000000ULL);
    }
}
