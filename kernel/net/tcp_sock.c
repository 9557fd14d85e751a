/*
 * TCP sockets (kern/socket.h): connect, listen/accept, send by copy or by
 * reference (zcopy_tx, MSG_ZEROCOPY, sendfile), receive, shutdown, close,
 * options and TCP_INFO. App memory is touched only with the stack lock
 * dropped: a sender copies into a chunk before queueing it, a reader
 * copies out of the receive ring while marked busy (the input path only
 * appends behind what the reader is copying).
 */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/random.h>
#include <kern/string.h>
#include "tcp.h"

#define DEFAULT_RCVBUF   (256 * 1024)
#define DEFAULT_SNDBUF   (1024 * 1024)
#define COPY_CHUNK_MAX   (64 * 1024)
#define SMALL_CHUNK      (16 * 1024)    /* room for small writes to gather in */
#define SMALL_WRITE      1024
#define MAX_BACKLOG      4096           /* Linux's somaxconn */

/* IPPROTO_TCP options (Linux numbers) */
#define TCP_NODELAY      1
#define TCP_MAXSEG       2
#define TCP_CORK         3
#define TCP_KEEPIDLE     4
#define TCP_KEEPINTVL    5
#define TCP_KEEPCNT      6
#define TCP_INFO         11
#define TCP_QUICKACK     12
#define TCP_USER_TIMEOUT 18
#define SOL_TCP          6

static const struct sock_ops tcp_ops;

static bool must_not_wait(const struct sock *s, int flags)
{
    return (flags & MSG_DONTWAIT) || sock_nonblocking(s);
}

/* ---- connecting -------------------------------------------------------------------- */

static int tcp_bind(struct sock *s, const struct sock_addr *a)
{
    struct tcp_sock *tp = tcp_of(s);
    int err = 0;
    net_lock();
    if (s->bound)
        err = -EINVAL;
    else if (a->addr && !ip_is_local(a->addr))
        err = -EADDRNOTAVAIL;
    else if (a->port && tcp_port_in_use(a->port, a->addr, tp, s->reuseaddr || s->reuseport))
        err = -EADDRINUSE;
    if (!err) {
        s->local.addr = a->addr;
        if (a->port) {
            s->local.port = a->port;
            s->bound = true;
        } else {
            err = tcp_autobind(tp);
        }
        if (!err)
            tcp_hash(tp);
    }
    net_unlock();
    return err;
}

static int tcp_listen(struct sock *s, int backlog)
{
    struct tcp_sock *tp = tcp_of(s);
    int err = 0;
    net_lock();
    if (tp->state != TCPS_CLOSED && tp->state != TCPS_LISTEN)
        err = -EINVAL;
    else if (!s->bound && (err = tcp_autobind(tp)) == 0)
        tcp_hash(tp);
    if (!err && tp->state == TCPS_CLOSED &&
        tcp_port_in_use(s->local.port, s->local.addr, tp, true))
        err = -EADDRINUSE;
    if (!err) {
        tp->backlog = backlog < 0 || backlog > MAX_BACKLOG ? MAX_BACKLOG : backlog;
        tcp_set_state(tp, TCPS_LISTEN);
        s->listening = true;
        tcp_hash(tp);
    }
    net_unlock();
    return err;
}

static int tcp_accept(struct sock *s, struct sock **out, struct sock_addr *peer)
{
    struct tcp_sock *lp = tcp_of(s);
    net_lock();
    while (list_empty(&lp->accept_q)) {
        if (lp->state != TCPS_LISTEN) {
            net_unlock();
            return -EINVAL;
        }
        if (sock_nonblocking(s) || !net_wait(s, s->rcvtimeo_ns)) {
            net_unlock();
            return -EAGAIN;
        }
    }
    struct tcp_sock *tp = list_first_entry(&lp->accept_q, struct tcp_sock, accept_link);
    list_del(&tp->accept_link);
    lp->accept_len--;
    tp->parent = NULL;
    *peer = tp->sock.remote;
    *out = &tp->sock;
    net_unlock();
    return 0;
}

static bool connecting(uint8_t state)
{
    return state == TCPS_SYN_SENT || state == TCPS_SYN_RECEIVED;
}

/* After the handshake: 0, or why it failed (SO_ERROR, taken). */
static int connect_result(struct tcp_sock *tp)
{
    if (tp->state == TCPS_CLOSED) {
        int err = tp->sock.error ? tp->sock.error : -ECONNREFUSED;
        tp->sock.error = 0;
        return err;
    }
    return 0;
}

static int tcp_connect(struct sock *s, const struct sock_addr *a)
{
    struct tcp_sock *tp = tcp_of(s);
    int err = 0;
    net_lock();
    if (!a) {
        /* AF_UNSPEC: abort whatever connection there is, as Linux does. */
        if (tp->state != TCPS_CLOSED && tp->state != TCPS_LISTEN) {
            if (tp->state != TCPS_SYN_SENT)
                tcp_send_ctl(tp, TH_RST | TH_ACK);
            tcp_drop(tp, 0);
        }
        s->connected = false;
        net_unlock();
        return 0;
    }
    if (connecting(tp->state)) {
        err = -EALREADY;
    } else if (tp->state == TCPS_LISTEN) {
        err = -EISCONN;
    } else if (tp->state != TCPS_CLOSED) {
        err = -EISCONN;
    } else if (!a->port || !a->addr) {
        err = -ECONNREFUSED;
    } else {
        tp->fin_queued = tp->fin_received = tp->shut_rd = false;
        tp->rbuf_head = tp->rbuf_len = 0;
        tcp_purge_ooo(tp);
        err = tcp_prepare(tp, a->addr);
        if (!err && !s->bound)
            err = tcp_autobind(tp);
        if (!err && tcp_lookup(a->addr, s->local.addr, a->port, s->local.port) &&
            tcp_lookup(a->addr, s->local.addr, a->port, s->local.port)->state != TCPS_LISTEN)
            err = -EADDRNOTAVAIL;               /* that four-tuple is taken */
        if (!err) {
            s->remote = *a;
            s->error = 0;
            tp->iss = (uint32_t)random_u64();
            /* NewReno's recover starts at the ISS (RFC 6582 3.2 step 1):
             * left at 0, dupacks of an upper-half ISS never counted. */
            tp->recover = tp->iss;
            tp->snd_una = tp->iss;
            tp->snd_nxt = tp->snd_max = tp->snd_end = tp->iss + 1;
            tp->rcv_wscale = tp->rcv_wscale;    /* offered; dropped if the peer does not */
            tp->cwnd = 10u * tp->mss;
            tcp_set_state(tp, TCPS_SYN_SENT);
            tcp_hash(tp);
            tcp_stats.active_opens++;
            tcp_send_ctl(tp, TH_SYN);
            tp->rto_at = tcp_now_ms() + tp->rto_ms;
        }
    }
    if (err == -EALREADY || !err) {
        if (sock_nonblocking(s)) {
            net_unlock();
            return -EINPROGRESS;
        }
        while (connecting(tp->state))
            if (!net_wait(s, s->sndtimeo_ns)) {
                net_unlock();
                return -EINPROGRESS;
            }
        err = connect_result(tp);
    }
    net_unlock();
    return err;
}

/* ---- sending ------------------------------------------------------------------------- */

/* The stack is over its memory budget and this socket holds more than
 * its minimum: it waits (or gets EAGAIN) until memory falls below the
 * pressure mark (net_mem.c wakes it). */
static bool out_of_memory(struct tcp_sock *tp)
{
    /* The test is the largest chunk a send makes: a poller told POLLOUT
     * must find its send charged, or it would spin on EAGAIN. */
    if (tp->snd_end - tp->snd_una < TCP_WMEM_MIN ||
        net_mem_room(COPY_CHUNK_MAX + sizeof(struct tcp_chunk)))
        return false;
    tp->mem_wait = true;
    net_mem_wait();
    return true;
}

/* Charge a copied chunk (its data and itself) to the budget: a socket's
 * first TCP_WMEM_MIN bytes as its minimum. */
static bool charge_chunk(struct tcp_sock *tp, uint32_t bytes)
{
    if (tp->snd_end - tp->snd_una < TCP_WMEM_MIN)
        return net_mem_charge_min(bytes);
    return net_mem_charge(bytes);
}

/* Wait until the connection may take data and the send buffer has room;
 * the room (> 0) or -errno. A blocking send waits for room again after
 * queueing part of its data, as Linux's does: it returns a short count
 * only on a non-blocking socket, a timeout or an error, so a 1 MiB
 * zcopy_tx is one call with one completion, however small the buffer. */
static int64_t wait_send_room(struct tcp_sock *tp, int flags)
{
    for (;;) {
        if (tp->sock.error) {
            int err = tp->sock.error;
            tp->sock.error = 0;
            return err;
        }
        if (tp->fin_queued || (tp->state != TCPS_ESTABLISHED && tp->state != TCPS_CLOSE_WAIT &&
                               !connecting(tp->state)))
            return tp->state == TCPS_CLOSED && !tp->sock.connected ? -ENOTCONN : -EPIPE;
        uint32_t queued = tp->snd_end - tp->snd_una;
        if (!connecting(tp->state) && !tp->tx_busy && queued < tp->sock.sndbuf) {
            if (!out_of_memory(tp))
                return tp->sock.sndbuf - queued;
            tcp_stats.mem_waits++;
        }
        if (must_not_wait(&tp->sock, flags))
            return -EAGAIN;
        if (!net_wait(&tp->sock, tp->sock.sndtimeo_ns))
            return -EAGAIN;
    }
}

static void after_queue(struct tcp_sock *tp, int flags)
{
    bool corked = tp->cork;
    if (flags & MSG_MORE)
        tp->cork = true;                        /* this call only */
    tcp_output(tp);
    tp->cork = corked;
}

static int64_t tcp_sendmsg(struct sock *s, const struct sock_iov *iov, int iovcnt,
                           const struct sock_addr *to, int flags)
{
    struct tcp_sock *tp = tcp_of(s);
    size_t total = sock_iov_total(iov, iovcnt), sent = 0;
    int vi = 0;
    size_t voff = 0;
    (void)to;                                   /* ignored on a connected stream, as Linux */
    if ((flags & MSG_ZEROCOPY) && s->zerocopy)
        return tp->sock.ops->sendmsg_ref(s, iov, iovcnt, flags, NULL);
    net_lock();
    while (sent < total) {
        int64_t room = wait_send_room(tp, flags);
        if (room < 0) {
            net_unlock();
            return sent ? (int64_t)sent : room;
        }
        size_t n = MIN(total - sent, (size_t)room);
        struct tcp_chunk *tail = tp->q_tail;
        uint8_t small[SMALL_WRITE];
        if (n <= SMALL_WRITE) {
            /* Small writes gather in the last chunk: copy into a bounce
             * buffer without the lock, then into the chunk with it. */
            tp->tx_busy = true;
            net_unlock();
            sock_iov_gather(iov, &vi, &voff, small, n);
            net_lock();
            tp->tx_busy = false;
            tail = tp->q_tail;
            if (tail && tail->kind == TCP_CHUNK_COPY && tail->cap - tail->len >= n &&
                tp->state != TCPS_CLOSED) {
                memcpy(tail->data + tail->len, small, n);
                tail->len += (uint32_t)n;
                tp->snd_end += (uint32_t)n;
            } else if (tp->state == TCPS_CLOSED || tp->fin_queued) {
                continue;                       /* reset or shut meanwhile: wait_send_room says */
            } else {
                /* wait_send_room found the budget open; if another
                 * sender took it meanwhile, the overshoot is one small
                 * chunk, charged as a minimum (only the hard limit
                 * refuses, and then these bytes were not sent). */
                if (!charge_chunk(tp, SMALL_CHUNK + sizeof(struct tcp_chunk)) &&
                    !net_mem_charge_min(SMALL_CHUNK + sizeof(struct tcp_chunk))) {
                    net_mem_dropped("a send (hard limit)");
                    net_unlock();
                    return sent ? (int64_t)sent : -ENOBUFS;
                }
                struct tcp_chunk *c = kzalloc(sizeof(*c));
                uint8_t *buf = c ? kmalloc(SMALL_CHUNK) : NULL;
                if (!buf) {
                    kfree(c);
                    net_mem_uncharge(SMALL_CHUNK + sizeof(struct tcp_chunk));
                    sock_wakeup(s);
                    net_unlock();
                    return sent ? (int64_t)sent : -ENOBUFS;
                }
                memcpy(buf, small, n);
                c->charged = SMALL_CHUNK + sizeof(struct tcp_chunk);
                c->kind = TCP_CHUNK_COPY;
                c->data = buf;
                c->cap = SMALL_CHUNK;
                c->len = (uint32_t)n;
                tcp_queue_chunk(tp, c);
            }
        } else {
            n = MIN(n, (size_t)COPY_CHUNK_MAX);
            uint32_t charge = (uint32_t)n + sizeof(struct tcp_chunk);
            if (!charge_chunk(tp, charge)) {
                tp->mem_wait = true;
                net_mem_wait();
                if (must_not_wait(s, flags) || !net_wait(s, s->sndtimeo_ns)) {
                    net_unlock();
                    return sent ? (int64_t)sent : -EAGAIN;
                }
                continue;
            }
            tp->tx_busy = true;
            net_unlock();
            struct tcp_chunk *c = kzalloc(sizeof(*c));
            uint8_t *buf = c ? kmalloc(n) : NULL;
            if (buf)
                sock_iov_gather(iov, &vi, &voff, buf, n);
            net_lock();
            tp->tx_busy = false;
            sock_wakeup(s);                     /* other writers waited for tx_busy */
            if (!buf) {
                kfree(c);
                net_mem_uncharge(charge);
                net_unlock();
                return sent ? (int64_t)sent : -ENOBUFS;
            }
            if (tp->state == TCPS_CLOSED || tp->fin_queued) {
                kfree(buf);
                kfree(c);
                net_mem_uncharge(charge);
                continue;                       /* wait_send_room says why */
            }
            c->charged = charge;
            c->kind = TCP_CHUNK_COPY;
            c->data = buf;
            c->cap = c->len = (uint32_t)n;
            tcp_queue_chunk(tp, c);
        }
        sent += n;
        after_queue(tp, sent < total ? flags | MSG_MORE : flags);
    }
    net_unlock();
    return (int64_t)sent;
}

/* MSG_ZEROCOPY's notification: the send's number goes on the error
 * queue, merged with the range before it when they follow each other. */
struct errq_notify {
    struct zc_notify zn;
    struct tcp_sock *tp;
    struct errq_notify *next;           /* held back: the queue was full */
};

/* Id on the error queue; false when it is full. Every range is exact: a
 * range reports each send in it complete, and the app reuses their
 * buffers at once. */
static bool errq_add(struct tcp_sock *tp, uint32_t id, bool copied)
{
    struct tcp_zc_range *last = tp->errq_len ? &tp->errq[tp->errq_len - 1] : NULL;
    if (last && last->hi + 1 == id && last->copied == copied) {
        last->hi = id;
    } else if (tp->errq_len < TCP_ERRQ_MAX) {
        tp->errq[tp->errq_len].lo = tp->errq[tp->errq_len].hi = id;
        tp->errq[tp->errq_len].copied = copied;
        tp->errq_len++;
    } else {
        return false;
    }
    return true;
}

static void errq_fire(struct zc_notify *zn)
{
    struct errq_notify *en = container_of(zn, struct errq_notify, zn);
    struct tcp_sock *tp = en->tp;
    if (errq_add(tp, zn->id, zn->copied)) {
        kfree(en);
    } else {
        /* Full, and this id does not extend the last range (completions
         * out of order, or copied and uncopied sends interleaved): keep
         * it until the app reads a range. Widening a range instead
         * would report sends whose buffers the device may still read. */
        en->next = NULL;
        if (tp->errq_over_tail)
            tp->errq_over_tail->next = en;
        else
            tp->errq_over = en;
        tp->errq_over_tail = en;
    }
    sock_wakeup(&tp->sock);
    tcp_put(tp);
}

/* Ids held back, onto the queue as far as it has room. */
static void errq_refill(struct tcp_sock *tp)
{
    struct errq_notify *en;
    while ((en = tp->errq_over) && errq_add(tp, en->zn.id, en->zn.copied)) {
        tp->errq_over = en->next;
        if (!tp->errq_over)
            tp->errq_over_tail = NULL;
        kfree(en);
    }
}

void tcp_errq_free(struct tcp_sock *tp)
{
    while (tp->errq_over) {
        struct errq_notify *en = tp->errq_over;
        tp->errq_over = en->next;
        kfree(en);
    }
    tp->errq_over_tail = NULL;
}

size_t tcp_zc_copy_max = 4096;

bool sock_zc_copies(size_t len)
{
    return len <= tcp_zc_copy_max;
}

static int64_t tcp_sendmsg_ref(struct sock *s, const struct sock_iov *iov, int iovcnt, int flags,
                               struct zc_notify *zn)
{
    struct tcp_sock *tp = tcp_of(s);
    size_t total = sock_iov_total(iov, iovcnt), sent = 0;
    struct errq_notify *en = NULL;
    /* Zero-copy sends of at most zcopy_copy_max bytes (a kernel option)
     * are copied instead: below it, handing pages over and waiting for
     * the ACK costs more than the copy. The send still completes through
     * its notification, at once, marked copied (what Linux reports as
     * SO_EE_CODE_ZEROCOPY_COPIED). A send by reference with nobody to
     * notify (sendfile's image pages) costs no completion: never copied. */
    bool copy = (zn || (flags & MSG_ZEROCOPY)) && sock_zc_copies(total);
    int64_t copied = 0;
    if (copy) {
        copied = tcp_sendmsg(s, iov, iovcnt, NULL, flags & ~MSG_ZEROCOPY);
        if (copied <= 0)
            return copied;
    }
    net_lock();
    if (!zn && (flags & MSG_ZEROCOPY)) {
        en = kzalloc(sizeof(*en));
        if (!en) {
            net_unlock();
            return -ENOBUFS;
        }
        en->tp = tp;
        en->zn.pending = 1;
        en->zn.fire = errq_fire;
        zn = &en->zn;
    }
    int vi = 0;
    size_t voff = 0;
    int64_t err = 0;
    if (copy) {
        zn->copied = true;
        sent = (size_t)copied;
    }
    while (sent < total && !copy) {
        int64_t room = wait_send_room(tp, flags);
        if (room < 0) {
            err = room;
            break;
        }
        while (vi < iovcnt && voff == iov[vi].len) {
            vi++;
            voff = 0;
        }
        size_t n = MIN(iov[vi].len - voff, (size_t)room);
        struct tcp_chunk *c = kzalloc(sizeof(*c));
        if (!c) {
            err = -ENOBUFS;
            break;
        }
        c->kind = TCP_CHUNK_REF;
        c->data = (uint8_t *)iov[vi].base + voff;
        c->len = c->cap = (uint32_t)n;
        c->zc = zn;
        if (zn)
            zn->pending++;
        tcp_queue_chunk(tp, c);
        voff += n;
        sent += n;
        after_queue(tp, sent < total ? flags | MSG_MORE : flags);
    }
    if (en) {
        if (sent) {
            tp->refs++;                         /* for errq_fire */
            en->zn.id = tp->zc_next_id++;
            if (--en->zn.pending == 0)
                en->zn.fire(&en->zn);
        } else {
            kfree(en);
        }
    }
    net_unlock();
    return sent ? (int64_t)sent : err;
}

static int tcp_recv_zc_range(struct sock *s, uint32_t *lo, uint32_t *hi, bool *copied)
{
    struct tcp_sock *tp = tcp_of(s);
    int err = -EAGAIN;
    net_lock();
    if (tp->errq_len) {
        *lo = tp->errq[0].lo;
        *hi = tp->errq[0].hi;
        *copied = tp->errq[0].copied;
        tp->errq_len--;
        memmove(tp->errq, tp->errq + 1, tp->errq_len * sizeof(tp->errq[0]));
        errq_refill(tp);
        err = 0;
    }
    net_unlock();
    return err;
}

/* ---- receiving ---------------------------------------------------------------------- */

static int64_t tcp_recvmsg(struct sock *s, const struct sock_iov *iov, int iovcnt,
                           struct sock_addr *from, int flags, int *msg_flags)
{
    struct tcp_sock *tp = tcp_of(s);
    size_t want = sock_iov_total(iov, iovcnt), got = 0;
    int vi = 0;
    size_t voff = 0;
    (void)msg_flags;
    if (flags & MSG_OOB)
        return -EINVAL;                         /* no urgent data (RFC 6093) */
    net_lock();
    while (tp->rx_busy)
        net_wait(s, 0);
    while (got < want || !want) {
        if (!tp->rbuf_len) {
            if (got && !(flags & MSG_WAITALL))
                break;
            if (tp->fin_received || tp->shut_rd)
                break;
            if (tp->sock.error) {
                int err = tp->sock.error;
                tp->sock.error = 0;
                net_unlock();
                return got ? (int64_t)got : err;
            }
            if (tp->state == TCPS_LISTEN || (tp->state == TCPS_CLOSED && !tp->sock.connected) ||
                connecting(tp->state)) {
                if (!connecting(tp->state) || must_not_wait(s, flags)) {
                    net_unlock();
                    return got ? (int64_t)got
                               : connecting(tp->state) ? -EAGAIN : -ENOTCONN;
                }
            } else if (tp->state == TCPS_CLOSED) {
                break;                          /* closed cleanly: end of stream */
            }
            if (!want)
                break;
            if (must_not_wait(s, flags) || !net_wait(s, s->rcvtimeo_ns)) {
                net_unlock();
                return got ? (int64_t)got : -EAGAIN;
            }
            continue;
        }
        if (!want)
            break;                              /* a zero-byte read: nothing to copy */
        if (tp->rx_busy) {
            /* Another reader copies out of the ring: wait for it, or
             * both would copy (and consume) the same bytes. */
            net_wait(s, 0);
            continue;
        }
        /* Copy out of the ring without the lock; input appends only
         * behind [head, head + len), which stays as it is, and a ring
         * that grows meanwhile is kept until we are done (tcp_rcvbuf.c). */
        const uint8_t *ring = tp->rbuf;
        uint32_t head = tp->rbuf_head, avail = tp->rbuf_len, cap = tp->rbuf_cap;
        tp->rx_busy = true;
        net_unlock();
        uint32_t n = (uint32_t)MIN((size_t)avail, want - got);
        uint32_t done = 0;
        while (done < n) {
            size_t m = MIN((size_t)(n - done), iov[vi].len - voff);
            uint32_t at = (head + done) % cap;
            m = MIN(m, (size_t)(cap - at));
            memcpy((uint8_t *)iov[vi].base + voff, ring + at, m);
            done += (uint32_t)m;
            voff += m;
            if (voff == iov[vi].len) {
                vi++;
                voff = 0;
            }
        }
        net_lock();
        tp->rx_busy = false;
        tcp_rcv_reader_done(tp);
        if (flags & MSG_PEEK) {
            got = n;
            break;
        }
        tcp_rcv_consume(tp, n);
        got += n;
        tcp_rcv_shrink(tp);
        tcp_window_update(tp);
    }
    if (from)
        *from = tp->sock.remote;
    net_unlock();
    sock_wakeup(s);                             /* readers that waited for rx_busy */
    return (int64_t)got;
}

/* ---- the rest of the interface ------------------------------------------------------ */

static void queue_fin(struct tcp_sock *tp)
{
    if (tp->fin_queued)
        return;
    if (tp->state == TCPS_ESTABLISHED || tp->state == TCPS_SYN_RECEIVED)
        tcp_set_state(tp, TCPS_FIN_WAIT_1);
    else if (tp->state == TCPS_CLOSE_WAIT)
        tcp_set_state(tp, TCPS_LAST_ACK);
    else
        return;
    tp->fin_queued = true;
    tcp_output(tp);
}

static int tcp_shutdown(struct sock *s, int how)
{
    struct tcp_sock *tp = tcp_of(s);
    int err = 0;
    net_lock();
    if (tp->state == TCPS_CLOSED || tp->state == TCPS_LISTEN) {
        err = -ENOTCONN;
    } else if (tp->state == TCPS_SYN_SENT) {
        tcp_drop(tp, 0);
    } else {
        if (how == 0 || how == 2)
            tp->shut_rd = true;
        if (how == 1 || how == 2)
            queue_fin(tp);
    }
    net_unlock();
    sock_wakeup(s);
    return err;
}

static unsigned tcp_poll(struct sock *s)
{
    struct tcp_sock *tp = tcp_of(s);
    unsigned ev = 0;
    if (tp->state == TCPS_LISTEN)
        return list_empty(&tp->accept_q) ? 0 : POLLIN | POLLRDNORM;
    if (s->error || tp->errq_len)
        ev |= POLLERR;
    if (tp->state == TCPS_CLOSED) {
        ev |= POLLHUP | POLLOUT | POLLWRNORM;
        if (tp->rbuf_len || tp->fin_received || tp->sock.connected)
            ev |= POLLIN | POLLRDNORM;
        return ev;
    }
    if (connecting(tp->state))
        return ev;
    if (tp->rbuf_len || tp->fin_received || tp->shut_rd)
        ev |= POLLIN | POLLRDNORM;
    if (tp->fin_received)
        ev |= POLLRDHUP;
    if (tp->fin_received && tp->fin_queued)
        ev |= POLLHUP;
    uint32_t queued = tp->snd_end - tp->snd_una;
    if (tp->fin_queued || (queued < tp->sock.sndbuf / 2 + 1 && !out_of_memory(tp)))
        ev |= POLLOUT | POLLWRNORM;
    return ev;
}

struct linux_tcp_info {
    uint8_t state, ca_state, retransmits, probes, backoff, options, wscale, flags;
    uint32_t rto, ato, snd_mss, rcv_mss;
    uint32_t unacked, sacked, lost, retrans, fackets;
    uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
    uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
    uint32_t rcv_rtt, rcv_space;
    uint32_t total_retrans;
    uint64_t pacing_rate, max_pacing_rate;
    uint64_t bytes_acked, bytes_received;
    uint32_t segs_out, segs_in;
    uint32_t notsent_bytes, min_rtt, data_segs_in, data_segs_out;
    uint64_t delivery_rate;
    uint64_t busy_time, rwnd_limited, sndbuf_limited;
    uint32_t delivered, delivered_ce;
    uint64_t bytes_sent, bytes_retrans;
    uint32_t dsack_dups, reord_seen;
    uint32_t rcv_ooopack, snd_wnd;
};

static void fill_info(struct tcp_sock *tp, struct linux_tcp_info *ti)
{
    uint64_t now = tcp_now_ms();
    memset(ti, 0, sizeof(*ti));
    ti->state = tp->state;
    ti->ca_state = tp->in_recovery ? 3 : 0;     /* TCP_CA_Recovery */
    ti->retransmits = (uint8_t)MIN(tp->backoff, 255);
    ti->backoff = ti->retransmits;
    ti->probes = (uint8_t)MIN(tp->keep_probes, 255);
    ti->options = (tp->ts_ok ? 1 : 0) | (tp->sack_ok ? 2 : 0) | (tp->ws_ok ? 4 : 0);
    ti->wscale = (uint8_t)(tp->snd_wscale | tp->rcv_wscale << 4);
    ti->rto = tp->rto_ms * 1000;
    ti->ato = 40000;
    ti->snd_mss = tp->mss;
    ti->rcv_mss = tp->rcv_mss ? tp->rcv_mss : tp->mss;
    ti->unacked = tp->mss ? (tcp_flight(tp) + tp->mss - 1) / tp->mss : 0;
    ti->last_data_recv = tp->last_data_recv_ms ? (uint32_t)(now - tp->last_data_recv_ms) : 0;
    ti->last_ack_recv = tp->last_ack_recv_ms ? (uint32_t)(now - tp->last_ack_recv_ms) : 0;
    ti->pmtu = tp->mss + IP_HLEN + TCP_HLEN + (tp->ts_ok ? 12 : 0);
    ti->rtt = tp->srtt_us;
    ti->rttvar = tp->rttvar_us;
    ti->snd_ssthresh = tp->ssthresh == 0xffffffff ? 0x7fffffff
                                                  : tp->ssthresh / (tp->mss ? tp->mss : 1);
    ti->snd_cwnd = tp->cwnd / (tp->mss ? tp->mss : 1);
    ti->advmss = tp->mss;
    ti->reordering = 3;
    ti->rcv_space = tcp_rcv_window(tp);
    ti->total_retrans = tp->total_retrans;
    ti->bytes_acked = tp->bytes_acked;
    ti->bytes_received = tp->bytes_received;
    ti->segs_out = tp->segs_out;
    ti->segs_in = tp->segs_in;
    ti->data_segs_in = tp->data_segs_in;
    ti->data_segs_out = tp->data_segs_out;
    ti->notsent_bytes = SEQ_GT(tp->snd_end, tp->snd_nxt) ? tp->snd_end - tp->snd_nxt : 0;
    ti->bytes_sent = tp->bytes_sent;
    ti->bytes_retrans = tp->bytes_retrans;
    ti->snd_wnd = tp->snd_wnd;
}

static int int_opt(const void *val, size_t len, int *v)
{
    if (len < sizeof(int))
        return -EINVAL;
    memcpy(v, val, sizeof(int));
    return 0;
}

static int tcp_setsockopt(struct sock *s, int level, int name, const void *val, size_t len)
{
    struct tcp_sock *tp = tcp_of(s);
    int v, err;
    if (level != SOL_TCP)
        return -ENOPROTOOPT;
    if ((err = int_opt(val, len, &v)))
        return err;
    net_lock();
    switch (name) {
    case TCP_NODELAY:
        tp->nodelay = v;
        tcp_output(tp);
        break;
    case TCP_CORK:
        tp->cork = v;
        if (!v)
            tcp_output(tp);
        break;
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
        if (v < 1 || v > 32767)
            err = -EINVAL;
        else if (name == TCP_KEEPIDLE)
            tp->keepidle_s = (uint32_t)v;
        else
            tp->keepintvl_s = (uint32_t)v;
        if (!err && name == TCP_KEEPIDLE && tp->keepalive_at)
            tp->keepalive_at = tcp_now_ms() + (uint64_t)v * 1000;
        break;
    case TCP_KEEPCNT:
        if (v < 1 || v > 127)
            err = -EINVAL;
        else
            tp->keepcnt = (uint32_t)v;
        break;
    case TCP_USER_TIMEOUT:
        if (v < 0)
            err = -EINVAL;
        else
            tp->user_timeout_ms = (uint32_t)v;
        break;
    case TCP_MAXSEG:
    case TCP_QUICKACK:
        break;                                  /* accepted; the stack decides */
    default:
        err = -ENOPROTOOPT;
    }
    net_unlock();
    return err;
}

static int tcp_getsockopt(struct sock *s, int level, int name, void *val, size_t *len)
{
    struct tcp_sock *tp = tcp_of(s);
    int v = 0, err = 0;
    if (level != SOL_TCP)
        return -ENOPROTOOPT;
    net_lock();
    switch (name) {
    case TCP_NODELAY:      v = tp->nodelay; break;
    case TCP_CORK:         v = tp->cork; break;
    case TCP_KEEPIDLE:     v = (int)tp->keepidle_s; break;
    case TCP_KEEPINTVL:    v = (int)tp->keepintvl_s; break;
    case TCP_KEEPCNT:      v = (int)tp->keepcnt; break;
    case TCP_USER_TIMEOUT: v = (int)tp->user_timeout_ms; break;
    case TCP_MAXSEG:       v = tp->mss; break;
    case TCP_INFO: {
        struct linux_tcp_info ti;
        fill_info(tp, &ti);
        size_t n = MIN(*len, sizeof(ti));
        memcpy(val, &ti, n);
        *len = n;
        net_unlock();
        return 0;
    }
    default:
        err = -ENOPROTOOPT;
    }
    net_unlock();
    if (!err) {
        memcpy(val, &v, sizeof(v));
        *len = sizeof(v);
    }
    return err;
}

static int tcp_ioctl(struct sock *s, unsigned long cmd, uintptr_t arg)
{
    struct tcp_sock *tp = tcp_of(s);
    if (cmd != SOCK_IOCTL_FIONREAD)
        return -ENOTTY;
    net_lock();
    int err = tp->state == TCPS_LISTEN ? -EINVAL : 0;
    *(int *)arg = (int)tp->rbuf_len;
    net_unlock();
    return err;
}

static void tcp_close(struct sock *s)
{
    struct tcp_sock *tp = tcp_of(s);
    net_lock();
    if (tp->state == TCPS_CLOSED && !tp->in_list) {
        tcp_put(tp);                            /* never connected, or gone already */
        net_unlock();
        return;
    }
    /* From here the stack owns it; tcp_drop lets go of it when done. */
    tp->orphan = true;
    if (tp->state == TCPS_LISTEN) {
        /* Connections nobody accepted are reset (RFC 9293 3.10.4). */
        while (!list_empty(&tp->accept_q)) {
            struct tcp_sock *c = list_first_entry(&tp->accept_q, struct tcp_sock, accept_link);
            tcp_send_ctl(c, TH_RST | TH_ACK);
            tcp_drop(c, 0);
        }
        struct list_head *pos, *n;
        list_for_each_safe(pos, n, &tcp_socks) {
            struct tcp_sock *c = list_entry(pos, struct tcp_sock, link);
            if (c->parent == tp && c != tp)
                tcp_drop(c, 0);
        }
        tcp_drop(tp, 0);
    } else if (tp->state == TCPS_CLOSED || tp->state == TCPS_SYN_SENT) {
        tcp_drop(tp, 0);
    } else if (tp->rbuf_len || s->linger0) {
        /* Unread data would be lost silently: reset instead (RFC 2525
         * 2.17); SO_LINGER with a zero time asks for the same. */
        if (tp->state != TCPS_TIME_WAIT)
            tcp_send_ctl(tp, TH_RST | TH_ACK);
        tcp_drop(tp, 0);
    } else {
        /* tp lives on (tcp_drop above may have freed it). */
        if (tp->state == TCPS_FIN_WAIT_2)
            tp->finwait2_at = tcp_now_ms() + 60000;
        else
            queue_fin(tp);
        tcp_shed_buffers(tp);
    }
    net_unlock();
}

static const struct sock_ops tcp_ops = {
    .bind = tcp_bind,
    .connect = tcp_connect,
    .listen = tcp_listen,
    .accept = tcp_accept,
    .sendmsg = tcp_sendmsg,
    .sendmsg_ref = tcp_sendmsg_ref,
    .recv_zc_range = tcp_recv_zc_range,
    .recvmsg = tcp_recvmsg,
    .shutdown = tcp_shutdown,
    .poll = tcp_poll,
    .setsockopt = tcp_setsockopt,
    .getsockopt = tcp_getsockopt,
    .ioctl = tcp_ioctl,
    .close = tcp_close,
};

int tcp_socket(struct sock **out)
{
    struct tcp_sock *tp = tcp_alloc();
    if (!tp)
        return -ENOMEM;
    tp->sock.ops = &tcp_ops;
    tp->sock.type = SOCK_STREAM;
    tp->sock.protocol = IPPROTO_TCP;
    tp->sock.rcvbuf = DEFAULT_RCVBUF;
    tp->sock.sndbuf = DEFAULT_SNDBUF;
    *out = &tp->sock;
    return 0;
}
