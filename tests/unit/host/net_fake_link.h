/*
 * A fake interface for the stack's unit tests: fake_xmit records every
 * frame sent (up to MAX_SENT, in sent[] / sent_len[], nsent counts them)
 * and completes it as a device would. Include once per program.
 */
#ifndef NET_FAKE_LINK_H
#define NET_FAKE_LINK_H

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

#endif
