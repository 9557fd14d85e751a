/*
 * Datagram receive queues, shared by UDP and ping sockets: whole
 * datagrams queued with their sender, taken (or peeked at) by recvmsg,
 * which blocks, times out (SO_RCVTIMEO) or returns EAGAIN as the socket
 * says, and reports truncation as Linux does.
 */
#include <kern/errno.h>
#include <kern/socket.h>
#include <kern/string.h>
#include "net_internal.h"

void dgram_enqueue(struct dgram_queue *q, struct netbuf *nb, uint32_t addr, uint16_t port)
{
    nb->cookie = (uint64_t)addr << 16 | port;
    nb->next = NULL;
    if (q->tail)
        q->tail->next = nb;
    else
        q->head = nb;
    q->tail = nb;
    q->bytes += nb->len;
    q->count++;
}

static void take(struct dgram_queue *q, struct netbuf *nb)
{
    q->head = nb->next;
    if (!q->head)
        q->tail = NULL;
    q->bytes -= nb->len;
    q->count--;
}

int64_t dgram_recv(struct sock *s, struct dgram_queue *q, const struct sock_iov *iov,
                   int iovcnt, struct sock_addr *from, int flags, int *msg_flags)
{
    struct netbuf *nb;
    net_lock();
    while (!(nb = q->head)) {
        if (q->eof) {
            net_unlock();
            return 0;
        }
        if ((flags & MSG_DONTWAIT) || sock_nonblocking(s) || !net_wait(s, s->rcvtimeo_ns)) {
            net_unlock();
            return -EAGAIN;             /* or SO_RCVTIMEO expired */
        }
    }
    /* A taken datagram is ours: copy it out after dropping the lock. A
     * peeked one stays queued, so it is copied under the lock. */
    bool peek = flags & MSG_PEEK;
    if (!peek) {
        take(q, nb);
        net_unlock();
    }
    uint32_t off = 0;
    for (int i = 0; i < iovcnt && off < nb->len; i++) {
        uint32_t k = (uint32_t)MIN(iov[i].len, nb->len - off);
        memcpy(iov[i].base, nb->data + off, k);
        off += k;
    }
    if (from) {
        from->addr = (uint32_t)(nb->cookie >> 16);
        from->port = (uint16_t)nb->cookie;
    }
    int64_t len = nb->len;
    if (off < nb->len)
        *msg_flags |= MSG_TRUNC;
    if (peek)
        net_unlock();
    else
        netbuf_free(nb);
    return (flags & MSG_TRUNC) ? len : (int64_t)off;
}

void dgram_purge(struct dgram_queue *q)
{
    while (q->head) {
        struct netbuf *nb = q->head;
        take(q, nb);
        netbuf_free(nb);
    }
}
