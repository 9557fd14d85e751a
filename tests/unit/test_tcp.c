/*
 * TCP (kernel/net/tcp*.c) between two copies of the stack over a
 * simulated link (tests/unit/twin/), through the socket interface only:
 * tcp_socket and s->ops, every socket non-blocking (the host stand-ins),
 * time driven by the harness until poll() says ready. State is observed
 * through TCP_INFO (Linux's struct tcp_info, tcpi_state numbered as Linux
 * numbers TCP states), SO_ERROR (sock->error, as the system call reads
 * it), poll() and the frames on the wire.
 *
 * Expectations follow RFC 9293 and Linux: handshake and refusal, bulk
 * transfer over clean and lossy, reordering, duplicating, corrupting
 * links, fast retransmit and RTO recovery with exponential backoff,
 * zero-window probing and window updates, window scaling, the close
 * sequences (FIN_WAIT_1/2, TIME_WAIT for 2*MSL = 60 s as Linux counts it,
 * CLOSE_WAIT/LAST_ACK, CLOSING), simultaneous open, RST on a half-open
 * connection, half-close, the listen backlog, keepalive.
 *
 * Every test has a fixed seed (TWIN_SEED=n overrides it) and runs in its
 * own process with fresh stacks (twin_test.h). A wire monitor watches
 * every test: no sender goes past the window its receiver advertised,
 * every segment's checksum is right, TCP never makes IPv4 fragments (it
 * sizes segments to the MTU), and device requests are sane (side.c).
 * TWIN_TRACE=1 prints every segment (and fragment) as it leaves.
 */
#include "check.h"

#include <kern/byteorder.h>
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/net.h>
#include <kern/socket.h>
/* struct tcp_info and the option numbers, in Linux's layout, which
 * TCP_INFO fills. */
#include <linux/tcp.h>

#include "twin_test.h"
/* The stack's own view (the memory and out-of-order tests at the end look
 * inside a side's struct tcp_sock and budget). */
#include "tcp.h"

#define A TWIN_A
#define B TWIN_B
#define SOL_TCP 6
#define SHUT_RD 0
#define SHUT_WR 1
#define SHUT_RDWR 2

/* Linux's TCP states (include/net/tcp_states.h), as tcpi_state has them. */
enum {
    ST_ESTABLISHED = 1, ST_SYN_SENT, ST_SYN_RECV, ST_FIN_WAIT1, ST_FIN_WAIT2, ST_TIME_WAIT,
    ST_CLOSE, ST_CLOSE_WAIT, ST_LAST_ACK, ST_LISTEN, ST_CLOSING,
};

static const char *state_name(int st)
{
    static const char *names[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
                                   "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
                                   "LAST_ACK", "LISTEN", "CLOSING" };
    return st >= 0 && st <= ST_CLOSING ? names[st] : "?";
}

/* Linux's values the tests measure against (tcp.c has the same). */
#define TIME_WAIT_NS  (60 * SEC)
#define RTO_MIN_NS    (200 * MS)
#define TICK          NET_TICK_NS

/* A test cannot go on (no TCP, no socket): say why and end the child. */
static void give_up(const char *why, int err)
{
    printf("  giving up: %s (%d)\n", why, err);
    printf("  %s failed with seed %#llx\n", twin_test_name, (unsigned long long)twin_seed());
    fflush(stdout);
    _exit(1);
}

/* ---- socket helpers ------------------------------------------------------------------ */

static struct sock *tcp_new(int side)
{
    struct sock *s = NULL;
    int err = twin_sides[side].tcp_socket(&s);
    if (err || !s)
        give_up("tcp_socket failed (is kernel/net/tcp*.c in NET_PROTO_SRCS?)", err);
    return s;
}

static struct tcp_info info(struct sock *s)
{
    struct tcp_info ti;
    memset(&ti, 0, sizeof(ti));
    size_t len = sizeof(ti);
    int err = s->ops->getsockopt ? s->ops->getsockopt(s, SOL_TCP, TCP_INFO, &ti, &len)
                                 : -ENOPROTOOPT;
    if (err) {
        printf("  getsockopt(TCP_INFO): %d\n", err);
        check_failed_current = 1;
    }
    return ti;
}

static int state(struct sock *s)
{
    return info(s).tcpi_state;
}

#define CHECK_STATE(s, want) do { \
        int st_ = state(s); \
        if (st_ != (want)) { \
            printf("  %s:%d: state of %s is %s, expected %s (t=%llu ms)\n", __FILE__, \
                   __LINE__, #s, state_name(st_), state_name(want), \
                   (unsigned long long)(twin_now() / MS)); \
            check_failed_current = 1; \
        } \
    } while (0)

static int setopt(struct sock *s, int name, int v)
{
    return s->ops->setsockopt(s, SOL_TCP, name, &v, sizeof(v));
}

/* SO_ERROR as getsockopt reads it (kernel/linux/sys_socket.c): positive,
 * and cleared. */
static int so_error(struct sock *s)
{
    int e = -s->error;
    s->error = 0;
    return e;
}

static unsigned pollev(struct sock *s)
{
    return s->ops->poll(s);
}

static struct sock *listen_on(int side, uint16_t port, int backlog)
{
    struct sock *l = tcp_new(side);
    struct sock_addr a = { 0, htons(port) };
    CHECK_EQ_INT(l->ops->bind(l, &a), 0);
    CHECK_EQ_INT(l->ops->listen(l, backlog), 0);
    return l;
}

static int connect_to(struct sock *c, int side, uint16_t port)
{
    struct sock_addr a = { twin_ip(side), htons(port) };
    return c->ops->connect(c, &a);
}

static int bind_port(struct sock *s, uint16_t port)
{
    struct sock_addr a = { 0, htons(port) };
    return s->ops->bind(s, &a);
}

/* Accept one connection on l within timeout; NULL if none came. */
static struct sock *accept_within(struct sock *l, uint64_t timeout, struct sock_addr *peer)
{
    struct sock *n = NULL;
    struct sock_addr p;
    int err = -EAGAIN;
    RUN_UNTIL((err = l->ops->accept(l, &n, &p)) != -EAGAIN, timeout);
    if (err)
        return NULL;
    if (peer)
        *peer = p;
    return n;
}

static int64_t send_bytes(struct sock *s, const void *p, size_t n)
{
    struct sock_iov iov = { (void *)p, n };
    return s->ops->sendmsg(s, &iov, 1, NULL, 0);
}

static int64_t recv_bytes(struct sock *s, void *p, size_t n)
{
    struct sock_iov iov = { p, n };
    int mflags = 0;
    return s->ops->recvmsg(s, &iov, 1, NULL, 0, &mflags);
}

/* Receive exactly n bytes within timeout; the count received. */
static size_t recv_exact(struct sock *s, void *p, size_t n, uint64_t timeout)
{
    size_t got = 0;
    RUN_UNTIL(({
        int64_t r;
        while (got < n && (r = recv_bytes(s, (uint8_t *)p + got, n - got)) > 0)
            got += (size_t)r;
        got == n;
    }), timeout);
    return got;
}

/* A connection: client c on side cs, server end s accepted from l on the
 * other side. */
struct conn {
    struct sock *c, *s, *l;
    int cs;
};

/* Listen on port on the other side, connect, accept. */
static bool open_conn(struct conn *k, int client_side, uint16_t port)
{
    k->cs = client_side;
    k->l = listen_on(!client_side, port, 16);
    k->c = tcp_new(client_side);
    int err = connect_to(k->c, !client_side, port);
    if (err != -EINPROGRESS && err != 0) {
        printf("  connect: %d\n", err);
        check_failed_current = 1;
    }
    k->s = accept_within(k->l, 30 * SEC, NULL);
    if (!k->s)
        give_up("no connection to accept", 0);
    if (!RUN_UNTIL(pollev(k->c) & POLLOUT, 30 * SEC))
        give_up("the client never became writable", 0);
    CHECK_STATE(k->c, ST_ESTABLISHED);
    CHECK_STATE(k->s, ST_ESTABLISHED);
    return true;
}

static void close_conn(struct conn *k)
{
    if (k->c)
        k->c->ops->close(k->c);
    if (k->s)
        k->s->ops->close(k->s);
    if (k->l)
        k->l->ops->close(k->l);
}

/* ---- the wire ------------------------------------------------------------------------- */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

struct seg {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    uint32_t len;                       /* payload */
    const uint8_t *payload;
    int mss, wscale;                    /* -1: not in the segment */
    bool sack_ok, has_ts;
    uint32_t tsval, tsecr;
    int nsack;                          /* SACK blocks, [sack[2i], sack[2i+1]) */
    uint32_t sack[8];
    bool csum_ok;
};

static bool seg_csum_ok(const uint8_t *ip, uint32_t ihl, uint32_t tot);

static bool parse_seg(const uint8_t *f, uint32_t n, struct seg *sg)
{
    if (n < 14 + 20 + 20 || get_be16(f + 12) != ETH_P_IP)
        return false;
    const uint8_t *ip = f + 14;
    uint32_t ihl = (ip[0] & 0xfu) * 4, tot = get_be16(ip + 2);
    if (ip[9] != 6 || tot > n - 14 || tot < ihl + 20 || (get_be16(ip + 6) & 0x3fff))
        return false;
    const uint8_t *th = ip + ihl;
    uint32_t doff = (th[12] >> 4) * 4u;
    if (doff < 20 || ihl + doff > tot)
        return false;
    memset(sg, 0, sizeof(*sg));
    sg->sport = get_be16(th);
    sg->dport = get_be16(th + 2);
    sg->seq = get_be32(th + 4);
    sg->ack = get_be32(th + 8);
    sg->flags = th[13];
    sg->win = get_be16(th + 14);
    sg->len = tot - ihl - doff;
    sg->payload = th + doff;
    sg->mss = sg->wscale = -1;
    for (uint32_t i = 20; i < doff;) {
        uint8_t kind = th[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= doff || th[i + 1] < 2 || i + th[i + 1] > doff)
            break;
        uint8_t olen = th[i + 1];
        if (kind == 2 && olen == 4)
            sg->mss = get_be16(th + i + 2);
        else if (kind == 3 && olen == 3)
            sg->wscale = th[i + 2];
        else if (kind == 4 && olen == 2)
            sg->sack_ok = true;
        else if (kind == 8 && olen == 10) {
            sg->has_ts = true;
            sg->tsval = get_be32(th + i + 2);
            sg->tsecr = get_be32(th + i + 6);
        } else if (kind == 5 && olen >= 10 && (olen - 2) % 8 == 0) {
            for (int b = 0; b < (olen - 2) / 8 && b < 4; b++, sg->nsack++) {
                sg->sack[2 * b] = get_be32(th + i + 2 + 8 * b);
                sg->sack[2 * b + 1] = get_be32(th + i + 6 + 8 * b);
            }
        }
        i += olen;
    }
    sg->csum_ok = seg_csum_ok(ip, ihl, tot);
    return true;
}

/* The ones'-complement sum, folded to 16 bits, over TCP's pseudo-header
 * and the segment (checksum field included) of the IPv4 packet at ip:
 * the test's own, not the stack's. */
static uint32_t tcp_sum(const uint8_t *ip, uint32_t ihl, uint32_t tot)
{
    const uint8_t *th = ip + ihl;
    uint32_t sum = 0;
    for (int i = 12; i < 20; i += 2)
        sum += get_be16(ip + i);
    sum += 6 + (tot - ihl);
    for (uint32_t i = 0; i + 1 < tot - ihl; i += 2)
        sum += get_be16(th + i);
    if ((tot - ihl) & 1)
        sum += (uint32_t)th[tot - ihl - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

/* The TCP checksum over the pseudo-header and segment is right. */
static bool seg_csum_ok(const uint8_t *ip, uint32_t ihl, uint32_t tot)
{
    return tcp_sum(ip, ihl, tot) == 0xffff;
}

/* What the monitor knows of one connection, per side (0 = a, 1 = b). */
struct wconn {
    bool used;
    uint16_t port[2];
    int ws[2];                          /* window scale in that side's SYN, -1: none */
    bool syn[2];
    uint32_t edge[2];                   /* highest right window edge that side advertised */
    bool edge_ok[2];
    uint32_t snd_max[2];                /* highest sequence number that side sent + 1 */
    bool snd_ok[2];
    uint32_t max_flight[2];             /* most unacknowledged data seen on the wire */
    uint32_t zero_windows[2];           /* segments advertising a zero window */
};

#define MAX_WCONN 64
static struct wconn wconns[MAX_WCONN];

/* Per side: counters over all connections. */
struct wstats {
    uint32_t segs, data, retrans, syn, synack, fin, rst, bad_csum;
    uint32_t fragments;                 /* IPv4 fragments of TCP segments */
};
static struct wstats wst[2];
static unsigned window_violations;

/* A test's own look at each segment a side sends: return true to drop it. */
typedef bool (*seg_hook)(int from, const struct seg *sg, void *arg);
static seg_hook hook;
static void *hook_arg;

static struct wconn *wconn_of(int from, const struct seg *sg)
{
    uint16_t mine = sg->sport, theirs = sg->dport;
    struct wconn *fresh = NULL;
    for (int i = 0; i < MAX_WCONN; i++) {
        struct wconn *w = &wconns[i];
        if (w->used && w->port[from] == mine && w->port[!from] == theirs)
            return w;
        if (!w->used && !fresh)
            fresh = w;
    }
    if (!fresh)
        return NULL;
    memset(fresh, 0, sizeof(*fresh));
    fresh->used = true;
    fresh->port[from] = mine;
    fresh->port[!from] = theirs;
    fresh->ws[0] = fresh->ws[1] = -1;
    return fresh;
}

/* The fragments of one datagram, put back together to check what TCP
 * meant to send (two fragments at most: TCP's segments are small). */
static struct {
    bool used;
    uint16_t id;
    uint8_t frame[4096];
    uint32_t len;                       /* Ethernet + IPv4 header + payload so far */
} frag_first[2];
static uint32_t reasm_bad_csum[2];

static bool seg_csum_ok(const uint8_t *ip, uint32_t ihl, uint32_t tot);

static void frag_check(int from, const uint8_t *f, uint32_t n)
{
    const uint8_t *ip = f + 14;
    uint32_t ihl = (ip[0] & 0xfu) * 4, tot = get_be16(ip + 2);
    uint16_t fl = get_be16(ip + 6), id = get_be16(ip + 4);
    uint32_t off = (fl & 0x1fff) * 8u;
    if (off == 0 && (fl & 0x2000) && 14 + tot <= sizeof(frag_first[from].frame)) {
        frag_first[from].used = true;
        frag_first[from].id = id;
        memcpy(frag_first[from].frame, f, 14 + tot);
        frag_first[from].len = 14 + tot;
        return;
    }
    if (!frag_first[from].used || frag_first[from].id != id || (fl & 0x2000))
        return;
    uint8_t *w = frag_first[from].frame;
    uint32_t have = frag_first[from].len - 14 - ihl;
    if (off != have || frag_first[from].len + tot - ihl > sizeof(frag_first[from].frame))
        return;
    memcpy(w + frag_first[from].len, ip + ihl, tot - ihl);
    uint32_t whole = ihl + have + tot - ihl;
    put_be16(w + 14 + 2, (uint16_t)whole);
    put_be16(w + 14 + 6, 0);
    frag_first[from].used = false;
    if (!seg_csum_ok(w + 14, ihl, whole) && reasm_bad_csum[from]++ < 3)
        printf("  wire: side %c's fragmented TCP segment (IPv4 id %u, %u bytes) has a bad "
               "checksum once reassembled\n", twin_sides[from].name, id, whole);
}

static bool link_cut_now(void)
{
    return twin_link()->cut;
}

static bool monitor(int from, const uint8_t *f, uint32_t n, void *arg)
{
    (void)arg;
    struct seg sg;
    if (n >= 14 + 20 && get_be16(f + 12) == ETH_P_IP && f[14 + 9] == 6 &&
        (get_be16(f + 14 + 6) & 0x3fff)) {
        /* TCP sizes its segments to the path: it is never fragmented */
        if (getenv("TWIN_TRACE"))
            printf("  %10.6f %c IPv4 fragment id %u offset %u%s, %u bytes%s\n",
                   twin_now() / 1e9, twin_sides[from].name, get_be16(f + 14 + 4),
                   (get_be16(f + 14 + 6) & 0x1fff) * 8,
                   (get_be16(f + 14 + 6) & 0x2000) ? " MF" : "", n,
                   link_cut_now() ? " (cut)" : "");
        frag_check(from, f, n);
        if (wst[from].fragments++ < 3)
            printf("  wire: side %c sent a fragment of a TCP segment (%u bytes, fragment "
                   "field %#x) at %llu ns\n", twin_sides[from].name, n,
                   get_be16(f + 14 + 6), (unsigned long long)twin_now());
    }
    if (!parse_seg(f, n, &sg))
        return false;
    struct wstats *ws = &wst[from];
    ws->segs++;
    static int trace = -1;
    if (trace < 0)
        trace = getenv("TWIN_TRACE") && *getenv("TWIN_TRACE") == '1';
    if (trace)
        printf("  %10.6f %c %5u>%-5u seq %10u ack %10u %c%c%c%c%c win %5u len %4u%s\n",
               twin_now() / 1e9, twin_sides[from].name, sg.sport, sg.dport, sg.seq, sg.ack,
               sg.flags & TH_SYN ? 'S' : '.', sg.flags & TH_ACK ? 'A' : '.',
               sg.flags & TH_FIN ? 'F' : '.', sg.flags & TH_RST ? 'R' : '.',
               sg.flags & TH_PSH ? 'P' : '.', sg.win, sg.len,
               link_cut_now() ? " (cut)" : "");
    if (!sg.csum_ok) {
        ws->bad_csum++;
        printf("  wire: side %c sent a segment with a bad checksum at %llu ns (seq %u, "
               "%u bytes, flags %#x, frame %u)\n", twin_sides[from].name,
               (unsigned long long)twin_now(), sg.seq, sg.len, sg.flags, n);
    }
    ws->syn += (sg.flags & (TH_SYN | TH_ACK)) == TH_SYN;
    ws->synack += (sg.flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK);
    ws->fin += !!(sg.flags & TH_FIN);
    ws->rst += !!(sg.flags & TH_RST);
    struct wconn *w = wconn_of(from, &sg);
    if (w && (sg.flags & TH_SYN)) {
        /* a new incarnation starts over */
        if (w->syn[from] && w->snd_ok[from] && sg.seq + 1 != w->snd_max[from])
            memset(w->snd_ok, 0, sizeof(w->snd_ok)), memset(w->edge_ok, 0, sizeof(w->edge_ok));
        w->syn[from] = true;
        w->ws[from] = sg.wscale;
    }
    if (w && !(sg.flags & TH_RST)) {
        uint32_t end = sg.seq + sg.len + !!(sg.flags & TH_SYN) + !!(sg.flags & TH_FIN);
        if (sg.len) {
            ws->data++;
            if (w->snd_ok[from] && (int32_t)(end - w->snd_max[from]) <= 0)
                ws->retrans++;
            /* Within the window the peer offered (a one-byte probe into
             * a zero window is allowed, RFC 9293 3.8.6.1). */
            if (w->edge_ok[!from] && (int32_t)(end - w->edge[!from]) > 0 &&
                !(sg.len == 1 && (int32_t)(sg.seq - w->edge[!from]) >= 0 &&
                  (int32_t)(sg.seq - w->edge[!from]) <= 0)) {
                if (window_violations++ < 5)
                    printf("  wire: side %c sent [%u, %u) past the window edge %u its peer "
                           "advertised (t=%llu ns)\n", twin_sides[from].name,
                           sg.seq, end, w->edge[!from], (unsigned long long)twin_now());
            }
        }
        if (!w->snd_ok[from] || (int32_t)(end - w->snd_max[from]) > 0) {
            w->snd_max[from] = end;
            w->snd_ok[from] = true;
        }
        if (sg.flags & TH_ACK) {
            bool scaled = w->ws[0] >= 0 && w->ws[1] >= 0 && !(sg.flags & TH_SYN);
            uint32_t edge = sg.ack + ((uint32_t)sg.win << (scaled ? w->ws[from] : 0));
            if (!w->edge_ok[from] || (int32_t)(edge - w->edge[from]) > 0) {
                w->edge[from] = edge;
                w->edge_ok[from] = true;
            }
            if (!sg.win)
                w->zero_windows[from]++;
            /* flight of the other side's data, as the ACKs leave */
            if (w->snd_ok[!from]) {
                uint32_t flight = w->snd_max[!from] - sg.ack;
                if ((int32_t)flight > 0 && flight > w->max_flight[!from])
                    w->max_flight[!from] = flight;
            }
        }
    }
    return hook && hook(from, &sg, hook_arg);
}

static void set_hook(seg_hook fn, void *arg)
{
    hook = fn;
    hook_arg = arg;
}

/* The usual start of a TCP test: the pair, the monitor. */
static void begin(struct twin_cfg *cfg)
{
    twin_begin(cfg);
    memset(wconns, 0, sizeof(wconns));
    memset(wst, 0, sizeof(wst));
    memset(frag_first, 0, sizeof(frag_first));
    memset(reasm_bad_csum, 0, sizeof(reasm_bad_csum));
    window_violations = 0;
    hook = NULL;
    twin_set_tap(monitor, NULL);
}

/* The usual end: what the monitor saw is fine. */
static void end_checks(void)
{
    CHECK_EQ_INT(window_violations, 0);
    CHECK_EQ_INT(wst[A].bad_csum + wst[B].bad_csum, 0);
    CHECK_EQ_INT(wst[A].fragments + wst[B].fragments, 0);
    CHECK_EQ_INT(reasm_bad_csum[A] + reasm_bad_csum[B], 0);
}

static struct wconn *wconn_find(uint16_t a_port, uint16_t b_port)
{
    for (int i = 0; i < MAX_WCONN; i++)
        if (wconns[i].used && wconns[i].port[A] == a_port && wconns[i].port[B] == b_port)
            return &wconns[i];
    return NULL;
}

static uint16_t lport(struct sock *s)
{
    return ntohs(s->local.port);
}

/* ---- streams of pattern bytes ---------------------------------------------------------- */

/* Byte i of stream id: every 8 bytes differ, so a byte misplaced shows. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void fill(uint32_t id, uint64_t off, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint64_t pos = off + i, w = mix((uint64_t)id << 48 ^ pos >> 3);
        for (unsigned b = (unsigned)(pos & 7); b < 8 && i < n; b++, i++)
            p[i] = (uint8_t)(w >> (8 * b));
    }
}

#define STREAM_BUF (64 * 1024)

struct stream {
    struct sock *tx, *rx;
    uint32_t id;
    uint64_t len, sent, recvd;
    bool shut_when_sent;                /* shutdown(SHUT_WR) after the last byte */
    bool shut, eof;
    uint64_t bad_at;                    /* first wrong byte + 1; 0: none */
    int64_t err;                        /* first error from send or recv */
    uint64_t done_at;
    uint8_t *buf;                       /* the bytes at buf_off, to send */
    uint64_t buf_off;
    size_t buf_len;
    bool no_read;                       /* the reader does not read (for now) */
};

static void stream_init(struct stream *st, struct sock *tx, struct sock *rx, uint32_t id,
                        uint64_t len)
{
    memset(st, 0, sizeof(*st));
    st->tx = tx;
    st->rx = rx;
    st->id = id;
    st->len = len;
    st->buf = malloc(STREAM_BUF);
    st->buf_off = UINT64_MAX;
}

static void stream_free(struct stream *st)
{
    free(st->buf);
    st->buf = NULL;
}

static void stream_write(struct stream *st)
{
    while (st->sent < st->len && !st->err) {
        if (st->buf_off != st->sent) {
            st->buf_len = (size_t)MIN((uint64_t)STREAM_BUF, st->len - st->sent);
            fill(st->id, st->sent, st->buf, st->buf_len);
            st->buf_off = st->sent;
        }
        int64_t r = send_bytes(st->tx, st->buf, st->buf_len);
        if (r == -EAGAIN)
            return;
        if (r <= 0) {
            st->err = r ? r : -EIO;
            printf("  stream %u: send at %llu: %lld\n", st->id, (unsigned long long)st->sent,
                   (long long)r);
            return;
        }
        st->sent += (uint64_t)r;
    }
    if (st->sent == st->len && st->shut_when_sent && !st->shut) {
        CHECK_EQ_INT(st->tx->ops->shutdown(st->tx, SHUT_WR), 0);
        st->shut = true;
    }
}

static void stream_read(struct stream *st)
{
    static uint8_t buf[STREAM_BUF], want[STREAM_BUF];
    while (!st->eof && !st->err && !st->no_read) {
        int64_t r = recv_bytes(st->rx, buf, sizeof(buf));
        if (r == -EAGAIN)
            return;
        if (r < 0) {
            st->err = r;
            printf("  stream %u: recv at %llu: %lld\n", st->id, (unsigned long long)st->recvd,
                   (long long)r);
            return;
        }
        if (r == 0) {
            st->eof = true;
            return;
        }
        uint64_t n = MIN((uint64_t)r, st->len > st->recvd ? st->len - st->recvd : 0);
        fill(st->id, st->recvd, want, n);
        if (!st->bad_at && (n < (uint64_t)r || memcmp(buf, want, n))) {
            uint64_t i = 0;
            while (i < n && buf[i] == want[i])
                i++;
            st->bad_at = st->recvd + i + 1;
            printf("  stream %u: byte %llu is wrong (%llu bytes received)\n", st->id,
                   (unsigned long long)(st->recvd + i), (unsigned long long)(st->recvd + r));
        }
        st->recvd += (uint64_t)r;
    }
}

static bool stream_done(const struct stream *st)
{
    return st->recvd >= st->len && (!st->shut_when_sent || st->eof);
}

/* Move data; true when every stream is complete. */
static bool pump(struct stream *sts, int n)
{
    bool all = true;
    for (int i = 0; i < n; i++) {
        struct stream *st = &sts[i];
        stream_write(st);
        stream_read(st);
        if (stream_done(st)) {
            if (!st->done_at)
                st->done_at = twin_now();
        } else {
            all = false;
        }
    }
    return all;
}

static bool run_streams(struct stream *sts, int n, uint64_t timeout)
{
    return RUN_UNTIL(pump(sts, n), timeout);
}

static void check_stream(const struct stream *st)
{
    if (st->recvd != st->len || st->bad_at || st->err)
        printf("  stream %u: %llu of %llu bytes sent, %llu received, first bad byte %lld, "
               "error %lld\n", st->id, (unsigned long long)st->sent,
               (unsigned long long)st->len, (unsigned long long)st->recvd,
               (long long)st->bad_at - 1, (long long)st->err);
    CHECK(st->recvd == st->len);
    CHECK(st->bad_at == 0);
    CHECK(st->err == 0);
}

/* ---- handshake ------------------------------------------------------------------------------ */

TWIN_TEST(handshake_and_small_exchange)
{
    struct twin_cfg cfg = { .seed = 0x7c90001, .link = { .delay_ns = 1 * MS } };
    begin(&cfg);
    struct sock *l = listen_on(B, 80, 8);
    CHECK_STATE(l, ST_LISTEN);
    struct sock *c = tcp_new(A);
    CHECK_EQ_INT(connect_to(c, B, 80), -EINPROGRESS);
    CHECK_STATE(c, ST_SYN_SENT);
    CHECK((pollev(c) & (POLLOUT | POLLIN | POLLERR | POLLHUP)) == 0);
    struct sock_addr peer;
    struct sock *s = accept_within(l, 5 * SEC, &peer);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(RUN_UNTIL(pollev(c) & POLLOUT, 1 * SEC));
    CHECK_STATE(c, ST_ESTABLISHED);
    CHECK_STATE(s, ST_ESTABLISHED);
    CHECK_EQ_INT(peer.addr, twin_ip(A));
    CHECK_EQ_INT(peer.port, c->local.port);
    CHECK_EQ_INT(s->local.port, htons(80));
    CHECK(ntohs(c->local.port) >= 32768 && ntohs(c->local.port) <= 60999);
    /* The SYN and SYN-ACK carried MSS 1460 (MTU 1500) and a window scale. */
    CHECK_EQ_INT(wst[A].syn, 1);
    CHECK_EQ_INT(wst[B].synack, 1);
    struct wconn *w = wconn_find(lport(c), 80);
    CHECK(w && w->ws[A] >= 0 && w->ws[B] >= 0);
    struct tcp_info ti = info(c);
    CHECK(ti.tcpi_snd_mss > 1400 && ti.tcpi_snd_mss <= 1460);
    /* A connect again on a connected socket is EISCONN. */
    CHECK_EQ_INT(connect_to(c, B, 80), -EISCONN);

    CHECK_EQ_INT(send_bytes(c, "hello", 5), 5);
    char buf[16];
    CHECK_EQ_INT(recv_exact(s, buf, 5, 1 * SEC), 5);
    CHECK(!memcmp(buf, "hello", 5));
    CHECK_EQ_INT(send_bytes(s, "world!", 6), 6);
    CHECK_EQ_INT(recv_exact(c, buf, 6, 1 * SEC), 6);
    CHECK(!memcmp(buf, "world!", 6));
    CHECK_EQ_INT(recv_bytes(c, buf, sizeof(buf)), -EAGAIN);
    CHECK((pollev(c) & POLLIN) == 0);
    twin_run_for(1 * SEC);
    ti = info(c);
    CHECK_EQ_INT(ti.tcpi_bytes_acked, 5 + 1);           /* Linux counts the SYN */
    CHECK_EQ_INT(ti.tcpi_bytes_received, 6);
    CHECK_EQ_INT(ti.tcpi_total_retrans, 0);
    /* Segments as Linux counts them: all of them, and those with data
     * (one each way here; the SYN-ACK and ACKs count only in the first). */
    CHECK_EQ_INT(ti.tcpi_data_segs_in, 1);
    CHECK_EQ_INT(ti.tcpi_data_segs_out, 1);
    CHECK(ti.tcpi_segs_in > ti.tcpi_data_segs_in);
    CHECK(ti.tcpi_segs_out > ti.tcpi_data_segs_out);
    CHECK_EQ_INT(wst[A].rst + wst[B].rst, 0);
    c->ops->close(c);
    s->ops->close(s);
    l->ops->close(l);
    end_checks();
}

/* Both ends of a connection know it is connected and to whom: struct
 * sock's connected/remote/local are what getpeername() and getsockname()
 * return (kernel/linux/sys_socket.c: getpeername is ENOTCONN unless
 * connected). */
TWIN_TEST(connected_sockets_know_their_peer)
{
    struct twin_cfg cfg = { .seed = 0x7c90004, .link = { .delay_ns = 1 * MS } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 82);
    CHECK(k.c->connected);
    CHECK(k.s->connected);
    CHECK_EQ_INT(k.c->remote.addr, twin_ip(B));
    CHECK_EQ_INT(k.c->remote.port, htons(82));
    CHECK_EQ_INT(k.c->local.addr, twin_ip(A));
    CHECK_EQ_INT(k.s->remote.addr, twin_ip(A));
    CHECK_EQ_INT(k.s->remote.port, k.c->local.port);
    CHECK_EQ_INT(k.s->local.addr, twin_ip(B));
    CHECK(!k.l->connected);
    close_conn(&k);
    end_checks();
}

TWIN_TEST(connect_to_a_closed_port_is_refused)
{
    struct twin_cfg cfg = { .seed = 0x7c90002, .link = { .delay_ns = 1 * MS } };
    begin(&cfg);
    struct sock *c = tcp_new(A);
    CHECK_EQ_INT(connect_to(c, B, 81), -EINPROGRESS);
    CHECK(RUN_UNTIL(pollev(c) & (POLLERR | POLLHUP), 5 * SEC));
    unsigned ev = pollev(c);
    CHECK((ev & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP));
    CHECK_EQ_INT(wst[B].rst, 1);
    CHECK_STATE(c, ST_CLOSE);
    CHECK_EQ_INT(so_error(c), ECONNREFUSED);
    CHECK_EQ_INT(so_error(c), 0);                       /* reading SO_ERROR cleared it */
    /* The refused socket can connect again (to a port that listens now). */
    struct sock *l = listen_on(B, 81, 1);
    int err = connect_to(c, B, 81);
    CHECK(err == -EINPROGRESS || err == 0);
    struct sock *s = accept_within(l, 5 * SEC, NULL);
    CHECK(s != NULL);
    CHECK(RUN_UNTIL(pollev(c) & POLLOUT, 1 * SEC));
    CHECK_STATE(c, ST_ESTABLISHED);
    c->ops->close(c);
    if (s)
        s->ops->close(s);
    l->ops->close(l);
    end_checks();
}

/* SYNs into a cut link: retransmitted with the RTO doubling from 1 s
 * (RFC 6298 2.1, 5.5), given up after Linux's 6 retries with ETIMEDOUT. */
static uint64_t syn_at[16];
static int nsyn;

static bool note_syns(int from, const struct seg *sg, void *arg)
{
    (void)arg;
    if (from == A && (sg->flags & TH_SYN) && nsyn < 16)
        syn_at[nsyn++] = twin_now();
    return false;
}

/* Resolve each other's MAC (ARP), with a connect that b refuses: a SYN
 * must not wait for ARP where a test times it. */
static void warm_up_arp(void)
{
    struct sock *warm = tcp_new(A);
    connect_to(warm, B, 9);
    RUN_UNTIL(pollev(warm) & POLLERR, 5 * SEC);
    warm->ops->close(warm);
    twin_run_for(100 * MS);
}

TWIN_TEST(connect_backs_off_and_times_out)
{
    struct twin_cfg cfg = { .seed = 0x7c90003, .link = { .delay_ns = 1 * MS } };
    begin(&cfg);
    warm_up_arp();
    twin_link()->cut = true;
    set_hook(note_syns, NULL);
    struct sock *c = tcp_new(A);
    uint64_t t0 = twin_now();
    CHECK_EQ_INT(connect_to(c, B, 80), -EINPROGRESS);
    CHECK(RUN_UNTIL(pollev(c) & POLLERR, 300 * SEC));
    uint64_t took = twin_now() - t0;
    printf("  %d SYNs, gave up after %llu ms\n", nsyn, (unsigned long long)(took / MS));
    CHECK_EQ_INT(so_error(c), ETIMEDOUT);
    CHECK_STATE(c, ST_CLOSE);
    /* the SYN and Linux's 6 retries */
    CHECK_EQ_INT(nsyn, 7);
    for (int i = 2; i < nsyn; i++) {
        int64_t prev = (int64_t)(syn_at[i - 1] - syn_at[i - 2]);
        int64_t cur = (int64_t)(syn_at[i] - syn_at[i - 1]);
        if (llabs(cur - 2 * prev) > (int64_t)(3 * TICK)) {
            printf("  SYN %d came %lld ms after the one before, which came %lld ms after its "
                   "own: not doubling\n", i, (long long)(cur / (int64_t)MS),
                   (long long)(prev / (int64_t)MS));
            check_failed_current = 1;
        }
    }
    /* 1 + 2 + 4 + 8 + 16 + 32 + 64 s: 127 s, as Linux. */
    CHECK(took > 120 * SEC && took < 135 * SEC);
    c->ops->close(c);
    end_checks();
}

/* ---- bulk transfer ---------------------------------------------------------------------- */

/* n bytes each way at once over one connection; true when both arrived. */
static bool bulk_both_ways(struct conn *k, uint64_t n, uint64_t timeout, struct stream st[2])
{
    stream_init(&st[0], k->c, k->s, 1, n);
    stream_init(&st[1], k->s, k->c, 2, n);
    bool ok = run_streams(st, 2, timeout);
    check_stream(&st[0]);
    check_stream(&st[1]);
    return ok;
}

struct bulk_case {
    const char *what;
    struct twin_link_cfg link;
    unsigned features;
    uint64_t bytes;
    bool expect_retrans;
};

static void bulk_case(const struct bulk_case *bc, uint64_t seed)
{
    struct twin_cfg cfg = { .seed = seed, .link = bc->link,
                            .features = { bc->features, bc->features } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5001);
    struct stream st[2];
    uint64_t t0 = twin_now();
    bool ok = bulk_both_ways(&k, bc->bytes, 600 * SEC, st);
    CHECK(ok);
    struct tcp_info ci = info(k.c), si = info(k.s);
    printf("  %s: %llu bytes each way in %llu ms simulated; retransmitted %u (a) %u (b); "
           "wire: %llu lost %llu dup %llu reordered %llu corrupted\n", bc->what,
           (unsigned long long)bc->bytes, (unsigned long long)((twin_now() - t0) / MS),
           ci.tcpi_total_retrans, si.tcpi_total_retrans,
           (unsigned long long)(twin_stats()->lost[A] + twin_stats()->lost[B]),
           (unsigned long long)(twin_stats()->dups[A] + twin_stats()->dups[B]),
           (unsigned long long)(twin_stats()->reordered[A] + twin_stats()->reordered[B]),
           (unsigned long long)(twin_stats()->corrupted[A] + twin_stats()->corrupted[B]));
    if (!ok)
        for (int i = 0; i < 2; i++) {
            struct tcp_info ti = info(i ? k.s : k.c);
            printf("  stuck: side %c: %s, rto %u ms, backoff %u, cwnd %u, unacked %u, "
                   "snd_wnd %u, device refused %llu, held at most %llu\n",
                   twin_sides[i ? !k.cs : k.cs].name, state_name(ti.tcpi_state),
                   ti.tcpi_rto / 1000, ti.tcpi_backoff, ti.tcpi_snd_cwnd, ti.tcpi_unacked,
                   ti.tcpi_snd_wnd, (unsigned long long)twin_stats()->refused[i ? !k.cs : k.cs],
                   (unsigned long long)twin_stats()->held_max[i ? !k.cs : k.cs]);
        }
    if (bc->expect_retrans) {
        CHECK(ci.tcpi_total_retrans > 0);
        CHECK(si.tcpi_total_retrans > 0);
    } else if (!bc->link.reorder_ppm && !bc->link.dup_ppm) {
        CHECK_EQ_INT(ci.tcpi_total_retrans, 0);
        CHECK_EQ_INT(si.tcpi_total_retrans, 0);
    }
    /* Everything sent was ACKed: bytes_acked counts the SYN too. */
    RUN_UNTIL(info(k.c).tcpi_bytes_acked == bc->bytes + 1 &&
              info(k.s).tcpi_bytes_acked == bc->bytes + 1, 60 * SEC);
    CHECK_EQ_INT(info(k.c).tcpi_bytes_acked, bc->bytes + 1);
    CHECK_EQ_INT(info(k.s).tcpi_bytes_acked, bc->bytes + 1);
    CHECK_EQ_INT(info(k.c).tcpi_bytes_received, bc->bytes);
    CHECK_STATE(k.c, ST_ESTABLISHED);
    CHECK_STATE(k.s, ST_ESTABLISHED);
    stream_free(&st[0]);
    stream_free(&st[1]);
    close_conn(&k);
    end_checks();
}

#define MIB (1024 * 1024ULL)
/* A link like a LAN: 100 Mbit/s, 1 ms each way, a queue of 1000 frames
 * (no tail drops at these windows). */
#define LAN .delay_ns = 1 * MS, .bandwidth_bps = 100000000

TWIN_TEST(bulk_clean_link)
{
    struct bulk_case bc = { "clean", { LAN }, 0, 4 * MIB, false };
    bulk_case(&bc, 0x7c90010);
}

TWIN_TEST(bulk_one_percent_loss)
{
    struct bulk_case bc = { "1% loss", { LAN, .loss_ppm = 10000 }, 0, 4 * MIB, true };
    bulk_case(&bc, 0x7c90011);
}

TWIN_TEST(bulk_five_percent_loss)
{
    struct bulk_case bc = { "5% loss", { LAN, .loss_ppm = 50000 }, 0, 2 * MIB, true };
    bulk_case(&bc, 0x7c90012);
}

TWIN_TEST(bulk_reordering)
{
    struct bulk_case bc = { "reordering", { LAN, .reorder_ppm = 20000, .reorder_ns = 3 * MS,
                                            .jitter_ns = 100 * US }, 0, 4 * MIB, false };
    bulk_case(&bc, 0x7c90013);
}

TWIN_TEST(bulk_duplication)
{
    struct bulk_case bc = { "duplication", { LAN, .dup_ppm = 30000 }, 0, 4 * MIB, false };
    bulk_case(&bc, 0x7c90014);
}

TWIN_TEST(bulk_corruption)
{
    struct bulk_case bc = { "corruption", { LAN, .corrupt_ppm = 10000 }, 0, 2 * MIB, true };
    bulk_case(&bc, 0x7c90015);
}

/* The device finishes checksums and cuts 64 KiB frames (TSO), and holds
 * every frame 2 ms after sending it, with 32 descriptors: the segments'
 * memory (send-queue chunks by reference) must outlive the ACK until the
 * device lets go (side.c checks the bytes at completion, AddressSanitizer
 * the memory). */
TWIN_TEST(bulk_with_offloads_and_slow_completions)
{
    struct bulk_case bc = { "TSO, checksum offload, completions 2 ms late, 1% loss",
                            { LAN, .loss_ppm = 10000, .complete_ns = 2 * MS, .tx_ring = 32 },
                            NETIF_F_TX_CSUM | NETIF_F_RX_CSUM | NETIF_F_TSO4, 4 * MIB, true };
    bulk_case(&bc, 0x7c90016);
    CHECK(twin_stats()->held_max[A] > 1);
}

/* The same on a clean link, so that nothing but the device is in the way:
 * TSO, checksum offload, completions 2 ms late and only 8 descriptors, so
 * that the stack meets a full device (xmit -EAGAIN) and must resume when
 * room comes back (tcp_tx_room). */
TWIN_TEST(bulk_with_offloads_and_a_small_device_ring)
{
    struct bulk_case bc = { "TSO, checksum offload, completions 2 ms late, 8 descriptors",
                            { LAN, .complete_ns = 2 * MS, .tx_ring = 8 },
                            NETIF_F_TX_CSUM | NETIF_F_RX_CSUM | NETIF_F_TSO4, 4 * MIB, false };
    bulk_case(&bc, 0x7c90017);
    CHECK(twin_stats()->refused[A] > 0 && twin_stats()->refused[B] > 0);
    CHECK_EQ_INT(twin_stats()->held_max[A], 8);
}

/* Runs the rest of a test in a child process with a pair of stacks of its
 * own: true in the child; in the parent, false once the child is done (its
 * failure is the test's). The child ends with child_done. */
static bool in_child(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        return true;
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        check_failed_current = 1;
    return false;
}

static void __attribute__((noreturn)) child_done(struct conn *k)
{
    close_conn(k);
    end_checks();
    twin_report_end();
    fflush(stdout);
    exit(check_failed_current);
}

/* Zero-copy (sendmsg_ref, what zcopy_tx and MSG_ZEROCOPY use): the
 * completion fires only when every byte was ACKed and the device gave back
 * every frame that pointed into the buffer (DESIGN.md). The device holds
 * frames 100 ms, longer than a round trip plus the delayed ACK, so the
 * ACKs come first. When the completion fires the test scribbles over the buffer and
 * frees it: a frame still held would change under the device (side.c
 * compares at completion) or be read after the free (AddressSanitizer). */
static struct {
    bool fired;
    uint64_t at;
    uint64_t last_data_at;              /* a's last data segment */
} zc;

static void zc_fire(struct zc_notify *zn)
{
    (void)zn;
    zc.fired = true;
    zc.at = twin_now();
}

static bool note_last_data(int from, const struct seg *sg, void *arg)
{
    (void)arg;
    if (from == A && sg->len)
        zc.last_data_at = twin_now();
    return false;
}

TEST(zero_copy_completion_waits_for_ack_and_device)
{
    for (int offload = 0; offload < 2; offload++) {
        if (!in_child())
            continue;
        struct twin_cfg cfg = { .seed = 0x7c90018 + (uint64_t)offload,
                                .link = { .delay_ns = 2 * MS, .bandwidth_bps = 100000000,
                                          .complete_ns = 100 * MS } };
        if (offload)
            cfg.features[A] = cfg.features[B] = NETIF_F_TX_CSUM | NETIF_F_RX_CSUM |
                                                NETIF_F_TSO4;
        twin_test_name = "zero_copy_completion_waits_for_ack_and_device";
        begin(&cfg);
        struct conn k;
        open_conn(&k, A, 5018);
        set_hook(note_last_data, NULL);
        const size_t n = 512 * 1024;
        uint8_t *buf = malloc(n);
        fill(15, 0, buf, n);
        struct zc_notify zn = { .pending = 1, .fire = zc_fire };
        struct sock_iov iov = { buf, n };
        int64_t queued = k.c->ops->sendmsg_ref(k.c, &iov, 1, 0, &zn);
        CHECK_EQ_INT(queued, (int64_t)n);
        twin_sides[A].zc_seal(&zn);
        CHECK(!zc.fired);
        struct stream st;
        stream_init(&st, k.c, k.s, 15, n);
        st.sent = n;                                /* already queued, by reference */
        uint64_t all_acked_at = 0;
        CHECK(RUN_UNTIL((stream_read(&st),
                         all_acked_at = all_acked_at ? all_acked_at
                                        : info(k.c).tcpi_bytes_acked == n + 1 ? twin_now() : 0,
                         zc.fired), 30 * SEC));
        printf("  %s: the completion came %llu ms after the last data left, %llu ms after "
               "the last ACK\n", offload ? "TSO" : "no offload",
               (unsigned long long)((zc.at - zc.last_data_at) / MS),
               (unsigned long long)((zc.at - all_acked_at) / MS));
        CHECK_EQ_INT(st.recvd, n);
        CHECK(all_acked_at != 0 && all_acked_at < zc.at);
        CHECK(zc.at - zc.last_data_at >= 100 * MS);
        memset(buf, 0xee, n);
        free(buf);
        /* The connection goes on, and nothing touches the old buffer. */
        CHECK_EQ_INT(send_bytes(k.c, "after", 5), 5);
        char tail[5];
        CHECK_EQ_INT(recv_exact(k.s, tail, 5, 1 * SEC), 5);
        twin_run_for(1 * SEC);
        stream_free(&st);
        child_done(&k);
    }
}

/* A zero-copy send of at most tcp_zc_copy_max bytes is copied: its
 * completion fires as the send returns, marked copied, and the buffer is
 * the app's at once - scribbling on it does not change what the peer
 * gets. One byte more goes by reference and waits for the ACK. */
extern size_t a_tcp_zc_copy_max;         /* side A's (twin.mk prefixes globals) */

TEST(zero_copy_small_sends_are_copied)
{
    if (!in_child())
        return;
    struct twin_cfg cfg = { .seed = 0x7c90019,
                            .link = { .delay_ns = 2 * MS, .bandwidth_bps = 100000000,
                                      .complete_ns = 10 * MS } };
    twin_test_name = "zero_copy_small_sends_are_copied";
    zc.fired = false;
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5019);
    const size_t small = a_tcp_zc_copy_max, big = a_tcp_zc_copy_max + 1;
    CHECK_EQ_INT(small, 4096);
    uint8_t *buf = malloc(big);
    fill(16, 0, buf, small);
    struct zc_notify zn = { .pending = 1, .fire = zc_fire };
    struct sock_iov iov = { buf, small };
    CHECK_EQ_INT(k.c->ops->sendmsg_ref(k.c, &iov, 1, 0, &zn), (int64_t)small);
    twin_sides[A].zc_seal(&zn);
    CHECK(zc.fired);
    CHECK(zn.copied);
    memset(buf, 0xee, small);                   /* the app's again */
    struct stream st;
    stream_init(&st, k.c, k.s, 16, small);
    st.sent = small;
    CHECK(RUN_UNTIL((stream_read(&st), st.recvd == small), 5 * SEC));
    stream_free(&st);

    zc.fired = false;
    fill(17, 0, buf, big);
    struct zc_notify zn2 = { .pending = 1, .fire = zc_fire };
    iov.len = big;
    CHECK_EQ_INT(k.c->ops->sendmsg_ref(k.c, &iov, 1, 0, &zn2), (int64_t)big);
    twin_sides[A].zc_seal(&zn2);
    CHECK(!zc.fired);
    CHECK(!zn2.copied);
    stream_init(&st, k.c, k.s, 17, big);
    st.sent = big;
    CHECK(RUN_UNTIL((stream_read(&st), zc.fired), 5 * SEC));
    CHECK_EQ_INT(st.recvd, big);
    stream_free(&st);
    free(buf);
    child_done(&k);
}

/* MSG_ZEROCOPY's error queue reports every send exactly, also when it
 * fills: copied sends (done at once) between sends by reference (done at
 * their ACK and device release) make one range each, more than the
 * queue's TCP_ERRQ_MAX. None may report a send still in flight (a range
 * widened to make room once did: the app would rewrite a buffer the
 * device still reads), and none may be lost. */
TEST(zero_copy_error_queue_never_reports_early)
{
    if (!in_child())
        return;
    struct twin_cfg cfg = { .seed = 0x7c9001a,
                            .link = { .delay_ns = 2 * MS, .bandwidth_bps = 100000000,
                                      .complete_ns = 50 * MS } };
    twin_test_name = "zero_copy_error_queue_never_reports_early";
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5020);
    enum { PAIRS = 3 * TCP_ERRQ_MAX / 2 };
    const size_t small = a_tcp_zc_copy_max, big = a_tcp_zc_copy_max + 1;
    uint8_t *buf = calloc(PAIRS, small + big);
    fill(18, 0, buf, PAIRS * (small + big));
    static bool reported[2 * PAIRS];
    uint8_t *p = buf;
    for (int i = 0; i < PAIRS; i++) {           /* ids 2i: copied, 2i+1: by reference */
        struct sock_iov iov = { p, small };
        CHECK_EQ_INT(k.c->ops->sendmsg_ref(k.c, &iov, 1, MSG_ZEROCOPY, NULL), (int64_t)small);
        p += small;
        iov = (struct sock_iov){ p, big };
        CHECK_EQ_INT(k.c->ops->sendmsg_ref(k.c, &iov, 1, MSG_ZEROCOPY, NULL), (int64_t)big);
        p += big;
    }
    /* Before any ACK: exactly the copied sends, every one of them. */
    uint32_t lo, hi;
    bool copied;
    int ranges = 0, early = 0;
    while (k.c->ops->recv_zc_range(k.c, &lo, &hi, &copied) == 0) {
        ranges++;
        for (uint32_t id = lo; id <= hi && id < 2 * PAIRS; id++) {
            CHECK(!reported[id]);
            reported[id] = true;
            if (id % 2 || !copied)
                early++;
        }
    }
    CHECK_EQ_INT(early, 0);
    CHECK(ranges > TCP_ERRQ_MAX);
    for (int i = 0; i < PAIRS; i++)
        CHECK(reported[2 * i]);
    /* After the ACKs and the device's release: the rest, each once. */
    struct stream st;
    stream_init(&st, k.c, k.s, 18, PAIRS * (small + big));
    st.sent = PAIRS * (small + big);
    int late = 0;
    CHECK(RUN_UNTIL((stream_read(&st),
                     ({ while (k.c->ops->recv_zc_range(k.c, &lo, &hi, &copied) == 0)
                            for (uint32_t id = lo; id <= hi && id < 2 * PAIRS; id++) {
                                CHECK(!reported[id] && !copied);
                                reported[id] = true;
                                late++;
                            } }),
                     late == PAIRS), 10 * SEC));
    CHECK_EQ_INT(late, PAIRS);
    stream_free(&st);
    free(buf);
    child_done(&k);
}

/* Everything at once, over several seeds: loss, reordering, duplication,
 * jitter, a bottleneck with a small queue. */
/* Stretch ACKs: B's pure ACKs are thinned to one in STRETCH, as a
 * receiver that acknowledges what GRO coalesced (a Linux dom0 behind
 * netback: one ACK per 64 KiB) sends them. Slow start must count the
 * bytes each ACK covers: growing 2 segments per ACK (RFC 3465's L = 2)
 * grows the window by a quarter a round trip here instead of doubling it. */
#define STRETCH 4
static bool thin_acks(int from, const struct seg *sg, void *arg)
{
    unsigned *n = arg;
    if (from != B || sg->len || (sg->flags & (TH_SYN | TH_FIN | TH_RST)))
        return false;
    return (*n)++ % STRETCH != 0;
}

TEST(slow_start_counts_bytes_on_stretch_acks)
{
    if (!in_child())
        return;
    struct twin_cfg cfg = { .seed = 0x5e7c4ac,
                            .link = { .delay_ns = 10 * MS, .bandwidth_bps = 10000000000ull } };
    twin_test_name = "slow_start_counts_bytes_on_stretch_acks";
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5021);
    unsigned thinned = 0;
    set_hook(thin_acks, &thinned);
    struct stream st;
    stream_init(&st, k.c, k.s, 21, 64u << 20);
    /* 8 round trips (20 ms each) of sending: from 10 segments, doubling
     * reaches 2560; a quarter a round trip, about 60. */
    uint64_t until = twin_now() + 160 * MS;
    RUN_UNTIL((stream_write(&st), stream_read(&st), twin_now() >= until), 1 * SEC);
    struct tcp_info ti = info(k.c);
    printf("  after 8 round trips with one ACK in %d: cwnd %u segments, %u ACKs thinned, "
           "%llu bytes acked\n", STRETCH, ti.tcpi_snd_cwnd, thinned,
           (unsigned long long)ti.tcpi_bytes_acked);
    CHECK(thinned > 100);
    CHECK(ti.tcpi_snd_cwnd >= 500);
    set_hook(NULL, NULL);
    stream_free(&st);
    child_done(&k);
}

TEST(bulk_rough_links_many_seeds)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            twin_test_name = "bulk_rough_links_many_seeds";
            struct bulk_case bc = { "rough",
                                    { .delay_ns = 5 * MS, .jitter_ns = 1 * MS,
                                      .bandwidth_bps = 20000000, .queue_frames = 40,
                                      .loss_ppm = 20000, .reorder_ppm = 10000,
                                      .reorder_ns = 4 * MS, .dup_ppm = 10000 },
                                    0, 1 * MIB, true };
            bulk_case(&bc, twin_pick_seed(0x7c90100 + seed));
            twin_report_end();
            fflush(stdout);
            exit(check_failed_current);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st)) {
            printf("  seed %#llx failed\n", (unsigned long long)(0x7c90100 + seed));
            check_failed_current = 1;
        }
    }
}

/* ---- recovery ------------------------------------------------------------------------------- */

/* Drop chosen transmissions of the a->b data segment that starts at the
 * n-th new sequence number: drop[k] says whether its k-th sending is lost. */
struct dropper {
    int nth, seen_new;
    uint32_t seq;                       /* the victim's sequence number, once chosen */
    bool chosen;
    bool drop[8];
    int sendings;
    uint64_t at[8];                     /* when each sending left */
    uint32_t high;                      /* highest sequence number sent + 1 */
    bool high_ok;
};

static bool drop_nth(int from, const struct seg *sg, void *arg)
{
    struct dropper *d = arg;
    if (from != A || !sg->len || (sg->flags & TH_SYN))
        return false;
    uint32_t end = sg->seq + sg->len;
    bool fresh = !d->high_ok || (int32_t)(end - d->high) > 0;
    if (fresh) {
        d->high = end;
        d->high_ok = true;
        if (++d->seen_new == d->nth && !d->chosen) {
            d->chosen = true;
            d->seq = sg->seq;
        }
    }
    if (!d->chosen || sg->seq != d->seq || d->sendings >= 8)
        return false;
    d->at[d->sendings] = twin_now();
    return d->drop[d->sendings++];
}

/* One segment lost in a full window: three duplicate ACKs bring it back
 * about one round trip later (RFC 5681 3.2), long before any RTO could
 * (200 ms at least). */
TWIN_TEST(fast_retransmit_repairs_a_single_loss)
{
    struct twin_cfg cfg = { .seed = 0x7c90020,
                            .link = { .delay_ns = 10 * MS, .bandwidth_bps = 50000000 } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5002);
    static struct dropper d = { .nth = 60, .drop = { true } };
    set_hook(drop_nth, &d);
    struct stream st;
    stream_init(&st, k.c, k.s, 3, 2 * MIB);
    CHECK(run_streams(&st, 1, 60 * SEC));
    check_stream(&st);
    CHECK(d.chosen);
    CHECK_EQ_INT(d.sendings, 2);
    uint64_t gap = d.at[1] - d.at[0];
    printf("  segment %u lost, sent again %llu ms later\n", d.seq,
           (unsigned long long)(gap / MS));
    /* A round trip is 20 ms plus queueing: well under the minimum RTO. */
    CHECK(gap < 100 * MS);
    struct tcp_info ti = info(k.c);
    CHECK_EQ_INT(ti.tcpi_total_retrans, 1);
    CHECK_EQ_INT(wst[A].retrans, 1);
    stream_free(&st);
    close_conn(&k);
    end_checks();
}

/* The fast retransmission is lost as well: only the RTO can repair it,
 * at least RTO_MIN after the retransmission (RFC 6298 5.4-5.6). */
TWIN_TEST(lost_retransmission_falls_back_to_rto)
{
    struct twin_cfg cfg = { .seed = 0x7c90021,
                            .link = { .delay_ns = 10 * MS, .bandwidth_bps = 50000000 } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5003);
    static struct dropper d = { .nth = 60, .drop = { true, true } };
    set_hook(drop_nth, &d);
    struct stream st;
    stream_init(&st, k.c, k.s, 4, 2 * MIB);
    CHECK(run_streams(&st, 1, 60 * SEC));
    check_stream(&st);
    CHECK(d.sendings >= 3);
    if (d.sendings >= 3) {
        uint64_t fast = d.at[1] - d.at[0], rto = d.at[2] - d.at[1];
        printf("  segment %u: fast retransmit after %llu ms, then the RTO after %llu ms\n",
               d.seq, (unsigned long long)(fast / MS), (unsigned long long)(rto / MS));
        CHECK(fast < 100 * MS);
        CHECK(rto >= RTO_MIN_NS - TICK);
        CHECK(rto < 3 * SEC);
    }
    CHECK(info(k.c).tcpi_total_retrans >= 2);
    stream_free(&st);
    close_conn(&k);
    end_checks();
}

/* Times at which side a sent the segment starting at seq again while the
 * link was cut. */
struct cut_watch {
    bool armed;
    uint32_t high;                      /* highest a->b sequence sent before the cut */
    bool high_ok;
    uint32_t victim;
    bool victim_ok;
    int n;
    uint64_t at[32];
};

static bool watch_cut(int from, const struct seg *sg, void *arg)
{
    struct cut_watch *w = arg;
    if (from != A || !sg->len)
        return false;
    uint32_t end = sg->seq + sg->len;
    if (!w->armed) {
        if (!w->high_ok || (int32_t)(end - w->high) > 0)
            w->high = end;
        w->high_ok = true;
        return false;
    }
    /* During the cut: the first segment sent again is snd_una's. */
    if ((int32_t)(end - w->high) <= 0) {
        if (!w->victim_ok) {
            w->victim = sg->seq;
            w->victim_ok = true;
        }
        if (sg->seq == w->victim && w->n < 32)
            w->at[w->n++] = twin_now();
    }
    return false;
}

/* The link goes dead in the middle of a transfer: the RTO doubles with
 * every retransmission (RFC 6298 5.5), and the connection picks up when
 * the link is back. */
TWIN_TEST(rto_backs_off_while_the_link_is_cut)
{
    struct twin_cfg cfg = { .seed = 0x7c90022,
                            .link = { .delay_ns = 5 * MS, .bandwidth_bps = 50000000 } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5004);
    static struct cut_watch w;
    set_hook(watch_cut, &w);
    struct stream st;
    stream_init(&st, k.c, k.s, 5, 8 * MIB);
    RUN_UNTIL((pump(&st, 1), st.recvd > 1 * MIB), 30 * SEC);
    CHECK(st.recvd > 1 * MIB);
    twin_link()->cut = true;
    w.armed = true;
    uint64_t cut_at = twin_now();
    RUN_UNTIL((pump(&st, 1), false), 20 * SEC);
    struct tcp_info mid = info(k.c);
    printf("  cut for 20 s: %d retransmissions of %u, backoff %u, rto %u ms\n", w.n, w.victim,
           mid.tcpi_backoff, mid.tcpi_rto / 1000);
    CHECK(w.n >= 5);
    CHECK(mid.tcpi_backoff >= 4);
    CHECK_STATE(k.c, ST_ESTABLISHED);
    for (int i = 2; i < w.n; i++) {
        int64_t prev = (int64_t)(w.at[i - 1] - w.at[i - 2]);
        int64_t cur = (int64_t)(w.at[i] - w.at[i - 1]);
        /* doubling, up to the tick's rounding */
        if (llabs(cur - 2 * prev) > (int64_t)(2 * TICK)) {
            printf("  retransmission %d came %lld ms after the one before, which came %lld "
                   "ms after its own\n", i, (long long)(cur / (int64_t)MS),
                   (long long)(prev / (int64_t)MS));
            check_failed_current = 1;
        }
    }
    CHECK(w.n > 0 && w.at[0] - cut_at >= RTO_MIN_NS - TICK);
    /* Back: the next retransmission gets through and the transfer ends. */
    twin_link()->cut = false;
    uint64_t back = twin_now();
    CHECK(run_streams(&st, 1, 300 * SEC));
    check_stream(&st);
    printf("  link back: done %llu ms later\n", (unsigned long long)((twin_now() - back) / MS));
    CHECK_EQ_INT(info(k.c).tcpi_backoff, 0);
    stream_free(&st);
    close_conn(&k);
    end_checks();
}

/* A few seconds without a link, both ways busy: nothing is lost for good. */
TWIN_TEST(connection_survives_a_short_cut)
{
    struct twin_cfg cfg = { .seed = 0x7c90023,
                            .link = { .delay_ns = 2 * MS, .bandwidth_bps = 50000000 } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5005);
    struct stream st[2];
    stream_init(&st[0], k.c, k.s, 6, 3 * MIB);
    stream_init(&st[1], k.s, k.c, 7, 3 * MIB);
    RUN_UNTIL((pump(st, 2), st[0].recvd > 512 * 1024), 30 * SEC);
    twin_link()->cut = true;
    RUN_UNTIL((pump(st, 2), false), 4 * SEC);
    twin_link()->cut = false;
    CHECK(run_streams(st, 2, 120 * SEC));
    check_stream(&st[0]);
    check_stream(&st[1]);
    CHECK_STATE(k.c, ST_ESTABLISHED);
    CHECK_STATE(k.s, ST_ESTABLISHED);
    CHECK(info(k.c).tcpi_total_retrans > 0);
    stream_free(&st[0]);
    stream_free(&st[1]);
    close_conn(&k);
    end_checks();
}

/* ---- windows -------------------------------------------------------------------------------- */

/* b's window as a sees it advertised, and what a sends while it is
 * closed (smaller than one segment). */
struct zw_watch {
    uint32_t mss;
    bool closed;                        /* b's last advertisement: less than an MSS */
    bool zero_seen;
    int probes;                         /* a->b segments sent while it was closed */
    uint64_t probe_at[64];
    uint64_t closed_since;
    uint64_t update_at;                 /* b reopened the window */
    int drop_updates;                   /* lose this many of b's window updates */
};

static bool watch_window(int from, const struct seg *sg, void *arg)
{
    struct zw_watch *z = arg;
    if (from == B && (sg->flags & TH_ACK) && !(sg->flags & TH_SYN)) {
        struct wconn *w = wconn_find(sg->dport, sg->sport);
        uint32_t scale = w && w->ws[A] >= 0 && w->ws[B] >= 0 ? (uint32_t)w->ws[B] : 0;
        uint32_t win = (uint32_t)sg->win << scale;
        if (!win)
            z->zero_seen = true;
        if (win < z->mss && !z->closed) {
            z->closed = true;
            z->closed_since = twin_now();
        } else if (win >= z->mss && z->closed) {
            if (z->drop_updates > 0) {
                z->drop_updates--;
                return true;
            }
            z->closed = false;
            z->update_at = twin_now();
        }
    } else if (from == A && z->closed && z->probes < 64) {
        z->probe_at[z->probes++] = twin_now();
    }
    return false;
}

/* b listens with a 64 KiB receive buffer; a connects: k. */
static void small_window_conn(struct conn *k, uint16_t port)
{
    k->cs = A;
    k->l = tcp_new(B);
    k->l->rcvbuf = 64 * 1024;           /* as setsockopt(SO_RCVBUF, 32 KiB) sets it */
    CHECK_EQ_INT(bind_port(k->l, port), 0);
    CHECK_EQ_INT(k->l->ops->listen(k->l, 4), 0);
    k->c = tcp_new(A);
    connect_to(k->c, B, port);
    k->s = accept_within(k->l, 5 * SEC, NULL);
    if (!k->s)
        give_up("no connection to accept", 0);
    RUN_UNTIL(pollev(k->c) & POLLOUT, 1 * SEC);
}

/* A reader that does not read: its window fills and closes; the sender
 * stops, its send buffer fills (no POLLOUT, EAGAIN), and it probes the
 * closed window with growing intervals (RFC 9293 3.8.6.1, the persist
 * timer; Linux's probe timer sends what a window smaller than a segment
 * allows, then zero-window probes). When the reader drains, a window
 * update restarts the flow at once. */
TWIN_TEST(zero_window_probes_and_window_update)
{
    struct twin_cfg cfg = { .seed = 0x7c90030,
                            .link = { .delay_ns = 5 * MS, .bandwidth_bps = 100000000 } };
    begin(&cfg);
    struct conn k;
    small_window_conn(&k, 5006);
    static struct zw_watch z;
    z.mss = info(k.c).tcpi_snd_mss;
    set_hook(watch_window, &z);
    struct stream st;
    /* more than the receive buffer and the 1 MiB send buffer hold */
    stream_init(&st, k.c, k.s, 8, 3 * MIB);
    st.no_read = true;
    RUN_UNTIL((pump(&st, 1), false), 30 * SEC);
    struct tcp_info ti = info(k.c);
    printf("  not reading for 30 s: send took %llu bytes, b's window below one segment since "
           "%llu ms (zero advertised: %s), %d probes; a's snd_wnd %u\n",
           (unsigned long long)st.sent, (unsigned long long)(z.closed_since / MS),
           z.zero_seen ? "yes" : "no", z.probes, ti.tcpi_snd_wnd);
    CHECK(z.closed);
    CHECK(st.sent < 3 * MIB);
    CHECK((pollev(k.c) & POLLOUT) == 0);
    CHECK_EQ_INT(send_bytes(k.c, "x", 1), -EAGAIN);
    CHECK(z.probes >= 4);
    for (int i = 2; i < z.probes; i++)
        CHECK(z.probe_at[i] - z.probe_at[i - 1] >= z.probe_at[i - 1] - z.probe_at[i - 2]);
    CHECK_STATE(k.c, ST_ESTABLISHED);
    /* Read: the window opens, the sender resumes within a round trip. */
    st.no_read = false;
    uint64_t t0 = twin_now();
    stream_read(&st);
    CHECK(RUN_UNTIL(z.update_at >= t0, 1 * SEC));
    CHECK(z.update_at - t0 < 1 * MS);
    uint64_t recvd = st.recvd;
    CHECK(RUN_UNTIL((pump(&st, 1), st.recvd > recvd), 100 * MS));
    CHECK(run_streams(&st, 1, 120 * SEC));
    check_stream(&st);
    stream_free(&st);
    close_conn(&k);
    end_checks();
}

/* The same, but b's window update is lost: only a's probes can find out
 * that the window is open again (RFC 9293 3.8.6.1: the sender must probe
 * a closed window, since the update is not sent reliably). */
TWIN_TEST(lost_window_update_is_recovered_by_probes)
{
    struct twin_cfg cfg = { .seed = 0x7c90032,
                            .link = { .delay_ns = 5 * MS, .bandwidth_bps = 100000000 } };
    begin(&cfg);
    struct conn k;
    small_window_conn(&k, 5017);
    static struct zw_watch z = { .drop_updates = 1 };
    z.mss = info(k.c).tcpi_snd_mss;
    set_hook(watch_window, &z);
    struct stream st;
    stream_init(&st, k.c, k.s, 14, 2 * MIB);
    st.no_read = true;
    RUN_UNTIL((pump(&st, 1), false), 2 * SEC);
    CHECK(z.closed);
    st.no_read = false;
    stream_read(&st);
    uint64_t t0 = twin_now();
    CHECK_EQ_INT(z.drop_updates, 0);                    /* the update was sent, and lost */
    uint64_t recvd = st.recvd;
    bool resumed = RUN_UNTIL((pump(&st, 1), st.recvd > recvd), 130 * SEC);
    printf("  window update lost: %s after %llu ms\n", resumed ? "resumed" : "still stuck",
           (unsigned long long)((twin_now() - t0) / MS));
    CHECK(resumed);
    CHECK(run_streams(&st, 1, 300 * SEC));
    check_stream(&st);
    stream_free(&st);
    close_conn(&k);
    end_checks();
}

/* A long fat path: 200 Mbit/s, 40 ms round trip, 4 MiB buffers. Without
 * window scaling at most 64 KiB could be in flight (13 Mbit/s); with it
 * (RFC 7323) much more. */
TWIN_TEST(window_scaling_allows_more_than_64k_in_flight)
{
    struct twin_cfg cfg = { .seed = 0x7c90031,
                            .link = { .delay_ns = 20 * MS, .bandwidth_bps = 200000000 } };
    begin(&cfg);
    struct conn k = { .cs = A };
    k.l = tcp_new(B);
    k.l->rcvbuf = 4 * MIB;
    CHECK_EQ_INT(bind_port(k.l, 5007), 0);
    CHECK_EQ_INT(k.l->ops->listen(k.l, 4), 0);
    k.c = tcp_new(A);
    k.c->sndbuf = 4 * MIB;
    connect_to(k.c, B, 5007);
    k.s = accept_within(k.l, 5 * SEC, NULL);
    CHECK(k.s != NULL);
    if (!k.s)
        return;
    RUN_UNTIL(pollev(k.c) & POLLOUT, 1 * SEC);
    struct tcp_info ci = info(k.c), si = info(k.s);
    CHECK(ci.tcpi_options & TCPI_OPT_WSCALE);
    CHECK(si.tcpi_options & TCPI_OPT_WSCALE);
    CHECK(si.tcpi_rcv_wscale > 0);
    CHECK_EQ_INT(ci.tcpi_snd_wscale, si.tcpi_rcv_wscale);
    struct stream st;
    const uint64_t n = 24 * MIB;
    stream_init(&st, k.c, k.s, 9, n);
    uint64_t t0 = twin_now();
    CHECK(run_streams(&st, 1, 120 * SEC));
    check_stream(&st);
    uint64_t took = twin_now() - t0;
    struct wconn *w = wconn_find(lport(k.c), 5007);
    uint32_t flight = w ? w->max_flight[A] : 0;
    /* 64 KiB per 40 ms round trip: 24 MiB would take over 15 s. */
    printf("  %llu MiB in %llu ms, at most %u bytes in flight\n",
           (unsigned long long)(n / MIB), (unsigned long long)(took / MS), flight);
    CHECK(flight > 4 * 65536);
    CHECK(took < 5 * SEC);
    stream_free(&st);
    close_conn(&k);
    end_checks();
}

/* ---- closing ---------------------------------------------------------------------------------- */

/* Drop a's n-th pure ACK (no data, no SYN/FIN) after arming. */
struct ack_dropper {
    bool armed;
    int left;                           /* how many to drop */
    int dropped;
};

static bool drop_acks_from_a(int from, const struct seg *sg, void *arg)
{
    struct ack_dropper *d = arg;
    if (!d->armed || from != A || sg->len || (sg->flags & (TH_SYN | TH_FIN | TH_RST)) ||
        d->left <= 0)
        return false;
    d->left--;
    d->dropped++;
    return true;
}

/* Active close by a (shutdown, so that its state stays observable):
 * FIN_WAIT_1, FIN_WAIT_2 once the FIN is ACKed; b sees the end of the
 * stream in CLOSE_WAIT, closes: LAST_ACK; a's last ACK is lost, b sends
 * its FIN again, a (TIME_WAIT) ACKs it again, b goes CLOSED. a's port
 * stays taken for 2*MSL after that, then it can be bound again. */
TWIN_TEST(active_close_fin_wait_and_time_wait)
{
    struct twin_cfg cfg = { .seed = 0x7c90040, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    struct conn k = { .cs = A };
    k.l = listen_on(B, 80, 4);
    k.c = tcp_new(A);
    CHECK_EQ_INT(bind_port(k.c, 40000), 0);
    connect_to(k.c, B, 80);
    k.s = accept_within(k.l, 5 * SEC, NULL);
    CHECK(k.s != NULL);
    if (!k.s)
        return;
    RUN_UNTIL(pollev(k.c) & POLLOUT, 1 * SEC);
    CHECK_EQ_INT(send_bytes(k.c, "bye", 3), 3);
    twin_run_for(100 * MS);

    CHECK_EQ_INT(k.c->ops->shutdown(k.c, SHUT_WR), 0);
    CHECK_STATE(k.c, ST_FIN_WAIT1);
    CHECK_EQ_INT(send_bytes(k.c, "more", 4), -EPIPE);
    twin_run_for(7 * MS);                               /* the FIN is there, its ACK not yet */
    CHECK_STATE(k.s, ST_CLOSE_WAIT);
    CHECK_STATE(k.c, ST_FIN_WAIT1);
    twin_run_for(5 * MS);
    CHECK_STATE(k.c, ST_FIN_WAIT2);
    /* b reads the data, then the end of the stream */
    char buf[8];
    CHECK_EQ_INT(recv_exact(k.s, buf, 3, 1 * SEC), 3);
    CHECK((pollev(k.s) & (POLLIN | POLLRDHUP)) == (POLLIN | POLLRDHUP));
    CHECK_EQ_INT(recv_bytes(k.s, buf, sizeof(buf)), 0);
    CHECK_EQ_INT(recv_bytes(k.s, buf, sizeof(buf)), 0);
    /* a may still receive */
    CHECK_EQ_INT(send_bytes(k.s, "ok", 2), 2);
    CHECK_EQ_INT(recv_exact(k.c, buf, 2, 1 * SEC), 2);

    static struct ack_dropper d = { .left = 1 };
    set_hook(drop_acks_from_a, &d);
    twin_run_for(100 * MS);
    d.armed = true;
    CHECK_EQ_INT(k.s->ops->shutdown(k.s, SHUT_WR), 0);
    CHECK_STATE(k.s, ST_LAST_ACK);
    twin_run_for(7 * MS);
    CHECK_STATE(k.c, ST_TIME_WAIT);
    CHECK_EQ_INT(recv_bytes(k.c, buf, sizeof(buf)), 0);
    CHECK_EQ_INT(d.dropped, 1);
    uint32_t fins = wst[B].fin;
    /* b's FIN comes again after its RTO; a ACKs it from TIME_WAIT */
    CHECK(RUN_UNTIL(state(k.s) == ST_CLOSE, 5 * SEC));
    CHECK_EQ_INT(wst[B].fin, fins + 1);
    CHECK(pollev(k.s) & POLLHUP);
    CHECK_EQ_INT(so_error(k.s), 0);
    uint64_t tw_from = twin_now();                      /* the retransmitted FIN restarted it */
    CHECK_STATE(k.c, ST_TIME_WAIT);
    CHECK(pollev(k.c) & POLLHUP);
    k.c->ops->close(k.c);
    k.c = NULL;

    /* The port is taken while TIME_WAIT lasts, free after. */
    struct sock *again = tcp_new(A);
    twin_run_for(TIME_WAIT_NS - 2 * SEC);
    CHECK_EQ_INT(bind_port(again, 40000), -EADDRINUSE);
    uint64_t freed = 0;
    RUN_UNTIL(bind_port(again, 40000) == 0 ? (freed = twin_now(), true) : false, 10 * SEC);
    CHECK(freed != 0);
    printf("  TIME_WAIT held the port for %llu ms\n",
           (unsigned long long)((freed - tw_from) / MS));
    CHECK(freed - tw_from >= TIME_WAIT_NS - TICK && freed - tw_from <= TIME_WAIT_NS + 2 * TICK);
    /* ...and the same four-tuple connects again */
    CHECK_EQ_INT(connect_to(again, B, 80), -EINPROGRESS);
    struct sock *s2 = accept_within(k.l, 5 * SEC, NULL);
    CHECK(s2 != NULL);
    CHECK(RUN_UNTIL(pollev(again) & POLLOUT, 1 * SEC));
    CHECK_STATE(again, ST_ESTABLISHED);
    again->ops->close(again);
    if (s2)
        s2->ops->close(s2);
    close_conn(&k);
    end_checks();
}

/* close() with everything read: a FIN, then the socket is gone from the
 * app but the stack finishes the handshake and holds TIME_WAIT: a FIN
 * retransmitted by the peer is still ACKed there (not answered with RST). */
TWIN_TEST(close_then_time_wait_still_acks_the_peer)
{
    struct twin_cfg cfg = { .seed = 0x7c90041, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5008);
    static struct ack_dropper d = { .left = 1 };
    set_hook(drop_acks_from_a, &d);
    k.c->ops->close(k.c);
    k.c = NULL;
    char buf[4];
    CHECK(RUN_UNTIL(recv_bytes(k.s, buf, sizeof(buf)) == 0, 1 * SEC));
    CHECK_STATE(k.s, ST_CLOSE_WAIT);
    twin_run_for(50 * MS);
    d.armed = true;
    k.s->ops->shutdown(k.s, SHUT_WR);
    CHECK(RUN_UNTIL(state(k.s) == ST_CLOSE, 5 * SEC));
    CHECK_EQ_INT(d.dropped, 1);
    CHECK_EQ_INT(wst[A].rst, 0);
    CHECK_EQ_INT(so_error(k.s), 0);
    close_conn(&k);
    end_checks();
}

/* Passive close: b gets the FIN (CLOSE_WAIT, end of stream, POLLRDHUP),
 * still sends, then closes (LAST_ACK) and is CLOSED when its FIN is ACKed. */
TWIN_TEST(passive_close_close_wait_and_last_ack)
{
    struct twin_cfg cfg = { .seed = 0x7c90042, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5009);
    CHECK_EQ_INT(send_bytes(k.c, "last words", 10), 10);
    CHECK_EQ_INT(k.c->ops->shutdown(k.c, SHUT_WR), 0);
    char buf[16];
    CHECK_EQ_INT(recv_exact(k.s, buf, 10, 1 * SEC), 10);
    CHECK(RUN_UNTIL(pollev(k.s) & POLLRDHUP, 1 * SEC));
    CHECK_STATE(k.s, ST_CLOSE_WAIT);
    CHECK((pollev(k.s) & (POLLIN | POLLOUT)) == (POLLIN | POLLOUT));
    CHECK((pollev(k.s) & POLLHUP) == 0);
    CHECK_EQ_INT(recv_bytes(k.s, buf, sizeof(buf)), 0);
    /* CLOSE_WAIT may still send */
    CHECK_EQ_INT(send_bytes(k.s, "reply", 5), 5);
    CHECK_EQ_INT(recv_exact(k.c, buf, 5, 1 * SEC), 5);
    CHECK_EQ_INT(k.s->ops->shutdown(k.s, SHUT_WR), 0);
    CHECK_STATE(k.s, ST_LAST_ACK);
    CHECK(RUN_UNTIL(state(k.s) == ST_CLOSE, 1 * SEC));
    CHECK(pollev(k.s) & POLLHUP);
    CHECK_EQ_INT(so_error(k.s), 0);
    CHECK_STATE(k.c, ST_TIME_WAIT);
    CHECK((pollev(k.c) & (POLLHUP | POLLIN)) == (POLLHUP | POLLIN));
    CHECK_EQ_INT(recv_bytes(k.c, buf, sizeof(buf)), 0);
    CHECK_EQ_INT(wst[A].rst + wst[B].rst, 0);
    close_conn(&k);
    end_checks();
}

/* Both close at the same instant: the FINs cross, both are in CLOSING
 * until the ACKs of their FINs come, then in TIME_WAIT (RFC 9293 figure 13). */
TWIN_TEST(simultaneous_close_goes_through_closing)
{
    struct twin_cfg cfg = { .seed = 0x7c90043, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5010);
    twin_run_for(100 * MS);
    CHECK_EQ_INT(k.c->ops->shutdown(k.c, SHUT_WR), 0);
    CHECK_EQ_INT(k.s->ops->shutdown(k.s, SHUT_WR), 0);
    CHECK_STATE(k.c, ST_FIN_WAIT1);
    CHECK_STATE(k.s, ST_FIN_WAIT1);
    twin_run_for(7 * MS);                               /* the FINs arrived, the ACKs not */
    CHECK_STATE(k.c, ST_CLOSING);
    CHECK_STATE(k.s, ST_CLOSING);
    twin_run_for(5 * MS);
    CHECK_STATE(k.c, ST_TIME_WAIT);
    CHECK_STATE(k.s, ST_TIME_WAIT);
    char buf[4];
    CHECK_EQ_INT(recv_bytes(k.c, buf, sizeof(buf)), 0);
    CHECK_EQ_INT(recv_bytes(k.s, buf, sizeof(buf)), 0);
    /* both TIME_WAITs end after 2*MSL */
    twin_run_for(TIME_WAIT_NS + 1 * SEC);
    CHECK_STATE(k.c, ST_CLOSE);
    CHECK_STATE(k.s, ST_CLOSE);
    CHECK_EQ_INT(wst[A].rst + wst[B].rst, 0);
    close_conn(&k);
    end_checks();
}

/* Both connect to each other's bound port at once: the SYNs cross, both go
 * SYN_RECEIVED, then ESTABLISHED, one connection (RFC 9293 figure 8). */
TWIN_TEST(simultaneous_open)
{
    struct twin_cfg cfg = { .seed = 0x7c90044, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    warm_up_arp();                      /* so that both SYNs leave at once */
    uint32_t rsts = wst[B].rst;

    struct sock *a = tcp_new(A), *b = tcp_new(B);
    CHECK_EQ_INT(bind_port(a, 7000), 0);
    CHECK_EQ_INT(bind_port(b, 8000), 0);
    CHECK_EQ_INT(connect_to(a, B, 8000), -EINPROGRESS);
    CHECK_EQ_INT(connect_to(b, A, 7000), -EINPROGRESS);
    CHECK_STATE(a, ST_SYN_SENT);
    CHECK_STATE(b, ST_SYN_SENT);
    twin_run_for(7 * MS);
    CHECK_STATE(a, ST_SYN_RECV);
    CHECK_STATE(b, ST_SYN_RECV);
    CHECK(RUN_UNTIL((pollev(a) & POLLOUT) && (pollev(b) & POLLOUT), 2 * SEC));
    CHECK_STATE(a, ST_ESTABLISHED);
    CHECK_STATE(b, ST_ESTABLISHED);
    CHECK_EQ_INT(wst[A].rst, 0);
    CHECK_EQ_INT(wst[B].rst, rsts);
    CHECK_EQ_INT(so_error(a), 0);
    CHECK_EQ_INT(so_error(b), 0);
    struct stream st[2];
    stream_init(&st[0], a, b, 10, 256 * 1024);
    stream_init(&st[1], b, a, 11, 256 * 1024);
    CHECK(run_streams(st, 2, 30 * SEC));
    check_stream(&st[0]);
    check_stream(&st[1]);
    stream_free(&st[0]);
    stream_free(&st[1]);
    a->ops->close(a);
    b->ops->close(b);
    end_checks();
}

/* Drop every RST b sends while armed. */
static bool drop_rst_from_b(int from, const struct seg *sg, void *arg)
{
    bool *armed = arg;
    return *armed && from == B && (sg->flags & TH_RST);
}

/* b aborts (close with unread data: RST, RFC 2525 2.17) and the RST is
 * lost: a still thinks the connection is up (half-open, RFC 9293 3.5.2).
 * a's next segment reaches a b without the connection, which answers with
 * RST; a drops the connection: ECONNRESET. */
TWIN_TEST(rst_on_a_half_open_connection)
{
    struct twin_cfg cfg = { .seed = 0x7c90045, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5011);
    CHECK_EQ_INT(send_bytes(k.c, "unread", 6), 6);
    twin_run_for(100 * MS);
    static bool armed = true;
    set_hook(drop_rst_from_b, &armed);
    uint32_t b_rsts = wst[B].rst;
    k.s->ops->close(k.s);
    k.s = NULL;
    twin_run_for(100 * MS);
    CHECK_EQ_INT(wst[B].rst, b_rsts + 1);               /* the abort, dropped */
    CHECK_STATE(k.c, ST_ESTABLISHED);
    armed = false;
    CHECK_EQ_INT(send_bytes(k.c, "anyone?", 7), 7);
    CHECK(RUN_UNTIL(pollev(k.c) & POLLERR, 5 * SEC));
    CHECK_EQ_INT(wst[B].rst, b_rsts + 2);
    CHECK_STATE(k.c, ST_CLOSE);
    unsigned ev = pollev(k.c);
    CHECK((ev & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP));
    char buf[8];
    CHECK_EQ_INT(recv_bytes(k.c, buf, sizeof(buf)), -ECONNRESET);
    CHECK_EQ_INT(send_bytes(k.c, "x", 1), -EPIPE);
    close_conn(&k);
    end_checks();
}

/* An RST whose sequence number is not the next expected one does not
 * reset the connection (RFC 5961 3.2: blind reset); it draws a challenge
 * ACK. The forged RST is b's last segment with the RST flag and its
 * sequence number moved. */
struct last_seg {
    uint8_t frame[2048];
    uint32_t len;
};

static struct last_seg last_b;
static bool capture = true;
static bool raw_tap(int from, const uint8_t *f, uint32_t n, void *arg)
{
    if (capture && from == B && n <= sizeof(last_b.frame)) {
        struct seg sg;
        if (parse_seg(f, n, &sg) && !sg.len) {
            memcpy(last_b.frame, f, n);
            last_b.len = n;
        }
    }
    return monitor(from, f, n, arg);
}

static void tcp_fix_csum(uint8_t *f)
{
    uint8_t *ip = f + 14;
    uint32_t ihl = (ip[0] & 0xfu) * 4, tot = get_be16(ip + 2);
    uint8_t *th = ip + ihl;
    put_be16(th + 16, 0);
    put_be16(th + 16, (uint16_t)~tcp_sum(ip, ihl, tot));
}

TWIN_TEST(rst_outside_the_window_is_ignored)
{
    struct twin_cfg cfg = { .seed = 0x7c90046, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    twin_set_tap(raw_tap, NULL);
    struct conn k;
    open_conn(&k, A, 5012);
    CHECK_EQ_INT(send_bytes(k.c, "ping", 4), 4);
    char buf[8];
    CHECK_EQ_INT(recv_exact(k.s, buf, 4, 1 * SEC), 4);
    twin_run_for(200 * MS);                             /* b's ACK is the last it sent */
    capture = false;
    CHECK(last_b.len > 0);
    uint8_t *th = last_b.frame + 14 + 20;
    uint32_t seq = get_be32(th + 4);
    for (int i = 0; i < 3; i++) {
        /* in the window but not rcv_nxt, then far outside it */
        put_be32(th + 4, seq + (i == 0 ? 1000 : i == 1 ? 0x40000000u : (uint32_t)-5000));
        th[13] = TH_RST | (i == 2 ? TH_ACK : 0);
        tcp_fix_csum(last_b.frame);
        uint32_t acks = wst[A].segs;
        twin_sides[A].input(last_b.frame, last_b.len, true);
        CHECK_STATE(k.c, ST_ESTABLISHED);
        if (i == 0)
            CHECK_EQ_INT(wst[A].segs, acks + 1);        /* the challenge ACK */
        twin_run_for(50 * MS);
    }
    CHECK_EQ_INT(so_error(k.c), 0);
    CHECK_EQ_INT(send_bytes(k.c, "pong", 4), 4);
    CHECK_EQ_INT(recv_exact(k.s, buf, 4, 1 * SEC), 4);
    twin_run_for(200 * MS);
    /* the right sequence number does reset it */
    put_be32(th + 4, seq);
    th[13] = TH_RST;
    tcp_fix_csum(last_b.frame);
    twin_sides[A].input(last_b.frame, last_b.len, true);
    CHECK_STATE(k.c, ST_CLOSE);
    CHECK_EQ_INT(so_error(k.c), ECONNRESET);
    close_conn(&k);
    end_checks();
}

/* shutdown(SHUT_WR) ends one direction only: the other keeps flowing
 * until its sender is done too. */
TWIN_TEST(half_close_keeps_the_other_direction)
{
    struct twin_cfg cfg = { .seed = 0x7c90047,
                            .link = { .delay_ns = 3 * MS, .bandwidth_bps = 50000000,
                                      .loss_ppm = 5000 } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5013);
    struct stream up, down;
    stream_init(&up, k.c, k.s, 12, 100 * 1024);
    up.shut_when_sent = true;
    CHECK(run_streams(&up, 1, 30 * SEC));
    check_stream(&up);
    CHECK(up.eof);
    CHECK(RUN_UNTIL(state(k.c) == ST_FIN_WAIT2, 1 * SEC));
    CHECK_STATE(k.s, ST_CLOSE_WAIT);
    CHECK_EQ_INT(send_bytes(k.c, "x", 1), -EPIPE);
    stream_init(&down, k.s, k.c, 13, 2 * MIB);
    down.shut_when_sent = true;
    bool ok = run_streams(&down, 1, 120 * SEC);
    if (!ok) {
        struct tcp_info si = info(k.s);
        printf("  stuck: b is in %s with %u bytes not yet sent, %u segments in flight, "
               "rto %u ms, backoff %u; a is in %s\n", state_name(si.tcpi_state),
               si.tcpi_notsent_bytes, si.tcpi_unacked, si.tcpi_rto / 1000, si.tcpi_backoff,
               state_name(state(k.c)));
    }
    CHECK(ok);
    check_stream(&down);
    CHECK(down.eof);
    CHECK(RUN_UNTIL(state(k.s) == ST_CLOSE, 10 * SEC));
    CHECK_STATE(k.c, ST_TIME_WAIT);
    stream_free(&up);
    stream_free(&down);
    close_conn(&k);
    end_checks();
}

/* FIN_WAIT_2 of a closed socket does not last for ever: Linux gives the
 * peer tcp_fin_timeout (60 s) to close. */
TWIN_TEST(orphaned_fin_wait_2_times_out)
{
    struct twin_cfg cfg = { .seed = 0x7c90048, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5014);
    k.c->ops->close(k.c);
    k.c = NULL;
    twin_run_for(1 * SEC);
    CHECK_STATE(k.s, ST_CLOSE_WAIT);
    /* b never closes; after a's FIN_WAIT_2 timeout its segments get RST */
    twin_run_for(70 * SEC);
    uint32_t rsts = wst[A].rst;
    CHECK_EQ_INT(send_bytes(k.s, "late", 4), 4);
    CHECK(RUN_UNTIL(pollev(k.s) & POLLERR, 5 * SEC));
    CHECK_EQ_INT(wst[A].rst, rsts + 1);
    CHECK_EQ_INT(so_error(k.s), ECONNRESET);
    close_conn(&k);
    end_checks();
}

/* ---- listening ------------------------------------------------------------------------------ */

struct synack_count {
    uint16_t port;                      /* a's port of the connection watched */
    int synacks;
};

static bool count_synacks(int from, const struct seg *sg, void *arg)
{
    struct synack_count *c = arg;
    if (from == B && (sg->flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) && sg->dport == c->port)
        c->synacks++;
    return false;
}

/* A listener with backlog 2 that nobody accepts from: Linux's rule,
 * backlog + 1 connections wait in the accept queue; a SYN that finds the
 * queue full is dropped (no SYN-ACK, no RST), and its connection
 * completes from the peer's retransmitted SYN once there is room. */
TWIN_TEST(listen_backlog_overflow)
{
    struct twin_cfg cfg = { .seed = 0x7c90050, .link = { .delay_ns = 2 * MS } };
    begin(&cfg);
    struct sock *l = listen_on(B, 6000, 2);
    enum { N = 5 };
    struct sock *c[N + 1];
    for (int i = 0; i < N; i++) {
        c[i] = tcp_new(A);
        connect_to(c[i], B, 6000);
        twin_run_for(20 * MS);
    }
    twin_run_for(200 * MS);
    /* The queue is full now: another SYN gets nothing back. */
    static struct synack_count sc;
    c[N] = tcp_new(A);
    connect_to(c[N], B, 6000);
    sc.port = lport(c[N]);
    set_hook(count_synacks, &sc);
    twin_run_for(500 * MS);
    CHECK_EQ_INT(sc.synacks, 0);
    CHECK_STATE(c[N], ST_SYN_SENT);
    CHECK_EQ_INT(wst[B].rst, 0);
    /* accept what is queued: backlog + 1 */
    int queued = 0;
    struct sock *acc[N + 1];
    struct sock_addr peer;
    while (queued < N + 1 && l->ops->accept(l, &acc[queued], &peer) == 0)
        queued++;
    printf("  %d connections waited in the queue\n", queued);
    CHECK_EQ_INT(queued, 3);
    /* the rest come in from retransmissions */
    int all = queued;
    RUN_UNTIL(({
        while (all < N + 1 && l->ops->accept(l, &acc[all], &peer) == 0)
            all++;
        all == N + 1;
    }), 20 * SEC);
    CHECK_EQ_INT(all, N + 1);
    CHECK(sc.synacks >= 1);
    /* every client is connected to exactly one accepted socket */
    for (int i = 0; i <= N; i++) {
        CHECK(RUN_UNTIL(pollev(c[i]) & POLLOUT, 5 * SEC));
        CHECK_STATE(c[i], ST_ESTABLISHED);
        char msg[2] = { 'A', (char)('0' + i) };
        CHECK_EQ_INT(send_bytes(c[i], msg, 2), 2);
    }
    for (int j = 0; j < all; j++) {
        char buf[2];
        CHECK_EQ_INT(recv_exact(acc[j], buf, 2, 1 * SEC), 2);
        int i = buf[1] - '0';
        CHECK(i >= 0 && i <= N && acc[j]->remote.port == c[i]->local.port);
        acc[j]->ops->close(acc[j]);
    }
    for (int i = 0; i <= N; i++)
        c[i]->ops->close(c[i]);
    l->ops->close(l);
    end_checks();
}

/* Closing a listener resets the connections nobody accepted. */
TWIN_TEST(closing_a_listener_resets_unaccepted_connections)
{
    struct twin_cfg cfg = { .seed = 0x7c90051, .link = { .delay_ns = 2 * MS } };
    begin(&cfg);
    struct sock *l = listen_on(B, 6001, 4);
    struct sock *c = tcp_new(A);
    connect_to(c, B, 6001);
    CHECK(RUN_UNTIL(pollev(c) & POLLOUT, 2 * SEC));
    CHECK(RUN_UNTIL(pollev(l) & POLLIN, 1 * SEC));
    l->ops->close(l);
    CHECK(RUN_UNTIL(pollev(c) & POLLERR, 1 * SEC));
    CHECK_EQ_INT(so_error(c), ECONNRESET);
    CHECK_STATE(c, ST_CLOSE);
    /* and the port listens no more: a new connect is refused */
    struct sock *d = tcp_new(A);
    connect_to(d, B, 6001);
    CHECK(RUN_UNTIL(pollev(d) & POLLERR, 2 * SEC));
    CHECK_EQ_INT(so_error(d), ECONNREFUSED);
    c->ops->close(c);
    d->ops->close(d);
    end_checks();
}

/* ---- keepalive ------------------------------------------------------------------------------ */

struct ka_watch {
    int probes;                         /* a->b segments without data on an idle connection */
    uint64_t probe_at[32];
    bool counting;
};

static bool watch_keepalive(int from, const struct seg *sg, void *arg)
{
    struct ka_watch *w = arg;
    if (w->counting && from == A && !sg->len && !(sg->flags & (TH_SYN | TH_FIN | TH_RST)) &&
        w->probes < 32)
        w->probe_at[w->probes++] = twin_now();
    return false;
}

/* SO_KEEPALIVE with TCP_KEEPIDLE 10 s, TCP_KEEPINTVL 2 s, TCP_KEEPCNT 3:
 * on an idle connection a probe every 10 s, answered; when the peer is
 * gone (the link cut), the connection is dropped with ETIMEDOUT after 3
 * unanswered probes 2 s apart. */
TWIN_TEST(keepalive_detects_a_dead_peer)
{
    struct twin_cfg cfg = { .seed = 0x7c90060, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    struct conn k = { .cs = A };
    k.l = listen_on(B, 5015, 4);
    k.c = tcp_new(A);
    k.c->keepalive = true;                              /* setsockopt(SO_KEEPALIVE) */
    CHECK_EQ_INT(setopt(k.c, TCP_KEEPIDLE, 10), 0);
    CHECK_EQ_INT(setopt(k.c, TCP_KEEPINTVL, 2), 0);
    CHECK_EQ_INT(setopt(k.c, TCP_KEEPCNT, 3), 0);
    connect_to(k.c, B, 5015);
    k.s = accept_within(k.l, 5 * SEC, NULL);
    CHECK(k.s != NULL);
    if (!k.s)
        return;
    CHECK(RUN_UNTIL(pollev(k.c) & POLLOUT, 1 * SEC));
    CHECK_EQ_INT(send_bytes(k.c, "hi", 2), 2);
    char buf[4];
    CHECK_EQ_INT(recv_exact(k.s, buf, 2, 1 * SEC), 2);
    twin_run_for(1 * SEC);
    static struct ka_watch w;
    set_hook(watch_keepalive, &w);
    w.counting = true;
    uint64_t t0 = twin_now();
    twin_run_for(35 * SEC);
    printf("  idle 35 s: %d probes\n", w.probes);
    CHECK(w.probes >= 3 && w.probes <= 4);
    if (w.probes >= 2) {
        uint64_t gap = w.probe_at[1] - w.probe_at[0];
        CHECK(gap >= 10 * SEC - 2 * TICK && gap <= 10 * SEC + 2 * TICK);
        CHECK(w.probe_at[0] - t0 <= 10 * SEC);
    }
    CHECK_STATE(k.c, ST_ESTABLISHED);
    CHECK_EQ_INT(so_error(k.c), 0);
    /* the peer disappears */
    int before = w.probes;
    twin_link()->cut = true;
    uint64_t cut = twin_now();
    CHECK(RUN_UNTIL(pollev(k.c) & POLLERR, 60 * SEC));
    uint64_t took = twin_now() - cut;
    printf("  peer gone: dropped after %llu ms, %d probes\n", (unsigned long long)(took / MS),
           w.probes - before);
    /* the last answered probe was at most 10 s ago; then 10 s idle would
     * send the first unanswered one, plus 3 x 2 s */
    CHECK(took <= 16 * SEC + 2 * TICK);
    CHECK(took >= 6 * SEC);
    CHECK(w.probes - before >= 3);
    CHECK((pollev(k.c) & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP));
    CHECK_EQ_INT(so_error(k.c), ETIMEDOUT);
    CHECK_STATE(k.c, ST_CLOSE);
    close_conn(&k);
    end_checks();
}

/* SO_KEEPALIVE turned on after the connection is up, on an idle
 * connection: Linux starts the keepalive timer there and then. */
TWIN_TEST(keepalive_enabled_on_an_idle_connection)
{
    struct twin_cfg cfg = { .seed = 0x7c90061, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    struct conn k;
    open_conn(&k, A, 5016);
    twin_run_for(1 * SEC);
    static struct ka_watch w;
    set_hook(watch_keepalive, &w);
    w.counting = true;
    CHECK_EQ_INT(setopt(k.c, TCP_KEEPIDLE, 5), 0);
    CHECK_EQ_INT(setopt(k.c, TCP_KEEPINTVL, 1), 0);
    k.c->keepalive = true;
    twin_run_for(12 * SEC);
    printf("  %d probes in 12 s\n", w.probes);
    CHECK(w.probes >= 2);
    close_conn(&k);
    end_checks();
}

/* ---- memory, SYN cookies and out-of-order runs (looking inside) -------------------------- */

/* These tests also look inside the stacks: each copy's globals are
 * reachable under its prefix (b_tcp_stats, b_net_mem_usage...), and a
 * socket of a side is the struct sock at the start of that side's struct
 * tcp_sock (tcp.h, one layout for both copies), so the receive ring, the
 * out-of-order runs and the budget can be read directly. */
extern struct tcp_counters a_tcp_stats, b_tcp_stats;
extern struct net_mem_counters a_net_mem_stats, b_net_mem_stats;
void a_net_mem_usage(struct net_mem_usage *u);
void b_net_mem_usage(struct net_mem_usage *u);
void a_net_mem_configure(uint64_t free_bytes);
void b_net_mem_configure(uint64_t free_bytes);
uint32_t b_tcp_rcv_max_for(uint32_t rcvbuf);

static struct net_mem_usage mem_of(int side)
{
    struct net_mem_usage u;
    (side == A ? a_net_mem_usage : b_net_mem_usage)(&u);
    return u;
}

static struct tcp_sock *tsk(struct sock *s)
{
    return tcp_of(s);
}

#define TCP_BLOCK ((uint64_t)sizeof(struct tcp_sock))
#define RING_ALLOC(cap) ((uint64_t)(cap) + 128)   /* tcp_rcvbuf.c's RING_SLACK */

/* ---- SYN cookies ---- */

/* A's SYNs from the ports listed lose their timestamp option (NOPs in its
 * place), as from a peer without timestamps; A's first pure ACK that
 * completes a cookie handshake is kept, to forge others from. */
static struct {
    uint16_t ports[64];
    int n;
    bool reinjecting;
    const uint16_t *cookie_ports;       /* filled by watch_cookies */
    const int *ncookie;
    uint16_t lport;
    uint8_t ack[256];
    uint32_t ack_len;
} strip;

static bool strip_ts_tap(int from, const uint8_t *f, uint32_t n, void *arg)
{
    struct seg sg;
    bool parsed = from == A && !strip.reinjecting && parse_seg(f, n, &sg);
    if (parsed && (sg.flags & (TH_SYN | TH_ACK)) == TH_SYN && sg.has_ts && n <= 256) {
        bool listed = false;
        for (int i = 0; i < strip.n; i++)
            listed |= strip.ports[i] == sg.sport;
        if (listed) {
            uint8_t copy[256];
            memcpy(copy, f, n);
            uint8_t *th = copy + 14 + (copy[14] & 0xfu) * 4;
            unsigned doff = (th[12] >> 4) * 4u;
            for (unsigned i = 20; i + 1 < doff;) {
                if (th[i] == 0)
                    break;
                if (th[i] == 1) {
                    i++;
                    continue;
                }
                if (th[i] == 8 && i + 10 <= doff) {
                    memset(th + i, 1, 10);
                    break;
                }
                i += th[i + 1] ? th[i + 1] : 1;
            }
            tcp_fix_csum(copy);
            strip.reinjecting = true;
            twin_dev_wire(A, copy, n);
            strip.reinjecting = false;
            return true;
        }
    }
    bool drop = monitor(from, f, n, arg);
    if (parsed && !drop && !strip.ack_len && sg.dport == strip.lport && sg.flags == TH_ACK &&
        !sg.len && strip.ncookie && n <= sizeof(strip.ack))
        for (int i = 0; i < *strip.ncookie; i++)
            if (strip.cookie_ports[i] == sg.sport) {
                memcpy(strip.ack, f, n);
                strip.ack_len = n;
            }
    return drop;
}

/* B's SYN-ACKs and RSTs from the listener's port; a SYN-ACK is a cookie's
 * when b's syncookies_sent moved since the last one (the counter goes up
 * just before the SYN-ACK leaves). */
struct cookie_watch {
    uint16_t lport;
    int synacks, cookie_synacks;
    uint64_t cookies_seen;
    uint16_t cookie_port[64];
    int ncookie;
    int rsts;
    uint16_t rst_port[8];
    int nrst;
};

static bool watch_cookies(int from, const struct seg *sg, void *arg)
{
    struct cookie_watch *w = arg;
    if (from != B || sg->sport != w->lport)
        return false;
    if ((sg->flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
        w->synacks++;
        if (b_tcp_stats.syncookies_sent != w->cookies_seen) {
            w->cookies_seen = b_tcp_stats.syncookies_sent;
            w->cookie_synacks++;
            if (w->ncookie < 64)
                w->cookie_port[w->ncookie++] = sg->dport;
        }
    }
    if (sg->flags & TH_RST) {
        if (w->nrst < 8)
            w->rst_port[w->nrst++] = sg->dport;
        w->rsts++;
    }
    return false;
}

/* A listener with backlog 1 keeps at most min(2 * 1 + 16, 256) = 18
 * embryos; 40 SYNs at once: the 22 beyond the limit are answered with SYN
 * cookies (no state), and every connection still completes (the app
 * accepts as they come), is accepted once, and carries data both ways.
 * A cookie connection whose SYN had timestamps gets timestamps, SACK and
 * window scaling back through our TSval's echo, exactly as an ordinary
 * connection negotiates them; one whose SYN had none keeps only the MSS
 * (no scaling, no SACK), where an ordinary one keeps SACK and scaling.
 * An ACK with a wrong cookie gets a RST and makes nothing. */
TWIN_TEST(syn_cookies_past_the_embryo_limit)
{
    struct twin_cfg cfg = { .seed = 0x7c90070, .link = { .delay_ns = 2 * MS } };
    begin(&cfg);
    warm_up_arp();
    enum { N = 40, LIMIT = 18, PORT = 7000 };
    static struct cookie_watch cw;
    cw.lport = PORT;
    cw.cookies_seen = b_tcp_stats.syncookies_sent;
    memset(&strip, 0, sizeof(strip));
    strip.lport = PORT;
    strip.cookie_ports = cw.cookie_port;
    strip.ncookie = &cw.ncookie;
    twin_set_tap(strip_ts_tap, NULL);
    set_hook(watch_cookies, &cw);
    struct sock *l = listen_on(B, PORT, 1);
    struct sock *c[N], *s[N];
    bool no_ts[N];
    for (int i = 0; i < N; i++) {
        c[i] = tcp_new(A);
        CHECK_EQ_INT(bind_port(c[i], (uint16_t)(41000 + i)), 0);
        no_ts[i] = i % 4 == 3;
        if (no_ts[i])
            strip.ports[strip.n++] = (uint16_t)(41000 + i);
        CHECK_EQ_INT(connect_to(c[i], B, PORT), -EINPROGRESS);
    }
    /* accept as they come: the queue never holds more than one */
    struct sock *acc[N];
    int n = 0;
    struct sock_addr peer;
    RUN_UNTIL(({
        struct sock *x;
        while (n < N && l->ops->accept(l, &x, &peer) == 0)
            acc[n++] = x;
        n == N;
    }), 10 * SEC);
    printf("  %d SYNs to a listener with backlog 1: %d SYN-ACKs, %d of them cookies; "
           "%d accepted; counters: cookies sent %llu, received %llu, failed %llu\n",
           N, cw.synacks, cw.cookie_synacks, n, (unsigned long long)b_tcp_stats.syncookies_sent,
           (unsigned long long)b_tcp_stats.syncookies_recv,
           (unsigned long long)b_tcp_stats.syncookies_failed);
    CHECK_EQ_INT(n, N);
    CHECK_EQ_INT(cw.synacks, N);
    CHECK_EQ_INT(cw.cookie_synacks, N - LIMIT);
    CHECK_EQ_INT(b_tcp_stats.syncookies_sent, N - LIMIT);
    CHECK_EQ_INT(b_tcp_stats.syncookies_recv, N - LIMIT);
    CHECK_EQ_INT(b_tcp_stats.syncookies_failed, 0);
    CHECK_EQ_INT(pollev(l) & POLLIN, 0);
    if (n != N) {
        twin_set_tap(monitor, NULL);
        return;
    }
    /* each client has exactly one accepted end */
    bool cookie[N];
    for (int i = 0; i < N; i++) {
        CHECK(RUN_UNTIL(pollev(c[i]) & POLLOUT, 1 * SEC));
        CHECK_STATE(c[i], ST_ESTABLISHED);
        s[i] = NULL;
        for (int j = 0; j < N; j++)
            if (acc[j]->remote.port == c[i]->local.port) {
                CHECK(s[i] == NULL);
                s[i] = acc[j];
            }
        CHECK(s[i] != NULL);
        cookie[i] = false;
        for (int j = 0; j < cw.ncookie; j++)
            cookie[i] |= cw.cookie_port[j] == lport(c[i]);
        if (!s[i])
            give_up("a client without its accepted end", 0);
    }
    /* the options: cookie connections as ordinary ones, with timestamps;
     * without them, only the MSS */
    int ord_ts = -1, ord_nots = -1, ck_ts = 0, ck_nots = 0;
    for (int i = 0; i < N; i++) {
        if (!cookie[i] && !no_ts[i] && ord_ts < 0)
            ord_ts = i;
        if (!cookie[i] && no_ts[i] && ord_nots < 0)
            ord_nots = i;
        ck_ts += cookie[i] && !no_ts[i];
        ck_nots += cookie[i] && no_ts[i];
    }
    CHECK(ord_ts >= 0 && ord_nots >= 0 && ck_ts > 0 && ck_nots > 0);
    if (ord_ts < 0 || ord_nots < 0)
        give_up("no ordinary connection to compare with", 0);
    struct tcp_info rt = info(s[ord_ts]), rn = info(s[ord_nots]);
    printf("  ordinary, timestamps: options %#x, scale snd %u rcv %u, mss %u; without: "
           "options %#x, scale snd %u rcv %u, mss %u\n", rt.tcpi_options,
           rt.tcpi_snd_wscale, rt.tcpi_rcv_wscale, rt.tcpi_snd_mss, rn.tcpi_options,
           rn.tcpi_snd_wscale, rn.tcpi_rcv_wscale, rn.tcpi_snd_mss);
    CHECK_EQ_INT(rt.tcpi_options, TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE);
    CHECK_EQ_INT(rn.tcpi_options, TCPI_OPT_SACK | TCPI_OPT_WSCALE);
    CHECK(rt.tcpi_rcv_wscale > 0 && rt.tcpi_snd_wscale > 0);
    for (int i = 0; i < N; i++) {
        struct tcp_info si = info(s[i]), ci = info(c[i]);
        bool ok = true;
        if (!no_ts[i]) {
            ok = si.tcpi_options == rt.tcpi_options && si.tcpi_snd_wscale == rt.tcpi_snd_wscale &&
                 si.tcpi_rcv_wscale == rt.tcpi_rcv_wscale && si.tcpi_snd_mss == rt.tcpi_snd_mss;
        } else if (!cookie[i]) {
            ok = si.tcpi_options == rn.tcpi_options && si.tcpi_snd_wscale == rn.tcpi_snd_wscale &&
                 si.tcpi_rcv_wscale == rn.tcpi_rcv_wscale && si.tcpi_snd_mss == rn.tcpi_snd_mss;
        } else {
            ok = si.tcpi_options == 0 && si.tcpi_snd_wscale == 0 && si.tcpi_rcv_wscale == 0 &&
                 si.tcpi_snd_mss == rn.tcpi_snd_mss;
        }
        /* and the client agrees */
        ok = ok && ci.tcpi_options == si.tcpi_options &&
             ci.tcpi_snd_wscale == si.tcpi_rcv_wscale && ci.tcpi_rcv_wscale == si.tcpi_snd_wscale;
        if (!ok) {
            printf("  connection %d (%s, %s timestamps): server options %#x scale snd %u rcv "
                   "%u mss %u; client options %#x scale snd %u rcv %u\n", i,
                   cookie[i] ? "cookie" : "ordinary", no_ts[i] ? "without" : "with",
                   si.tcpi_options, si.tcpi_snd_wscale, si.tcpi_rcv_wscale, si.tcpi_snd_mss,
                   ci.tcpi_options, ci.tcpi_snd_wscale, ci.tcpi_rcv_wscale);
            check_failed_current = 1;
        }
    }
    printf("  cookie connections: %d with timestamps, %d without\n", ck_ts, ck_nots);
    /* data both ways on every connection */
    static struct stream st[2 * N];
    for (int i = 0; i < N; i++) {
        stream_init(&st[2 * i], c[i], s[i], (uint32_t)(200 + 2 * i), 50000);
        stream_init(&st[2 * i + 1], s[i], c[i], (uint32_t)(201 + 2 * i), 50000);
    }
    CHECK(run_streams(st, 2 * N, 60 * SEC));
    for (int i = 0; i < 2 * N; i++) {
        check_stream(&st[i]);
        stream_free(&st[i]);
    }
    /* forged ACKs: a cookie ACK moved to another port (the cookie is not
     * that tuple's), and one with a wrong cookie */
    CHECK(strip.ack_len > 0);
    if (strip.ack_len) {
        uint64_t opens = b_tcp_stats.passive_opens, failed = b_tcp_stats.syncookies_failed;
        int rsts = cw.rsts;
        uint8_t *th = strip.ack + 14 + (strip.ack[14] & 0xfu) * 4;
        for (int f = 0; f < 2; f++) {
            put_be16(th, (uint16_t)(42000 + f));
            if (f == 1)
                put_be32(th + 8, get_be32(th + 8) ^ 0x400);
            tcp_fix_csum(strip.ack);
            twin_sides[B].input(strip.ack, strip.ack_len, true);
        }
        twin_run_for(100 * MS);
        struct sock *x = NULL;
        printf("  2 forged ACKs: %d RSTs, syncookies_failed +%llu, passive opens +%llu\n",
               cw.rsts - rsts, (unsigned long long)(b_tcp_stats.syncookies_failed - failed),
               (unsigned long long)(b_tcp_stats.passive_opens - opens));
        CHECK_EQ_INT(cw.rsts - rsts, 2);
        CHECK(cw.nrst >= 2 && cw.rst_port[cw.nrst - 2] == 42000 &&
              cw.rst_port[cw.nrst - 1] == 42001);
        CHECK_EQ_INT(b_tcp_stats.syncookies_failed - failed, 2);
        CHECK_EQ_INT(b_tcp_stats.passive_opens, opens);
        CHECK_EQ_INT(l->ops->accept(l, &x, &peer), -EAGAIN);
    }
    for (int i = 0; i < N; i++) {
        c[i]->ops->close(c[i]);
        s[i]->ops->close(s[i]);
    }
    l->ops->close(l);
    twin_set_tap(monitor, NULL);
    end_checks();
}

/* ---- out-of-order runs ---- */

/* While hold is on, drop a's data segments that overlap a held range of
 * stream offsets (from base) -- or, with odd_runs, any that holds an even
 * offset below odd_below -- retransmissions too; note b's ACKs: the SACK
 * blocks, and whether each is one of the runs the receiver records. */
struct holder {
    uint16_t aport;
    uint32_t base;
    bool hold;
    uint32_t lo[8], hi[8];
    int n;
    uint32_t odd_below;
    bool once;                          /* hold only the first segment dropped */
    int dropped, data_segs;
    struct tcp_sock *rcv;               /* b's end: its runs when an ACK leaves */
    uint32_t ack, sack[8];
    int nsack, acks_with_sack, max_blocks;
    int blocks_not_runs;
};

static bool hold_ranges(int from, const struct seg *sg, void *arg)
{
    struct holder *h = arg;
    if (from == A && sg->sport == h->aport && sg->len) {
        h->data_segs++;
        uint32_t s = sg->seq - h->base, e = s + sg->len;
        bool drop = false;
        for (int i = 0; i < h->n; i++)
            drop |= s < h->hi[i] && h->lo[i] < e;
        if (h->odd_below && s < h->odd_below && (e - s >= 2 || s % 2 == 0))
            drop = true;
        if (h->hold && drop) {
            h->dropped++;
            h->hold = !h->once;
            return true;
        }
    }
    if (from == B && sg->dport == h->aport && (sg->flags & TH_ACK) && !(sg->flags & TH_SYN)) {
        h->ack = sg->ack;
        h->nsack = sg->nsack;
        memcpy(h->sack, sg->sack, sizeof(h->sack));
        if (sg->nsack)
            h->acks_with_sack++;
        if (sg->nsack > h->max_blocks)
            h->max_blocks = sg->nsack;
        for (int b = 0; b < sg->nsack && h->rcv; b++) {
            bool run = false;
            for (unsigned r = 0; r < h->rcv->ooo_n; r++)
                run |= h->rcv->ooo[r].lo == sg->sack[2 * b] && h->rcv->ooo[r].hi == sg->sack[2 * b + 1];
            if (!run && h->blocks_not_runs++ < 3)
                printf("  SACK block [%u, %u) is not one of b's runs\n", sg->sack[2 * b] - h->base,
                       sg->sack[2 * b + 1] - h->base);
        }
    }
    return false;
}

static void print_runs(const struct tcp_sock *tp, uint32_t base)
{
    printf("  b: rcv_nxt +%u, %u in order, %u runs:", tp->rcv_nxt - base, tp->rbuf_len,
           tp->ooo_n);
    for (unsigned r = 0; r < tp->ooo_n && r < 8; r++)
        printf(" [%u, %u)", tp->ooo[r].lo - base, tp->ooo[r].hi - base);
    printf("%s; ring %u bytes, fin beyond: %s\n", tp->ooo_n > 8 ? " ..." : "", tp->rbuf_cap,
           tp->ooo_fin ? "yes" : "no");
}

/* A connection for the out-of-order cases: a sends with TCP_NODELAY. */
static void ooo_conn(struct conn *k, uint16_t port, struct holder *h)
{
    open_conn(k, A, port);
    CHECK_EQ_INT(setopt(k->c, TCP_NODELAY, 1), 0);
    memset(h, 0, sizeof(*h));
    h->aport = lport(k->c);
    h->base = tsk(k->c)->snd_nxt;
    h->rcv = tsk(k->s);
    set_hook(hold_ranges, h);
}

/* Ten segments, the 2nd, 5th and 8th lost (and their retransmissions,
 * while held): the seven beyond the holes are kept at their place as
 * three runs, which are the SACK blocks on the wire; the first fill makes
 * the first run in-order data at once, the rest follows when the other
 * holes fill, and every byte is delivered exactly once. */
TWIN_TEST(ooo_runs_fill_in_place_and_are_delivered_once)
{
    struct twin_cfg cfg = { .seed = 0x7c90071, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    struct conn k;
    static struct holder h;
    ooo_conn(&k, 7100, &h);
    uint32_t m = info(k.c).tcpi_snd_mss;
    struct tcp_sock *tb = tsk(k.s);
    for (int i = 0; i < 3; i++) {
        h.lo[i] = (uint32_t)(1 + 3 * i) * m;
        h.hi[i] = h.lo[i] + m;
    }
    h.n = 3;
    h.hold = true;
    struct stream st;
    stream_init(&st, k.c, k.s, 40, 10 * m);
    st.no_read = true;
    stream_write(&st);
    CHECK_EQ_INT(st.sent, 10 * m);
    twin_run_for(300 * MS);
    print_runs(tb, h.base);
    printf("  %d segments dropped; b's last ACK: +%u with %d SACK blocks", h.dropped,
           h.ack - h.base, h.nsack);
    for (int b = 0; b < h.nsack; b++)
        printf(" [%u, %u)", h.sack[2 * b] - h.base, h.sack[2 * b + 1] - h.base);
    printf("\n");
    CHECK_EQ_INT(tb->rcv_nxt - h.base, m);
    CHECK_EQ_INT(tb->rbuf_len, m);
    CHECK_EQ_INT(tb->ooo_n, 3);
    for (unsigned r = 0; r < tb->ooo_n && r < 3; r++) {
        CHECK_EQ_INT(tb->ooo[r].lo - h.base, (2 + 3 * r) * m);
        CHECK_EQ_INT(tb->ooo[r].hi - h.base, (4 + 3 * r) * m);
    }
    CHECK_EQ_INT(info(k.s).tcpi_bytes_received, m);
    /* the SACK blocks are the runs, all three */
    CHECK_EQ_INT(h.ack - h.base, m);
    CHECK_EQ_INT(h.nsack, 3);
    for (int r = 0; r < 3; r++) {
        bool found = false;
        for (int b = 0; b < h.nsack; b++)
            found |= h.sack[2 * b] - h.base == (2 + 3 * (uint32_t)r) * m &&
                     h.sack[2 * b + 1] - h.base == (4 + 3 * (uint32_t)r) * m;
        CHECK(found);
    }
    CHECK_EQ_INT(h.blocks_not_runs, 0);
    /* the bytes beyond the holes are in the ring already */
    CHECK(tb->rbuf_cap >= 10 * m);
    /* the first hole fills: the first run is in-order data, the others stay */
    h.lo[0] = h.hi[0] = 0;
    /* stop at the event that fills it: the run joins in that same step */
    CHECK(RUN_UNTIL(tb->rcv_nxt - h.base > m, 10 * SEC));
    print_runs(tb, h.base);
    CHECK_EQ_INT(tb->rcv_nxt - h.base, 4 * m);
    CHECK_EQ_INT(tb->rbuf_len, 4 * m);
    CHECK_EQ_INT(tb->ooo_n, 2);
    CHECK_EQ_INT(info(k.s).tcpi_bytes_received, 4 * m);
    /* the rest */
    h.hold = false;
    CHECK(RUN_UNTIL(tb->rcv_nxt - h.base > 4 * m, 10 * SEC));
    CHECK_EQ_INT(tb->rcv_nxt - h.base, 7 * m);
    CHECK(RUN_UNTIL(tb->rcv_nxt - h.base > 7 * m, 10 * SEC));
    CHECK_EQ_INT(tb->rcv_nxt - h.base, 10 * m);
    CHECK_EQ_INT(tb->ooo_n, 0);
    CHECK_EQ_INT(tb->rbuf_len, 10 * m);
    CHECK_EQ_INT(info(k.s).tcpi_bytes_received, 10 * m);
    st.no_read = false;
    CHECK(run_streams(&st, 1, 5 * SEC));
    check_stream(&st);
    char extra;
    CHECK_EQ_INT(recv_bytes(k.s, &extra, 1), -EAGAIN);
    printf("  %d ACKs with SACK blocks (at most %d blocks); ofo queued %llu, merged %llu\n",
           h.acks_with_sack, h.max_blocks, (unsigned long long)b_tcp_stats.ofo_queue,
           (unsigned long long)b_tcp_stats.ofo_merge);
    stream_free(&st);
    close_conn(&k);
    end_checks();
}

/* A FIN beyond a hole is kept with the runs: the stream does not end
 * (no EOF, no CLOSE_WAIT) until the hole fills, then it ends after the
 * last byte. */
TWIN_TEST(ooo_fin_beyond_a_hole_waits_for_the_fill)
{
    struct twin_cfg cfg = { .seed = 0x7c90072, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    struct conn k;
    static struct holder h;
    ooo_conn(&k, 7101, &h);
    uint32_t m = info(k.c).tcpi_snd_mss;
    struct tcp_sock *tb = tsk(k.s);
    h.lo[0] = m;
    h.hi[0] = 2 * m;
    h.n = 1;
    h.hold = true;
    struct stream st;
    stream_init(&st, k.c, k.s, 41, 3 * m);
    st.shut_when_sent = true;
    stream_write(&st);
    CHECK(st.shut);
    twin_run_for(300 * MS);
    print_runs(tb, h.base);
    CHECK(tb->ooo_fin);
    CHECK_EQ_INT(tb->ooo_fin_seq - h.base, 3 * m);
    CHECK_EQ_INT(tb->ooo_n, 1);
    CHECK_STATE(k.s, ST_ESTABLISHED);
    CHECK_EQ_INT(pollev(k.s) & POLLRDHUP, 0);
    /* the bytes before the hole, then nothing: no end of stream yet */
    static uint8_t buf[8192];
    CHECK_EQ_INT(recv_bytes(k.s, buf, sizeof(buf)), m);
    CHECK_EQ_INT(recv_bytes(k.s, buf, sizeof(buf)), -EAGAIN);
    /* nor after some more time (retransmissions still held) */
    twin_run_for(2 * SEC);
    CHECK_STATE(k.s, ST_ESTABLISHED);
    CHECK_EQ_INT(recv_bytes(k.s, buf, sizeof(buf)), -EAGAIN);
    h.hold = false;
    CHECK(RUN_UNTIL(pollev(k.s) & POLLRDHUP, 10 * SEC));
    print_runs(tb, h.base);
    CHECK_STATE(k.s, ST_CLOSE_WAIT);
    CHECK(!tb->ooo_fin);
    CHECK_EQ_INT(tb->rbuf_len, 2 * m);
    /* the stream as read: its first m bytes were read above */
    fill(41, 0, buf, m);
    st.recvd = m;
    CHECK(run_streams(&st, 1, 5 * SEC));
    check_stream(&st);
    CHECK(st.eof);
    CHECK_EQ_INT(info(k.s).tcpi_bytes_received, 3 * m);
    stream_free(&st);
    close_conn(&k);
    end_checks();
}

/* 100 one-byte segments, every other one lost (and every retransmission
 * that would fill a hole, while held): 50 runs would be needed; b keeps
 * TCP_OOO_MAX, drops the segments that would start another (TCPOFODrop),
 * and every SACK block it sends is one of its runs. Then the holes fill
 * and the 100 bytes arrive intact, once. */
TWIN_TEST(ooo_flood_of_tiny_segments_is_capped)
{
    struct twin_cfg cfg = { .seed = 0x7c90073, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    struct conn k;
    static struct holder h;
    ooo_conn(&k, 7102, &h);
    struct tcp_sock *tb = tsk(k.s);
    enum { LEN = 100 };
    h.odd_below = LEN;
    h.hold = true;
    uint64_t drops0 = b_tcp_stats.ofo_drop;
    uint8_t data[LEN];
    fill(42, 0, data, LEN);
    int segs0 = h.data_segs;
    for (int i = 0; i < LEN; i++)
        CHECK_EQ_INT(send_bytes(k.c, data + i, 1), 1);
    int tiny = h.data_segs - segs0;
    twin_run_for(500 * MS);
    struct net_mem_usage u = mem_of(B);
    print_runs(tb, h.base);
    printf("  %d one-byte segments sent at once, %d dropped on the wire (with "
           "retransmissions); b dropped %llu beyond %d runs; b's budget %llu bytes; %d ACKs "
           "with SACK blocks (at most %d blocks)\n", tiny, h.dropped,
           (unsigned long long)(b_tcp_stats.ofo_drop - drops0), TCP_OOO_MAX,
           (unsigned long long)u.used, h.acks_with_sack, h.max_blocks);
    CHECK_EQ_INT(tiny, LEN);
    CHECK_EQ_INT(tb->rcv_nxt, h.base);
    CHECK_EQ_INT(tb->rbuf_len, 0);
    CHECK_EQ_INT(tb->ooo_n, TCP_OOO_MAX);
    for (unsigned r = 0; r < tb->ooo_n && r < TCP_OOO_MAX; r++) {
        CHECK_EQ_INT(tb->ooo[r].lo - h.base, 1 + 2 * r);
        CHECK_EQ_INT(tb->ooo[r].hi - h.base, 2 + 2 * r);
    }
    CHECK(b_tcp_stats.ofo_drop - drops0 >= LEN / 2 - TCP_OOO_MAX);
    CHECK(h.acks_with_sack > 0);
    CHECK_EQ_INT(h.blocks_not_runs, 0);
    /* the runs cost their ring, nothing per segment */
    CHECK_EQ_INT(u.used, 2 * TCP_BLOCK + RING_ALLOC(tb->rbuf_cap));
    CHECK_EQ_INT(tb->rbuf_cap, 4096 - 128);
    h.hold = false;
    uint8_t got[LEN + 1];
    CHECK_EQ_INT(recv_exact(k.s, got, LEN, 30 * SEC), LEN);
    CHECK(memcmp(got, data, LEN) == 0);
    twin_run_for(100 * MS);
    CHECK_EQ_INT(recv_bytes(k.s, got, sizeof(got)), -EAGAIN);
    CHECK_EQ_INT(tb->ooo_n, 0);
    CHECK_EQ_INT(info(k.s).tcpi_bytes_received, LEN);
    close_conn(&k);
    end_checks();
}

/* ---- the receive ring ---- */

/* B's windows and ring on one connection, as b's segments leave. */
struct ring_watch {
    struct tcp_sock *tp;
    uint16_t aport;
    uint32_t caps[24];
    int ncaps;
    uint32_t max_win;
};

static bool watch_ring(int from, const struct seg *sg, void *arg)
{
    struct ring_watch *r = arg;
    if (from != B || !r->tp || sg->dport != r->aport || (sg->flags & TH_SYN))
        return false;
    uint32_t win = (uint32_t)sg->win << r->tp->rcv_wscale;
    if (win > r->max_win)
        r->max_win = win;
    uint32_t cap = r->tp->rbuf_cap;
    if (cap && (!r->ncaps || r->caps[r->ncaps - 1] != cap) && r->ncaps < 24)
        r->caps[r->ncaps++] = cap;
    return false;
}

/* SO_RCVBUF 300000 on b's side. Idle, the connection holds no ring (the
 * budget has just the two blocks: listener and connection); the first
 * byte brings a 4 KiB one; a reader that does not read lets it grow by
 * doubling to the largest ring that fits SO_RCVBUF (256 KiB - 128), and
 * the window advertised never exceeds it. Below memory pressure the
 * emptied ring stays; once other connections push the budget past
 * pressure, it is given back at the next tick, and a ring emptied by a
 * read then is given back at once. Closed, everything is uncharged. */
TWIN_TEST(receive_ring_appears_grows_and_is_given_back)
{
    struct twin_cfg cfg = { .seed = 0x7c90074,
                            .link = { .delay_ns = 2 * MS, .bandwidth_bps = 100000000 } };
    begin(&cfg);
    b_net_mem_configure(12 * MIB);      /* pressure 1 MiB, high 1.5 MiB, limit 3 MiB */
    struct net_mem_usage u = mem_of(B);
    CHECK_EQ_INT(u.used, 0);
    CHECK_EQ_INT(u.pressure, MIB);
    enum { RCVBUF = 300000 };
    struct conn k = { .cs = A };
    k.l = tcp_new(B);
    k.l->rcvbuf = RCVBUF;
    CHECK_EQ_INT(bind_port(k.l, 7200), 0);
    CHECK_EQ_INT(k.l->ops->listen(k.l, 4), 0);
    k.c = tcp_new(A);
    connect_to(k.c, B, 7200);
    k.s = accept_within(k.l, 5 * SEC, NULL);
    if (!k.s)
        give_up("no connection to accept", 0);
    CHECK(RUN_UNTIL(pollev(k.c) & POLLOUT, 1 * SEC));
    twin_run_for(200 * MS);
    struct tcp_sock *tb = tsk(k.s);
    u = mem_of(B);
    printf("  idle: b's ring %u bytes, budget %llu bytes (a block is %llu); rbuf_size %u for "
           "SO_RCVBUF %u, window scale %u\n", tb->rbuf_cap, (unsigned long long)u.used,
           (unsigned long long)TCP_BLOCK, tb->rbuf_size, (unsigned)RCVBUF, tb->rcv_wscale);
    CHECK(tb->rbuf == NULL);
    CHECK_EQ_INT(tb->rbuf_cap, 0);
    CHECK(tsk(k.c)->rbuf == NULL);
    CHECK_EQ_INT(u.used, 2 * TCP_BLOCK);
    CHECK_EQ_INT(tb->rbuf_size, b_tcp_rcv_max_for(RCVBUF));
    CHECK_EQ_INT(tb->rbuf_size, 256 * 1024 - 128);
    static struct ring_watch rw;
    rw.tp = tb;
    rw.aport = lport(k.c);
    set_hook(watch_ring, &rw);
    /* the first byte: the smallest ring */
    CHECK_EQ_INT(send_bytes(k.c, "x", 1), 1);
    CHECK(RUN_UNTIL(pollev(k.s) & POLLIN, 1 * SEC));
    CHECK_EQ_INT(tb->rbuf_cap, 4096 - 128);
    CHECK_EQ_INT(mem_of(B).used, 2 * TCP_BLOCK + 4096);
    char one;
    CHECK_EQ_INT(recv_bytes(k.s, &one, 1), 1);
    /* a reader that does not read: the ring grows to its most */
    struct stream st;
    stream_init(&st, k.c, k.s, 43, 2 * MIB);
    st.no_read = true;
    RUN_UNTIL((pump(&st, 1), false), 3 * SEC);
    u = mem_of(B);
    printf("  not reading: ring sizes");
    for (int i = 0; i < rw.ncaps; i++)
        printf(" %u", rw.caps[i]);
    printf("; holds %u; budget %llu; largest window advertised %u\n", tb->rbuf_len,
           (unsigned long long)u.used, rw.max_win);
    CHECK_EQ_INT(tb->rbuf_cap, tb->rbuf_size);
    CHECK_EQ_INT(tb->rbuf_len, tb->rbuf_size);
    CHECK_EQ_INT(u.used, 2 * TCP_BLOCK + RING_ALLOC(tb->rbuf_size));
    CHECK(rw.ncaps >= 2);
    for (int i = 0; i < rw.ncaps; i++) {
        uint64_t a = RING_ALLOC(rw.caps[i]);
        CHECK((a & (a - 1)) == 0);                      /* a power of two, all used */
        if (i)
            CHECK(rw.caps[i] > rw.caps[i - 1]);
    }
    CHECK_EQ_INT(rw.caps[0], 4096 - 128);
    CHECK_EQ_INT(rw.caps[rw.ncaps - 1], tb->rbuf_size);
    CHECK(rw.max_win <= RCVBUF);
    CHECK(rw.max_win <= tb->rbuf_size);
    CHECK(rw.max_win >= tb->rbuf_size / 2);
    /* read it all: below pressure the ring stays */
    st.no_read = false;
    CHECK(run_streams(&st, 1, 30 * SEC));
    check_stream(&st);
    stream_free(&st);
    twin_run_for(100 * MS);
    CHECK_EQ_INT(tb->rbuf_len, 0);
    CHECK_EQ_INT(tb->rbuf_cap, tb->rbuf_size);
    CHECK(rw.max_win <= RCVBUF);
    /* pressure: five more connections whose reader does not read */
    enum { P = 5 };
    uint64_t events = b_net_mem_stats.pressure_events;
    struct sock *l2 = listen_on(B, 7201, 8);
    struct sock *c2[P], *s2[P];
    static struct stream st2[P];
    for (int i = 0; i < P; i++) {
        c2[i] = tcp_new(A);
        connect_to(c2[i], B, 7201);
        s2[i] = accept_within(l2, 5 * SEC, NULL);
        if (!s2[i])
            give_up("no connection to accept", 0);
        stream_init(&st2[i], c2[i], s2[i], (uint32_t)(50 + i), 1 * MIB);
        st2[i].no_read = true;
    }
    uint64_t before = mem_of(B).used;
    /* stop at the event that takes the budget past pressure: no tick yet */
    RUN_UNTIL(({ pump(st2, P); mem_of(B).used > MIB; }), 5 * SEC);
    u = mem_of(B);
    CHECK(tb->rbuf != NULL);
    printf("  %d more connections not reading: budget %llu (pressure %llu), pressure "
           "events +%llu\n", P, (unsigned long long)u.used, (unsigned long long)u.pressure,
           (unsigned long long)(b_net_mem_stats.pressure_events - events));
    CHECK(u.used > u.pressure);
    CHECK(b_net_mem_stats.pressure_events > events);
    /* the first connection's empty ring goes at the next tick */
    twin_run_for(2 * TICK);
    printf("  after a tick: first ring %s, budget %llu (was %llu with it, before the "
           "others' data)\n", tb->rbuf ? "kept" : "given back",
           (unsigned long long)mem_of(B).used, (unsigned long long)before);
    CHECK(tb->rbuf == NULL);
    CHECK_EQ_INT(tb->rbuf_cap, 0);
    /* under pressure again, a ring emptied by a read goes at once */
    RUN_UNTIL(({ pump(st2, P); mem_of(B).used > MIB; }), 5 * SEC);
    CHECK(mem_of(B).used > MIB);
    struct tcp_sock *t0 = tsk(s2[0]);
    uint64_t held = RING_ALLOC(t0->rbuf_cap), used = mem_of(B).used;
    CHECK(t0->rbuf_len > 0);
    st2[0].no_read = false;
    stream_read(&st2[0]);
    printf("  read under pressure: ring of %llu bytes %s, budget %llu -> %llu\n",
           (unsigned long long)held, t0->rbuf ? "kept" : "given back",
           (unsigned long long)used, (unsigned long long)mem_of(B).used);
    CHECK(t0->rbuf == NULL);
    CHECK_EQ_INT(mem_of(B).used, used - held);
    /* everything arrives; windows stayed within SO_RCVBUF */
    for (int i = 0; i < P; i++)
        st2[i].no_read = false;
    CHECK(run_streams(st2, P, 60 * SEC));
    for (int i = 0; i < P; i++) {
        check_stream(&st2[i]);
        stream_free(&st2[i]);
    }
    CHECK(rw.max_win <= RCVBUF);
    CHECK(mem_of(B).peak <= mem_of(B).limit);
    for (int i = 0; i < P; i++) {
        c2[i]->ops->close(c2[i]);
        s2[i]->ops->close(s2[i]);
    }
    l2->ops->close(l2);
    close_conn(&k);
    twin_run_for(65 * SEC);                             /* TIME_WAIT */
    printf("  all closed: budget a %llu, b %llu\n", (unsigned long long)mem_of(A).used,
           (unsigned long long)mem_of(B).used);
    CHECK_EQ_INT(mem_of(B).used, 0);
    CHECK_EQ_INT(mem_of(A).used, 0);
    end_checks();
}

/* ---- the budget ---- */

/* Both sides with an 8 MiB budget (pressure 683 KiB, high 1 MiB, limit
 * 2 MiB) and 8 connections whose readers do not read: the senders queue
 * until a's budget is at high, then wait (no POLLOUT, EAGAIN) though
 * their send buffers have room; b's rings stop growing. When the readers
 * read, the senders go on and every byte arrives intact; when all is
 * closed, both budgets are back at zero. */
TWIN_TEST(senders_wait_for_memory_and_nothing_leaks)
{
    struct twin_cfg cfg = { .seed = 0x7c90075,
                            .link = { .delay_ns = 2 * MS, .bandwidth_bps = 200000000 } };
    begin(&cfg);
    a_net_mem_configure(8 * MIB);
    b_net_mem_configure(8 * MIB);
    enum { N = 8 };
    const uint64_t len = 2 * MIB;
    struct sock *l = listen_on(B, 7300, 16);
    struct sock *c[N], *s[N];
    static struct stream st[N];
    for (int i = 0; i < N; i++) {
        c[i] = tcp_new(A);
        connect_to(c[i], B, 7300);
        s[i] = accept_within(l, 5 * SEC, NULL);
        if (!s[i])
            give_up("no connection to accept", 0);
        CHECK(RUN_UNTIL(pollev(c[i]) & POLLOUT, 1 * SEC));
        stream_init(&st[i], c[i], s[i], (uint32_t)(60 + i), len);
        st[i].no_read = true;
    }
    uint64_t waits = a_tcp_stats.mem_waits;
    RUN_UNTIL((pump(st, N), false), 5 * SEC);
    struct net_mem_usage ua = mem_of(A), ub = mem_of(B);
    uint64_t sent = 0, queued = 0;
    int stopped = 0;
    for (int i = 0; i < N; i++) {
        struct tcp_sock *t = tsk(c[i]);
        uint32_t q = t->snd_end - t->snd_una;
        sent += st[i].sent;
        queued += q;
        bool out = pollev(c[i]) & POLLOUT;
        uint64_t before = st[i].sent;
        stream_write(&st[i]);                           /* EAGAIN: nothing taken */
        /* the send buffer has room: only memory stops it */
        if (!out && st[i].sent == before && !st[i].err && q + 64 * 1024 < t->sock.sndbuf)
            stopped++;
        else
            printf("  sender %d: POLLOUT %d, %u queued, send took %llu\n", i, out, q,
                   (unsigned long long)(st[i].sent - before));
    }
    printf("  not reading for 5 s: %llu bytes sent, %llu queued at a; a's budget %llu "
           "(high %llu, limit %llu, peak %llu), %llu memory waits; b's %llu (pressure %llu, "
           "peak %llu); %d of %d senders stopped short of their send buffer\n",
           (unsigned long long)sent, (unsigned long long)queued, (unsigned long long)ua.used,
           (unsigned long long)ua.high, (unsigned long long)ua.limit,
           (unsigned long long)ua.peak, (unsigned long long)(a_tcp_stats.mem_waits - waits),
           (unsigned long long)ub.used, (unsigned long long)ub.pressure,
           (unsigned long long)ub.peak, stopped, N);
    CHECK_EQ_INT(stopped, N);
    CHECK(a_tcp_stats.mem_waits > waits);
    CHECK(ua.used + 64 * 1024 + sizeof(struct tcp_chunk) > ua.high);
    CHECK(ua.peak <= ua.limit);
    CHECK(ub.peak <= ub.limit);
    CHECK(sent < N * len);
    /* the readers read: everything arrives */
    for (int i = 0; i < N; i++)
        st[i].no_read = false;
    CHECK(run_streams(st, N, 120 * SEC));
    for (int i = 0; i < N; i++) {
        check_stream(&st[i]);
        stream_free(&st[i]);
    }
    for (int i = 0; i < N; i++) {
        c[i]->ops->close(c[i]);
        s[i]->ops->close(s[i]);
    }
    l->ops->close(l);
    twin_run_for(65 * SEC);                             /* TIME_WAIT */
    ua = mem_of(A);
    ub = mem_of(B);
    printf("  all closed: budget a %llu (peak %llu), b %llu (peak %llu)\n",
           (unsigned long long)ua.used, (unsigned long long)ua.peak,
           (unsigned long long)ub.used, (unsigned long long)ub.peak);
    CHECK_EQ_INT(ua.used, 0);
    CHECK_EQ_INT(ub.used, 0);
    end_checks();
}

/* NewReno's "recover" starts at the ISS (RFC 6582 3.2 step 1). It used to
 * start at 0 (tcp_alloc's kzalloc), and tcp_dupack enters fast
 * retransmit only when SEQ_GT(snd_una, recover - 1): for an ISS in the
 * upper half of the sequence space (seen from 0) that was false, so such
 * a connection's first loss waited for the retransmission timeout (1 s
 * before an RTT sample) whatever the duplicate ACKs said. Eight
 * connections, one segment lost of ten each: the hole must fill within a
 * few round trips (10 ms), by fast retransmit, on every one of them. */
TWIN_TEST(fast_retransmit_on_the_first_loss_whatever_the_iss)
{
    struct twin_cfg cfg = { .seed = 0x7c90076, .link = { .delay_ns = 5 * MS } };
    begin(&cfg);
    enum { CONNS = 8 };
    int slow = 0;
    for (int i = 0; i < CONNS; i++) {
        struct conn k;
        static struct holder h;
        ooo_conn(&k, (uint16_t)(7400 + i), &h);
        uint32_t m = info(k.c).tcpi_snd_mss;
        struct tcp_sock *tb = tsk(k.s);
        h.lo[0] = m;
        h.hi[0] = 2 * m;
        h.n = 1;
        h.hold = h.once = true;
        struct stream st;
        stream_init(&st, k.c, k.s, (uint32_t)(70 + i), 10 * m);
        uint64_t t0 = twin_now();
        stream_write(&st);
        CHECK(RUN_UNTIL(tb->rcv_nxt - h.base == 10 * m, 5 * SEC));
        uint64_t took = twin_now() - t0;
        uint32_t iss = h.base - 1;
        bool fast = took < 100 * MS;
        slow += !fast;
        printf("  ISS %#010x (%s half): one segment lost, hole filled after %llu ms (%s)\n",
               iss, SEQ_GT(iss, 0xffffffffu) ? "lower" : "upper",
               (unsigned long long)(took / MS), fast ? "fast retransmit" : "timeout");
        CHECK(run_streams(&st, 1, 5 * SEC));
        check_stream(&st);
        stream_free(&st);
        close_conn(&k);
        twin_run_for(100 * MS);
    }
    printf("  %d of %d connections waited for the timeout\n", slow, CONNS);
    CHECK_EQ_INT(slow, 0);
    end_checks();
}
