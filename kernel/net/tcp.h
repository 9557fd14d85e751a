/*
 * TCP (RFC 9293) inside the stack: the connection block and what its
 * files share. tcp_input.c takes segments in (the state machine),
 * tcp_output.c sends (segments over the send queue, retransmission,
 * congestion control, timers), tcp_sock.c is the socket interface.
 *
 * The send queue is a list of chunks: bytes copied from the app (send),
 * or app memory by reference (zcopy_tx, MSG_ZEROCOPY) or image pages
 * (sendfile from ROFS). A chunk holds one reference for being queued
 * (dropped when the peer ACKed all of it) and one per netbuf in flight
 * whose fragments point into it (dropped by the netbuf's release hook
 * when the device gave it back, or when it was dropped on the way). When
 * both kinds are gone the chunk is freed and its zero-copy notification
 * counts down: that is the DESIGN.md rule "a buffer is free after ACK and
 * after the device returned every descriptor".
 *
 * Everything here runs under net_lock, including the release hook (the
 * device's completion path takes the lock).
 */
#ifndef NET_TCP_H
#define NET_TCP_H

#include <kern/list.h>
#include <kern/socket.h>
#include "net_internal.h"

/* States, numbered as Linux numbers them (TCP_INFO's tcpi_state). */
enum tcp_state {
    TCPS_ESTABLISHED = 1,
    TCPS_SYN_SENT,
    TCPS_SYN_RECEIVED,
    TCPS_FIN_WAIT_1,
    TCPS_FIN_WAIT_2,
    TCPS_TIME_WAIT,
    TCPS_CLOSED,
    TCPS_CLOSE_WAIT,
    TCPS_LAST_ACK,
    TCPS_LISTEN,
    TCPS_CLOSING,
};

/* header flags */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20

#define TCP_HLEN        20
#define TCP_MAX_HLEN    60
#define TCP_DEFAULT_MSS 536             /* RFC 9293 3.7.1: without the option */

/* Memory (net_mem.c): what a connection may always hold, whatever the
 * pressure: a receive ring of this allocation, and this many bytes of
 * copied send data. Out-of-order runs kept at most. */
#define TCP_RMEM_MIN    4096
#define TCP_RMEM_MIN_WINDOW (TCP_RMEM_MIN - 128)  /* what that ring holds */
#define TCP_WMEM_MIN    (32 * 1024)
#define TCP_OOO_MAX     32
#define TCP_MIN_RCVBUF  (16 * 1024)      /* SO_RCVBUF's floor */

/* Sequence-space comparisons (RFC 9293 3.4): modulo 2^32. */
#define SEQ_LT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b)  SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

/* A zero-copy notification: counts the chunks of one zcopy_tx call or one
 * MSG_ZEROCOPY send; when the last is released it fires. */
struct tcp_zc;

/* chunk kinds */
#define TCP_CHUNK_COPY 0                /* kernel memory, ours: freed with the chunk */
#define TCP_CHUNK_REF  1                /* app or image memory: not ours */

struct tcp_chunk {
    struct tcp_chunk *next;
    struct tcp_sock *tp;                /* holds a reference on it */
    uint32_t seq;                       /* sequence number of data[0] */
    uint32_t len;
    uint32_t cap;                       /* COPY: room at data */
    uint8_t kind;
    bool queued;                        /* still on the send queue */
    int refs;
    uint8_t *data;
    struct zc_notify *zc;               /* REF: whom to tell, or NULL */
    uint32_t charged;                   /* COPY: its bytes in the budget (net_mem.c) */
};

/* One MSG_ZEROCOPY completion range (Linux's ee_info .. ee_data). */
/* Zero-copy sends of at most this many bytes are copied (the kernel
 * option zcopy_copy_max= sets it; tcp_sendmsg_ref says why). */
extern size_t tcp_zc_copy_max;

struct tcp_zc_range {
    uint32_t lo, hi;
    bool copied;                        /* the stack copied these sends' bytes */
};

#define TCP_ERRQ_MAX 64
struct errq_notify;

struct tcp_sock {
    struct sock sock;
    struct list_head link;              /* tcp_socks */
    uint8_t state;
    int refs;                           /* the socket's own, plus one per chunk */
    bool orphan;                        /* closed by the app; freed by the stack */
    bool in_list;

    /* listening */
    struct tcp_sock *parent;            /* SYN_RECEIVED/not yet accepted: the listener */
    struct list_head accept_q;          /* listener: established, not yet accepted */
    struct list_head accept_link;
    int backlog, accept_len, embryos;

    /* send side (RFC 9293 3.3.1) */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
    uint32_t snd_end;                   /* one past the last byte queued */
    struct tcp_chunk *q_head, *q_tail;  /* covering [snd_una, snd_end) */
    uint16_t mss;                       /* payload per segment we send */
    uint16_t peer_mss;
    uint8_t snd_wscale, rcv_wscale;
    bool ws_ok, ts_ok, sack_ok;
    bool fin_queued;                    /* shutdown(SHUT_WR) or close */
    bool tx_blocked;                    /* the device was full */
    uint32_t cwnd, ssthresh, recover;
    int dupacks;
    bool in_recovery;

    /* round trip (RFC 6298) and timers, in ms of net_now_ns */
    uint32_t srtt_us, rttvar_us, rto_ms;
    int backoff;                        /* RTO doublings in a row */
    bool rtt_timing;
    uint32_t rtt_seq;
    uint64_t rtt_start_ms;
    uint64_t rto_at, delack_at, persist_at, keepalive_at, timewait_at, finwait2_at;
    int persist_backoff, keep_probes;
    uint32_t keepidle_s, keepintvl_s, keepcnt;
    uint32_t ts_recent;                 /* the peer's last TSval we echo */
    uint32_t user_timeout_ms;

    /* receive side: a growable ring the reader drains outside the lock,
     * with out-of-order runs past the in-order bytes (tcp_rcvbuf.c) */
    uint32_t irs, rcv_nxt, rcv_adv;     /* rcv_adv: right edge advertised */
    uint8_t *rbuf;                      /* NULL until data arrives */
    uint32_t rbuf_size;                 /* the most it may hold: bounds the window */
    uint32_t rbuf_cap;                  /* allocated now */
    uint32_t rbuf_head, rbuf_len;
    uint8_t *rbuf_retired;              /* outgrown while the reader copied from it */
    uint32_t rbuf_retired_cap;
    struct tcp_ooo_run { uint32_t lo, hi; } ooo[TCP_OOO_MAX];
    uint8_t ooo_n;
    bool ooo_fin;                       /* a FIN beyond a hole, at ooo_fin_seq */
    uint32_t ooo_last;                  /* a byte of the segment stored last */
    uint32_t ooo_fin_seq;
    bool fin_received;
    unsigned ack_pending;               /* bytes received and not yet ACKed */
    uint16_t rcv_mss;                   /* the largest segment seen */

    /* the socket's users */
    bool nodelay, cork, rx_busy, tx_busy, shut_rd;
    bool mem_wait;                      /* a sender waits for the stack's memory */
    uint64_t cookie_until;              /* listener: SYN cookies sent until about then */
    uint64_t last_oow_ack_ms;           /* the last ACK to an out-of-window segment */
    uint32_t charged;                   /* the block's own size, in the budget */
    uint32_t zc_next_id;
    struct tcp_zc_range errq[TCP_ERRQ_MAX];
    unsigned errq_len;
    struct errq_notify *errq_over, *errq_over_tail;     /* held back when errq is full */

    /* TCP_INFO */
    uint64_t bytes_acked, bytes_received, bytes_sent, bytes_retrans;
    /* As Linux counts them: every segment, and those carrying data. */
    uint32_t total_retrans, segs_in, segs_out, data_segs_in, data_segs_out;
    uint64_t last_data_recv_ms, last_ack_recv_ms;
};

/* The states in which data or a FIN we queued may still go out (and so
 * may still wait for the peer's ACK). */
static inline bool tcp_can_send_data(uint8_t state)
{
    return state == TCPS_ESTABLISHED || state == TCPS_CLOSE_WAIT ||
           state == TCPS_FIN_WAIT_1 || state == TCPS_CLOSING || state == TCPS_LAST_ACK;
}

static inline struct tcp_sock *tcp_of(struct sock *s)
{
    return container_of(s, struct tcp_sock, sock);
}

/* Shared between the TCP files. */
extern struct list_head tcp_socks;
uint64_t tcp_now_ms(void);
struct tcp_sock *tcp_alloc(void);
void tcp_put(struct tcp_sock *tp);
void tcp_set_state(struct tcp_sock *tp, uint8_t state);
/* Tear the connection down: state CLOSED, queues freed, error reported
 * to the app (0: none); frees an orphan. */
void tcp_drop(struct tcp_sock *tp, int err);
void tcp_enter_time_wait(struct tcp_sock *tp);
/* Free the receive ring of an orphan in TIME_WAIT. */
void tcp_shed_buffers(struct tcp_sock *tp);
/* The MSS and receive-buffer setup once the route is known. */
int tcp_prepare(struct tcp_sock *tp, uint32_t dst);
uint16_t tcp_advertised_mss(const struct netif *ifp);
/* The window shift we offer for a receive buffer of rbuf_size bytes. */
uint8_t tcp_wscale_for(uint32_t rbuf_size);
uint32_t tcp_rcv_window(const struct tcp_sock *tp);

bool tcp_port_in_use(uint16_t port, uint32_t addr, const struct tcp_sock *except, bool reuse);
int tcp_autobind(struct tcp_sock *tp);
/* Put tp on the list segments are matched against. */
void tcp_hash(struct tcp_sock *tp);
/* The connection for a segment, else a listener on its port, else NULL. */
struct tcp_sock *tcp_lookup(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport);

/* tcp_output.c */
void tcp_output(struct tcp_sock *tp);
/* A SYN-ACK that keeps no state (SYN cookies). The options a cookie can
 * carry: our MSS always; with timestamps (ts), our TSval (which holds the
 * peer's window shift and SACK-permitted, tcp_cookie_tsval), its echo,
 * SACK-permitted and our window shift when the SYN offered them. */
struct tcp_stateless_opts {
    uint16_t mss;
    bool ts, sack;
    int wscale;                         /* ours, or -1: none */
    uint32_t tsval, tsecr;
};
void tcp_send_synack_stateless(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                               uint32_t iss, uint32_t ack, const struct tcp_stateless_opts *o);
/* A segment with no data: SYN, SYN-ACK, ACK, FIN-less RST... */
void tcp_send_ctl(struct tcp_sock *tp, uint8_t flags);
void tcp_send_ack(struct tcp_sock *tp);
/* An ACK when the window grew enough to tell the peer. */
void tcp_window_update(struct tcp_sock *tp);
/* RST in reply to a segment that has no connection (RFC 9293 3.10.7.1). */
void tcp_send_reset(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                    uint32_t seq, uint32_t ack, uint8_t flags);
void tcp_ack_received(struct tcp_sock *tp, uint32_t ack, uint32_t tsecr, bool has_ts);
void tcp_dupack(struct tcp_sock *tp);
void tcp_queue_chunk(struct tcp_sock *tp, struct tcp_chunk *c);
void tcp_chunk_put(struct tcp_chunk *c);
void tcp_purge_send_queue(struct tcp_sock *tp);
void tcp_rearm_rto(struct tcp_sock *tp);
void tcp_timers(struct tcp_sock *tp, uint64_t now);
uint32_t tcp_flight(const struct tcp_sock *tp);

/* tcp_rcvbuf.c: the receive ring and out-of-order runs. */
uint32_t tcp_rcv_max_for(uint32_t rcvbuf);      /* rbuf_size for a SO_RCVBUF */
/* Copy n bytes to offset off past the in-order bytes; returns how many
 * fit (the window, the budget). Does not count them as received. */
uint32_t tcp_rcv_put(struct tcp_sock *tp, uint32_t off, const uint8_t *src, uint32_t n);
void tcp_rcv_consume(struct tcp_sock *tp, uint32_t n);
void tcp_rcv_reader_done(struct tcp_sock *tp);
void tcp_rcv_free(struct tcp_sock *tp);
/* MSG_ZEROCOPY notifications held back from a full error queue, freed with the socket (tcp_sock.c). */
void tcp_errq_free(struct tcp_sock *tp);
/* The most the ring may hold now: rbuf_size, or under memory pressure
 * what is allocated (at least the minimum). Silly-window rules and window
 * updates measure against this, or a small ring would never reopen. */
uint32_t tcp_rcv_reach(const struct tcp_sock *tp);
/* Give an empty ring back when memory is under pressure. */
void tcp_rcv_shrink(struct tcp_sock *tp);
void tcp_purge_ooo(struct tcp_sock *tp);
/* Data at seq beyond a hole: stored and recorded, or false (dropped). */
bool tcp_ooo_add(struct tcp_sock *tp, uint32_t seq, const uint8_t *data, uint32_t len,
                 bool fin);
/* After rcv_nxt moved: the runs it reached become in-order bytes
 * (returned); *fin when the FIN beyond them is now next. */
uint32_t tcp_ooo_advance(struct tcp_sock *tp, bool *fin);
int tcp_ooo_sack(const struct tcp_sock *tp, uint32_t *blocks, int max);

/* SYN cookies (tcp_syncookie.c): checked for this long after the last one. */
#define TCP_COOKIE_LIFE_MS (128 * 1000)

/* Counters (netstat.c prints them as /proc/net/snmp's Tcp line). */
struct tcp_counters {
    uint64_t active_opens, passive_opens, attempt_fails, estab_resets, in_segs, out_segs,
             retrans_segs, in_errs, out_rsts, curr_estab;
    /* Linux's TcpExt names (/proc/net/netstat) */
    uint64_t syncookies_sent, syncookies_recv, syncookies_failed, listen_overflows,
             listen_drops, ofo_queue, ofo_drop, ofo_merge, rcvq_drop, challenge_acks,
             challenge_skipped, oow_rate_limited, mem_waits, bad_source_syns;
    /* Zero-copy sends completed (zcopy_tx calls, MSG_ZEROCOPY sends), and
     * of those the ones whose bytes the stack copied after all. */
    uint64_t zc_completions, zc_copied;
};
extern struct tcp_counters tcp_stats;

/* ---- SYN cookies (tcp_syncookie.c) and the challenge-ACK limit (tcp_ratelimit.c) ----
 * Stateless helpers for listen_input and the RST/SYN checks; addresses and
 * ports in network byte order, saddr/sport the peer's (the segment's
 * source), daddr/dport ours; now_ms is tcp_now_ms(). */

/* The ISS for a SYN answered without state: a keyed hash of the four-tuple
 * and the peer's ISN, a 64-second time slot, and the MSS class for mss
 * (the largest of 64, 536, 1220, 1300, 1440, 1460, 8960, 65495 not above
 * it; pass TCP_DEFAULT_MSS when the SYN had no MSS option). */
uint32_t tcp_cookie_make(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
                         uint32_t peer_isn, uint16_t mss, uint64_t now_ms);
/* For an ACK reaching a listener with no connection: true when ack - 1 is a
 * cookie made for this four-tuple and peer ISN (seq - 1) in the current or
 * the previous slot (64 to 128 s ago at most); *mss gets the MSS class. */
bool tcp_cookie_check(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
                      uint32_t seq, uint32_t ack, uint64_t now_ms, uint16_t *mss);
/* The SYN-ACK's TSval for a cookie (when the SYN had timestamps): now_ts
 * stepped back at most 31 so its low 5 bits hold the SYN's window shift and
 * SACK-permitted; tcp_cookie_ts_options reads them back from the ACK's TSecr. */
uint32_t tcp_cookie_tsval(uint32_t now_ts, bool ws_ok, uint8_t snd_wscale, bool sack_ok);
void tcp_cookie_ts_options(uint32_t tsecr, bool *ws_ok, uint8_t *snd_wscale, bool *sack_ok);

/* RFC 5961 7: true when one more challenge ACK may go out now (about 1000 a
 * second for the whole stack, the exact budget random per second). */
bool tcp_challenge_ack_allowed(uint64_t now_ms);

#endif
