/*
 * libFuzzer target: random frames into the TCP/IP stack's input path
 * (net_input), with the timers ticking and UDP sockets bound and drained,
 * so that a malformed frame can neither crash the stack nor leak memory
 * (AddressSanitizer, LeakSanitizer, UBSan watch).
 *
 * An input is a list of frames: [2-byte length][flags][frame bytes]...
 * Flag bit 0 asks to fix the IPv4 header checksum, bit 1 the UDP/ICMP/TCP
 * checksum, so that the fuzzer reaches past the checks; bit 2 advances
 * the clock by a second and runs the timers, bit 4 by 10 ms (one tick);
 * bit 3 delivers the frame on eth1, whose DHCP client is running.
 *
 * TCP: a listener on port 80 (its connections are accepted, read, written
 * to and closed after each input) and a client connecting to 10.0.0.1:80.
 */
#include <stdlib.h>
#include <string.h>

#include <kern/byteorder.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/net.h>
#include <kern/printk.h>
#include <kern/socket.h>
#include <kern/waitq.h>
#include "net_internal.h"

#include "net_host.h"

uint64_t random_u64(void) { return 0x1234; }     /* the DHCP client's xid */
void printk(enum log_level l, const char *fmt, ...) { (void)l; (void)fmt; }

static int xmit(struct netif *ifp, struct netbuf *nb)
{
    (void)ifp;
    netbuf_complete(nb);
    return 0;
}

static struct netif ifp, ifp_dhcp;
static struct sock *socks[3];
static struct sock *tcp_listener, *tcp_client;

static void setup(void)
{
    static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
    memcpy(ifp.name, "eth0", 5);
    memcpy(ifp.mac, mac, 6);
    ifp.mtu = 1500;
    ifp.xmit = xmit;
    netif_add(&ifp);
    uint8_t a[4] = { 10, 0, 0, 2 }, m[4] = { 255, 255, 255, 0 }, g[4] = { 10, 0, 0, 1 };
    uint32_t ip, mask, gw;
    memcpy(&ip, a, 4);
    memcpy(&mask, m, 4);
    memcpy(&gw, g, 4);
    netif_set_addr(&ifp, ip, mask, gw);
    static const uint16_t ports[3] = { 7, 53, 5000 };
    for (int i = 0; i < 3; i++) {
        struct sock_addr sa = { 0, htons(ports[i]) };
        udp_socket(&socks[i]);
        socks[i]->ops->bind(socks[i], &sa);
    }
    struct sock *p;
    ping_socket(&p);            /* an echo-reply consumer too */

    struct sock_addr any80 = { 0, htons(80) };
    tcp_socket(&tcp_listener);
    tcp_listener->ops->bind(tcp_listener, &any80);
    tcp_listener->ops->listen(tcp_listener, 8);
    struct sock_addr peer = { gw, htons(80) };
    tcp_socket(&tcp_client);
    tcp_client->ops->connect(tcp_client, &peer);

    static const uint8_t mac2[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x57 };
    memcpy(ifp_dhcp.name, "eth1", 5);
    memcpy(ifp_dhcp.mac, mac2, 6);
    ifp_dhcp.mtu = 1500;
    ifp_dhcp.xmit = xmit;
    netif_add(&ifp_dhcp);
    ifp_dhcp.up = true;
    dhcp_start(&ifp_dhcp);
}

/* What an app would do with the connections the frames made. */
static void serve_tcp(void)
{
    struct sock *c;
    struct sock_addr from;
    while (tcp_listener->ops->accept(tcp_listener, &c, &from) == 0) {
        uint8_t buf[512];
        struct sock_iov iov = { buf, sizeof(buf) };
        int mflags = 0;
        int64_t n = c->ops->recvmsg(c, &iov, 1, NULL, 0, &mflags);
        if (n > 0) {
            iov.len = (size_t)n;
            c->ops->sendmsg(c, &iov, 1, NULL, 0);
        }
        c->ops->close(c);
    }
    uint8_t buf[512];
    struct sock_iov iov = { buf, sizeof(buf) };
    int mflags = 0;
    tcp_client->ops->recvmsg(tcp_client, &iov, 1, NULL, 0, &mflags);
}

static void fix_checksums(uint8_t *f, size_t len, unsigned flags)
{
    if (len < 14 + 20 || get_be16(f + 12) != ETH_P_IP)
        return;
    uint8_t *ip = f + 14;
    size_t hlen = (ip[0] & 0xf) * 4u;
    if (hlen < 20 || 14 + hlen > len)
        return;
    if (flags & 1) {
        put_be16(ip + 10, 0);
        put_be16(ip + 10, inet_fold(inet_sum(ip, hlen, 0)));
    }
    size_t l4 = len - 14 - hlen;
    uint8_t *p = ip + hlen;
    if (!(flags & 2))
        return;
    if (ip[9] == 17 && l4 >= 8) {
        uint32_t src, dst;
        memcpy(&src, ip + 12, 4);
        memcpy(&dst, ip + 16, 4);
        put_be16(p + 4, (uint16_t)l4);
        put_be16(p + 6, 0);
        put_be16(p + 6, inet_fold(inet_sum(p, l4, ip_pseudo_sum(src, dst, 17, (uint16_t)l4))));
    } else if (ip[9] == 6 && l4 >= 20) {
        uint32_t src, dst;
        memcpy(&src, ip + 12, 4);
        memcpy(&dst, ip + 16, 4);
        put_be16(p + 16, 0);
        put_be16(p + 16, inet_fold(inet_sum(p, l4, ip_pseudo_sum(src, dst, 6, (uint16_t)l4))));
    } else if (ip[9] == 1 && l4 >= 4) {
        put_be16(p + 2, 0);
        put_be16(p + 2, inet_fold(inet_sum(p, l4, 0)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        setup();
        ready = true;
    }
    while (size >= 3) {
        size_t len = get_be16(data) % 2048;
        unsigned flags = data[2];
        data += 3;
        size -= 3;
        if (len > size)
            len = size;
        struct netbuf *nb = netbuf_alloc(len);
        uint8_t *f = netbuf_put(nb, len);
        memcpy(f, data, len);
        fix_checksums(f, len, flags);
        net_input((flags & 8) ? &ifp_dhcp : &ifp, nb);
        data += len;
        size -= len;
        if (flags & 4) {
            fake_now += 1000000000ULL;
            net_tick();
        }
        if (flags & 16) {
            fake_now += NET_TICK_NS;
            net_tick();
        }
    }
    /* Drain what the sockets received, as an app would. */
    for (int i = 0; i < 3; i++) {
        uint8_t buf[2048];
        struct sock_iov iov = { buf, sizeof(buf) };
        int mflags = 0;
        while (socks[i]->ops->recvmsg(socks[i], &iov, 1, NULL, 0, &mflags) >= 0)
            ;
    }
    serve_tcp();
    return 0;
}
