/*
 * TCP connection blocks: their life (allocation, references, states,
 * teardown, TIME_WAIT), ports, lookup of the block a segment belongs to,
 * the MSS and receive-window setup, and the stack's tick for TCP timers.
 */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/string.h>
#include "tcp.h"

#define TIME_WAIT_MS       60000        /* 2*MSL as Linux counts it (TCP_TIMEWAIT_LEN) */
#define INITIAL_RTO_MS     1000         /* RFC 6298 2.1 */
#define EPHEMERAL_FIRST    32768        /* Linux's ip_local_port_range */
#define EPHEMERAL_LAST     60999

struct list_head tcp_socks = LIST_HEAD_INIT(tcp_socks);
struct tcp_counters tcp_stats;
static struct port_range ephemeral = { EPHEMERAL_FIRST, EPHEMERAL_LAST, EPHEMERAL_FIRST };

uint64_t tcp_now_ms(void)
{
    return net_now_ns() / 1000000;
}

struct tcp_sock *tcp_alloc(void)
{
    /* A block is the one thing a connection always holds: charged as a
     * minimum (only the hard limit refuses it); listen_input asks the
     * budget first, so a flood cannot reach that limit. */
    if (!net_mem_charge_min(sizeof(struct tcp_sock)))
        return NULL;
    struct tcp_sock *tp = kzalloc(sizeof(*tp));
    if (!tp) {
        net_mem_uncharge(sizeof(struct tcp_sock));
        return NULL;
    }
    tp->charged = sizeof(*tp);
    tp->refs = 1;
    tp->state = TCPS_CLOSED;
    tp->rto_ms = INITIAL_RTO_MS;
    tp->mss = TCP_DEFAULT_MSS;
    tp->peer_mss = TCP_DEFAULT_MSS;
    tp->ssthresh = 0xffffffff;
    tp->keepidle_s = 7200;                      /* RFC 1122 4.2.3.6; Linux's defaults */
    tp->keepintvl_s = 75;
    tp->keepcnt = 9;
    list_init(&tp->accept_q);
    list_init(&tp->accept_link);
    list_init(&tp->link);
    waitq_init(&tp->sock.wait);
    return tp;
}

void tcp_put(struct tcp_sock *tp)
{
    if (--tp->refs > 0)
        return;
    tcp_rcv_free(tp);
    tcp_errq_free(tp);
    net_mem_uncharge(tp->charged);
    kfree(tp);
}

void tcp_set_state(struct tcp_sock *tp, uint8_t state)
{
    if (tp->state == TCPS_ESTABLISHED || tp->state == TCPS_CLOSE_WAIT)
        tcp_stats.curr_estab--;
    if (state == TCPS_ESTABLISHED || state == TCPS_CLOSE_WAIT)
        tcp_stats.curr_estab++;
    if (state == TCPS_ESTABLISHED)
        tp->sock.connected = true;          /* getpeername; EPIPE rather than ENOTCONN later */
    tp->state = state;
}

static void unlink_tcb(struct tcp_sock *tp)
{
    if (tp->in_list) {
        list_del(&tp->link);
        tp->in_list = false;
    }
}

void tcp_drop(struct tcp_sock *tp, int err)
{
    if (tp->state == TCPS_CLOSED && !tp->in_list)
        return;
    if (err && (tp->state == TCPS_ESTABLISHED || tp->state == TCPS_CLOSE_WAIT))
        tcp_stats.estab_resets++;
    tcp_set_state(tp, TCPS_CLOSED);
    tp->rto_at = tp->delack_at = tp->persist_at = tp->keepalive_at = 0;
    tp->timewait_at = tp->finwait2_at = 0;
    tcp_purge_send_queue(tp);
    tcp_purge_ooo(tp);
    if (err)
        tp->sock.error = err;
    unlink_tcb(tp);
    struct tcp_sock *parent = tp->parent;
    if (parent) {
        /* Not accepted yet: the listener owned it. */
        if (!list_empty(&tp->accept_link)) {
            list_del(&tp->accept_link);
            parent->accept_len--;
        } else {
            parent->embryos--;
        }
        tp->parent = NULL;
        tcp_put(tp);
        return;
    }
    sock_wakeup(&tp->sock);
    if (tp->orphan)
        tcp_put(tp);
}

void tcp_enter_time_wait(struct tcp_sock *tp)
{
    tcp_set_state(tp, TCPS_TIME_WAIT);
    tp->rto_at = tp->persist_at = tp->keepalive_at = tp->finwait2_at = 0;
    tp->timewait_at = tcp_now_ms() + TIME_WAIT_MS;
    tcp_purge_send_queue(tp);
    tcp_shed_buffers(tp);
    sock_wakeup(&tp->sock);
}

void tcp_shed_buffers(struct tcp_sock *tp)
{
    /* A connection nobody can read any more waits out TIME_WAIT (60 s)
     * as a bare block: many short connections must not hold their
     * receive rings meanwhile. */
    if (!tp->orphan || tp->state != TCPS_TIME_WAIT)
        return;
    tcp_rcv_free(tp);
}

/* ---- ports and lookup ------------------------------------------------------------ */

bool tcp_port_in_use(uint16_t port, uint32_t addr, const struct tcp_sock *except, bool reuse)
{
    struct list_head *pos;
    list_for_each(pos, &tcp_socks) {
        struct tcp_sock *t = list_entry(pos, struct tcp_sock, link);
        if (t == except || !t->sock.bound || t->sock.local.port != port || t->parent)
            continue;
        if (t->sock.local.addr && addr && t->sock.local.addr != addr)
            continue;
        /* SO_REUSEADDR: only a listener blocks the port (Linux). */
        if (reuse && t->state != TCPS_LISTEN)
            continue;
        return true;
    }
    return false;
}

/* A free ephemeral port for a connection to remote (the four-tuple must
 * be unique; the port itself may serve other peers). */
static bool port_taken(struct sock *s, uint16_t port)
{
    return tcp_port_in_use(port, s->local.addr, container_of(s, struct tcp_sock, sock), false);
}

int tcp_autobind(struct tcp_sock *tp)
{
    return sock_autobind(&tp->sock, &ephemeral, port_taken) ? 0 : -EADDRNOTAVAIL;
}

void tcp_hash(struct tcp_sock *tp)
{
    if (!tp->in_list) {
        list_add_tail(&tp->link, &tcp_socks);
        tp->in_list = true;
    }
}

struct tcp_sock *tcp_lookup(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
    struct tcp_sock *listener = NULL;
    struct list_head *pos;
    list_for_each(pos, &tcp_socks) {
        struct tcp_sock *t = list_entry(pos, struct tcp_sock, link);
        if (t->sock.local.port != dport || t->state == TCPS_CLOSED)
            continue;
        if (t->state == TCPS_LISTEN) {
            if ((!t->sock.local.addr || t->sock.local.addr == dst) &&
                (!listener || t->sock.local.addr))
                listener = t;
            continue;
        }
        if (t->sock.remote.port == sport && t->sock.remote.addr == src &&
            t->sock.local.addr == dst)
            return t;
    }
    return listener;
}

/* ---- sizes --------------------------------------------------------------------------- */

uint16_t tcp_advertised_mss(const struct netif *ifp)
{
    return (uint16_t)((ifp ? ifp->mtu : 576) - IP_HLEN - TCP_HLEN);
}

uint8_t tcp_wscale_for(uint32_t rbuf_size)
{
    uint8_t s = 0;
    while (s < 14 && (rbuf_size >> s) > 65535)
        s++;
    return s;
}

/* Once the route to dst is known: the source address, MSS and the
 * receive buffer's bound, which fixes the window scale we offer. The
 * ring itself comes with the first data (tcp_rcvbuf.c). */
int tcp_prepare(struct tcp_sock *tp, uint32_t dst)
{
    uint32_t hop;
    struct netif *ifp = ip_route(dst, &hop);
    if (!ifp)
        return -ENETUNREACH;
    if (!tp->sock.local.addr)
        tp->sock.local.addr = ifp->ip;
    if (!tp->rbuf)
        tp->rbuf_size = tcp_rcv_max_for(MAX(tp->sock.rcvbuf, (uint32_t)TCP_MIN_RCVBUF));
    tp->rcv_wscale = tcp_wscale_for(tp->rbuf_size);
    tp->mss = tcp_advertised_mss(ifp);
    return 0;
}

/* ---- the tick ------------------------------------------------------------------------ */

void tcp_tick(uint64_t now_ns)
{
    uint64_t now = now_ns / 1000000;
    struct list_head *pos, *n;
    net_mem_tick();
    /* A timer may drop t (and so unlink it), never another block. */
    list_for_each_safe(pos, n, &tcp_socks) {
        struct tcp_sock *t = list_entry(pos, struct tcp_sock, link);
        t->refs++;
        tcp_timers(t, now);
        tcp_rcv_shrink(t);
        tcp_put(t);
    }
}

void tcp_windows_reopen(void)
{
    struct list_head *pos;
    list_for_each(pos, &tcp_socks)
        tcp_window_update(list_entry(pos, struct tcp_sock, link));
}

void tcp_mem_available(void)
{
    struct list_head *pos;
    list_for_each(pos, &tcp_socks) {
        struct tcp_sock *t = list_entry(pos, struct tcp_sock, link);
        if (t->mem_wait) {
            t->mem_wait = false;
            sock_wakeup(&t->sock);
        }
    }
}

bool tcp_output_unacked(void)
{
    struct list_head *pos;
    list_for_each(pos, &tcp_socks) {
        struct tcp_sock *t = list_entry(pos, struct tcp_sock, link);
        /* The FIN takes the sequence number after the last byte. */
        if (tcp_can_send_data(t->state) &&
            SEQ_LT(t->snd_una, t->snd_end + (t->fin_queued ? 1 : 0)))
            return true;
    }
    return false;
}

void tcp_tx_room(void)
{
    struct list_head *pos;
    list_for_each(pos, &tcp_socks) {
        struct tcp_sock *t = list_entry(pos, struct tcp_sock, link);
        if (t->tx_blocked)
            tcp_output(t);
    }
}
