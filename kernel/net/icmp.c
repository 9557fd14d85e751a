/*
 * ICMP (RFC 792): echo replies, and destination-unreachable errors for
 * ports and protocols nobody listens on (RFC 1122 3.2.2: never about an
 * ICMP error, a broadcast, or a non-initial fragment).
 */
#include <kern/string.h>
#include "net_internal.h"

#define ICMP_ECHO_REPLY   0
#define ICMP_UNREACH      3
#define ICMP_ECHO_REQUEST 8

void icmp_input(struct netif *ifp, struct netbuf *nb, uint32_t src, uint32_t dst)
{
    net_stats.icmp_in++;
    uint8_t *h = nb->data;
    if (nb->len < 8 || inet_fold(inet_sum(h, nb->len, 0)) != 0) {
        netbuf_free(nb);
        return;
    }
    if (h[0] == ICMP_ECHO_REPLY && ping_input(nb, src))
        return;                         /* a ping socket took it */
    if (h[0] != ICMP_ECHO_REQUEST || dst != ifp->ip) {
        netbuf_free(nb);                /* echo to broadcast: not answered */
        return;
    }
    /* The reply is the request with the type changed: reuse the buffer. */
    h[0] = ICMP_ECHO_REPLY;
    put_be16(h + 2, 0);
    put_be16(h + 2, inet_fold(inet_sum(h, nb->len, 0)));
    net_stats.icmp_out++;
    net_stats.icmp_echo_replies++;
    ip_output(nb, dst, src, IPPROTO_ICMP, IP_DEFAULT_TTL);
}

void icmp_dest_unreachable(struct netbuf *orig, uint8_t code)
{
    const uint8_t *ip = orig->data;
    if (orig->len < 20)
        return;
    uint32_t hlen = (ip[0] & 0xf) * 4u;
    if ((get_be16(ip + 6) & 0x1fff) || ip[9] == IPPROTO_ICMP)
        return;
    uint32_t quote = MIN(orig->len, hlen + 8);
    struct netbuf *nb = netbuf_alloc(8 + quote);
    if (!nb)
        return;
    uint8_t *h = netbuf_put(nb, 8 + quote);
    memset(h, 0, 8);
    h[0] = ICMP_UNREACH;
    h[1] = code;
    memcpy(h + 8, ip, quote);
    put_be16(h + 2, inet_fold(inet_sum(h, 8 + quote, 0)));
    uint32_t src, dst;
    memcpy(&src, ip + 16, 4);           /* we answer from where it was sent to */
    memcpy(&dst, ip + 12, 4);
    net_stats.icmp_out++;
    ip_output(nb, src, dst, IPPROTO_ICMP, IP_DEFAULT_TTL);
}
