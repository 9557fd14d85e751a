/*
 * A connection's receive buffer: one ring that holds the in-order bytes
 * the app has yet to read, and, past them at their place in the window,
 * the out-of-order bytes that arrived beyond a hole. The out-of-order
 * data is known by a short sorted array of runs [lo, hi) of sequence
 * numbers, so
 *   - a segment beyond a hole costs its bytes and nothing else (no
 *     netbuf held: a 1-byte segment pins 1 byte, not a 700-byte buffer);
 *   - finding its place is a binary search over at most TCP_OOO_MAX
 *     runs, and a hole that fills turns the runs behind it into in-order
 *     data without copying a byte;
 *   - SACK blocks are the runs.
 *
 * The ring is not there until data arrives (an idle or embryonic
 * connection holds none) and grows by doubling as the data needs, up to
 * rbuf_size, the socket's receive buffer, which bounds the window. Every
 * ring is charged to the stack's budget (net_mem.c): the first
 * TCP_RMEM_MIN bytes are a connection's guaranteed minimum, growth beyond
 * it stops under memory pressure, and an empty ring is given back then.
 *
 * The reader copies out of the ring without net_lock (tcp_sock.c), from
 * the bytes [head, head + len) only, which input never rewrites. A ring
 * that must grow meanwhile is copied, and the old one is kept as
 * rbuf_retired until the reader is done (tcp_rcv_reader_done).
 */
#include <kern/kmalloc.h>
#include <kern/string.h>
#include "tcp.h"

/* Allocations are powers of two; a ring uses all but the allocator's
 * header, so that 2^k bytes asked for are 2^k bytes taken, not 2^(k+1). */
#define RING_SLACK      128
#define RING_MIN_ALLOC  4096
#define RING_MAX_ALLOC  (4u << 20)

static uint32_t alloc_size(uint32_t cap)
{
    return cap ? cap + RING_SLACK : 0;
}

uint32_t tcp_rcv_max_for(uint32_t rcvbuf)
{
    /* The largest ring not above rcvbuf: SO_RCVBUF is a ceiling. */
    uint32_t a = RING_MIN_ALLOC;
    while (a < RING_MAX_ALLOC && (a << 1) - RING_SLACK <= rcvbuf)
        a <<= 1;
    return a - RING_SLACK;
}

static void ring_release(uint8_t *buf, uint32_t cap)
{
    if (!buf)
        return;
    kfree(buf);
    net_mem_uncharge(alloc_size(cap));
}

void tcp_rcv_reader_done(struct tcp_sock *tp)
{
    ring_release(tp->rbuf_retired, tp->rbuf_retired_cap);
    tp->rbuf_retired = NULL;
    tp->rbuf_retired_cap = 0;
}

void tcp_rcv_free(struct tcp_sock *tp)
{
    tcp_purge_ooo(tp);
    ring_release(tp->rbuf, tp->rbuf_cap);
    tp->rbuf = NULL;
    tp->rbuf_cap = tp->rbuf_head = tp->rbuf_len = 0;
    if (!tp->rx_busy)
        tcp_rcv_reader_done(tp);
}

void tcp_rcv_shrink(struct tcp_sock *tp)
{
    if (tp->rbuf && !tp->rbuf_len && !tp->ooo_n && !tp->ooo_fin && !tp->rx_busy &&
        net_mem_pressure())
        tcp_rcv_free(tp);
}

/* Make the ring hold at least need bytes from its head. */
static bool reserve(struct tcp_sock *tp, uint32_t need)
{
    if (need <= tp->rbuf_cap)
        return true;
    if (need > tp->rbuf_size)
        return false;
    uint32_t a = MAX(alloc_size(tp->rbuf_cap) * 2, (uint32_t)RING_MIN_ALLOC);
    while (a - RING_SLACK < need)
        a <<= 1;
    uint32_t cap = MIN(a - RING_SLACK, tp->rbuf_size);
    /* The reader is copying out of the ring: it can keep one old ring. */
    if (tp->rbuf && tp->rx_busy && tp->rbuf_retired)
        return false;
    bool ok = alloc_size(cap) <= TCP_RMEM_MIN ? net_mem_charge_min(alloc_size(cap))
              : net_mem_pressure()            ? false
                                              : net_mem_charge(alloc_size(cap));
    if (!ok)
        return false;
    uint8_t *buf = kmalloc(cap);
    if (!buf) {
        net_mem_uncharge(alloc_size(cap));
        return false;
    }
    if (tp->rbuf) {
        /* The old contents in order from the head: in-order bytes, then
         * the out-of-order ones at their offsets. */
        uint32_t first = tp->rbuf_cap - tp->rbuf_head;
        memcpy(buf, tp->rbuf + tp->rbuf_head, first);
        memcpy(buf + first, tp->rbuf, tp->rbuf_head);
        if (tp->rx_busy) {
            tp->rbuf_retired = tp->rbuf;
            tp->rbuf_retired_cap = tp->rbuf_cap;
        } else {
            ring_release(tp->rbuf, tp->rbuf_cap);
        }
    }
    tp->rbuf = buf;
    tp->rbuf_cap = cap;
    tp->rbuf_head = 0;
    return true;
}

uint32_t tcp_rcv_reach(const struct tcp_sock *tp)
{
    if (!net_mem_pressure())
        return tp->rbuf_size;
    /* Offer what is allocated, not what might be. */
    return MIN(tp->rbuf_size, MAX(tp->rbuf_cap, (uint32_t)TCP_RMEM_MIN_WINDOW));
}

uint32_t tcp_rcv_window(const struct tcp_sock *tp)
{
    if (!tp->rbuf_size)
        return 65535;                   /* not prepared yet (no route known) */
    uint32_t reach = tcp_rcv_reach(tp);
    return reach > tp->rbuf_len ? reach - tp->rbuf_len : 0;
}

uint32_t tcp_rcv_put(struct tcp_sock *tp, uint32_t off, const uint8_t *src, uint32_t n)
{
    uint32_t at = tp->rbuf_len + off;
    if (at >= tp->rbuf_size)
        return 0;
    n = MIN(n, tp->rbuf_size - at);
    if (!n)
        return 0;
    if (!reserve(tp, at + n)) {
        uint32_t fits = tp->rbuf_cap > at ? tp->rbuf_cap - at : 0;
        if (fits < n) {
            tcp_stats.rcvq_drop++;
            net_mem_dropped("received TCP data");
        }
        n = MIN(n, fits);
        if (!n)
            return 0;
    }
    uint32_t pos = (tp->rbuf_head + at) % tp->rbuf_cap;
    uint32_t first = MIN(n, tp->rbuf_cap - pos);
    memcpy(tp->rbuf + pos, src, first);
    memcpy(tp->rbuf, src + first, n - first);
    return n;
}

void tcp_rcv_consume(struct tcp_sock *tp, uint32_t n)
{
    tp->rbuf_head = (tp->rbuf_head + n) % tp->rbuf_cap;
    tp->rbuf_len -= n;
}

/* ---- out-of-order runs ------------------------------------------------------------ */

void tcp_purge_ooo(struct tcp_sock *tp)
{
    tp->ooo_n = 0;
    tp->ooo_fin = false;
}

/* The first run that ends at or after seq (so may touch [seq, ...)). */
static unsigned first_touching(const struct tcp_sock *tp, uint32_t seq)
{
    unsigned lo = 0, hi = tp->ooo_n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (SEQ_LT(tp->ooo[mid].hi, seq))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool tcp_ooo_add(struct tcp_sock *tp, uint32_t seq, const uint8_t *data, uint32_t len,
                 bool fin)
{
    uint32_t end = seq + len;
    unsigned i = first_touching(tp, seq);
    bool merges = i < tp->ooo_n && SEQ_LEQ(tp->ooo[i].lo, end);
    if (!merges && tp->ooo_n == TCP_OOO_MAX) {
        tcp_stats.ofo_drop++;                   /* too many holes: the sender resends */
        return false;
    }
    uint32_t n = len ? tcp_rcv_put(tp, seq - tp->rcv_nxt, data, len) : 0;
    if (n < len) {
        fin = false;
        if (!n) {
            tcp_stats.ofo_drop++;
            return false;
        }
        end = seq + n;
        merges = i < tp->ooo_n && SEQ_LEQ(tp->ooo[i].lo, end);
        if (!merges && tp->ooo_n == TCP_OOO_MAX)
            return false;                       /* cannot happen: runs lie below the cut */
    }
    if (fin) {
        tp->ooo_fin = true;
        tp->ooo_fin_seq = end;
    }
    tcp_stats.ofo_queue++;
    tp->ooo_last = seq;
    if (!n)
        return true;                            /* a bare FIN beyond a hole */
    if (!merges) {
        memmove(&tp->ooo[i + 1], &tp->ooo[i], (tp->ooo_n - i) * sizeof(tp->ooo[0]));
        tp->ooo[i].lo = seq;
        tp->ooo[i].hi = end;
        tp->ooo_n++;
        return true;
    }
    /* Merge with run i and every later run the new one reaches. */
    tcp_stats.ofo_merge++;
    unsigned j = i;
    while (j + 1 < tp->ooo_n && SEQ_LEQ(tp->ooo[j + 1].lo, end))
        j++;
    if (SEQ_LT(seq, tp->ooo[i].lo))
        tp->ooo[i].lo = seq;
    tp->ooo[i].hi = SEQ_GT(end, tp->ooo[j].hi) ? end : tp->ooo[j].hi;
    memmove(&tp->ooo[i + 1], &tp->ooo[j + 1], (tp->ooo_n - j - 1) * sizeof(tp->ooo[0]));
    tp->ooo_n -= (uint8_t)(j - i);
    return true;
}

uint32_t tcp_ooo_advance(struct tcp_sock *tp, bool *fin)
{
    uint32_t gained = 0;
    unsigned k = 0;
    while (k < tp->ooo_n && SEQ_LEQ(tp->ooo[k].lo, tp->rcv_nxt)) {
        if (SEQ_GT(tp->ooo[k].hi, tp->rcv_nxt)) {
            uint32_t n = tp->ooo[k].hi - tp->rcv_nxt;
            tp->rbuf_len += n;
            tp->rcv_nxt += n;
            gained += n;
        }
        k++;
    }
    if (k) {
        memmove(&tp->ooo[0], &tp->ooo[k], (tp->ooo_n - k) * sizeof(tp->ooo[0]));
        tp->ooo_n -= (uint8_t)k;
    }
    *fin = tp->ooo_fin && tp->rcv_nxt == tp->ooo_fin_seq;
    if (*fin)
        tp->ooo_fin = false;
    return gained;
}

int tcp_ooo_sack(const struct tcp_sock *tp, uint32_t *blocks, int max)
{
    /* RFC 2018 4: the block with the segment that arrived last first (it
     * tells the sender what just got through), then the others from the
     * lowest, which the sender needs most. */
    unsigned last = first_touching(tp, tp->ooo_last);
    if (last < tp->ooo_n && SEQ_GT(tp->ooo[last].lo, tp->ooo_last))
        last = tp->ooo_n;                       /* that run was delivered */
    int n = 0;
    if (last < tp->ooo_n && max > 0) {
        blocks[0] = tp->ooo[last].lo;
        blocks[1] = tp->ooo[last].hi;
        n = 1;
    }
    for (unsigned i = 0; i < tp->ooo_n && n < max; i++) {
        if (i == last)
            continue;
        blocks[2 * n] = tp->ooo[i].lo;
        blocks[2 * n + 1] = tp->ooo[i].hi;
        n++;
    }
    return n;
}
