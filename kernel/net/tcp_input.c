/*
 * TCP's receiving half: RFC 9293 3.10.7, "SEGMENT ARRIVES", state by
 * state. In-order data goes into the connection's receive ring (the app
 * copies it out without the lock, tcp_sock.c); segments beyond a hole
 * wait in a list sorted by sequence number, reported to the sender with
 * SACK blocks, and fill in when the hole does.
 */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/random.h>
#include <kern/string.h>
#include "tcp.h"

#define DELACK_MS        40
#define FIN_WAIT_2_MS    60000          /* Linux's tcp_fin_timeout for orphans */
#define OOO_FIN          (1ULL << 32)   /* in a queued segment's cookie */

struct segment {
    uint32_t seq, ack, len, tsval, tsecr;
    uint16_t sport, dport, win, mss;
    uint8_t flags, wscale;
    bool has_ts, has_mss, has_ws, sack_perm;
};

/* Header, checksum and options; false for a segment to drop. On return
 * nb's data is the payload. */
static bool parse(struct netbuf *nb, uint32_t src, uint32_t dst, struct segment *sg)
{
    const uint8_t *h = nb->data;
    if (nb->len < TCP_HLEN)
        return false;
    unsigned hlen = (unsigned)(h[12] >> 4) * 4;
    if (hlen < TCP_HLEN || hlen > nb->len)
        return false;
    if (!(nb->flags & NETBUF_CSUM_VALID) &&
        inet_fold(inet_sum(h, nb->len, ip_pseudo_sum(src, dst, IPPROTO_TCP,
                                                     (uint16_t)nb->len))) != 0)
        return false;
    memset(sg, 0, sizeof(*sg));
    memcpy(&sg->sport, h, 2);
    memcpy(&sg->dport, h + 2, 2);
    sg->seq = get_be32(h + 4);
    sg->ack = get_be32(h + 8);
    sg->flags = h[13] & 0x3f;
    sg->win = get_be16(h + 14);
    for (unsigned i = TCP_HLEN; i < hlen;) {
        uint8_t kind = h[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= hlen || h[i + 1] < 2 || i + h[i + 1] > hlen)
            break;                              /* malformed: ignore the rest */
        uint8_t olen = h[i + 1];
        if (kind == 2 && olen == 4) {
            sg->has_mss = true;
            sg->mss = get_be16(h + i + 2);
        } else if (kind == 3 && olen == 3) {
            sg->has_ws = true;
            sg->wscale = MIN(h[i + 2], (uint8_t)14);   /* RFC 7323 2.3 */
        } else if (kind == 4 && olen == 2) {
            sg->sack_perm = true;
        } else if (kind == 8 && olen == 10) {
            sg->has_ts = true;
            sg->tsval = get_be32(h + i + 2);
            sg->tsecr = get_be32(h + i + 6);
        }
        i += olen;
    }
    netbuf_pull(nb, hlen);
    sg->len = nb->len;
    return true;
}

/* ---- the receive ring and the out-of-order queue -------------------------------- */

static uint32_t ring_write(struct tcp_sock *tp, const uint8_t *src, uint32_t n)
{
    n = MIN(n, tp->rbuf_size - tp->rbuf_len);
    uint32_t at = (tp->rbuf_head + tp->rbuf_len) % tp->rbuf_size;
    uint32_t first = MIN(n, tp->rbuf_size - at);
    memcpy(tp->rbuf + at, src, first);
    memcpy(tp->rbuf, src + first, n - first);
    tp->rbuf_len += n;
    return n;
}

void tcp_purge_ooo(struct tcp_sock *tp)
{
    while (tp->ooo) {
        struct netbuf *q = tp->ooo;
        tp->ooo = q->next;
        netbuf_free(q);
    }
    tp->ooo_bytes = 0;
}

static void ooo_insert(struct tcp_sock *tp, struct netbuf *nb, uint32_t seq, bool fin)
{
    if (tp->ooo_bytes + nb->len > tp->rbuf_size) {
        netbuf_free(nb);
        return;
    }
    nb->cookie = seq | (fin ? OOO_FIN : 0);
    struct netbuf **pp = &tp->ooo;
    while (*pp && SEQ_LEQ((uint32_t)(*pp)->cookie, seq)) {
        struct netbuf *q = *pp;
        if (SEQ_GEQ((uint32_t)q->cookie + q->len, seq + nb->len) &&
            (!fin || (q->cookie & OOO_FIN))) {
            netbuf_free(nb);                    /* nothing new in it */
            return;
        }
        pp = &q->next;
    }
    nb->next = *pp;
    *pp = nb;
    tp->ooo_bytes += nb->len;
}

static void fin_arrived(struct tcp_sock *tp);

/* Data at rcv_nxt (already trimmed to start there): into the ring, then
 * whatever the queue now continues. */
static void deliver(struct tcp_sock *tp, const uint8_t *data, uint32_t len, bool fin)
{
    uint32_t n = ring_write(tp, data, len);
    tp->rcv_nxt += n;
    tp->bytes_received += n;
    tp->ack_pending += n;
    if (n)
        tp->last_data_recv_ms = tcp_now_ms();
    if (n < len)
        fin = false;                            /* cut at the window: the rest comes again */
    if (fin) {
        fin_arrived(tp);
        return;
    }
    while (tp->ooo && SEQ_LEQ((uint32_t)tp->ooo->cookie, tp->rcv_nxt) && !tp->fin_received) {
        struct netbuf *q = tp->ooo;
        uint32_t qseq = (uint32_t)q->cookie;
        tp->ooo = q->next;
        tp->ooo_bytes -= q->len;
        if (SEQ_GEQ(qseq + q->len, tp->rcv_nxt)) {
            uint32_t skip = tp->rcv_nxt - qseq;
            uint32_t want = q->len - skip;
            uint32_t got = ring_write(tp, q->data + skip, want);
            tp->rcv_nxt += got;
            tp->bytes_received += got;
            tp->ack_pending += got;
            if (got == want && (q->cookie & OOO_FIN))
                fin_arrived(tp);
        }
        netbuf_free(q);
    }
}

/* ---- states -------------------------------------------------------------------------- */

static void take_syn_options(struct tcp_sock *tp, const struct segment *sg, bool active)
{
    tp->peer_mss = sg->has_mss && sg->mss >= 64 ? sg->mss : TCP_DEFAULT_MSS;
    /* Window scaling and timestamps only when both sides offered them;
     * a passive side offers what the SYN did. */
    tp->ws_ok = sg->has_ws;
    tp->snd_wscale = sg->has_ws ? sg->wscale : 0;
    if (!tp->ws_ok)
        tp->rcv_wscale = 0;
    tp->ts_ok = sg->has_ts;
    if (sg->has_ts)
        tp->ts_recent = sg->tsval;
    tp->sack_ok = sg->sack_perm;
    tp->mss = (uint16_t)MIN(tp->mss, tp->peer_mss);
    if (tp->ts_ok)
        tp->mss = (uint16_t)(tp->mss - 12);
    tp->irs = sg->seq;
    tp->rcv_nxt = sg->seq + 1;
    tp->cwnd = 10u * tp->mss;                   /* RFC 6928 */
    (void)active;
}

static void fin_arrived(struct tcp_sock *tp)
{
    tp->rcv_nxt++;
    tp->fin_received = true;
    tp->ack_pending = 0x7fffffff;               /* ACK at once */
    switch (tp->state) {
    case TCPS_SYN_RECEIVED:
    case TCPS_ESTABLISHED:
        tcp_set_state(tp, TCPS_CLOSE_WAIT);
        break;
    case TCPS_FIN_WAIT_1:
        if (SEQ_GT(tp->snd_una, tp->snd_end))
            tcp_enter_time_wait(tp);
        else
            tcp_set_state(tp, TCPS_CLOSING);
        break;
    case TCPS_FIN_WAIT_2:
        tcp_enter_time_wait(tp);
        break;
    default:
        break;
    }
    sock_wakeup(&tp->sock);
}

static void listen_input(struct tcp_sock *lp, const struct segment *sg, uint32_t src,
                         uint32_t dst)
{
    if (sg->flags & TH_RST)
        return;
    if (sg->flags & TH_ACK) {
        tcp_send_reset(dst, src, sg->dport, sg->sport, sg->ack, 0, TH_RST);
        return;
    }
    if (!(sg->flags & TH_SYN))
        return;
    /* Linux's rule: at most backlog + 1 established and not accepted;
     * beyond it SYNs are dropped, and the peer's retries come back. */
    if (lp->accept_len > lp->backlog || lp->embryos > 2 * lp->backlog + 16)
        return;
    struct tcp_sock *tp = tcp_alloc();
    if (!tp)
        return;
    tp->sock.ops = lp->sock.ops;
    tp->sock.type = lp->sock.type;
    tp->sock.protocol = lp->sock.protocol;
    tp->sock.rcvbuf = lp->sock.rcvbuf;
    tp->sock.sndbuf = lp->sock.sndbuf;
    tp->sock.keepalive = lp->sock.keepalive;
    tp->sock.zerocopy = lp->sock.zerocopy;
    tp->nodelay = lp->nodelay;
    tp->keepidle_s = lp->keepidle_s;
    tp->keepintvl_s = lp->keepintvl_s;
    tp->keepcnt = lp->keepcnt;
    tp->sock.local.addr = dst;
    tp->sock.local.port = sg->dport;
    tp->sock.remote.addr = src;
    tp->sock.remote.port = sg->sport;
    tp->sock.bound = tp->sock.connected = true;
    if (tcp_prepare(tp, src)) {
        tcp_put(tp);
        return;
    }
    take_syn_options(tp, sg, false);
    tp->iss = (uint32_t)random_u64();
    tp->snd_una = tp->iss;
    tp->snd_nxt = tp->snd_max = tp->snd_end = tp->iss + 1;
    tp->snd_wnd = sg->win;                      /* never scaled in a SYN */
    tp->snd_wl1 = sg->seq;
    tp->parent = lp;
    lp->embryos++;
    tcp_set_state(tp, TCPS_SYN_RECEIVED);
    tcp_hash(tp);
    tcp_stats.passive_opens++;
    tcp_send_ctl(tp, TH_SYN | TH_ACK);
    tp->rto_at = tcp_now_ms() + tp->rto_ms;
}

static void syn_sent_input(struct tcp_sock *tp, const struct segment *sg, uint32_t src,
                           uint32_t dst)
{
    bool ack_ok = false;
    if (sg->flags & TH_ACK) {
        if (SEQ_LEQ(sg->ack, tp->iss) || SEQ_GT(sg->ack, tp->snd_max)) {
            if (!(sg->flags & TH_RST))
                tcp_send_reset(dst, src, sg->dport, sg->sport, sg->ack, 0, TH_RST);
            return;
        }
        ack_ok = true;
    }
    if (sg->flags & TH_RST) {
        if (ack_ok) {
            tcp_stats.attempt_fails++;
            tcp_drop(tp, -ECONNREFUSED);
        }
        return;
    }
    if (!(sg->flags & TH_SYN))
        return;
    take_syn_options(tp, sg, true);
    tp->snd_wnd = sg->win;
    tp->snd_wl1 = sg->seq;
    tp->snd_wl2 = sg->ack;
    if (ack_ok) {
        tp->snd_una = sg->ack;
        tp->bytes_acked++;                      /* the SYN, as Linux counts */
        tp->rto_at = 0;
        tp->backoff = 0;
        if (sg->has_ts && sg->tsecr)
            tp->srtt_us = 0;                    /* the first sample sets it */
        tcp_set_state(tp, TCPS_ESTABLISHED);
        if (tp->sock.keepalive)
            tp->keepalive_at = tcp_now_ms() + (uint64_t)tp->keepidle_s * 1000;
        tcp_send_ack(tp);
        sock_wakeup(&tp->sock);
        tcp_output(tp);
    } else {
        /* Simultaneous open (RFC 9293 3.5, figure 8). */
        tcp_set_state(tp, TCPS_SYN_RECEIVED);
        tcp_send_ctl(tp, TH_SYN | TH_ACK);
    }
}

static bool acceptable(const struct tcp_sock *tp, const struct segment *sg)
{
    uint32_t seglen = sg->len + ((sg->flags & TH_SYN) ? 1 : 0) + ((sg->flags & TH_FIN) ? 1 : 0);
    uint32_t wnd = tcp_rcv_window(tp);
    if (tp->rcv_adv && SEQ_GT(tp->rcv_adv, tp->rcv_nxt))
        wnd = MAX(wnd, tp->rcv_adv - tp->rcv_nxt);
    bool start_in = SEQ_LEQ(tp->rcv_nxt, sg->seq) && SEQ_LT(sg->seq, tp->rcv_nxt + wnd);
    if (!seglen)
        return wnd ? start_in : sg->seq == tp->rcv_nxt;
    if (!wnd)
        return false;
    uint32_t last = sg->seq + seglen - 1;
    return start_in || (SEQ_LEQ(tp->rcv_nxt, last) && SEQ_LT(last, tp->rcv_nxt + wnd));
}

static void synchronized_input(struct tcp_sock *tp, struct netbuf *nb, struct segment *sg,
                               uint32_t src, uint32_t dst, bool *kept)
{
    uint64_t now = tcp_now_ms();
    if (tp->state == TCPS_SYN_RECEIVED && (sg->flags & TH_SYN) && !(sg->flags & TH_ACK) &&
        sg->seq == tp->irs) {
        tcp_send_ctl(tp, TH_SYN | TH_ACK);      /* our SYN-ACK was lost */
        return;
    }
    if (!acceptable(tp, sg)) {
        if (!(sg->flags & TH_RST)) {
            /* Possibly the peer's view of a window we shrank, a keepalive
             * probe, or an old duplicate: tell it where we are. In
             * TIME_WAIT a retransmitted FIN restarts the wait. */
            if (tp->state == TCPS_TIME_WAIT && (sg->flags & TH_FIN))
                tp->timewait_at = now + 60000;
            tcp_send_ack(tp);
        }
        return;
    }
    if (sg->has_ts && tp->ts_ok && SEQ_LEQ(sg->seq, tp->rcv_nxt))
        tp->ts_recent = sg->tsval;
    if (sg->flags & TH_RST) {
        if (sg->seq != tp->rcv_nxt) {
            tcp_send_ack(tp);                   /* RFC 5961 3.2: a challenge ACK */
            return;
        }
        int err = -ECONNRESET;
        if (tp->state == TCPS_SYN_RECEIVED)
            err = tp->parent ? 0 : -ECONNREFUSED;
        else if (tp->state == TCPS_CLOSING || tp->state == TCPS_LAST_ACK ||
                 tp->state == TCPS_TIME_WAIT)
            err = 0;
        tcp_drop(tp, err);
        return;
    }
    if (sg->flags & TH_SYN) {
        tcp_send_ack(tp);                       /* RFC 5961 4.2: a challenge ACK */
        return;
    }
    if (!(sg->flags & TH_ACK))
        return;
    tp->keep_probes = 0;
    if (tp->sock.keepalive)
        tp->keepalive_at = now + (uint64_t)tp->keepidle_s * 1000;

    if (tp->state == TCPS_SYN_RECEIVED) {
        if (SEQ_LEQ(sg->ack, tp->snd_una) || SEQ_GT(sg->ack, tp->snd_max)) {
            tcp_send_reset(dst, src, sg->dport, sg->sport, sg->ack, 0, TH_RST);
            return;
        }
        struct tcp_sock *lp = tp->parent;
        if (lp && lp->accept_len > lp->backlog)
            return;                             /* no room: the peer retries */
        tcp_set_state(tp, TCPS_ESTABLISHED);
        tp->snd_wnd = (uint32_t)sg->win << tp->snd_wscale;
        tp->snd_wl1 = sg->seq;
        tp->snd_wl2 = sg->ack;
        if (lp) {
            lp->embryos--;
            lp->accept_len++;
            list_add_tail(&tp->accept_link, &lp->accept_q);
            sock_wakeup(&lp->sock);
        } else {
            sock_wakeup(&tp->sock);
        }
        tp->bytes_acked++;                      /* the SYN */
        tp->snd_una = sg->ack;
        tcp_rearm_rto(tp);
        if (sg->has_ts && tp->ts_ok && sg->tsecr)
            tp->srtt_us = 0;
        if (tp->sock.keepalive)
            tp->keepalive_at = now + (uint64_t)tp->keepidle_s * 1000;
    }

    if (SEQ_GT(sg->ack, tp->snd_max)) {
        tcp_send_ack(tp);                       /* it ACKs what we never sent */
        return;
    }
    uint32_t wnd = (uint32_t)sg->win << tp->snd_wscale;
    bool dup = false;
    if (SEQ_GT(sg->ack, tp->snd_una)) {
        tcp_ack_received(tp, sg->ack, sg->tsecr, sg->has_ts && tp->ts_ok);
        sock_wakeup(&tp->sock);                 /* send space */
    } else if (sg->ack == tp->snd_una && !sg->len && !(sg->flags & TH_FIN) &&
               wnd == tp->snd_wnd && wnd && SEQ_GT(tp->snd_nxt, tp->snd_una)) {
        /* RFC 5681's duplicate ACK; answers to zero-window probes are
         * not (nothing but the probe is outstanding, the window is 0). */
        dup = true;
    }
    if (SEQ_LT(tp->snd_wl1, sg->seq) ||
        (tp->snd_wl1 == sg->seq && SEQ_LEQ(tp->snd_wl2, sg->ack))) {
        if (wnd > tp->snd_wnd)
            tp->persist_backoff = 0;
        tp->snd_wnd = wnd;
        tp->snd_wl1 = sg->seq;
        tp->snd_wl2 = sg->ack;
    }
    if (dup)
        tcp_dupack(tp);

    bool fin_acked = tp->fin_queued && SEQ_GT(tp->snd_una, tp->snd_end);
    switch (tp->state) {
    case TCPS_FIN_WAIT_1:
        if (fin_acked) {
            tcp_set_state(tp, TCPS_FIN_WAIT_2);
            if (tp->orphan)
                tp->finwait2_at = now + FIN_WAIT_2_MS;
            sock_wakeup(&tp->sock);
        }
        break;
    case TCPS_CLOSING:
        if (fin_acked)
            tcp_enter_time_wait(tp);
        return;
    case TCPS_LAST_ACK:
        if (fin_acked) {
            tcp_drop(tp, 0);
            return;
        }
        break;                                  /* data may still wait to go */
    case TCPS_TIME_WAIT:
        if (sg->flags & TH_FIN) {
            tcp_send_ack(tp);
            tp->timewait_at = now + 60000;
        }
        return;
    default:
        break;
    }

    /* Data and FIN: only while the peer may still send. */
    if (tp->state != TCPS_ESTABLISHED && tp->state != TCPS_FIN_WAIT_1 &&
        tp->state != TCPS_FIN_WAIT_2) {
        tcp_output(tp);
        return;
    }
    bool fin = sg->flags & TH_FIN;
    uint32_t seq = sg->seq, len = sg->len;
    if (SEQ_LT(seq, tp->rcv_nxt)) {
        uint32_t skip = tp->rcv_nxt - seq;
        if (skip > len) {
            skip = len;
            fin = false;                        /* its FIN was taken already */
        }
        netbuf_pull(nb, skip);
        seq += skip;
        len -= skip;
    }
    if ((len || fin) && tp->orphan && len) {
        /* Data for an app that closed: it can never be read (RFC 2525 2.17). */
        tcp_send_reset(dst, src, sg->dport, sg->sport, tp->snd_nxt, 0, TH_RST);
        tcp_drop(tp, 0);
        return;
    }
    if (len || fin) {
        if (seq == tp->rcv_nxt) {
            bool hole_filled = tp->ooo != NULL;
            if (len > tp->rcv_mss)
                tp->rcv_mss = (uint16_t)MIN(len, 65535u);
            deliver(tp, nb->data, len, fin);
            sock_wakeup(&tp->sock);
            uint32_t full = MAX((uint32_t)tp->rcv_mss, (uint32_t)tp->mss);
            if (hole_filled || tp->ack_pending >= 2 * full || tp->fin_received)
                tcp_send_ack(tp);
            else if (!tp->delack_at)
                tp->delack_at = now + DELACK_MS;
        } else {
            /* Beyond a hole: keep it, and say so at once (RFC 5681 4.2). */
            ooo_insert(tp, nb, seq, fin);
            *kept = true;
            tcp_send_ack(tp);
        }
    }
    tcp_output(tp);
}

void tcp_input(struct netif *ifp, struct netbuf *nb, uint32_t src, uint32_t dst)
{
    (void)ifp;
    struct segment sg;
    tcp_stats.in_segs++;
    if (!parse(nb, src, dst, &sg)) {
        tcp_stats.in_errs++;
        netbuf_free(nb);
        return;
    }
    struct tcp_sock *tp = tcp_lookup(src, dst, sg.sport, sg.dport);
    if (tp && tp->state == TCPS_TIME_WAIT && (sg.flags & TH_SYN) && !(sg.flags & TH_ACK) &&
        SEQ_GT(sg.seq, tp->rcv_nxt)) {
        /* A new incarnation of the connection (RFC 9293 3.10.7.4 note). */
        tcp_drop(tp, 0);
        tp = tcp_lookup(src, dst, sg.sport, sg.dport);
    }
    if (!tp) {
        /* No connection: RST (RFC 9293 3.10.7.1), which is how a peer
         * learns "connection refused". */
        if (!(sg.flags & TH_RST)) {
            if (sg.flags & TH_ACK)
                tcp_send_reset(dst, src, sg.dport, sg.sport, sg.ack, 0, TH_RST);
            else
                tcp_send_reset(dst, src, sg.dport, sg.sport, 0,
                               sg.seq + sg.len + ((sg.flags & TH_SYN) ? 1 : 0) +
                                   ((sg.flags & TH_FIN) ? 1 : 0),
                               TH_RST | TH_ACK);
        }
        netbuf_free(nb);
        return;
    }
    bool kept = false;
    /* Every segment that reached the connection, as Linux counts them,
     * duplicates and out-of-window ones included. */
    tp->segs_in++;
    if (sg.len)
        tp->data_segs_in++;
    tp->refs++;                                 /* a drop below must not free it yet */
    if (tp->state == TCPS_LISTEN)
        listen_input(tp, &sg, src, dst);
    else if (tp->state == TCPS_SYN_SENT)
        syn_sent_input(tp, &sg, src, dst);
    else
        synchronized_input(tp, nb, &sg, src, dst, &kept);
    tcp_put(tp);
    if (!kept)
        netbuf_free(nb);
}
