/*
 * libFuzzer target: random frames into the TCP/IP stack's input path
 * (net_input), with the timers ticking and sockets bound, read and
 * written as an app would, so that a malformed frame can neither crash
 * the stack (AddressSanitizer, UBSan), leak memory (find_leaks below),
 * nor hand out bytes that did not come from the frames (the stale-byte
 * check below).
 *
 * An input is a list of frames: [2-byte length][flags][frame bytes]...
 * Flag bit 0 asks to fix the IPv4 header checksum, bit 1 the UDP/ICMP/TCP
 * checksum, so that the fuzzer reaches past the checks; bit 2 advances
 * the clock by a second and runs the timers, bit 4 by 10 ms (one tick);
 * bit 3 delivers the frame on eth1, whose DHCP client is running.
 *
 * The stack: eth0 is 10.0.0.2/24 (MAC 52:54:00:12:34:56), gateway
 * 10.0.0.1; UDP sockets on ports 7, 53 and 5000; a ping socket; a TCP
 * listener on port 80 (each connection is read after every frame, what
 * it got is echoed back, and it is closed at the end of the input); a
 * TCP client connecting to 10.0.0.1:80 from port 32768 (its SYN waits
 * for ARP). random_u64 is fixed, so every ISS is 0x1234. The seeds in
 * tests/fuzz/seeds/net/ (tests/fuzz/gen_net_seeds.py) reach all of this.
 *
 * Stale-byte check. Every input runs twice, each time from the same
 * fresh stack, with kmalloc filling new (and freed) memory with a
 * different byte each run. Everything that leaves the stack -- datagrams
 * and TCP bytes the sockets deliver, frames it transmits -- is recorded;
 * if uninitialised or recycled heap memory reaches any of it, the two
 * records differ and the target aborts saying where. Besides, each 8-byte
 * block of a delivered UDP datagram (fragment offsets are multiples of 8,
 * so every block comes whole from one frame) must occur in this input's
 * frames.
 *
 * Fresh stack: the Makefile renames the stack's .data and .bss sections
 * (its globals: interface list, ARP cache, reassembly slots, socket
 * lists, counters, port cursors) to tern_net_data and tern_net_bss; their
 * bytes as they were before any setup are copied back before each run,
 * after every allocation the previous run left (kmalloc tracks them) was
 * freed. A new global in any stack file is covered without change here.
 *
 * Environment: FUZZ_NET_TRACE prints what leaves the stack;
 * FUZZ_NET_STALE_CHECKS and FUZZ_NET_SELFTEST are described below.
 */
#define _GNU_SOURCE                     /* memmem */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sanitizer/asan_interface.h>

#include <kern/byteorder.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/net.h>
#include <kern/printk.h>
#include <kern/socket.h>
#include <kern/waitq.h>
#include "net_internal.h"

#define NET_HOST_OWN_ALLOCATOR 1
#include "net_host.h"

uint64_t random_u64(void) { return 0x1234; }     /* DHCP's xid, TCP's ISS */
void printk(enum log_level l, const char *fmt, ...) { (void)l; (void)fmt; }

/* The harness's own loops are no coverage of the stack's. */
#define NOCOV __attribute__((no_sanitize("coverage")))

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz_net: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* ---- the allocator: filled, tracked ------------------------------------------ */

/* The byte new and freed memory is filled with in this run. */
static uint8_t fill_byte = 0xa5;

/* Live allocations, stored XOR-ed so that LeakSanitizer does not count
 * this table as a reference: memory the stack lost is still reported. */
#define HIDE 0x5a5a5a5a5a5a5a5aULL
static uintptr_t *live;
static size_t nlive, live_cap;

static void track(void *p)
{
    if (nlive == live_cap) {
        live_cap = live_cap ? 2 * live_cap : 1024;
        live = realloc(live, live_cap * sizeof(*live));
        if (!live)
            die("out of memory for the allocation table");
    }
    live[nlive++] = (uintptr_t)p ^ HIDE;
}

NOCOV static void untrack(void *p)
{
    uintptr_t h = (uintptr_t)p ^ HIDE;
    for (size_t i = nlive; i-- > 0;)            /* recent ones go first */
        if (live[i] == h) {
            live[i] = live[--nlive];
            return;
        }
    die("kfree(%p): not allocated by kmalloc", p);
}

/* Big blocks (TCP's receive buffers) are kept for the next run instead of
 * going back to malloc: a fresh mapping per run, faulted in page by page,
 * made runs a hundred times slower. While kept they are poisoned, so a
 * use after kfree is still caught (as a use after poison). */
#define BIG_BLOCK   (32 * 1024)
#define MAX_KEPT    16
static struct kept { void *p; size_t n; } kept[MAX_KEPT];
static unsigned nkept;

static void *take_kept(size_t n)
{
    for (unsigned i = 0; i < nkept; i++)
        if (kept[i].n == n) {
            void *p = kept[i].p;
            kept[i] = kept[--nkept];
            ASAN_UNPOISON_MEMORY_REGION(p, n);
            return p;
        }
    return NULL;
}

void *kmalloc(size_t n)
{
    void *p = n >= BIG_BLOCK ? take_kept(n) : NULL;
    if (!p)
        p = malloc(n ? n : 1);
    if (p) {
        memset(p, fill_byte, n ? n : 1);
        track(p);
    }
    return p;
}

void *kzalloc(size_t n)
{
    void *p = n >= BIG_BLOCK ? take_kept(n) : NULL;
    if (p)
        memset(p, 0, n);
    else
        p = calloc(1, n ? n : 1);
    if (p)
        track(p);
    return p;
}

static void release(void *p)
{
    size_t n = malloc_usable_size(p);
    memset(p, fill_byte ^ 0xff, n);
    if (n >= BIG_BLOCK && nkept < MAX_KEPT) {
        ASAN_POISON_MEMORY_REGION(p, n);
        kept[nkept++] = (struct kept){ p, n };
        return;
    }
    free(p);
}

void kfree(void *p)
{
    if (!p)
        return;
    untrack(p);
    release(p);
}

size_t kmalloc_usable_size(const void *p)
{
    return p ? malloc_usable_size((void *)p) : 0;
}

/* ---- the stack's globals ------------------------------------------------------- */

extern char __start_tern_net_data[], __stop_tern_net_data[];
extern char __start_tern_net_bss[], __stop_tern_net_bss[];
static char *pristine_data, *pristine_bss;

/* Unchecked: AddressSanitizer's redzones between the globals are part of
 * the sections (their bytes are copied back as they were; nothing reads
 * them). volatile keeps this from becoming a checked memcpy call. The
 * sections are aligned to 32 bytes and so are their lengths. */
__attribute__((no_sanitize("address", "coverage")))
static void copy_raw(char *dst, const char *src, size_t n)
{
    volatile uint64_t *d = (volatile uint64_t *)dst;
    const volatile uint64_t *s = (const volatile uint64_t *)src;
    for (size_t i = 0; i < n / 8; i++)
        d[i] = s[i];
    for (size_t i = n & ~(size_t)7; i < n; i++)
        ((volatile char *)dst)[i] = ((const volatile char *)src)[i];
}

static void save_pristine(void)
{
    size_t nd = (size_t)(__stop_tern_net_data - __start_tern_net_data);
    size_t nb = (size_t)(__stop_tern_net_bss - __start_tern_net_bss);
    pristine_data = malloc(nd + 1);
    pristine_bss = malloc(nb + 1);
    if (!pristine_data || !pristine_bss)
        die("out of memory for the stack's globals");
    copy_raw(pristine_data, __start_tern_net_data, nd);
    copy_raw(pristine_bss, __start_tern_net_bss, nb);
}

static void restore_pristine(void)
{
    copy_raw(__start_tern_net_data, pristine_data,
             (size_t)(__stop_tern_net_data - __start_tern_net_data));
    copy_raw(__start_tern_net_bss, pristine_bss,
             (size_t)(__stop_tern_net_bss - __start_tern_net_bss));
}

/* ---- what leaves the stack ---------------------------------------------------- */

enum { REC_XMIT = 'X', REC_UDP = 'U', REC_PING = 'P', REC_TCP_SERVER = 'S', REC_TCP_CLIENT = 'C' };

struct record_log {
    uint8_t *buf;
    size_t len, cap;
};
static struct record_log runs[2];
static struct record_log *rec;          /* this run's */

static void rec_put(const void *p, size_t n)
{
    if (!rec->buf || rec->len + n > rec->cap) {
        size_t cap = rec->cap ? rec->cap : 65536;
        while (cap < rec->len + n)
            cap *= 2;
        rec->buf = realloc(rec->buf, cap);
        if (!rec->buf)
            die("out of memory for the record");
        rec->cap = cap;
    }
    memcpy(rec->buf + rec->len, p, n);
    rec->len += n;
}

/* [kind][tag: port or connection, 2 bytes][length, 4 bytes][bytes] */
static bool trace;                      /* FUZZ_NET_TRACE set: print the records */
/* FUZZ_NET_STALE_CHECKS: "origin" or "compare" runs only that check (to
 * show each one finds a leak), "none" neither (to measure coverage past a
 * known leak); unset, both. */
static bool origin_check = true, compare_check = true;
/* FUZZ_NET_SELFTEST: "stale" hands the app one uninitialised kmalloc byte
 * in each UDP datagram (the reassembly bug's effect), "leak" loses a
 * block each run; the checks must catch them (tests/tool/net.sh). */
static const char *selftest = "";

static void record(uint8_t kind, uint16_t tag, const uint8_t *p, uint32_t n)
{
    if (trace && rec == &runs[0]) {
        fprintf(stderr, "fuzz_net: %c %5u %5u:", kind, tag, n);
        for (uint32_t i = 0; i < n && i < 64; i++)
            fprintf(stderr, " %02x", p[i]);
        fputc('\n', stderr);
    }
    uint8_t h[7] = { kind, (uint8_t)(tag >> 8), (uint8_t)tag,
                     (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
    rec_put(h, sizeof(h));
    rec_put(p, n);
}

static const char *kind_name(uint8_t k)
{
    switch (k) {
    case REC_XMIT: return "frame sent by the stack";
    case REC_UDP: return "UDP datagram delivered to port";
    case REC_PING: return "ICMP echo reply delivered to the ping socket";
    case REC_TCP_SERVER: return "TCP bytes read from accepted connection";
    case REC_TCP_CLIENT: return "TCP bytes read by the client";
    }
    return "?";
}

/* Both runs of one input must have let out the same bytes. */
NOCOV static void compare_runs(void)
{
    const struct record_log *a = &runs[0], *b = &runs[1];
    size_t off = 0, nrec = 0;
    while (off + 7 <= a->len && off + 7 <= b->len) {
        const uint8_t *ha = a->buf + off, *hb = b->buf + off;
        uint32_t na = get_be32(ha + 3), nb = get_be32(hb + 3);
        if (memcmp(ha, hb, 7) != 0)
            die("STALE BYTES: the two runs diverged at record %zu: %s %u, %u bytes vs %s %u, "
                "%u bytes (memory filled with 0x%02x, then 0x%02x, changed what the stack did)",
                nrec, kind_name(ha[0]), get_be16(ha + 1), na, kind_name(hb[0]),
                get_be16(hb + 1), nb, 0xa5, 0x5a);
        for (uint32_t i = 0; i < na; i++)
            if (ha[7 + i] != hb[7 + i])
                die("STALE BYTES: record %zu (%s %u, %u bytes): byte %u is 0x%02x in the run "
                    "that filled new memory with 0xa5 and 0x%02x in the one with 0x5a: "
                    "uninitialised or recycled memory reached it",
                    nrec, kind_name(ha[0]), get_be16(ha + 1), na, i, ha[7 + i], hb[7 + i]);
        off += 7 + na;
        nrec++;
    }
    if (a->len != b->len)
        die("STALE BYTES: one run let out %zu bytes of records, the other %zu (after record %zu)",
            a->len, b->len, nrec);
}

/* ---- where the bytes came from --------------------------------------------- */

/* This run's frames as the stack got them (checksums fixed). */
static uint8_t *frames;
static size_t frames_len, frames_cap;

static void frames_put(const uint8_t *p, size_t n)
{
    if (!frames || frames_len + n > frames_cap) {
        size_t cap = frames_cap ? frames_cap : 65536;
        while (cap < frames_len + n)
            cap *= 2;
        frames = realloc(frames, cap);
        if (!frames)
            die("out of memory for the frame log");
        frames_cap = cap;
    }
    memcpy(frames + frames_len, p, n);
    frames_len += n;
}

/* A UDP datagram's payload: each 8-byte block of its IP payload after the
 * UDP header must occur in the frames (the header itself the stack may
 * have seen with a fixed checksum, or built while reassembling). */
NOCOV static void check_udp_origin(uint16_t port, const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n; off += 8) {
        size_t k = n - off < 8 ? n - off : 8;
        if (!memmem(frames, frames_len, p + off, k))
            die("STALE BYTES: UDP datagram to port %u (%zu bytes): bytes %zu..%zu "
                "(%02x %02x %02x %02x ...) are in no frame of this input",
                port, n, off, off + k - 1, p[off], k > 1 ? p[off + 1] : 0,
                k > 2 ? p[off + 2] : 0, k > 3 ? p[off + 3] : 0);
    }
}

/* ---- the stack and its app ---------------------------------------------------- */

static int xmit(struct netif *ifp, struct netbuf *nb)
{
    (void)ifp;
    uint32_t n = netbuf_total(nb);
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        die("out of memory for a sent frame");
    netbuf_copy_out(nb, 0, copy, n);
    record(REC_XMIT, 0, copy, n);
    free(copy);
    netbuf_complete(nb);
    return 0;
}

#define MAX_CONNS 8
static const uint16_t udp_ports[3] = { 7, 53, 5000 };
static struct netif ifp, ifp_dhcp;
static struct sock *socks[3], *ping;
static struct sock *tcp_listener, *tcp_client;
static struct sock *conns[MAX_CONNS];
static unsigned nconns;

static void setup(void)
{
    memset(&ifp, 0, sizeof(ifp));
    memset(&ifp_dhcp, 0, sizeof(ifp_dhcp));
    memset(conns, 0, sizeof(conns));
    nconns = 0;
    fake_now = NET_HOST_START_NS;
    wakeups = 0;

    static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
    memcpy(ifp.name, "eth0", 5);
    memcpy(ifp.mac, mac, 6);
    ifp.mtu = 1500;
    ifp.xmit = xmit;
    netif_add(&ifp);
    uint8_t a[4] = { 10, 0, 0, 2 }, m[4] = { 255, 255, 255, 0 }, g[4] = { 10, 0, 0, 1 };
    uint32_t ip, mask, gw;
    memcpy(&ip, a, 4);
    memcpy(&mask, m, 4);
    memcpy(&gw, g, 4);
    netif_set_addr(&ifp, ip, mask, gw);
    for (int i = 0; i < 3; i++) {
        struct sock_addr sa = { 0, htons(udp_ports[i]) };
        udp_socket(&socks[i]);
        socks[i]->ops->bind(socks[i], &sa);
    }
    ping_socket(&ping);         /* an echo-reply consumer too */

    struct sock_addr any80 = { 0, htons(80) };
    tcp_socket(&tcp_listener);
    tcp_listener->ops->bind(tcp_listener, &any80);
    tcp_listener->ops->listen(tcp_listener, 8);
    struct sock_addr peer = { gw, htons(80) };
    tcp_socket(&tcp_client);
    tcp_client->ops->connect(tcp_client, &peer);

    static const uint8_t mac2[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x57 };
    memcpy(ifp_dhcp.name, "eth1", 5);
    memcpy(ifp_dhcp.mac, mac2, 6);
    ifp_dhcp.mtu = 1500;
    ifp_dhcp.xmit = xmit;
    netif_add(&ifp_dhcp);
    ifp_dhcp.up = true;
    dhcp_start(&ifp_dhcp);
}

static uint8_t rbuf[65536];

/* What an app would do after each frame: read every socket dry, accept
 * connections, echo what they sent. */
static void serve(void)
{
    struct sock_iov iov = { rbuf, sizeof(rbuf) };
    int mflags = 0;
    for (int i = 0; i < 3; i++) {
        int64_t n;
        while ((n = socks[i]->ops->recvmsg(socks[i], &iov, 1, NULL, 0, &mflags)) >= 0) {
            if (n > 0 && !strcmp(selftest, "stale")) {
                uint8_t *junk = kmalloc(1);
                rbuf[n - 1] = *junk;
                kfree(junk);
            }
            record(REC_UDP, udp_ports[i], rbuf, (uint32_t)n);
            if (origin_check)
                check_udp_origin(udp_ports[i], rbuf, (size_t)n);
        }
    }
    int64_t n;
    while ((n = ping->ops->recvmsg(ping, &iov, 1, NULL, 0, &mflags)) >= 0)
        record(REC_PING, 0, rbuf, (uint32_t)n);

    struct sock *c;
    struct sock_addr from;
    while (tcp_listener->ops->accept(tcp_listener, &c, &from) == 0) {
        if (nconns == MAX_CONNS)
            c->ops->close(c);
        else
            conns[nconns++] = c;
    }
    for (unsigned i = 0; i < nconns; i++) {
        while ((n = conns[i]->ops->recvmsg(conns[i], &iov, 1, NULL, 0, &mflags)) > 0) {
            record(REC_TCP_SERVER, (uint16_t)i, rbuf, (uint32_t)n);
            struct sock_iov out = { rbuf, (size_t)n };
            conns[i]->ops->sendmsg(conns[i], &out, 1, NULL, 0);
        }
    }
    while ((n = tcp_client->ops->recvmsg(tcp_client, &iov, 1, NULL, 0, &mflags)) > 0)
        record(REC_TCP_CLIENT, 0, rbuf, (uint32_t)n);
}

static void fix_checksums(uint8_t *f, size_t len, unsigned flags)
{
    if (len < 14 + 20 || get_be16(f + 12) != ETH_P_IP)
        return;
    uint8_t *ip = f + 14;
    size_t hlen = (ip[0] & 0xf) * 4u;
    if (hlen < 20 || 14 + hlen > len)
        return;
    if (flags & 1) {
        put_be16(ip + 10, 0);
        put_be16(ip + 10, inet_fold(inet_sum(ip, hlen, 0)));
    }
    size_t l4 = len - 14 - hlen;
    uint8_t *p = ip + hlen;
    if (!(flags & 2))
        return;
    if (ip[9] == 17 && l4 >= 8) {
        uint32_t src, dst;
        memcpy(&src, ip + 12, 4);
        memcpy(&dst, ip + 16, 4);
        put_be16(p + 4, (uint16_t)l4);
        put_be16(p + 6, 0);
        put_be16(p + 6, inet_fold(inet_sum(p, l4, ip_pseudo_sum(src, dst, 17, (uint16_t)l4))));
    } else if (ip[9] == 6 && l4 >= 20) {
        uint32_t src, dst;
        memcpy(&src, ip + 12, 4);
        memcpy(&dst, ip + 16, 4);
        put_be16(p + 16, 0);
        put_be16(p + 16, inet_fold(inet_sum(p, l4, ip_pseudo_sum(src, dst, 6, (uint16_t)l4))));
    } else if (ip[9] == 1 && l4 >= 4) {
        put_be16(p + 2, 0);
        put_be16(p + 2, inet_fold(inet_sum(p, l4, 0)));
    }
}

/* ---- leaks ----------------------------------------------------------------- */

/* LeakSanitizer cannot see the stack's leaks (the runs free everything it
 * holds) and its scan of the whole process costs ~25 ms, a hundred runs.
 * So the same idea, on the stack's memory only: every allocation must be
 * reachable, through pointers to anywhere inside blocks, from the stack's
 * globals or the harness's (its interfaces and sockets). Big blocks are
 * byte buffers (receive rings, reassembly data): not scanned for pointers. */
struct blk { uintptr_t a; size_t n; bool marked; };
static struct blk *blks;
static size_t nblks, blks_cap, *todo, ntodo;

NOCOV static int blk_cmp(const void *x, const void *y)
{
    uintptr_t a = ((const struct blk *)x)->a, b = ((const struct blk *)y)->a;
    return a < b ? -1 : a > b;
}

__attribute__((no_sanitize("address", "coverage")))
static void scan(const void *start, size_t len)
{
    const volatile uintptr_t *w = start;
    for (size_t i = 0; i < len / sizeof(uintptr_t); i++) {
        uintptr_t v = w[i];
        size_t lo = 0, hi = nblks;
        while (lo < hi) {                       /* the last block starting <= v */
            size_t mid = (lo + hi) / 2;
            if (blks[mid].a <= v)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo && v < blks[lo - 1].a + blks[lo - 1].n && !blks[lo - 1].marked) {
            blks[lo - 1].marked = true;
            todo[ntodo++] = lo - 1;
        }
    }
}

static void find_leaks(void)
{
    if (nlive > blks_cap) {
        blks_cap = nlive * 2;
        blks = realloc(blks, blks_cap * sizeof(*blks));
        todo = realloc(todo, blks_cap * sizeof(*todo));
        if (!blks || !todo)
            die("out of memory for the leak check");
    }
    nblks = nlive;
    for (size_t i = 0; i < nlive; i++) {
        void *p = (void *)(live[i] ^ HIDE);
        blks[i] = (struct blk){ (uintptr_t)p, malloc_usable_size(p), false };
    }
    qsort(blks, nblks, sizeof(*blks), blk_cmp);
    ntodo = 0;
    scan(__start_tern_net_data, (size_t)(__stop_tern_net_data - __start_tern_net_data));
    scan(__start_tern_net_bss, (size_t)(__stop_tern_net_bss - __start_tern_net_bss));
    scan(&ifp, sizeof(ifp));
    scan(&ifp_dhcp, sizeof(ifp_dhcp));
    scan(socks, sizeof(socks));
    scan(&ping, sizeof(ping));
    scan(&tcp_listener, sizeof(tcp_listener));
    scan(&tcp_client, sizeof(tcp_client));
    scan(conns, sizeof(conns));
    while (ntodo) {
        const struct blk *b = &blks[todo[--ntodo]];
        if (b->n < BIG_BLOCK)
            scan((const void *)b->a, b->n);
    }
    for (size_t i = 0; i < nblks; i++)
        if (!blks[i].marked)
            die("LEAK: a block of %zu bytes the stack allocated is reachable from none of "
                "its globals, interfaces or sockets (first bytes %02x %02x %02x %02x)",
                blks[i].n, ((uint8_t *)blks[i].a)[0], ((uint8_t *)blks[i].a)[1],
                ((uint8_t *)blks[i].a)[2], ((uint8_t *)blks[i].a)[3]);
}

/* One run of an input on a fresh stack, recording into *log. */
static void run(const uint8_t *data, size_t size, uint8_t fill, struct record_log *log)
{
    restore_pristine();
    fill_byte = fill;
    rec = log;
    rec->len = 0;
    frames_len = 0;
    setup();
    while (size >= 3) {
        size_t len = get_be16(data) % 2048;
        unsigned flags = data[2];
        data += 3;
        size -= 3;
        if (len > size)
            len = size;
        struct netbuf *nb = netbuf_alloc(len);
        uint8_t *f = netbuf_put(nb, len);
        memcpy(f, data, len);
        fix_checksums(f, len, flags);
        frames_put(f, len);
        net_input((flags & 8) ? &ifp_dhcp : &ifp, nb);
        data += len;
        size -= len;
        if (flags & 4) {
            fake_now += 1000000000ULL;
            net_tick();
        }
        if (flags & 16) {
            fake_now += NET_TICK_NS;
            net_tick();
        }
        serve();
    }
    for (unsigned i = 0; i < nconns; i++) {
        conns[i]->ops->close(conns[i]);
        conns[i] = NULL;
    }
    nconns = 0;
    serve();

    if (!strcmp(selftest, "leak"))
        kmalloc(24);
    find_leaks();
    while (nlive)
        release((void *)(live[--nlive] ^ HIDE));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        save_pristine();
        trace = getenv("FUZZ_NET_TRACE") != NULL;
        if (getenv("FUZZ_NET_SELFTEST"))
            selftest = getenv("FUZZ_NET_SELFTEST");
        const char *c = getenv("FUZZ_NET_STALE_CHECKS");
        if (c) {
            origin_check = !strcmp(c, "origin");
            compare_check = !strcmp(c, "compare");
            if (!origin_check && !compare_check && strcmp(c, "none"))
                die("FUZZ_NET_STALE_CHECKS=%s: expected origin, compare or none", c);
        }
        ready = true;
    }
    run(data, size, 0xa5, &runs[0]);
    run(data, size, 0x5a, &runs[1]);
    if (compare_check)
        compare_runs();
    return 0;
}
