/*
 * UDP (RFC 768) and its sockets: datagrams are queued whole on the
 * receiving socket (bounded by SO_RCVBUF) and copied out by recvmsg;
 * sendmsg copies the app's iovec into one netbuf before taking the stack
 * lock. Checksums are always sent (RFC 1122 4.1.3.4) — by the device when
 * it offers checksum offload — and verified unless the device did.
 */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/list.h>
#include <kern/socket.h>
#include <kern/string.h>
#include "net_internal.h"

#define UDP_MAX_PAYLOAD  (65535 - IP_HLEN - UDP_HLEN)
#define EPHEMERAL_FIRST  49152
#define EPHEMERAL_LAST   65535
#define DEFAULT_RCVBUF   (212992)       /* Linux's default net.core.rmem_default */

struct udp_sock {
    struct sock sock;
    struct list_head link;              /* all UDP sockets */
    struct dgram_queue queue;
    bool shut_wr;
};

static struct list_head udp_socks = LIST_HEAD_INIT(udp_socks);
static struct port_range ephemeral = { EPHEMERAL_FIRST, EPHEMERAL_LAST, EPHEMERAL_FIRST };

static struct udp_sock *udp_of(struct sock *s)
{
    return container_of(s, struct udp_sock, sock);
}

static bool port_in_use(uint16_t port, uint32_t addr, const struct udp_sock *except,
                        bool reuse)
{
    struct list_head *pos;
    list_for_each(pos, &udp_socks) {
        struct udp_sock *u = list_entry(pos, struct udp_sock, link);
        if (u == except || !u->sock.bound || u->sock.local.port != port)
            continue;
        if (u->sock.local.addr && addr && u->sock.local.addr != addr)
            continue;
        if (reuse && (u->sock.reuseaddr || u->sock.reuseport))
            continue;
        return true;
    }
    return false;
}

static bool port_taken(struct sock *s, uint16_t port)
{
    return port_in_use(port, s->local.addr, udp_of(s), false);
}

/* Bind to a free ephemeral port. */
static int autobind(struct udp_sock *u)
{
    return sock_autobind(&u->sock, &ephemeral, port_taken) ? 0 : -EAGAIN;
}

static int udp_bind(struct sock *s, const struct sock_addr *a)
{
    struct udp_sock *u = udp_of(s);
    int err = 0;
    net_lock();
    if (s->bound)
        err = -EINVAL;
    else if (a->addr && a->addr != 0xffffffff && !ip_is_local(a->addr))
        err = -EADDRNOTAVAIL;
    else if (a->port && port_in_use(a->port, a->addr, u, s->reuseaddr || s->reuseport))
        err = -EADDRINUSE;
    if (!err) {
        s->local.addr = a->addr;
        if (a->port) {
            s->local.port = a->port;
            s->bound = true;
        } else {
            err = autobind(u);
        }
    }
    net_unlock();
    return err;
}

static int udp_connect(struct sock *s, const struct sock_addr *a)
{
    struct udp_sock *u = udp_of(s);
    int err = 0;
    net_lock();
    if (!a) {                           /* AF_UNSPEC: dissolve the association */
        s->connected = false;
        memset(&s->remote, 0, sizeof(s->remote));
    } else {
        uint32_t hop;
        if (!ip_route(a->addr, &hop))
            err = -ENETUNREACH;
        else if (!s->bound)
            err = autobind(u);
        if (!err) {
            s->remote = *a;
            s->connected = true;
        }
    }
    net_unlock();
    return err;
}

static int64_t udp_sendmsg(struct sock *s, const struct sock_iov *iov, int iovcnt,
                           const struct sock_addr *to, int flags)
{
    struct udp_sock *u = udp_of(s);
    size_t len = sock_iov_total(iov, iovcnt);
    if (len > UDP_MAX_PAYLOAD)
        return -EMSGSIZE;
    if (!to && !s->connected)
        return -EDESTADDRREQ;
    if (u->shut_wr)
        return -EPIPE;
    struct sock_addr dst = to ? *to : s->remote;
    if (!dst.port)
        return -EINVAL;
    /* Copy from the app before taking the lock (it may page-fault). */
    struct netbuf *nb = netbuf_alloc(UDP_HLEN + len);
    if (!nb)
        return -ENOBUFS;
    uint8_t *h = netbuf_put(nb, UDP_HLEN + len);
    int vi = 0;
    size_t voff = 0;
    sock_iov_gather(iov, &vi, &voff, h + UDP_HLEN, len);

    net_lock();
    int64_t ret = (int64_t)len;
    uint32_t hop;
    struct netif *ifp = ip_route(dst.addr, &hop);
    if (!ifp) {
        ret = -ENETUNREACH;
    } else if (dst.addr == 0xffffffff && !s->broadcast) {
        ret = -EACCES;
    } else if (!s->bound && autobind(u)) {
        ret = -EAGAIN;
    }
    if (ret < 0) {
        net_unlock();
        netbuf_free(nb);
        return ret;
    }
    uint32_t src = s->local.addr && s->local.addr != 0xffffffff ? s->local.addr : ifp->ip;
    put_be16(h, ntohs(s->local.port));
    put_be16(h + 2, ntohs(dst.port));
    put_be16(h + 4, (uint16_t)(UDP_HLEN + len));
    put_be16(h + 6, 0);
    uint32_t pseudo = ip_pseudo_sum(src, dst.addr, IPPROTO_UDP, (uint16_t)(UDP_HLEN + len));
    if (ifp->features & NETIF_F_TX_CSUM) {
        /* The device adds the data; we give it the pseudo-header's sum. */
        put_be16(h + 6, (uint16_t)~inet_fold(pseudo));
        nb->flags |= NETBUF_CSUM_PARTIAL;
        nb->csum_start = 0;
        nb->csum_offset = 6;
    } else {
        uint16_t c = inet_fold(inet_sum(h, UDP_HLEN + len, pseudo));
        put_be16(h + 6, c ? c : 0xffff);    /* 0 means "no checksum" */
    }
    net_stats.udp_out++;
    if (ip_output(nb, src, dst.addr, IPPROTO_UDP, IP_DEFAULT_TTL))
        ret = -ENOBUFS;
    net_unlock();
    return ret;
}

void udp_input(struct netif *ifp, struct netbuf *nb, uint32_t src, uint32_t dst)
{
    net_stats.udp_in++;
    const uint8_t *h = nb->data;
    if (nb->len < UDP_HLEN || get_be16(h + 4) < UDP_HLEN || get_be16(h + 4) > nb->len) {
        netbuf_free(nb);
        return;
    }
    uint16_t ulen = get_be16(h + 4);
    nb->len = ulen;
    if (get_be16(h + 6) && !(nb->flags & NETBUF_CSUM_VALID) &&
        inet_fold(inet_sum(h, ulen, ip_pseudo_sum(src, dst, IPPROTO_UDP, ulen))) != 0) {
        net_stats.udp_bad_csum++;
        netbuf_free(nb);
        return;
    }
    uint16_t sport, dport;
    memcpy(&sport, h, 2);
    memcpy(&dport, h + 2, 2);
    if (dport == htons(68) && dhcp_input(ifp, nb))
        return;

    /* The most specific match: connected, then bound to this address, then
     * to any address. */
    struct udp_sock *best = NULL;
    int best_score = -1;
    struct list_head *pos;
    list_for_each(pos, &udp_socks) {
        struct udp_sock *u = list_entry(pos, struct udp_sock, link);
        struct sock *s = &u->sock;
        if (!s->bound || s->local.port != dport)
            continue;
        if (s->local.addr && s->local.addr != dst && s->local.addr != 0xffffffff)
            continue;
        if (s->connected && (s->remote.addr != src || s->remote.port != sport))
            continue;
        int score = (s->connected ? 2 : 0) + (s->local.addr ? 1 : 0);
        if (score > best_score) {
            best = u;
            best_score = score;
        }
    }
    if (!best) {
        net_stats.udp_no_port++;
        bool bcast = dst == 0xffffffff || (ifp->netmask && (dst | ifp->netmask) == 0xffffffff);
        if (!bcast) {
            netbuf_push(nb, IP_HLEN);   /* the IP header is still in front */
            icmp_dest_unreachable(nb, 3);
        }
        netbuf_free(nb);
        return;
    }
    uint32_t payload = ulen - UDP_HLEN;
    if (best->queue.eof || best->queue.bytes + payload > best->sock.rcvbuf) {
        net_stats.udp_rcvbuf_errors++;
        netbuf_free(nb);
        return;
    }
    netbuf_pull(nb, UDP_HLEN);
    dgram_enqueue(&best->queue, nb, src, sport);
    sock_wakeup(&best->sock);
}

static int64_t udp_recvmsg(struct sock *s, const struct sock_iov *iov, int iovcnt,
                           struct sock_addr *from, int flags, int *msg_flags)
{
    return dgram_recv(s, &udp_of(s)->queue, iov, iovcnt, from, flags, msg_flags);
}

static int udp_shutdown(struct sock *s, int how)
{
    struct udp_sock *u = udp_of(s);
    if (!s->connected)
        return -ENOTCONN;
    net_lock();
    if (how == 0 || how == 2)
        u->queue.eof = true;
    if (how == 1 || how == 2)
        u->shut_wr = true;
    net_unlock();
    sock_wakeup(s);
    return 0;
}

static unsigned udp_poll(struct sock *s)
{
    struct udp_sock *u = udp_of(s);
    unsigned ev = POLLOUT | POLLWRNORM;
    if (u->queue.head || u->queue.eof)
        ev |= POLLIN | POLLRDNORM;
    if (s->error)
        ev |= POLLERR;
    return ev;
}

/* FIONREAD: the size of the next datagram, as on Linux (arg: an int *
 * in kernel memory, see kern/socket.h). */
static int udp_ioctl(struct sock *s, unsigned long cmd, uintptr_t arg)
{
    struct udp_sock *u = udp_of(s);
    if (cmd != SOCK_IOCTL_FIONREAD)
        return -ENOTTY;
    net_lock();
    *(int *)arg = u->queue.head ? (int)u->queue.head->len : 0;
    net_unlock();
    return 0;
}

static void udp_close(struct sock *s)
{
    struct udp_sock *u = udp_of(s);
    net_lock();
    list_del(&u->link);
    dgram_purge(&u->queue);
    net_unlock();
    kfree(u);
}

static const struct sock_ops udp_ops = {
    .bind = udp_bind,
    .connect = udp_connect,
    .sendmsg = udp_sendmsg,
    .recvmsg = udp_recvmsg,
    .shutdown = udp_shutdown,
    .poll = udp_poll,
    .ioctl = udp_ioctl,
    .close = udp_close,
};

int udp_socket(struct sock **out)
{
    struct udp_sock *u = kmalloc(sizeof(*u));
    if (!u)
        return -ENOMEM;
    memset(u, 0, sizeof(*u));
    u->sock.ops = &udp_ops;
    u->sock.type = SOCK_DGRAM;
    u->sock.protocol = IPPROTO_UDP;
    u->sock.rcvbuf = DEFAULT_RCVBUF;
    u->sock.sndbuf = DEFAULT_RCVBUF;
    waitq_init(&u->sock.wait);
    net_lock();
    list_add_tail(&u->link, &udp_socks);
    net_unlock();
    *out = &u->sock;
    return 0;
}
