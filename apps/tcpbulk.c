/*
 * tcpbulk: bulk TCP both ways with an end-to-end SHA-256, the guest side of
 * tests/guest/tcp.sh (issue 6: bulk TCP through send(), MSG_ZEROCOPY,
 * zcopy_tx and sendfile against the host's Linux TCP).
 *
 *   tcpbulk send --mode send|msg_zerocopy|zcopy|zcopy_txq|sendfile --to ADDR:PORT
 *                --bytes N [--msg SIZE] [--ring K] [--file PATH]
 *                [--require-ack-check] [--connect-timeout S]
 *   tcpbulk recv --port P --bytes N [--verify-pattern]
 *
 * Sizes take a K, M or G suffix (powers of 1024).
 *
 * send connects and sends N bytes, then shuts down its side and waits for
 * the peer to close (so every byte was received before it reports), and
 * prints "tcpbulk: sent N bytes sha256 HEX". The bytes are the pattern
 * stream of apps/tcp_pattern.h (each piece computable from its offset),
 * except in sendfile mode, where they are the file PATH over and over.
 *
 *   send          send() of --msg bytes at a time from one buffer
 *   msg_zerocopy  Linux's SO_ZEROCOPY + send(MSG_ZEROCOPY) from a ring of
 *                 K buffers; completions are read from the error queue
 *                 (recvmsg(MSG_ERRQUEUE)) and counted, with the ones the
 *                 stack reported as copied (SO_EE_CODE_ZEROCOPY_COPIED)
 *   zcopy         Tern's zcopy_tx (include/tern/zcopy.h) from a ring of K
 *                 buffers, each completion a descriptor to poll; not
 *                 available outside Tern: exit status 3
 *   zcopy_txq     the same through zcopy_txq: one completion queue whose
 *                 reads count the sends completed in order (Tern only)
 *   sendfile      sendfile() of PATH from its start, rewinding at its end
 *
 * The zero-copy lifetime test: in the zero-copy modes a buffer is
 * overwritten with the next part of the stream (at the end: with 0xee
 * bytes) the moment its completion arrives. If the stack still read it
 * after that (a retransmission from memory it gave back too early), the
 * peer receives bytes from the wrong place in the stream, which the
 * pattern check and the SHA-256 comparison catch. Before overwriting,
 * where getsockopt(TCP_INFO) works, tcpi_bytes_acked must already cover
 * the buffer's last byte ("completion before ACK" otherwise);
 * --require-ack-check makes a missing TCP_INFO an error instead of a note.
 *
 * recv listens on 0.0.0.0:P (P 0: a free port), prints "tcpbulk:
 * listening on port P", accepts one connection, reads to EOF and prints
 * "tcpbulk: received N bytes sha256 HEX"; with --verify-pattern each byte
 * is compared with the pattern stream at its offset. Status 0 when exactly
 * N bytes came intact.
 *
 * Any failure prints "tcpbulk: WHAT: why" on stderr and exits 1 (2 for
 * usage errors, 3 when zcopy_tx does not exist).
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

#include <kern/sha256.h>
#include <tern/zcopy.h>

#define TOOL_NAME "tcpbulk"
#define TOOL_USAGE \
    "usage: tcpbulk send --mode send|msg_zerocopy|zcopy|sendfile --to ADDR:PORT --bytes N\n" \
    "                    [--msg SIZE] [--ring K] [--file PATH] [--require-ack-check]\n" \
    "                    [--connect-timeout S]\n" \
    "       tcpbulk recv --port P --bytes N [--verify-pattern]\n"
#include "tcp_pattern.h"
#include "tool_util.h"
#include "tcp_send_mode.h"

/* How long to wait for any single event (a completion, the peer's close)
 * before calling the transfer stuck: long, because guests run under TCG. */
#define STALL_SECONDS 120

typedef unsigned long long ull;

static void hex(const uint8_t d[SHA256_DIGEST_SIZE], char out[2 * SHA256_DIGEST_SIZE + 1])
{
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void report_rate(const char *what, ull bytes, double secs)
{
    if (secs <= 0)
        secs = 1e-9;
    say("%s %.1f MiB in %.2f s, %.1f MiB/s", what, (double)bytes / (1 << 20), secs,
        (double)bytes / (1 << 20) / secs);
}

/* ------------------------------------------------------------- sender --- */

/* A ring buffer's life: FREE (nothing left to put in it), READY (holds
 * the next part of the stream, waiting its turn), SENDING (handed to the
 * stack, partly), BUSY (all handed over, completions outstanding). */
enum { SLOT_FREE, SLOT_READY, SLOT_SENDING, SLOT_BUSY };

struct slot {
    unsigned char *buf;
    uint64_t off;               /* stream offset of buf[0] */
    size_t len;                 /* stream bytes in buf */
    int state;
    unsigned pending;           /* completions still owed */
    uint32_t id_first, id_last; /* MSG_ZEROCOPY send ids (consecutive) */
};

/* One zcopy_tx call's completion descriptor. */
struct zpend {
    int fd;
    unsigned slot;
};

static struct {
    int s;
    enum send_mode mode;
    ull total, msg;
    unsigned ring;
    const char *file;
    int require_ack_check;

    struct sha256_ctx sha;
    ull filled;                 /* stream bytes placed in buffers and hashed */

    /* TCP_INFO: tcpi_bytes_acked right after the handshake (Linux counts
     * the SYN, so 1 there), subtracted from later readings. */
    int ack_check;
    ull acked_base;

    struct slot *slots;
    unsigned *readyq, rq_head, rq_count; /* READY slots in stream order */
    unsigned busy;                       /* slots SENDING or BUSY */

    uint32_t next_id;                    /* MSG_ZEROCOPY: the next send id */
    struct zpend *zp;                    /* zcopy: outstanding descriptors */
    unsigned nzp, zp_cap;
    int q;                               /* zcopy_txq: the completion queue */
    unsigned *qslot, q_head, q_len, q_cap; /* ... each counted send's slot, oldest first */

    /* counters for the summary */
    ull sends, notifications, completed_ids, copied_ids;
} S;

static void check_acked(const struct slot *sl)
{
    if (!S.ack_check)
        return;
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(S.s, IPPROTO_TCP, TCP_INFO, &ti, &len))
        die("getsockopt(TCP_INFO) after a completion: %s", strerror(errno));
    ull acked = ti.tcpi_bytes_acked - S.acked_base;
    ull end = sl->off + sl->len;
    if (acked < end)
        die("completion before ACK: the buffer holding stream bytes [%llu, %llu) completed "
            "while the peer had ACKed %llu bytes (tcpi_bytes_acked %llu, %llu after the "
            "handshake)",
            (ull)sl->off, end, acked, (ull)ti.tcpi_bytes_acked, S.acked_base);
}

/* Puts the next part of the stream into sl (and into the hash, which thus
 * sees the stream in order) and queues it, or poisons the buffer when the
 * stream is done: either way its old contents are gone. */
static void fill_slot(unsigned idx)
{
    struct slot *sl = &S.slots[idx];
    ull n = S.total - S.filled < S.msg ? S.total - S.filled : S.msg;
    if (!n) {
        memset(sl->buf, 0xee, S.msg);
        sl->len = 0;
        sl->state = SLOT_FREE;
        return;
    }
    tcp_pattern_fill(sl->buf, S.filled, n);
    sha256_update(&S.sha, sl->buf, n);
    sl->off = S.filled;
    sl->len = n;
    sl->pending = 0;
    sl->state = SLOT_READY;
    S.filled += n;
    S.readyq[(S.rq_head + S.rq_count++) % S.ring] = idx;
}

/* Every completion for the slot arrived: the stack is done with it. */
static void complete_slot(unsigned idx)
{
    check_acked(&S.slots[idx]);
    S.busy--;
    fill_slot(idx);     /* the overwrite, at once: the lifetime test */
}

static void one_completion(unsigned idx)
{
    struct slot *sl = &S.slots[idx];
    if (!sl->pending)
        die("a zero-copy completion for stream bytes [%llu, %llu), which had none outstanding",
            (ull)sl->off, (ull)(sl->off + sl->len));
    S.completed_ids++;
    if (--sl->pending == 0 && sl->state == SLOT_BUSY)
        complete_slot(idx);
}

static void check_socket_error(const char *when)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(S.s, SOL_SOCKET, SO_ERROR, &err, &len))
        die("getsockopt(SO_ERROR) %s: %s", when, strerror(errno));
    if (err)
        die("the connection failed %s: %s", when, strerror(err));
}

/* MSG_ZEROCOPY: the slot owning send id `id`. Ids are handed out in send
 * order and a slot's are consecutive, so a range test finds it. */
static unsigned slot_of_id(uint32_t id)
{
    for (unsigned i = 0; i < S.ring; i++) {
        struct slot *sl = &S.slots[i];
        if ((sl->state == SLOT_SENDING || sl->state == SLOT_BUSY) && sl->pending &&
            (uint32_t)(id - sl->id_first) <= (uint32_t)(sl->id_last - sl->id_first))
            return i;
    }
    die("a zero-copy completion for send id %u, which is not outstanding", id);
}

/* Reads every notification on the error queue; with `wait`, first waits
 * (bounded) until there is one. Returns how many it read. */
static unsigned reap_errqueue(int wait)
{
    if (wait) {
        struct pollfd p = { .fd = S.s, .events = 0 };
        int r;
        while ((r = poll(&p, 1, STALL_SECONDS * 1000)) < 0 && errno == EINTR)
            ;
        if (r < 0)
            die("poll for zero-copy completions: %s", strerror(errno));
        if (r == 0)
            die("no zero-copy completion within %d s (%u buffers outstanding, %llu of %llu "
                "bytes queued)", STALL_SECONDS, S.busy, S.filled, S.total);
    }
    unsigned got = 0;
    for (;;) {
        char control[128];
        struct msghdr m = { .msg_control = control, .msg_controllen = sizeof(control) };
        if (!recv_errqueue(S.s, &m))
            break;
        if (m.msg_flags & MSG_CTRUNC)
            die("recvmsg(MSG_ERRQUEUE): the control message was truncated");
        int seen = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                  (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)))
                continue;
            if (c->cmsg_len < CMSG_LEN(sizeof(struct zc_sock_extended_err)))
                die("recvmsg(MSG_ERRQUEUE): an IP_RECVERR message of %zu bytes, too short",
                    (size_t)c->cmsg_len);
            struct zc_sock_extended_err ee;
            memcpy(&ee, CMSG_DATA(c), sizeof(ee));
            if (ee.ee_origin != ZC_SO_EE_ORIGIN_ZEROCOPY || ee.ee_errno != 0)
                die("error queue: origin %u, errno %u (%s), not a zero-copy completion",
                    ee.ee_origin, ee.ee_errno, strerror((int)ee.ee_errno));
            uint32_t lo = ee.ee_info, hi = ee.ee_data;
            if ((uint32_t)(hi - lo) >= (uint32_t)(S.next_id - lo))
                die("error queue: zero-copy range [%u, %u] reaches past the last send id %u",
                    lo, hi, S.next_id - 1);
            S.notifications++;
            if (ee.ee_code & ZC_SO_EE_CODE_ZEROCOPY_COPIED)
                S.copied_ids += (ull)(uint32_t)(hi - lo) + 1;
            for (uint32_t id = lo;; id++) {
                one_completion(slot_of_id(id));
                if (id == hi)
                    break;
            }
            seen = 1;
            got++;
        }
        if (!seen)
            die("recvmsg(MSG_ERRQUEUE): a message without an IP_RECVERR control message");
    }
    if (wait && !got)
        check_socket_error("while waiting for zero-copy completions");
    return got;
}

/* zcopy: polls the outstanding completion descriptors (and the socket,
 * for errors); reads and closes each one that fired. */
static unsigned reap_zcopy(int wait)
{
    struct pollfd *p = calloc(S.nzp + 1, sizeof(*p));
    if (!p)
        die("out of memory for %u poll entries", S.nzp + 1);
    p[0].fd = S.s;
    for (unsigned i = 0; i < S.nzp; i++)
        p[i + 1] = (struct pollfd){ .fd = S.zp[i].fd, .events = POLLIN };
    int r;
    while ((r = poll(p, S.nzp + 1, wait ? STALL_SECONDS * 1000 : 0)) < 0 && errno == EINTR)
        ;
    if (r < 0)
        die("poll on %u zcopy completion descriptors: %s", S.nzp, strerror(errno));
    if (r == 0 && wait)
        die("no zcopy_tx completion within %d s (%u descriptors outstanding, %llu of %llu "
            "bytes queued)", STALL_SECONDS, S.nzp, S.filled, S.total);
    if (p[0].revents & POLLERR)
        check_socket_error("while waiting for zcopy_tx completions");
    unsigned got = 0, keep = 0;
    unsigned *done = calloc(S.nzp + 1, sizeof(*done));
    if (!done)
        die("out of memory");
    for (unsigned i = 0; i < S.nzp; i++) {
        short re = p[i + 1].revents;
        if (re & POLLIN) {
            uint64_t v = 0;
            ssize_t n = read(S.zp[i].fd, &v, sizeof(v));
            if (n != (ssize_t)sizeof(v))
                die("read of zcopy completion descriptor %d: %s", S.zp[i].fd,
                    n < 0 ? strerror(errno) : "not 8 bytes");
            struct zmsghdr zm = { .zm_txfd = S.zp[i].fd };
            zcopy_txclose(&zm);
            done[got++] = S.zp[i].slot;
        } else if (re & (POLLERR | POLLHUP | POLLNVAL)) {
            die("zcopy completion descriptor %d: poll reports 0x%x without POLLIN",
                S.zp[i].fd, re);
        } else {
            S.zp[keep++] = S.zp[i];
        }
    }
    S.nzp = keep;
    /* Completions are handled after the array is compact, because a
     * completion refills the slot, which the main loop may send again. */
    for (unsigned i = 0; i < got; i++)
        one_completion(done[i]);
    S.notifications += got;
    free(done);
    free(p);
    return got;
}

/* zcopy_txq: reads the queue's count of sends completed in order (with
 * wait, first waits for one, watching the socket for errors too) and
 * completes that many of the oldest counted sends. */
static unsigned reap_txq(int wait)
{
    struct pollfd p[2] = { { .fd = S.s }, { .fd = S.q, .events = POLLIN } };
    int r;
    while ((r = poll(p, 2, wait ? STALL_SECONDS * 1000 : 0)) < 0 && errno == EINTR)
        ;
    if (r < 0)
        die("poll on the zcopy_txq queue: %s", strerror(errno));
    if (r == 0 && wait)
        die("no zcopy_txq completion within %d s (%u sends outstanding, %llu of %llu bytes "
            "queued)", STALL_SECONDS, S.q_len, S.filled, S.total);
    if (p[0].revents & POLLERR)
        check_socket_error("while waiting for zcopy_txq completions");
    if (!(p[1].revents & POLLIN))
        return 0;
    uint64_t n = 0;
    ssize_t got = read(S.q, &n, sizeof(n));
    if (got != (ssize_t)sizeof(n))
        die("read of the zcopy_txq queue: %s", got < 0 ? strerror(errno) : "not 8 bytes");
    if (n == 0 || n > S.q_len)
        die("the zcopy_txq queue counted %llu completions with %u sends outstanding", (ull)n,
            S.q_len);
    S.notifications++;
    for (uint64_t i = 0; i < n; i++) {
        unsigned slot = S.qslot[S.q_head];
        S.q_head = (S.q_head + 1) % S.q_cap;
        S.q_len--;
        one_completion(slot);
    }
    return (unsigned)n;
}

static unsigned reap(int wait)
{
    switch (S.mode) {
    case M_ZCOPY: return reap_zcopy(wait);
    case M_ZCOPY_TXQ: return reap_txq(wait);
    default: return reap_errqueue(wait);
    }
}

static void send_slot_msg_zerocopy(struct slot *sl)
{
    size_t done = 0;
    while (done < sl->len) {
        ssize_t n = send(S.s, sl->buf + done, sl->len - done, MSG_ZEROCOPY | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* The socket's option memory is full of notifications that
             * were not read yet: read them, then go on. */
            if (errno == ENOBUFS) {
                reap(1);
                continue;
            }
            die("send(MSG_ZEROCOPY) of stream bytes [%llu, %llu): %s",
                (ull)(sl->off + done), (ull)(sl->off + sl->len), strerror(errno));
        }
        if (n == 0)
            die("send(MSG_ZEROCOPY) returned 0 at stream byte %llu", (ull)(sl->off + done));
        /* Linux numbers each send call that queued data; the slot's ids
         * are consecutive because it is sent in one go. */
        uint32_t id = S.next_id++;
        if (!sl->pending)
            sl->id_first = id;
        sl->id_last = id;
        sl->pending++;
        S.sends++;
        done += (size_t)n;
    }
}

static __attribute__((noreturn)) void zcopy_missing(void)
{
    fflush(stdout);
    fprintf(stderr, "tcpbulk: zcopy_tx: %s: this mode needs Tern's zero-copy system call "
            "(not running on Tern?)\n", strerror(ENOSYS));
    exit(3);
}

/* zcopy and zcopy_txq: the slot's bytes by reference, in as many calls as
 * the stack takes. Each call that queued bytes owes one completion: zcopy
 * keeps its descriptor, zcopy_txq puts the slot in the queue's FIFO (the
 * queue counts the calls in order). */
static void remember_zcopy_fd(unsigned idx, int fd)
{
    if (S.nzp == S.zp_cap) {
        S.zp_cap = S.zp_cap ? 2 * S.zp_cap : 64;
        S.zp = realloc(S.zp, S.zp_cap * sizeof(*S.zp));
        if (!S.zp)
            die("out of memory for %u completion descriptors", S.zp_cap);
    }
    S.zp[S.nzp++] = (struct zpend){ .fd = fd, .slot = idx };
}

static void remember_txq_send(unsigned idx)
{
    if (S.q_len == S.q_cap) {
        unsigned cap = S.q_cap ? 2 * S.q_cap : 64;
        unsigned *q = malloc(cap * sizeof(*q));
        if (!q)
            die("out of memory for %u queued sends", cap);
        for (unsigned i = 0; i < S.q_len; i++)
            q[i] = S.qslot[(S.q_head + i) % S.q_cap];
        free(S.qslot);
        S.qslot = q;
        S.q_head = 0;
        S.q_cap = cap;
    }
    S.qslot[(S.q_head + S.q_len++) % S.q_cap] = idx;
}

static void send_slot_zcopy(unsigned idx)
{
    struct slot *sl = &S.slots[idx];
    int txq = S.mode == M_ZCOPY_TXQ;
    const char *call = txq ? "zcopy_txq" : "zcopy_tx";
    size_t done = 0;
    while (done < sl->len) {
        struct iovec iov;
        struct zmsghdr zm;
        zmsg_one(&zm, &iov, sl->buf + done, sl->len - done);
        ssize_t n = txq ? zcopy_txq(S.s, &zm, S.q) : zcopy_tx(S.s, &zm);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSYS)
                zcopy_missing();
            if (txq && errno == ENOBUFS) {      /* 4096 in flight: read the queue */
                reap(1);
                continue;
            }
            die("%s of stream bytes [%llu, %llu): %s", call, (ull)(sl->off + done),
                (ull)(sl->off + sl->len), strerror(errno));
        }
        if (n == 0 || (size_t)n > sl->len - done)
            die("%s of %zu bytes returned %zd", call, sl->len - done, n);
        if (txq) {
            remember_txq_send(idx);
        } else {
            if (zm.zm_txfd < 0)
                die("zcopy_tx queued %zd bytes but gave no completion descriptor", n);
            remember_zcopy_fd(idx, zm.zm_txfd);
        }
        sl->pending++;
        S.sends++;
        done += (size_t)n;
    }
}

/* msg_zerocopy and zcopy: a ring of buffers, sent in stream order, each
 * refilled the moment the stack gives it back. */
static void run_zero_copy(void)
{
    if (S.mode == M_MSG_ZEROCOPY) {
        int one = 1;
        if (setsockopt(S.s, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)))
            die("setsockopt(SO_ZEROCOPY): %s", strerror(errno));
    }
    S.slots = calloc(S.ring, sizeof(*S.slots));
    S.readyq = calloc(S.ring, sizeof(*S.readyq));
    if (!S.slots || !S.readyq)
        die("out of memory for a ring of %u buffers", S.ring);
    for (unsigned i = 0; i < S.ring; i++) {
        S.slots[i].buf = aligned_alloc(4096, (S.msg + 4095) & ~4095ull);
        if (!S.slots[i].buf)
            die("out of memory for a ring of %u buffers of %llu bytes", S.ring, S.msg);
        fill_slot(i);
    }
    while (S.rq_count || S.busy) {
        if (!S.rq_count) {
            reap(1);
            continue;
        }
        unsigned idx = S.readyq[S.rq_head];
        S.rq_head = (S.rq_head + 1) % S.ring;
        S.rq_count--;
        struct slot *sl = &S.slots[idx];
        sl->state = SLOT_SENDING;
        S.busy++;
        if (S.mode == M_ZCOPY || S.mode == M_ZCOPY_TXQ)
            send_slot_zcopy(idx);
        else
            send_slot_msg_zerocopy(sl);
        sl->state = SLOT_BUSY;
        if (!sl->pending)       /* its completions came while it was sent */
            complete_slot(idx);
        reap(0);
    }
}

static void run_send(void)
{
    unsigned char *buf = aligned_alloc(4096, (S.msg + 4095) & ~4095ull);
    if (!buf)
        die("out of memory for a %llu-byte buffer", S.msg);
    while (S.filled < S.total) {
        size_t n = (size_t)(S.total - S.filled < S.msg ? S.total - S.filled : S.msg);
        tcp_pattern_fill(buf, S.filled, n);
        sha256_update(&S.sha, buf, n);
        size_t sent;
        if (send_all(S.s, buf, n, &sent))
            die("send of stream bytes [%llu, %llu): %s", S.filled + sent, S.filled + n,
                errno ? strerror(errno) : "returned 0");
        S.filled += n;
        S.sends++;
    }
    free(buf);
}

static void run_sendfile(void)
{
    int fd = open(S.file, O_RDONLY);
    if (fd < 0)
        die("open %s: %s", S.file, strerror(errno));
    struct stat st;
    if (fstat(fd, &st))
        die("fstat %s: %s", S.file, strerror(errno));
    if (!S_ISREG(st.st_mode) || st.st_size <= 0)
        die("%s: not a non-empty regular file", S.file);
    size_t size = (size_t)st.st_size;
    /* The file's bytes, read once, to hash what each sendfile call sent. */
    unsigned char *copy = malloc(size);
    if (!copy)
        die("out of memory for a copy of %s (%zu bytes)", S.file, size);
    for (size_t got = 0; got < size;) {
        ssize_t n = pread(fd, copy + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("pread %s at %zu: %s", S.file, got, n < 0 ? strerror(errno) : "early end of file");
        got += (size_t)n;
    }
    size_t pos = 0;     /* where in the file the next byte comes from */
    while (S.filled < S.total) {
        ull want = S.total - S.filled;
        if (want > S.msg)
            want = S.msg;
        if (want > size - pos)
            want = size - pos;
        off_t off = (off_t)pos;
        ssize_t n = sendfile(S.s, fd, &off, (size_t)want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die("sendfile of %s bytes [%zu, %llu) at stream byte %llu: %s", S.file, pos,
                (ull)pos + want, S.filled, n < 0 ? strerror(errno) : "returned 0");
        if ((ull)n > want || off != (off_t)(pos + (size_t)n))
            die("sendfile of %llu bytes from %s at %zu returned %zd and moved the offset to "
                "%lld", want, S.file, pos, n, (long long)off);
        sha256_update(&S.sha, copy + pos, (size_t)n);
        pos += (size_t)n;
        if (pos == size)
            pos = 0;
        S.filled += (ull)n;
        S.sends++;
    }
    free(copy);
    close(fd);
}

/* After the last byte: half-close, then wait for the peer's close, which a
 * receiver sends only after reading everything. */
static void finish_and_wait(int s)
{
    if (shutdown(s, SHUT_WR))
        die("shutdown(SHUT_WR) after the last byte: %s", strerror(errno));
    for (;;) {
        struct pollfd p = { .fd = s, .events = POLLIN };
        int r = poll(&p, 1, STALL_SECONDS * 1000);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("waiting for the peer to close after the last byte: %s",
                r < 0 ? strerror(errno) : "timed out");
        char c[512];
        ssize_t n = recv(s, c, sizeof(c), 0);
        if (n == 0)
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("waiting for the peer to close after the last byte: %s", strerror(errno));
        die("the peer sent %zd bytes; a sink should send nothing", n);
    }
}

static int cmd_send(int argc, char **argv)
{
    const char *to = NULL, *mode = NULL;
    int have_bytes = 0;
    double connect_timeout = 10;
    S.msg = 128 << 10;
    S.ring = 8;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        ull x;
        if (!strcmp(a, "--require-ack-check")) {
            S.require_ack_check = 1;
            continue;
        }
        const char *v = option_value(argc, argv, &i);
        if (!strcmp(a, "--mode"))
            mode = v;
        else if (!strcmp(a, "--to"))
            to = v;
        else if (!strcmp(a, "--file"))
            S.file = v;
        else if (!strcmp(a, "--bytes") && !parse_size(v, &S.total))
            have_bytes = 1;
        else if (!strcmp(a, "--msg") && !parse_size(v, &x) && x && x <= (1ull << 30))
            S.msg = x;
        else if (!strcmp(a, "--ring") && !parse_size(v, &x) && x && x <= 1024)
            S.ring = (unsigned)x;
        else if (!strcmp(a, "--connect-timeout") && !parse_size(v, &x))
            connect_timeout = (double)x;
        else
            usage("a bad option or value");
    }
    if (!mode || !to || !have_bytes)
        usage("send needs --mode, --to and --bytes");
    const char *bad_mode = parse_send_mode(mode, S.file != NULL, &S.mode);
    if (bad_mode)
        usage(bad_mode);
    if ((S.mode == M_ZCOPY || S.mode == M_ZCOPY_TXQ) && !have_zcopy_tx())
        zcopy_missing();
    if (S.mode == M_ZCOPY_TXQ && (S.q = zcopy_txq_open(0)) < 0)
        die("zcopy_txq_open: %s", strerror(errno));
    say("connecting to %s (mode %s, %llu bytes, %llu-byte messages)", to, mode, S.total, S.msg);
    struct sockaddr_in peer;
    const char *bad_to = parse_to_option(to, &peer);
    if (bad_to)
        usage(bad_to);
    S.s = connect_retrying(&peer, to, connect_timeout);
    say("connected");

    if (S.mode == M_MSG_ZEROCOPY || S.mode == M_ZCOPY || S.mode == M_ZCOPY_TXQ) {
        /* Nothing was sent yet, so whatever TCP_INFO calls acked now is the
         * handshake (Linux: 1, the SYN); the data counts from there. */
        struct tcp_info ti;
        socklen_t len = sizeof(ti);
        memset(&ti, 0, sizeof(ti));
        size_t need = offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked);
        if (getsockopt(S.s, IPPROTO_TCP, TCP_INFO, &ti, &len) || len < need) {
            const char *why = len < need ? "too short to hold tcpi_bytes_acked" : strerror(errno);
            if (S.require_ack_check)
                die("getsockopt(TCP_INFO): %s; --require-ack-check needs it to check that "
                    "no completion comes before the ACK", why);
            say("getsockopt(TCP_INFO): %s: completions are not checked against ACKs", why);
        } else {
            S.ack_check = 1;
            S.acked_base = ti.tcpi_bytes_acked;
            say("TCP_INFO: tcpi_bytes_acked is %llu after the handshake; each completion is "
                "checked against it", S.acked_base);
        }
    }

    signal(SIGPIPE, SIG_IGN);   /* a vanished peer is an error message, not a death */
    sha256_init(&S.sha);
    double t0 = now();
    switch (S.mode) {
    case M_SEND: run_send(); break;
    case M_MSG_ZEROCOPY:
    case M_ZCOPY:
    case M_ZCOPY_TXQ: run_zero_copy(); break;
    case M_SENDFILE: run_sendfile(); break;
    }
    finish_and_wait(S.s);
    double secs = now() - t0;
    close(S.s);

    uint8_t d[SHA256_DIGEST_SIZE];
    char h[2 * SHA256_DIGEST_SIZE + 1];
    sha256_final(&S.sha, d);
    hex(d, h);
    say("sent %llu bytes sha256 %s", S.filled, h);
    report_rate("send:", S.filled, secs);
    if (S.mode == M_MSG_ZEROCOPY)
        say("MSG_ZEROCOPY: %llu sends, %llu completed in %llu notifications, %llu copied by "
            "the stack%s", S.sends, S.completed_ids, S.notifications, S.copied_ids,
            S.ack_check ? ", none before its ACK" : "");
    else if (S.mode == M_ZCOPY)
        say("zcopy_tx: %llu calls, %llu completions%s", S.sends, S.completed_ids,
            S.ack_check ? ", none before its ACK" : "");
    else if (S.mode == M_ZCOPY_TXQ)
        say("zcopy_txq: %llu calls, %llu completions in %llu queue reads%s", S.sends,
            S.completed_ids, S.notifications, S.ack_check ? ", none before its ACK" : "");
    return 0;
}

/* ----------------------------------------------------------- receiver --- */

static int cmd_recv(int argc, char **argv)
{
    ull port = 0, want = 0;
    int have_port = 0, have_bytes = 0, verify = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--verify-pattern")) {
            verify = 1;
            continue;
        }
        const char *v = option_value(argc, argv, &i);
        if (!strcmp(a, "--port") && !parse_listen_port(v, &port))
            have_port = 1;
        else if (!strcmp(a, "--bytes") && !parse_size(v, &want))
            have_bytes = 1;
        else
            usage("a bad option or value");
    }
    if (!have_port || !have_bytes)
        usage("recv needs --port and --bytes");

    int s = accept_one(listen_on_port((unsigned)port, 1));

    size_t bufsize = 256 << 10;
    unsigned char *buf = malloc(bufsize);
    if (!buf)
        die("out of memory for a %zu-byte buffer", bufsize);
    struct sha256_ctx sha;
    sha256_init(&sha);
    ull got = 0;
    double t0 = now();
    for (;;) {
        ssize_t n = recv(s, buf, bufsize, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("recv after %llu bytes: %s", got, strerror(errno));
        if (n == 0)
            break;
        if (verify) {
            size_t bad = tcp_pattern_check(buf, got, (size_t)n);
            if (bad < (size_t)n)
                die("pattern mismatch at stream byte %llu: got 0x%02x, expected 0x%02x",
                    got + bad, buf[bad], tcp_pattern_byte(got + bad));
        }
        sha256_update(&sha, buf, (size_t)n);
        got += (ull)n;
    }
    double secs = now() - t0;
    close(s);
    uint8_t d[SHA256_DIGEST_SIZE];
    char h[2 * SHA256_DIGEST_SIZE + 1];
    sha256_final(&sha, d);
    hex(d, h);
    say("received %llu bytes sha256 %s", got, h);
    report_rate("recv:", got, secs);
    if (got != want)
        die("expected %llu bytes, the peer closed after %llu", want, got);
    if (verify)
        say("every byte matched the pattern stream");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct subcommand cmds[] = { { "send", cmd_send }, { "recv", cmd_recv }, { 0 } };
    return run_subcommand(argc, argv, cmds, "expected send or recv");
}
