/*
 * The loopback interface, lo (127.0.0.1/8): what an app sends to itself.
 * A frame sent on lo is copied into a received frame (as a device would
 * deliver it, checksums already trusted) and handed to the stack on lo's
 * own thread: delivering it from inside xmit would re-enter the stack
 * from the middle of the sender's output path. The sent frame completes
 * at once, which releases its zero-copy references right away.
 */
#include <kern/kmalloc.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/waitq.h>
#include "net_internal.h"

#define LO_MTU 65535

static struct netif lo;
static struct netbuf *rx_head, *rx_tail;    /* under net_lock */
static struct semaphore rx_ready;

static int lo_xmit(struct netif *ifp, struct netbuf *nb)
{
    uint32_t len = netbuf_total(nb);
    struct netbuf *rx = netbuf_alloc(len);
    if (!rx) {
        ifp->stats.tx_dropped++;
        netbuf_complete(nb);
        return 0;
    }
    netbuf_copy_out(nb, 0, netbuf_put(rx, len), len);
    rx->flags = NETBUF_CSUM_VALID;
    netbuf_complete(nb);
    ifp->stats.tx_packets++;
    ifp->stats.tx_bytes += len;
    rx->next = NULL;
    if (rx_tail)
        rx_tail->next = rx;
    else
        rx_head = rx;
    rx_tail = rx;
    sem_up(&rx_ready);
    return 0;
}

static void lo_thread(void *arg)
{
    (void)arg;
    for (;;) {
        sem_down(&rx_ready);
        net_lock();
        struct netbuf *nb = rx_head;
        if (nb) {
            rx_head = nb->next;
            if (!rx_head)
                rx_tail = NULL;
            nb->next = NULL;
            lo.stats.rx_packets++;
            lo.stats.rx_bytes += nb->len;
            net_input(&lo, nb);
        }
        net_unlock();
    }
}

void loopback_init(void)
{
    sem_init(&rx_ready, 0);
    memcpy(lo.name, "lo", 3);
    lo.mtu = LO_MTU;
    lo.features = NETIF_F_TX_CSUM | NETIF_F_RX_CSUM;
    lo.loopback = true;
    lo.xmit = lo_xmit;
    struct thread *t = thread_create("net-lo", lo_thread, NULL, 0);
    if (!t) {
        pr_err("net: no thread for lo; loopback disabled\n");
        return;
    }
    thread_detach(t);
    uint8_t a[4] = { 127, 0, 0, 1 }, m[4] = { 255, 0, 0, 0 };
    uint32_t ip, mask;
    memcpy(&ip, a, 4);
    memcpy(&mask, m, 4);
    net_lock();
    netif_add(&lo);
    netif_set_addr(&lo, ip, mask, 0);
    net_unlock();
}
