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

/* ---- delivery ------------------------------------------------------------------ */

static void fin_arrived(struct tcp_sock *tp);

static void received(struct tcp_sock *tp, uint32_t n)
{
    tp->bytes_received += n;
    tp->ack_pending += n;
}

/* Data at rcv_nxt (already trimmed to start there): into the ring, then
 * whatever out-of-order runs now continue it. */
static void deliver(struct tcp_sock *tp, const uint8_t *data, uint32_t len, bool fin)
{
    uint32_t n = tcp_rcv_put(tp, 0, data, len);
    tp->rbuf_len += n;
    tp->rcv_nxt += n;
    received(tp, n);
    if (n)
        tp->last_data_recv_ms = tcp_now_ms();
    if (n < len)
        fin = false;                            /* cut at the window: the rest comes again */
    if (fin) {
        fin_arrived(tp);
        return;
    }
    bool ofin;
    received(tp, tcp_ooo_advance(tp, &ofin));
    if (ofin)
        fin_arrived(tp);
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

/* A connection block for a listener's new peer, not yet on any list. */
static struct tcp_sock *child_of(struct tcp_sock *lp, const struct segment *sg, uint32_t src,
                                 uint32_t dst)
{
    struct tcp_sock *tp = tcp_alloc();
    if (!tp)
        return NULL;
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
        return NULL;
    }
    return tp;
}

/* RFC 1122 4.2.3.10: a SYN from a broadcast or multicast address (or no
 * address) gets no answer; nor from our own (a "land" packet). */
static bool bad_syn_source(const struct netif *ifp, uint32_t src)
{
    uint32_t h = ntohl(src);
    return !src || src == 0xffffffff || (h >> 28) >= 0xe ||
           (ifp && !ifp->loopback && (h >> 24) == 127) ||
           (ifp && ifp->netmask && ifp->netmask != 0xffffffff &&
            (src | ifp->netmask) == 0xffffffff) ||
           (ifp && !ifp->loopback && ip_is_local(src));
}

/* The listener's embryos stop at this many; past it SYNs are answered
 * with cookies. Small on purpose: an embryo costs a block and a slot, a
 * cookie nothing. */
static int embryo_limit(const struct tcp_sock *lp)
{
    return MIN(2 * lp->backlog + 16, 256);
}

/* The window shift a listener's connections offer: what tcp_prepare will
 * compute for a child, which inherits the listener's SO_RCVBUF. */
static uint8_t listener_wscale(const struct tcp_sock *lp)
{
    return tcp_wscale_for(tcp_rcv_max_for(MAX(lp->sock.rcvbuf, (uint32_t)TCP_MIN_RCVBUF)));
}

/* An ACK to a listener: the end of a handshake answered with a cookie,
 * else a RST (RFC 9293 3.10.7.2). */
static void listen_ack(struct tcp_sock *lp, const struct segment *sg, uint32_t src,
                       uint32_t dst)
{
    uint16_t mss;
    uint64_t now = tcp_now_ms();
    if (!(sg->flags & TH_SYN) && lp->cookie_until && now < lp->cookie_until &&
        tcp_cookie_check(src, dst, sg->sport, sg->dport, sg->seq, sg->ack, now, &mss)) {
        if (lp->accept_len > lp->backlog) {
            tcp_stats.listen_overflows++;
            tcp_stats.listen_drops++;
            return;                             /* no room: the peer's retries come back */
        }
        /* A block is small and a connection's minimum: it is refused only
         * at the hard limit, so that a peer that finished a handshake
         * still gets served while others hold the budget. */
        struct tcp_sock *tp = child_of(lp, sg, src, dst);
        if (!tp) {
            tcp_stats.listen_drops++;
            net_mem_dropped("a connection's completion");
            return;
        }
        tcp_stats.syncookies_recv++;
        /* What the SYN said comes back in the cookie (the MSS class) and,
         * when it had timestamps, in the echo of our TSval (window shift,
         * SACK); without them: no window scaling, timestamps or SACK
         * (RFC 4987 3.6). */
        tp->peer_mss = mss;
        tp->mss = (uint16_t)MIN(tp->mss, mss);
        tp->rcv_wscale = tp->snd_wscale = 0;
        if (sg->has_ts && sg->tsecr) {
            tcp_cookie_ts_options(sg->tsecr, &tp->ws_ok, &tp->snd_wscale, &tp->sack_ok);
            tp->ts_ok = true;
            tp->ts_recent = sg->tsval;
            tp->mss = (uint16_t)(tp->mss - 12);
            if (tp->ws_ok)
                tp->rcv_wscale = listener_wscale(lp);
            else
                tp->snd_wscale = 0;
        }
        tp->irs = sg->seq - 1;
        tp->rcv_nxt = sg->seq;
        tp->iss = sg->ack - 1;
        tp->recover = tp->iss;                  /* RFC 6582 3.2 step 1 */
        tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_end = sg->ack;
        tp->snd_wnd = (uint32_t)sg->win << tp->snd_wscale;
        tp->snd_wl1 = sg->seq;
        tp->snd_wl2 = sg->ack;
        tp->cwnd = 10u * tp->mss;
        tp->parent = lp;
        tcp_set_state(tp, TCPS_ESTABLISHED);
        tcp_hash(tp);
        tcp_stats.passive_opens++;
        lp->accept_len++;
        list_add_tail(&tp->accept_link, &lp->accept_q);
        sock_wakeup(&lp->sock);
        if (tp->sock.keepalive)
            tp->keepalive_at = now + (uint64_t)tp->keepidle_s * 1000;
        return;                                 /* its data, if any, comes again */
    }
    if (lp->cookie_until && !(sg->flags & TH_SYN))
        tcp_stats.syncookies_failed++;
    tcp_send_reset(dst, src, sg->dport, sg->sport, sg->ack, 0, TH_RST);
}

static void listen_input(struct tcp_sock *lp, const struct netif *ifp,
                         const struct segment *sg, uint32_t src, uint32_t dst)
{
    if (sg->flags & TH_RST)
        return;
    if (sg->flags & TH_ACK) {
        listen_ack(lp, sg, src, dst);
        return;
    }
    if (!(sg->flags & TH_SYN))
        return;
    if (bad_syn_source(ifp, src)) {
        tcp_stats.bad_source_syns++;
        return;
    }
    /* Linux's rule: at most backlog + 1 established and not accepted;
     * beyond it SYNs are dropped, and the peer's retries come back. */
    if (lp->accept_len > lp->backlog) {
        tcp_stats.listen_overflows++;
        tcp_stats.listen_drops++;
        return;
    }
    if (lp->embryos >= embryo_limit(lp) || net_mem_over_high()) {
        /* A flood (or no memory): answer without keeping anything; an
         * ACK that returns the cookie makes the connection. */
        uint16_t mss = sg->has_mss && sg->mss >= 64 ? sg->mss : TCP_DEFAULT_MSS;
        uint32_t hop;
        struct netif *out = ip_route(src, &hop);
        mss = (uint16_t)MIN(mss, tcp_advertised_mss(out));
        uint64_t now = tcp_now_ms();
        uint32_t iss = tcp_cookie_make(src, dst, sg->sport, sg->dport, sg->seq, mss, now);
        lp->cookie_until = now + TCP_COOKIE_LIFE_MS;
        tcp_stats.syncookies_sent++;
        /* Without timestamps nothing but the MSS survives the round
         * trip; with them, our TSval carries the peer's window shift and
         * SACK-permitted back to us in its echo (tcp_syncookie.c). */
        struct tcp_stateless_opts o = { .mss = tcp_advertised_mss(out), .wscale = -1 };
        if (sg->has_ts) {
            o.ts = true;
            o.sack = sg->sack_perm;
            o.tsval = tcp_cookie_tsval((uint32_t)now, sg->has_ws, sg->wscale, sg->sack_perm);
            o.tsecr = sg->tsval;
            if (sg->has_ws)
                o.wscale = listener_wscale(lp);
        }
        tcp_send_synack_stateless(dst, src, sg->dport, sg->sport, iss, sg->seq + 1, &o);
        return;
    }
    struct tcp_sock *tp = child_of(lp, sg, src, dst);
    if (!tp) {
        tcp_stats.listen_drops++;
        return;
    }
    take_syn_options(tp, sg, false);
    tp->iss = (uint32_t)random_u64();
    tp->recover = tp->iss;                      /* RFC 6582 3.2 step 1 */
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

/* ACKs that answer what should not have come (out-of-window segments,
 * RFC 5961's challenges) go at most one per OOW_ACK_MS per connection, as
 * Linux's tcp_invalid_ratelimit: two stacks that disagree about the window
 * would otherwise ACK each other in a loop, and a spoofer could make us
 * send one per packet. True when this one may go (and it is counted). */
#define OOW_ACK_MS 500
static bool oow_ack_allowed(struct tcp_sock *tp, uint64_t now)
{
    if (tp->last_oow_ack_ms && now - tp->last_oow_ack_ms < OOW_ACK_MS) {
        tcp_stats.oow_rate_limited++;
        return false;
    }
    tp->last_oow_ack_ms = now;
    return true;
}

/* RFC 5961's challenge ACK: per connection as above, and under the
 * stack-wide limit of its section 7, whose budget is random per second
 * so that a spoofer cannot count it (CVE-2016-5696). */
static void challenge_ack(struct tcp_sock *tp)
{
    uint64_t now = tcp_now_ms();
    if (!oow_ack_allowed(tp, now) || !tcp_challenge_ack_allowed(now)) {
        tcp_stats.challenge_skipped++;
        return;
    }
    tcp_stats.challenge_acks++;
    tcp_send_ack(tp);
}

/* An ACK for a segment outside the window. Segments with data are
 * always answered (a zero-window probe must be); pure ACKs and SYNs
 * within the per-connection limit. */
static void out_of_window_ack(struct tcp_sock *tp, const struct segment *sg, uint64_t now)
{
    if ((!sg->len || (sg->flags & TH_SYN)) && !oow_ack_allowed(tp, now))
        return;
    tcp_send_ack(tp);
}

static void synchronized_input(struct tcp_sock *tp, struct netbuf *nb, struct segment *sg,
                               uint32_t src, uint32_t dst)
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
            out_of_window_ack(tp, sg, now);
        }
        return;
    }
    if (sg->has_ts && tp->ts_ok && SEQ_LEQ(sg->seq, tp->rcv_nxt))
        tp->ts_recent = sg->tsval;
    if (sg->flags & TH_RST) {
        if (sg->seq != tp->rcv_nxt) {
            challenge_ack(tp);                  /* RFC 5961 3.2 */
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
        challenge_ack(tp);                      /* RFC 5961 4.2 */
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
        challenge_ack(tp);                      /* it ACKs what we never sent (RFC 5961 5.2) */
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
            bool hole_filled = tp->ooo_n != 0;
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
            tcp_ooo_add(tp, seq, nb->data, len, fin);
            tcp_send_ack(tp);
        }
    }
    tcp_output(tp);
}

void tcp_input(struct netif *ifp, struct netbuf *nb, uint32_t src, uint32_t dst)
{
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
    /* Every segment that reached the connection, as Linux counts them,
     * duplicates and out-of-window ones included. */
    tp->segs_in++;
    if (sg.len)
        tp->data_segs_in++;
    tp->refs++;                                 /* a drop below must not free it yet */
    if (tp->state == TCPS_LISTEN)
        listen_input(tp, ifp, &sg, src, dst);
    else if (tp->state == TCPS_SYN_SENT)
        syn_sent_input(tp, &sg, src, dst);
    else
        synchronized_input(tp, nb, &sg, src, dst);
    tcp_put(tp);
    netbuf_free(nb);
}
