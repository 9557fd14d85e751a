/*
 * TCP's sending half: segments built over the send queue's chunks by
 * reference (a header netbuf whose fragments point into the chunks, up to
 * 64 KiB with TSO), the congestion window (slow start, congestion
 * avoidance, NewReno fast retransmit and recovery: RFC 5681, RFC 6582),
 * the retransmission timer (RFC 6298), and the delayed-ACK, persist,
 * keepalive and TIME_WAIT timers. All under net_lock (tcp.h).
 */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/string.h>
#include "tcp.h"

#define RTO_MIN_MS      200             /* Linux's; RFC 6298 allows lower than 1 s */
#define RTO_MAX_MS      120000
#define DELACK_MS       40
#define PERSIST_MIN_MS  200
#define PERSIST_MAX_MS  60000
#define MAX_BACKOFF     15              /* data: about 15 minutes, as Linux */
#define MAX_SYN_RETRIES 6
#define TSO_MAX_PAYLOAD (65535 - IP_HLEN - TCP_MAX_HLEN)
#define TCP_TTL         IP_DEFAULT_TTL

uint32_t tcp_flight(const struct tcp_sock *tp)
{
    return tp->snd_max - tp->snd_una;
}

/* ---- the send queue --------------------------------------------------------- */

void tcp_queue_chunk(struct tcp_sock *tp, struct tcp_chunk *c)
{
    c->tp = tp;
    c->seq = tp->snd_end;
    c->queued = true;
    c->refs = 1;
    c->next = NULL;
    tp->refs++;
    if (tp->q_tail)
        tp->q_tail->next = c;
    else
        tp->q_head = c;
    tp->q_tail = c;
    tp->snd_end += c->len;
}

/* Drop one reference on a completion; the last one fires it. Under
 * net_lock. */
static void zc_notify_put(struct zc_notify *zn)
{
    if (--zn->pending)
        return;
    tcp_stats.zc_completions++;
    if (zn->copied)
        tcp_stats.zc_copied++;
    zn->fire(zn);
}

void tcp_chunk_put(struct tcp_chunk *c)
{
    if (--c->refs > 0)
        return;
    struct tcp_sock *tp = c->tp;
    if (c->kind == TCP_CHUNK_COPY)
        kfree(c->data);
    net_mem_uncharge(c->charged);
    if (c->zc)
        zc_notify_put(c->zc);
    kfree(c);
    tcp_put(tp);
}

void zc_notify_seal(struct zc_notify *zn)
{
    net_lock();
    zc_notify_put(zn);
    net_unlock();
}

/* Drop the queue's reference on every chunk the peer ACKed whole. */
static void release_acked(struct tcp_sock *tp)
{
    struct tcp_chunk *c;
    while ((c = tp->q_head) && SEQ_LEQ(c->seq + c->len, tp->snd_una) &&
           (c->len || c != tp->q_tail)) {
        tp->q_head = c->next;
        if (!tp->q_head)
            tp->q_tail = NULL;
        c->queued = false;
        tcp_chunk_put(c);
    }
}

void tcp_purge_send_queue(struct tcp_sock *tp)
{
    while (tp->q_head) {
        struct tcp_chunk *c = tp->q_head;
        tp->q_head = c->next;
        c->queued = false;
        tcp_chunk_put(c);
    }
    tp->q_tail = NULL;
}

/* A netbuf in flight pointed into chunks: it is gone (sent and given back
 * by the device, or dropped on the way). */
static void segment_release(struct netbuf *nb)
{
    for (unsigned i = 0; i < nb->nfrags; i++)
        if (nb->frags[i].owner)
            tcp_chunk_put(nb->frags[i].owner);
    nb->nfrags = 0;
}

/* ---- segments ------------------------------------------------------------------ */

/* Options for a segment: on SYN, all we offer (or accepted, on SYN-ACK);
 * else timestamps and SACK blocks. Returns their length (a multiple of 4). */
static unsigned write_options(struct tcp_sock *tp, uint8_t *o, uint8_t flags,
                              const struct netif *ifp)
{
    unsigned n = 0;
    bool syn = flags & TH_SYN;
    bool synack = syn && (flags & TH_ACK);
    if (syn) {
        o[n++] = 2;
        o[n++] = 4;
        put_be16(o + n, tcp_advertised_mss(ifp));
        n += 2;
        if (!synack || tp->sack_ok) {
            o[n++] = 4;                         /* SACK permitted */
            o[n++] = 2;
        } else {
            o[n++] = 1;
            o[n++] = 1;
        }
    } else if (tp->ts_ok) {
        o[n++] = 1;
        o[n++] = 1;
    }
    if (syn ? (!synack || tp->ts_ok) : tp->ts_ok) {
        o[n++] = 8;
        o[n++] = 10;
        put_be32(o + n, (uint32_t)tcp_now_ms());
        put_be32(o + n + 4, tp->ts_recent);
        n += 8;
    }
    if (syn && (!synack || tp->ws_ok)) {
        o[n++] = 1;
        o[n++] = 3;
        o[n++] = 3;
        o[n++] = tp->rcv_wscale;
    }
    if (!syn && tp->sack_ok && tp->ooo_n) {
        /* RFC 2018's blocks: the out-of-order runs, lowest first (what
         * the sender needs most), at most what fits beside timestamps. */
        uint32_t b[8];
        int k = tcp_ooo_sack(tp, b, tp->ts_ok ? 3 : 4);
        o[n++] = 1;
        o[n++] = 1;
        o[n++] = 5;
        o[n++] = (uint8_t)(2 + 8 * k);
        for (int i = 0; i < 2 * k; i++, n += 4)
            put_be32(o + n, b[i]);
    }
    while (n & 3)
        o[n++] = 0;                             /* end of options */
    return n;
}

/* Build and send one segment: [seq, seq + len) of the send queue with
 * flags. Returns the payload bytes it carried (len may shrink to what the
 * netbuf's fragments can reach) or -errno; -EAGAIN: the device is full. */
static int send_segment(struct tcp_sock *tp, uint32_t seq, uint32_t len, uint8_t flags)
{
    uint32_t hop;
    struct netif *ifp = ip_route(tp->sock.remote.addr, &hop);
    if (!ifp)
        return -ENETUNREACH;
    struct netbuf *nb = netbuf_alloc(TCP_MAX_HLEN);
    if (!nb)
        return -ENOBUFS;
    uint8_t opts[40];
    unsigned olen = write_options(tp, opts, flags, ifp);
    unsigned hlen = TCP_HLEN + olen;
    uint8_t *h = netbuf_put(nb, hlen);
    /* tp->mss counts the timestamp option only; SACK blocks take from
     * the payload, or the segment would not fit the MTU. */
    uint32_t extra = olen - (tp->ts_ok && !(flags & TH_SYN) ? 12 : 0);
    uint32_t seg_mss = tp->mss > extra + 64 ? tp->mss - extra : tp->mss;
    if (len > seg_mss && len <= tp->mss) {
        len = seg_mss;
        flags &= (uint8_t)~TH_FIN;
    }

    /* The payload, by reference into the chunks. */
    uint32_t got = 0;
    if (len) {
        nb->release = segment_release;
        struct tcp_chunk *c = tp->q_head;
        while (c && SEQ_LEQ(c->seq + c->len, seq))
            c = c->next;
        while (c && got < len && nb->nfrags < NETBUF_MAX_FRAGS) {
            uint32_t off = seq + got - c->seq;
            uint32_t n = MIN(c->len - off, len - got);
            if (n) {
                nb->frags[nb->nfrags].data = c->data + off;
                nb->frags[nb->nfrags].len = n;
                nb->frags[nb->nfrags].owner = c;
                nb->nfrags++;
                c->refs++;
                got += n;
            }
            c = c->next;
        }
        if (got < len)
            flags &= (uint8_t)~TH_FIN;          /* the FIN follows the last byte */
    }

    put_be16(h, ntohs(tp->sock.local.port));
    put_be16(h + 2, ntohs(tp->sock.remote.port));
    put_be32(h + 4, seq);
    put_be32(h + 8, (flags & TH_ACK) ? tp->rcv_nxt : 0);
    h[12] = (uint8_t)((hlen / 4) << 4);
    h[13] = flags;
    uint32_t win = tcp_rcv_window(tp);
    /* Receiver's silly window avoidance (RFC 9293 3.8.6.2.2): no sliver
     * of a window, but never less than was offered already. */
    uint32_t offered = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
    if (win < MIN((uint32_t)tp->mss, tcp_rcv_reach(tp) / 2) && !(flags & TH_SYN))
        win = MIN(win, offered);
    if (flags & TH_SYN) {
        win = MIN(win, 65535u);
    } else {
        win = MIN(win >> tp->rcv_wscale, 65535u);
        /* Never take back what was offered (RFC 9293 3.8.6.2.2). */
        uint32_t edge = tp->rcv_nxt + (win << tp->rcv_wscale);
        if (SEQ_GT(edge, tp->rcv_adv) || !tp->rcv_adv)
            tp->rcv_adv = edge;
    }
    put_be16(h + 14, (uint16_t)win);
    put_be16(h + 16, 0);
    put_be16(h + 18, 0);
    memcpy(h + TCP_HLEN, opts, olen);

    uint32_t src = tp->sock.local.addr;
    uint32_t pseudo = ip_pseudo_sum(src, tp->sock.remote.addr, IPPROTO_TCP,
                                    (uint16_t)(hlen + got));
    if ((ifp->features & NETIF_F_TX_CSUM) || got > seg_mss) {
        put_be16(h + 16, (uint16_t)~inet_fold(pseudo));
        nb->flags |= NETBUF_CSUM_PARTIAL;
        nb->csum_start = 0;
        nb->csum_offset = 16;
    } else {
        put_be16(h + 16, inet_fold(netbuf_sum(nb, 0, pseudo)));
    }
    if (got > seg_mss) {
        nb->gso_type = NETBUF_GSO_TCPV4;
        nb->gso_size = (uint16_t)seg_mss;
        nb->hdr_len = (uint16_t)hlen;
    }
    if (flags & TH_ACK) {
        tp->ack_pending = 0;
        tp->delack_at = 0;
    }
    int err = ip_output(nb, src, tp->sock.remote.addr, IPPROTO_TCP, TCP_TTL);
    if (err == -EAGAIN)
        return -EAGAIN;                 /* sent again later: counted then */
    /* A TSO frame counts as the segments it becomes on the wire, as
     * Linux counts it (tcp_skb_pcount). */
    uint32_t pcount = got > seg_mss ? (got + seg_mss - 1) / seg_mss : 1;
    tp->segs_out += pcount;
    if (got)
        tp->data_segs_out += pcount;
    tcp_stats.out_segs += pcount;
    if (flags & TH_RST)
        tcp_stats.out_rsts++;
    return (int)got;
}

void tcp_send_ctl(struct tcp_sock *tp, uint8_t flags)
{
    /* After an RTO pulled snd_nxt back, an ACK still says snd_max: the
     * peer may have those bytes, and would find an older number outside
     * its window and ignore the ACK (BSD does the same). */
    uint32_t seq = (flags & TH_SYN) ? tp->iss : tp->snd_max;
    if (send_segment(tp, seq, 0, flags) == -EAGAIN && !(flags & TH_SYN))
        tp->delack_at = tcp_now_ms() + 1;       /* the ACK is owed still: next tick */
}

void tcp_send_ack(struct tcp_sock *tp)
{
    tcp_send_ctl(tp, TH_ACK);
}

/* A segment that belongs to no connection block (RST, cookie SYN-ACK),
 * with olen bytes of options (a multiple of 4). */
static void send_stateless(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                           uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
                           const uint8_t *opts, unsigned olen)
{
    unsigned hlen = TCP_HLEN + olen;
    struct netbuf *nb = netbuf_alloc(hlen);
    if (!nb)
        return;
    uint8_t *h = netbuf_put(nb, hlen);
    memset(h, 0, hlen);
    memcpy(h, &sport, 2);
    memcpy(h + 2, &dport, 2);
    put_be32(h + 4, seq);
    put_be32(h + 8, ack);
    h[12] = (uint8_t)((hlen / 4) << 4);
    h[13] = flags;
    put_be16(h + 14, win);
    if (olen)
        memcpy(h + TCP_HLEN, opts, olen);
    put_be16(h + 16, inet_fold(inet_sum(h, hlen, ip_pseudo_sum(src, dst, IPPROTO_TCP,
                                                                 (uint16_t)hlen))));
    tcp_stats.out_segs++;
    if (flags & TH_RST)
        tcp_stats.out_rsts++;
    ip_output(nb, src, dst, IPPROTO_TCP, TCP_TTL);
}

void tcp_send_reset(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                    uint32_t seq, uint32_t ack, uint8_t flags)
{
    send_stateless(src, dst, sport, dport, seq, ack, flags, 0, NULL, 0);
}

void tcp_send_synack_stateless(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                               uint32_t iss, uint32_t ack, const struct tcp_stateless_opts *o)
{
    uint8_t b[20];
    unsigned n = 0;
    b[n++] = 2;
    b[n++] = 4;
    put_be16(b + n, o->mss);
    n += 2;
    if (o->ts) {
        b[n++] = o->sack ? 4 : 1;               /* SACK permitted, or padding */
        b[n++] = o->sack ? 2 : 1;
        b[n++] = 8;
        b[n++] = 10;
        put_be32(b + n, o->tsval);
        put_be32(b + n + 4, o->tsecr);
        n += 8;
    } else if (o->sack) {
        b[n++] = 1;
        b[n++] = 1;
        b[n++] = 4;
        b[n++] = 2;
    }
    if (o->wscale >= 0) {
        b[n++] = 1;
        b[n++] = 3;
        b[n++] = 3;
        b[n++] = (uint8_t)o->wscale;
    }
    /* A SYN's window is never scaled (RFC 7323 2.2). Under memory
     * pressure a new connection gets only its minimum ring: offer no
     * more than that (tcp_rcv_window would say the same). */
    uint16_t win = net_mem_pressure() ? TCP_RMEM_MIN_WINDOW : 65535;
    send_stateless(src, dst, sport, dport, iss, ack, TH_SYN | TH_ACK, win, b, n);
}

/* ---- window updates ---------------------------------------------------------------- */

/* The app made room, or memory pressure ended: tell the peer when the
 * window grew by enough to matter (RFC 9293 3.8.6.2.2, receiver's silly
 * window avoidance). */
void tcp_window_update(struct tcp_sock *tp)
{
    if (tp->state != TCPS_ESTABLISHED && tp->state != TCPS_FIN_WAIT_1 &&
        tp->state != TCPS_FIN_WAIT_2)
        return;
    uint32_t offered = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
    uint32_t now_free = tcp_rcv_window(tp);
    uint32_t step = MIN(tcp_rcv_reach(tp) / 2,
                        2u * MAX((uint32_t)tp->mss, (uint32_t)tp->rcv_mss));
    if (now_free >= offered + step)
        tcp_send_ack(tp);
}

/* ---- the sender ------------------------------------------------------------------ */

void tcp_rearm_rto(struct tcp_sock *tp)
{
    tp->rto_at = tp->snd_una == tp->snd_max ? 0 : tcp_now_ms() + tp->rto_ms;
}

/* Send [seq, seq + len) again (fast retransmit, partial ACKs). */
static void retransmit(struct tcp_sock *tp, uint32_t seq, uint32_t len)
{
    uint32_t data_end = tp->snd_end;
    uint8_t flags = TH_ACK;
    if (SEQ_GT(seq + len, data_end))
        len = data_end - seq;
    if (tp->fin_queued && seq + len == data_end && SEQ_GT(tp->snd_max, data_end))
        flags |= TH_FIN;
    if (!len && !(flags & TH_FIN))
        return;
    int n = send_segment(tp, seq, len, flags);
    if (n >= 0) {
        tp->total_retrans++;
        tp->bytes_retrans += (uint32_t)n;
        tcp_stats.retrans_segs++;
        tp->rtt_timing = false;                 /* Karn: no sample from it */
    }
}

void tcp_output(struct tcp_sock *tp)
{
    if (!tcp_can_send_data(tp->state))
        return;
    tp->tx_blocked = false;
    uint32_t hop;
    struct netif *ifp = ip_route(tp->sock.remote.addr, &hop);
    bool tso = ifp && (ifp->features & NETIF_F_TSO4);
    uint32_t maxseg = tso ? TSO_MAX_PAYLOAD / tp->mss * tp->mss : tp->mss;
    for (;;) {
        uint32_t data_end = tp->snd_end;
        uint32_t avail = SEQ_LT(tp->snd_nxt, data_end) ? data_end - tp->snd_nxt : 0;
        uint32_t in_flight = tp->snd_nxt - tp->snd_una;
        uint32_t wnd = MIN(tp->snd_wnd, tp->cwnd);
        uint32_t usable = wnd > in_flight ? wnd - in_flight : 0;
        uint32_t len = MIN(MIN(avail, usable), maxseg);
        /* The FIN follows the last byte; after an RTO pulled snd_nxt
         * back it goes again. */
        bool fin_due = tp->fin_queued && tp->snd_nxt + len == data_end &&
                       SEQ_LEQ(tp->snd_nxt, data_end);
        if (len < avail && len < tp->mss && !fin_due) {
            /* Window-limited: wait for a whole segment's room (silly
             * window avoidance, RFC 9293 3.8.6.2.1), or probe when
             * nothing is in flight. */
            if (!in_flight && !tp->persist_at && avail)
                tp->persist_at = tcp_now_ms() + MAX(tp->rto_ms, PERSIST_MIN_MS);
            break;
        }
        if (!len && !fin_due)
            break;
        if (len < tp->mss && len == avail && !fin_due &&
            ((!tp->nodelay && in_flight) || tp->cork))
            break;                              /* Nagle, RFC 896; TCP_CORK */
        uint8_t flags = TH_ACK | (len && len == avail ? TH_PSH : 0) | (fin_due ? TH_FIN : 0);
        int n = send_segment(tp, tp->snd_nxt, len, flags);
        if (n == -EAGAIN) {
            tp->tx_blocked = true;
            break;
        }
        if (n < 0)
            n = (int)len;                       /* lost on the way: the RTO resends */
        uint32_t seq = tp->snd_nxt;
        if (SEQ_LT(seq, tp->snd_max)) {
            tp->total_retrans++;
            tp->bytes_retrans += (uint32_t)n;
            tcp_stats.retrans_segs++;
        } else {
            tp->bytes_sent += (uint32_t)n;
            if (!tp->rtt_timing && !tp->ts_ok) {
                tp->rtt_timing = true;
                tp->rtt_seq = seq;
                tp->rtt_start_ms = tcp_now_ms();
            }
        }
        bool fin_sent = fin_due && (uint32_t)n == len;
        tp->snd_nxt += (uint32_t)n + (fin_sent ? 1 : 0);
        if (SEQ_GT(tp->snd_nxt, tp->snd_max))
            tp->snd_max = tp->snd_nxt;
        if (!tp->rto_at)
            tp->rto_at = tcp_now_ms() + tp->rto_ms;
        tp->persist_at = 0;
        if (fin_sent)
            break;
    }
}

/* ---- ACKs: RTT, congestion control ----------------------------------------------- */

static void rtt_sample(struct tcp_sock *tp, uint32_t ms)
{
    uint32_t r = MAX(ms, 1u) * 1000;
    if (!tp->srtt_us) {
        tp->srtt_us = r;
        tp->rttvar_us = r / 2;
    } else {
        uint32_t d = tp->srtt_us > r ? tp->srtt_us - r : r - tp->srtt_us;
        tp->rttvar_us = (3 * tp->rttvar_us + d) / 4;
        tp->srtt_us = (7 * tp->srtt_us + r) / 8;
    }
    uint32_t rto = (tp->srtt_us + MAX(4 * tp->rttvar_us, 10000u)) / 1000;
    tp->rto_ms = MIN(MAX(rto, (uint32_t)RTO_MIN_MS), (uint32_t)RTO_MAX_MS);
}

void tcp_ack_received(struct tcp_sock *tp, uint32_t ack, uint32_t tsecr, bool has_ts)
{
    uint32_t acked = ack - tp->snd_una;
    uint64_t now = tcp_now_ms();
    tp->snd_una = ack;
    tp->bytes_acked += acked;
    if (SEQ_LT(tp->snd_nxt, ack))
        tp->snd_nxt = ack;
    release_acked(tp);
    tp->last_ack_recv_ms = now;

    if (has_ts && tsecr && (uint32_t)now - tsecr < 600000)
        rtt_sample(tp, (uint32_t)now - tsecr);
    else if (tp->rtt_timing && SEQ_GT(ack, tp->rtt_seq)) {
        rtt_sample(tp, (uint32_t)(now - tp->rtt_start_ms));
        tp->rtt_timing = false;
    }
    tp->backoff = 0;

    if (tp->in_recovery) {
        if (SEQ_GEQ(ack, tp->recover)) {
            /* Full ACK: recovery is over (RFC 6582 3.2 step 3). */
            tp->in_recovery = false;
            tp->cwnd = MIN(tp->ssthresh, MAX(tcp_flight(tp), (uint32_t)tp->mss) + tp->mss);
        } else {
            /* Partial ACK: the next hole is lost too; deflate by what was
             * ACKed and add back one segment (step 4). */
            retransmit(tp, tp->snd_una, tp->mss);
            tp->cwnd = tp->cwnd > acked ? tp->cwnd - acked : tp->mss;
            tp->cwnd += tp->mss;
        }
    } else {
        /* Slow start counts every byte acked, up to ssthresh (RFC 3465's
         * byte counting, without its limit of L = 2 segments per ACK, as
         * Linux since 3.18): a receiver that acknowledges each 64 KiB it
         * coalesced (GRO: a Linux dom0 behind netback) sends one ACK per
         * 45 segments, and growing 2 segments per ACK left the window at
         * 95 segments after 1463 sent. Counting bytes, not ACKs, still
         * denies an ACK-splitting receiver any extra growth. What is left
         * over at ssthresh goes to congestion avoidance, one segment per
         * window's worth acked. */
        if (tp->cwnd < tp->ssthresh) {
            uint32_t grow = MIN(acked, tp->ssthresh - tp->cwnd);
            tp->cwnd += grow;
            acked -= grow;
        }
        if (acked && tp->cwnd >= tp->ssthresh) {
            uint32_t inc = (uint32_t)((uint64_t)tp->mss * MIN(acked, tp->cwnd) / tp->cwnd);
            tp->cwnd += MAX(inc, 1u);
        }
    }
    tp->cwnd = MIN(tp->cwnd, 64u << 20);
    tp->dupacks = 0;
    tcp_rearm_rto(tp);
}

/* A duplicate ACK (RFC 5681 3.2): the third starts fast retransmit. */
void tcp_dupack(struct tcp_sock *tp)
{
    if (tp->snd_una == tp->snd_max)
        return;
    tp->dupacks++;
    if (tp->in_recovery) {
        tp->cwnd += tp->mss;                    /* inflate: a segment left the network */
        tcp_output(tp);
    } else if (tp->dupacks == 3 && SEQ_GT(tp->snd_una, tp->recover - 1)) {
        tp->ssthresh = MAX(tcp_flight(tp) / 2, 2u * tp->mss);
        tp->recover = tp->snd_max;
        tp->in_recovery = true;
        retransmit(tp, tp->snd_una, tp->mss);
        tp->cwnd = tp->ssthresh + 3u * tp->mss;
        tcp_output(tp);
    }
}

/* ---- timers ------------------------------------------------------------------------ */

static void rto_expired(struct tcp_sock *tp)
{
    tp->rto_at = 0;
    tp->backoff++;
    tp->rto_ms = MIN(tp->rto_ms * 2, (uint32_t)RTO_MAX_MS);
    tp->rtt_timing = false;
    if (tp->state == TCPS_SYN_SENT || tp->state == TCPS_SYN_RECEIVED) {
        if (tp->backoff > MAX_SYN_RETRIES) {
            tcp_drop(tp, -ETIMEDOUT);
            return;
        }
        tcp_send_ctl(tp, tp->state == TCPS_SYN_SENT ? TH_SYN : TH_SYN | TH_ACK);
        tp->total_retrans++;
        tcp_stats.retrans_segs++;
        tp->rto_at = tcp_now_ms() + tp->rto_ms;
        return;
    }
    if (tp->backoff > MAX_BACKOFF ||
        (tp->user_timeout_ms && tcp_now_ms() - tp->last_ack_recv_ms > tp->user_timeout_ms)) {
        tcp_drop(tp, -ETIMEDOUT);
        return;
    }
    /* Everything in flight is presumed lost (RFC 5681 3.1, RFC 6298 5.5). */
    tp->ssthresh = MAX(tcp_flight(tp) / 2, 2u * tp->mss);
    tp->cwnd = tp->mss;
    tp->in_recovery = false;
    tp->dupacks = 0;
    tp->recover = tp->snd_max;
    tp->snd_nxt = tp->snd_una;
    tcp_output(tp);
    if (!tp->rto_at && tp->snd_una != tp->snd_max)
        tp->rto_at = tcp_now_ms() + tp->rto_ms;
}

/* Zero window with data waiting: send one byte past the window; the
 * peer takes it when it has room, and its ACK reopens the window. */
static void persist_expired(struct tcp_sock *tp)
{
    tp->persist_at = 0;
    uint32_t avail = SEQ_LT(tp->snd_nxt, tp->snd_end) ? tp->snd_end - tp->snd_nxt : 0;
    if (tp->snd_nxt != tp->snd_una || !avail) {
        tcp_output(tp);
        return;
    }
    if (tp->snd_wnd) {
        /* A window smaller than a segment that stays so: send what fits
         * rather than wait for a bigger one (RFC 9293 3.8.6.2.1). */
        int n = send_segment(tp, tp->snd_nxt, MIN(MIN(avail, tp->snd_wnd), (uint32_t)tp->mss),
                             TH_ACK | TH_PSH);
        if (n > 0) {
            tp->bytes_sent += (uint32_t)n;
            tp->snd_nxt += (uint32_t)n;
            if (SEQ_GT(tp->snd_nxt, tp->snd_max))
                tp->snd_max = tp->snd_nxt;
            if (!tp->rto_at)
                tp->rto_at = tcp_now_ms() + tp->rto_ms;
            return;
        }
    } else if (send_segment(tp, tp->snd_nxt, 1, TH_ACK) > 0 &&
               SEQ_LEQ(tp->snd_max, tp->snd_nxt)) {
        tp->snd_max = tp->snd_nxt + 1;          /* an ACK of the byte is acceptable */
    }
    tp->persist_backoff = MIN(tp->persist_backoff + 1, 10);
    uint32_t wait = MIN(MAX(tp->rto_ms, (uint32_t)PERSIST_MIN_MS) << tp->persist_backoff,
                        (uint32_t)PERSIST_MAX_MS);
    tp->persist_at = tcp_now_ms() + wait;
}

void tcp_timers(struct tcp_sock *tp, uint64_t now)
{
    if (tp->timewait_at && now >= tp->timewait_at) {
        tcp_drop(tp, 0);
        return;
    }
    if (tp->finwait2_at && now >= tp->finwait2_at && tp->state == TCPS_FIN_WAIT_2) {
        tcp_drop(tp, 0);
        return;
    }
    if (tp->rto_at && now >= tp->rto_at) {
        rto_expired(tp);
        if (tp->state == TCPS_CLOSED)
            return;
    }
    if (tp->persist_at && now >= tp->persist_at)
        persist_expired(tp);
    if (tp->delack_at && now >= tp->delack_at)
        tcp_send_ack(tp);
    if (tp->sock.keepalive && !tp->keepalive_at && tp->state == TCPS_ESTABLISHED)
        tp->keepalive_at = now + (uint64_t)tp->keepidle_s * 1000;
    if (tp->keepalive_at && now >= tp->keepalive_at) {
        if (!tp->sock.keepalive || tp->state != TCPS_ESTABLISHED) {
            tp->keepalive_at = 0;
        } else if ((uint32_t)tp->keep_probes >= tp->keepcnt) {
            tcp_drop(tp, -ETIMEDOUT);
            return;
        } else {
            /* A segment the peer must answer: one byte before snd_una. */
            send_segment(tp, tp->snd_una - 1, 0, TH_ACK);
            tp->keep_probes++;
            tp->keepalive_at = now + (uint64_t)tp->keepintvl_s * 1000;
        }
    }
    if (tp->tx_blocked)
        tcp_output(tp);
}
