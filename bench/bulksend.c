/*
 * bulksend: the guest sender of the TCP throughput benchmark (bench/net.sh).
 * One static binary (tern cc: musl, static-PIE) that runs unchanged on Tern
 * and on Linux, so both guests run the very same program.
 *
 *   bulksend send --mode send|msg_zerocopy|zcopy|zcopy_txq|sendfile --to ADDR:PORT
 *                 --msg SIZE (--seconds S | --bytes N) [--ring K] [--file PATH]
 *   bulksend mkfile PATH BYTES      (the pattern stream, for sendfile)
 *
 * Why not apps/tcpbulk: that is a correctness tool. It fills every buffer
 * with the pattern and hashes every byte with SHA-256 before sending, which
 * costs more CPU per byte than the TCP stack does (natively ~220 MiB/s,
 * all of it in the hash; under TCG a few tens of MiB/s), so every mode
 * would measure the hash. Here the data is made once: a ring of K buffers
 * of SIZE bytes holding the first K*SIZE bytes of the pattern stream of
 * apps/tcp_pattern.h, sent in ring order over and over. The stream is then
 * that pattern with period K*SIZE, which bench/sink checks on a sampled
 * run (--verify-period), so a stack that sends wrong bytes, or sends a
 * buffer's bytes after handing it back, is still caught.
 *
 *   send          send() of each buffer in turn (the stack copies)
 *   msg_zerocopy  SO_ZEROCOPY + send(MSG_ZEROCOPY); a buffer is sent again
 *                 only after its completion came on the error queue
 *   zcopy         Tern's zcopy_tx; a buffer is sent again only after its
 *                 completion descriptor fired (exit status 3 off Tern)
 *   zcopy_txq     zcopy_tx through one completion queue (zcopy_txq): a
 *                 buffer is sent again once the queue's in-order count
 *                 covers its last call
 *   sendfile      sendfile() of PATH, SIZE bytes per call, rewinding at its
 *                 end (make it with `bulksend mkfile`: period = its size)
 *
 * The zero-copy modes never write a buffer again, so waiting for the
 * completion is only the lifetime rule (docs/zcopy.md); the ring is large
 * enough (harness: 4 MiB, at least 8 buffers) that the wait does not
 * starve the connection.
 *
 * With --seconds the sender stops at the first buffer boundary after S
 * seconds, so every case runs about as long whatever its speed. After the
 * last byte (and, zero-copy, the last completion) it half-closes and waits
 * for the receiver's close, then prints
 *
 *   bulksend: tcp_info rtt_us=... cwnd_segs=... snd_wnd=... segs_in=... (TCP_INFO as sending ends)
 *   bulksend: result mode=M msg=SIZE bytes=N secs=T gbps=G cpu=C copied=X
 *
 *   bulksend: counters Switches=... Wakeups=... Syscalls=... Completions=...
 *
 * (cpu: CLOCK_PROCESS_CPUTIME_ID seconds; copied: MSG_ZEROCOPY sends the
 * stack reported as copied; counters: on Tern, how much the TernCpu and
 * TernZcopy lines of /proc/net/netstat grew over the run - switches,
 * wakeups, IPIs, interrupts, syscalls, completions - for the per-MiB
 * table of bench/report.sh; absent on Linux). Errors: "bulksend: what: why", status 1 (2:
 * usage, 3: no zcopy_tx here).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <tern/zcopy.h>

#define TOOL_NAME "bulksend"
#define TOOL_USAGE \
    "usage: bulksend send --mode send|msg_zerocopy|zcopy|sendfile --to ADDR:PORT\n" \
    "                     --msg SIZE (--seconds S | --bytes N) [--ring K] [--file PATH]\n" \
    "       bulksend mkfile PATH BYTES\n"
#include "../apps/tcp_pattern.h"
#include "../apps/tool_util.h"
#include "../apps/tcp_send_mode.h"

typedef unsigned long long ull;

#define STALL_MS        (120 * 1000)    /* guests run under TCG: be patient */
#define MAX_RING        1024
#define MAX_PIECES      16              /* zcopy_tx calls per buffer, at most */

static double cpu_now(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t))
        return -1;
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct {
    int s;
    enum send_mode mode;
    size_t msg;
    unsigned ring;
    double seconds;             /* 0: use total */
    ull total;
    const char *file;

    unsigned char **buf;
    double t_end;
    ull sent;

    /* zero-copy bookkeeping, per ring slot */
    unsigned pending[MAX_RING];         /* completions still owed */
    int zfd[MAX_RING][MAX_PIECES];      /* zcopy: completion descriptors */
    unsigned nzfd[MAX_RING];
    int q;                              /* zcopy_txq: the queue */
    ull q_sent, q_done;                 /* calls counted, completions read */
    ull q_last[MAX_RING];               /* the count that frees each slot */
    /* msg_zerocopy: send id -> slot. Ids are handed out in order and at
     * most MAX_RING * MAX_PIECES can be outstanding, so a table that size
     * (a power of two) indexed by id never collides. */
    uint16_t id_slot[MAX_RING * MAX_PIECES];
    uint32_t next_id;
    ull copied, notifications;
} S;

#define ID_MASK (MAX_RING * MAX_PIECES - 1)

/* Stop now? Checked once per buffer: the clock read costs a system call on
 * Tern, which is small beside sending a buffer. */
static int more(void)
{
    if (S.seconds > 0)
        return now() < S.t_end;
    return S.sent < S.total;
}

static size_t this_len(void)
{
    if (S.seconds > 0 || S.total - S.sent >= S.msg)
        return S.msg;
    return (size_t)(S.total - S.sent);
}

/* -------------------------------------------------------- MSG_ZEROCOPY --- */

/* Reads every queued notification; with wait, first waits for one. */
static void reap_errqueue(int wait)
{
    if (wait) {
        struct pollfd p = { .fd = S.s, .events = 0 };
        int r;
        while ((r = poll(&p, 1, STALL_MS)) < 0 && errno == EINTR)
            ;
        if (r <= 0)
            die("no MSG_ZEROCOPY completion within %d s: %s", STALL_MS / 1000,
                r < 0 ? strerror(errno) : "timed out");
    }
    for (;;) {
        char control[128];
        struct msghdr m = { .msg_control = control, .msg_controllen = sizeof(control) };
        if (!recv_errqueue(S.s, &m))
            return;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level != SOL_IP || c->cmsg_type != IP_RECVERR ||
                c->cmsg_len < CMSG_LEN(sizeof(struct zc_sock_extended_err)))
                continue;
            struct zc_sock_extended_err ee;
            memcpy(&ee, CMSG_DATA(c), sizeof(ee));
            if (ee.ee_origin != ZC_SO_EE_ORIGIN_ZEROCOPY || ee.ee_errno)
                die("error queue: origin %u errno %u (%s)", ee.ee_origin, ee.ee_errno,
                    strerror((int)ee.ee_errno));
            uint32_t lo = ee.ee_info, hi = ee.ee_data;
            /* At most the table's worth of ids can be outstanding. */
            if ((uint32_t)(hi - lo) > ID_MASK || (uint32_t)(S.next_id - 1 - hi) > ID_MASK)
                die("error queue: range [%u, %u] is not outstanding (next id %u)", lo, hi,
                    S.next_id);
            S.notifications++;
            if (ee.ee_code & ZC_SO_EE_CODE_ZEROCOPY_COPIED)
                S.copied += (ull)(hi - lo) + 1;
            for (uint32_t id = lo;; id++) {
                unsigned slot = S.id_slot[id & ID_MASK];
                if (!S.pending[slot])
                    die("a second completion for send id %u", id);
                S.pending[slot]--;
                if (id == hi)
                    break;
            }
        }
    }
}

static void send_msg_zerocopy(unsigned slot, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(S.s, S.buf[slot] + done, len - done, MSG_ZEROCOPY | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ENOBUFS) {    /* notifications fill optmem: read them */
            reap_errqueue(1);
            continue;
        }
        if (n <= 0)
            die("send(MSG_ZEROCOPY): %s", n < 0 ? strerror(errno) : "returned 0");
        if (S.pending[slot] >= MAX_PIECES)
            die("send(MSG_ZEROCOPY) took a %zu-byte buffer in more than %d pieces", len,
                MAX_PIECES);
        S.id_slot[S.next_id++ & ID_MASK] = (uint16_t)slot;
        S.pending[slot]++;
        done += (size_t)n;
    }
}

/* -------------------------------------------------------------- zcopy --- */

static __attribute__((noreturn)) void zcopy_missing(void)
{
    fflush(stdout);
    fprintf(stderr, "bulksend: zcopy_tx: %s: this mode needs Tern (not running on Tern?)\n",
            strerror(ENOSYS));
    exit(3);
}

/* zcopy and zcopy_txq: the slot's bytes by reference, in as many calls as
 * the stack takes; zcopy keeps each call's descriptor, zcopy_txq counts
 * the calls (the queue reports them in that order). */
static void send_zcopy(unsigned slot, size_t len)
{
    int txq = S.mode == M_ZCOPY_TXQ;
    size_t done = 0;
    while (done < len) {
        struct iovec iov;
        struct zmsghdr zm;
        zmsg_one(&zm, &iov, S.buf[slot] + done, len - done);
        ssize_t n = txq ? zcopy_txq(S.s, &zm, S.q) : zcopy_tx(S.s, &zm);
        if (n < 0 && errno == EINTR)
            continue;
        if (txq) {
            if (n <= 0)
                die("zcopy_txq of %zu bytes: %s", len - done,
                    n < 0 ? strerror(errno) : "no bytes");
            S.q_sent++;
        } else {
            if (n < 0 && errno == ENOSYS)
                zcopy_missing();
            if (n <= 0 || zm.zm_txfd < 0)
                die("zcopy_tx of %zu bytes: %s", len - done,
                    n < 0 ? strerror(errno) : "no bytes or no completion descriptor");
            if (S.nzfd[slot] >= MAX_PIECES)
                die("zcopy_tx took a %zu-byte buffer in more than %d pieces", len, MAX_PIECES);
            S.zfd[slot][S.nzfd[slot]++] = zm.zm_txfd;
        }
        done += (size_t)n;
    }
    if (txq)
        S.q_last[slot] = S.q_sent;
}

/* Reads the queue until its in-order count covers the slot's last call:
 * one system call for all the completions that came meanwhile. */
static void txq_wait(unsigned slot)
{
    while (S.q_done < S.q_last[slot]) {
        uint64_t n;
        ssize_t r = read(S.q, &n, sizeof(n));
        if (r < 0 && errno == EINTR)
            continue;
        if (r != (ssize_t)sizeof(n))
            die("read of the zcopy_txq queue: %s", r < 0 ? strerror(errno) : "not 8 bytes");
        S.q_done += n;
    }
}

/* Waits for every completion of a slot. */
static void zcopy_wait(unsigned slot)
{
    for (unsigned i = 0; i < S.nzfd[slot]; i++) {
        uint64_t v;
        struct pollfd p = { .fd = S.zfd[slot][i], .events = POLLIN };
        int r;
        while ((r = poll(&p, 1, STALL_MS)) < 0 && errno == EINTR)
            ;
        if (r <= 0)
            die("no zcopy_tx completion within %d s: %s", STALL_MS / 1000,
                r < 0 ? strerror(errno) : "timed out");
        if (read(S.zfd[slot][i], &v, sizeof(v)) != (ssize_t)sizeof(v))
            die("read of a zcopy completion descriptor: %s", strerror(errno));
        struct zmsghdr zm = { .zm_txfd = S.zfd[slot][i] };
        zcopy_txclose(&zm);
    }
    S.nzfd[slot] = 0;
}

/* ------------------------------------------------------------ senders --- */

static void wait_slot(unsigned slot)
{
    if (S.mode == M_ZCOPY) {
        zcopy_wait(slot);
    } else if (S.mode == M_ZCOPY_TXQ) {
        txq_wait(slot);
    } else if (S.mode == M_MSG_ZEROCOPY) {
        /* The error queue only when this slot is still owed: one reap
         * takes every notification queued meanwhile (the stack merges
         * consecutive ranges), so while completions keep up there is no
         * system call per buffer for them. */
        if (S.pending[slot]) {
            reap_errqueue(0);
            while (S.pending[slot])
                reap_errqueue(1);
        }
    }
}

static void send_copy(unsigned slot, size_t len)
{
    if (send_all(S.s, S.buf[slot], len, NULL))
        die("send: %s", errno ? strerror(errno) : "returned 0");
}

static void run_ring(void)
{
    for (unsigned slot = 0; more(); slot = (slot + 1) % S.ring) {
        size_t len = this_len();
        wait_slot(slot);
        switch (S.mode) {
        case M_SEND: send_copy(slot, len); break;
        case M_MSG_ZEROCOPY: send_msg_zerocopy(slot, len); break;
        case M_ZCOPY:
        case M_ZCOPY_TXQ: send_zcopy(slot, len); break;
        case M_SENDFILE: break;
        }
        S.sent += len;
    }
    for (unsigned slot = 0; slot < S.ring; slot++)
        wait_slot(slot);
}

static void run_sendfile(void)
{
    int fd = open(S.file, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st))
        die("%s: %s", S.file, strerror(errno));
    if (st.st_size <= 0)
        die("%s: empty", S.file);
    off_t off = 0;
    while (more()) {
        size_t len = this_len();
        while (len) {
            if (off == st.st_size)
                off = 0;
            size_t want = len < (size_t)(st.st_size - off) ? len : (size_t)(st.st_size - off);
            ssize_t n = sendfile(S.s, fd, &off, want);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                die("sendfile: %s", n < 0 ? strerror(errno) : "returned 0");
            len -= (size_t)n;
            S.sent += (ull)n;
        }
    }
    close(fd);
}

static void finish_and_wait(void)
{
    if (shutdown(S.s, SHUT_WR))
        die("shutdown: %s", strerror(errno));
    for (;;) {
        char c[256];
        struct pollfd p = { .fd = S.s, .events = POLLIN };
        int r = poll(&p, 1, STALL_MS);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("waiting for the receiver's close: %s", r < 0 ? strerror(errno) : "timed out");
        ssize_t n = recv(S.s, c, sizeof(c), 0);
        if (n == 0)
            return;
        if (n < 0 && errno != EINTR)
            die("waiting for the receiver's close: %s", strerror(errno));
        if (n > 0)
            die("the receiver sent data");
    }
}

/* The connection as the last send left it: what limits a sender that is
 * neither CPU- nor device-bound (window, round trip, losses). Printed, not
 * judged; the bench keeps it in each run's log. */
static void report_tcp_info(void)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(S.s, IPPROTO_TCP, TCP_INFO, &ti, &len)) {
        say("tcp_info: %s", strerror(errno));
        return;
    }
    say("tcp_info rtt_us=%u rttvar_us=%u cwnd_segs=%u ssthresh_segs=%u mss=%u snd_wnd=%u "
        "unacked_segs=%u total_retrans=%u segs_out=%u segs_in=%u data_segs_out=%u",
        ti.tcpi_rtt, ti.tcpi_rttvar, ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh, ti.tcpi_snd_mss,
        len >= offsetof(struct tcp_info, tcpi_snd_wnd) + sizeof(ti.tcpi_snd_wnd) ? ti.tcpi_snd_wnd : 0,
        ti.tcpi_unacked, ti.tcpi_total_retrans, ti.tcpi_segs_out, ti.tcpi_segs_in,
        ti.tcpi_data_segs_out);
}

/* The TernCpu and TernZcopy counters of /proc/net/netstat (Tern only:
 * Linux has no such lines, and then n stays 0). Each is a header line of
 * names followed by a line of values, as Linux's own sections are. */
enum { COUNTERS_MAX = 16 };
struct counters {
    int n;
    char name[COUNTERS_MAX][32];
    ull value[COUNTERS_MAX];
};

static void counters_read(struct counters *c)
{
    c->n = 0;
    FILE *f = fopen("/proc/net/netstat", "r");
    if (!f)
        return;
    char head[512], vals[512];
    while (fgets(head, sizeof(head), f) && fgets(vals, sizeof(vals), f)) {
        if (strncmp(head, "TernCpu:", 8) && strncmp(head, "TernZcopy:", 10))
            continue;
        char *hs, *vs;
        char *h = strtok_r(strchr(head, ':') + 1, " \n", &hs);
        char *v = strtok_r(strchr(vals, ':') ? strchr(vals, ':') + 1 : vals, " \n", &vs);
        for (; h && v && c->n < COUNTERS_MAX; h = strtok_r(NULL, " \n", &hs),
                                               v = strtok_r(NULL, " \n", &vs)) {
            snprintf(c->name[c->n], sizeof(c->name[0]), "%s", h);
            c->value[c->n++] = strtoull(v, NULL, 10);
        }
    }
    fclose(f);
}

static void counters_report(const struct counters *before, const struct counters *after)
{
    if (!after->n || after->n != before->n)
        return;
    char line[1024];
    size_t used = 0;
    for (int i = 0; i < after->n && used < sizeof(line); i++)
        used += (size_t)snprintf(line + used, sizeof(line) - used, " %s=%llu", after->name[i],
                                 after->value[i] - before->value[i]);
    say("counters%s", line);
}

static int cmd_send(int argc, char **argv)
{
    const char *to = NULL, *mode = NULL;
    ull x;
    S.ring = 8;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = option_value(argc, argv, &i);
        if (!strcmp(a, "--mode"))
            mode = v;
        else if (!strcmp(a, "--to"))
            to = v;
        else if (!strcmp(a, "--file"))
            S.file = v;
        else if (!strcmp(a, "--msg") && !parse_size(v, &x) && x && x <= (64u << 20))
            S.msg = (size_t)x;
        else if (!strcmp(a, "--ring") && !parse_size(v, &x) && x && x <= MAX_RING)
            S.ring = (unsigned)x;
        else if (!strcmp(a, "--seconds") && !parse_size(v, &x) && x)
            S.seconds = (double)x;
        else if (!strcmp(a, "--bytes") && !parse_size(v, &x) && x)
            S.total = x;
        else
            usage("a bad option or value");
    }
    if (!mode || !to || !S.msg || (S.seconds > 0) == (S.total > 0))
        usage("send needs --mode, --to, --msg and one of --seconds, --bytes");
    const char *bad_mode = parse_send_mode(mode, S.file != NULL, &S.mode);
    if (bad_mode)
        usage(bad_mode);
    if ((S.mode == M_ZCOPY || S.mode == M_ZCOPY_TXQ) && !have_zcopy_tx())
        zcopy_missing();
    if (S.mode == M_ZCOPY_TXQ && (S.q = zcopy_txq_open(0)) < 0)
        die("zcopy_txq_open: %s", strerror(errno));
    if (S.mode != M_SENDFILE) {
        /* The ring, filled once: stream bytes [0, K * SIZE). */
        S.buf = calloc(S.ring, sizeof(*S.buf));
        if (!S.buf)
            die("out of memory");
        for (unsigned i = 0; i < S.ring; i++) {
            S.buf[i] = aligned_alloc(4096, (S.msg + 4095) & ~(size_t)4095);
            if (!S.buf[i])
                die("out of memory for %u buffers of %zu bytes", S.ring, S.msg);
            tcp_pattern_fill(S.buf[i], (uint64_t)i * S.msg, S.msg);
        }
    }
    ull period = (ull)S.ring * S.msg;
    if (S.mode == M_SENDFILE) {
        struct stat st;
        if (stat(S.file, &st))
            die("%s: %s", S.file, strerror(errno));
        period = (ull)st.st_size;
    }
    say("connecting to %s (mode %s, %zu-byte messages, stream period %llu)", to, mode, S.msg,
        period);
    struct sockaddr_in peer;
    const char *bad_to = parse_to_option(to, &peer);
    if (bad_to)
        usage(bad_to);
    S.s = connect_retrying(&peer, to, 20);
    if (S.mode == M_MSG_ZEROCOPY) {
        int one = 1;
        if (setsockopt(S.s, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
            die("setsockopt(SO_ZEROCOPY): %s", strerror(errno));
    }
    signal(SIGPIPE, SIG_IGN);
    struct counters k0, k1;
    counters_read(&k0);
    double c0 = cpu_now(), t0 = now();
    S.t_end = t0 + S.seconds;
    if (S.mode == M_SENDFILE)
        run_sendfile();
    else
        run_ring();
    report_tcp_info();
    finish_and_wait();
    double secs = now() - t0, cpu = cpu_now() - c0;
    counters_read(&k1);
    close(S.s);
    say("result mode=%s msg=%zu bytes=%llu secs=%.4f gbps=%.4f cpu=%.3f copied=%llu", mode, S.msg,
        S.sent, secs, (double)S.sent * 8 / secs / 1e9, c0 < 0 ? -1.0 : cpu, S.copied);
    counters_report(&k0, &k1);
    return 0;
}

static int cmd_mkfile(int argc, char **argv)
{
    ull n;
    if (argc != 2 || parse_size(argv[1], &n) || !n)
        usage("mkfile wants PATH BYTES");
    FILE *f = fopen(argv[0], "wb");
    if (!f)
        die("%s: %s", argv[0], strerror(errno));
    static unsigned char chunk[1 << 16];
    for (ull off = 0; off < n;) {
        size_t k = n - off < sizeof(chunk) ? (size_t)(n - off) : sizeof(chunk);
        tcp_pattern_fill(chunk, off, k);
        if (fwrite(chunk, 1, k, f) != k)
            die("%s: %s", argv[0], strerror(errno));
        off += k;
    }
    if (fclose(f))
        die("%s: %s", argv[0], strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    static const struct subcommand cmds[] = { { "send", cmd_send }, { "mkfile", cmd_mkfile },
                                              { 0 } };
    return run_subcommand(argc, argv, cmds, "expected send or mkfile");
}
