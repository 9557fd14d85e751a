/*
 * ICMP echo sockets ("ping sockets", Linux's socket(AF_INET, SOCK_DGRAM,
 * IPPROTO_ICMP)): the app sends an echo request (an ICMP header and data;
 * the kernel sets the identifier to the socket's and fills the checksum)
 * and receives the echo replies that carry that identifier. This is how
 * ping works without raw sockets.
 */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/list.h>
#include <kern/socket.h>
#include <kern/string.h>
#include "net_internal.h"

#define ICMP_ECHO_REPLY   0
#define ICMP_ECHO_REQUEST 8
#define PING_QUEUE_MAX    64

struct ping_sock {
    struct sock sock;
    struct list_head link;
    uint16_t id;                        /* network order, like a port */
    struct dgram_queue queue;
};

static struct list_head ping_socks = LIST_HEAD_INIT(ping_socks);
static uint16_t next_id = 1;

static struct ping_sock *ping_of(struct sock *s)
{
    return container_of(s, struct ping_sock, sock);
}

static bool id_in_use(uint16_t id)
{
    struct list_head *pos;
    list_for_each(pos, &ping_socks)
        if (list_entry(pos, struct ping_sock, link)->id == id)
            return true;
    return false;
}

static void pick_id(struct ping_sock *p)
{
    while (!p->id) {
        uint16_t id = htons(next_id++);
        if (id && !id_in_use(id))
            p->id = id;
    }
    p->sock.local.port = p->id;
    p->sock.bound = true;
}

static int ping_bind(struct sock *s, const struct sock_addr *a)
{
    struct ping_sock *p = ping_of(s);
    int err = 0;
    net_lock();
    if (a->addr && !ip_is_local(a->addr))
        err = -EADDRNOTAVAIL;
    else if (a->port && a->port != p->id && id_in_use(a->port))
        err = -EADDRINUSE;
    if (!err) {
        s->local.addr = a->addr;
        p->id = a->port;
        pick_id(p);
    }
    net_unlock();
    return err;
}

static int ping_connect(struct sock *s, const struct sock_addr *a)
{
    net_lock();
    if (a) {
        s->remote = *a;
        s->connected = true;
        pick_id(ping_of(s));
    } else {
        s->connected = false;
    }
    net_unlock();
    return 0;
}

static int64_t ping_sendmsg(struct sock *s, const struct sock_iov *iov, int iovcnt,
                            const struct sock_addr *to, int flags)
{
    struct ping_sock *p = ping_of(s);
    size_t len = sock_iov_total(iov, iovcnt);
    if (len < 8 || len > 65535 - IP_HLEN)
        return len < 8 ? -EINVAL : -EMSGSIZE;
    if (!to && !s->connected)
        return -EDESTADDRREQ;
    uint32_t dst = to ? to->addr : s->remote.addr;
    struct netbuf *nb = netbuf_alloc(len);
    if (!nb)
        return -ENOBUFS;
    uint8_t *h = netbuf_put(nb, len);
    int vi = 0;
    size_t voff = 0;
    sock_iov_gather(iov, &vi, &voff, h, len);
    if (h[0] != ICMP_ECHO_REQUEST || h[1] != 0) {
        netbuf_free(nb);
        return -EINVAL;                 /* only echo requests, as on Linux */
    }
    net_lock();
    pick_id(p);
    memcpy(h + 4, &p->id, 2);
    put_be16(h + 2, 0);
    put_be16(h + 2, inet_fold(inet_sum(h, len, 0)));
    uint32_t hop;
    int64_t ret = (int64_t)len;
    if (!ip_route(dst, &hop)) {
        ret = -ENETUNREACH;
        netbuf_free(nb);
    } else {
        net_stats.icmp_out++;
        if (ip_output(nb, s->local.addr, dst, IPPROTO_ICMP, IP_DEFAULT_TTL))
            ret = -ENOBUFS;
    }
    net_unlock();
    return ret;
}

bool ping_input(struct netbuf *nb, uint32_t src)
{
    const uint8_t *h = nb->data;
    if (h[0] != ICMP_ECHO_REPLY)
        return false;
    uint16_t id;
    memcpy(&id, h + 4, 2);
    struct list_head *pos;
    list_for_each(pos, &ping_socks) {
        struct ping_sock *p = list_entry(pos, struct ping_sock, link);
        if (p->id != id)
            continue;
        if (p->queue.count == PING_QUEUE_MAX) {
            netbuf_free(nb);
            return true;
        }
        dgram_enqueue(&p->queue, nb, src, 0);
        sock_wakeup(&p->sock);
        return true;
    }
    return false;
}

static int64_t ping_recvmsg(struct sock *s, const struct sock_iov *iov, int iovcnt,
                            struct sock_addr *from, int flags, int *msg_flags)
{
    return dgram_recv(s, &ping_of(s)->queue, iov, iovcnt, from, flags, msg_flags);
}

static unsigned ping_poll(struct sock *s)
{
    return POLLOUT | POLLWRNORM | (ping_of(s)->queue.head ? POLLIN | POLLRDNORM : 0);
}

static void ping_close(struct sock *s)
{
    struct ping_sock *p = ping_of(s);
    net_lock();
    list_del(&p->link);
    dgram_purge(&p->queue);
    net_unlock();
    kfree(p);
}

static const struct sock_ops ping_ops = {
    .bind = ping_bind,
    .connect = ping_connect,
    .sendmsg = ping_sendmsg,
    .recvmsg = ping_recvmsg,
    .poll = ping_poll,
    .close = ping_close,
};

int ping_socket(struct sock **out)
{
    struct ping_sock *p = kmalloc(sizeof(*p));
    if (!p)
        return -ENOMEM;
    memset(p, 0, sizeof(*p));
    p->sock.ops = &ping_ops;
    p->sock.type = SOCK_DGRAM;
    p->sock.protocol = IPPROTO_ICMP;
    p->sock.rcvbuf = p->sock.sndbuf = 212992;
    waitq_init(&p->sock.wait);
    net_lock();
    list_add_tail(&p->link, &ping_socks);
    net_unlock();
    *out = &p->sock;
    return 0;
}
