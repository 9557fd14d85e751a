/*
 * tcp_client: the host side of the TCP connection tests
 * (tests/guest/tcpconn.sh), against `tcpserver` (apps/tcpserver.c) in the
 * guest. Also runs against tcpserver on the host itself, over 127.0.0.1.
 *
 *   tcp_client conns --to ADDR:PORT [--count N] [--bytes SLOW]
 *       Opens N connections (default 200) at once (non-blocking connects,
 *       all complete before any data moves), sends a distinct message on
 *       each (16 bytes to 4 KiB, and SLOW (1 MiB) on every 50th, read only while
 *       sending it is stuck, so that the server's sends fill its buffer
 *       and it has to finish partial writes), checks every echoed byte,
 *       then shuts down writing on all and expects EOF on each (the
 *       server closes after echoing everything).
 *
 *   tcp_client backlog --to ADDR:PORT [--control ADDR:PORT] [--backlog B]
 *                      [--extra X] [--pending-ms W]
 *       Against `tcpserver backlog` (listen(B), no accept): opens
 *       connections one at a time, each started only after the previous
 *       completed, so every SYN meets the accept queue as the previous
 *       handshakes left it. The first B+1 must complete (Linux's rule: the
 *       queue is full when it holds more than B); the next X must stay in
 *       progress for W ms (default 2000) -- their SYNs, and the retries at
 *       1 s, are dropped: neither completed nor refused. Then it sends
 *       "accept B+1+X" on the control connection (default PORT+1) and
 *       expects every connection to complete (through the SYN retries),
 *       echo a line, and the server to answer "done B+1+X".
 *
 *   tcp_client halfclose --to ADDR:PORT [--bytes N]
 *       Against `tcpserver halfclose`. Connection 1: sends N bytes (default
 *       100000), shutdown(SHUT_WR), then expects exactly those bytes back
 *       and EOF. Connection 2: reads until EOF (the guest half-closed),
 *       then sends everything back and closes.
 *
 *   tcp_client refused --to ADDR:PORT
 *       Nobody listens there: a blocking connect (bounded by SO_SNDTIMEO,
 *       10 s) and a non-blocking one (poll, SO_ERROR) must both give
 *       ECONNREFUSED; no answer within 10 s is a failure ("no RST").
 *
 *   tcp_client rst-server --port PORT [--count N] [--fin]
 *       The peer for `tcpserver dead-peer`: accepts N connections (default
 *       3); on each reads a line "wait MS", waits MS ms and closes with
 *       SO_LINGER {1, 0}, which aborts the connection with a RST. Prints
 *       "tcp_client: rst-server: listening on port PORT" when ready.
 *       --fin closes normally instead (a FIN): the negative control, under
 *       which dead-peer must fail.
 *
 *   tcp_client quit --to ADDR:PORT
 *       Sends the line "quit" on a new connection (ends `tcpserver echo`).
 *
 *   tcp_client echo --to ADDR:PORT [--bytes N] [--deadline-ms D]
 *       The normal client beside an attack (tests/guest/attack.sh):
 *       connects, sends N bytes (default 1 MiB) of a pattern while reading
 *       the echo, checks every byte, and must be done -- connect included
 *       -- within D ms (default 5000). Prints "tcp_client: echo: N bytes
 *       echoed intact in T ms (connect C ms)".
 *
 * Each mode also takes --timeout S (default 120): an alarm ends a run
 * that is stuck. Output: "tcp_client: MODE: ..." lines; a failure prints
 * "tcp_client: MODE: FAIL: why" and exits 1; usage errors exit 2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define TOOL_NAME "tcp_client"
#include "../../apps/tool_util.h"

struct opts {
    struct sockaddr_in to, control;
    int have_to, have_control;
    int count, backlog, extra, pending_ms, bytes, port, fin, deadline_ms;
};

static char alarm_msg[200];

static void on_alarm(int sig)
{
    (void)sig;
    /* Only async-signal-safe calls here. */
    ssize_t r = write(1, alarm_msg, strlen(alarm_msg));
    (void)r;
    _exit(1);
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

static int so_error(int fd)
{
    int err = -1;
    socklen_t len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
        fail("getsockopt(SO_ERROR): %s", errstr(errno));
    return err;
}

/* poll one descriptor; returns revents, 0 on timeout. */
static int wait_fd(int fd, short events, int ms)
{
    long end = now_ms() + ms;
    for (;;) {
        struct pollfd p = { fd, events, 0 };
        long left = end - now_ms();
        int n = poll(&p, 1, left > 0 ? (int)left : 0);
        if (n > 0)
            return p.revents;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            fail("poll: %s", errstr(errno));
    }
}

/* A non-blocking socket with its connect started; *done says whether it
 * completed at once (loopback may). */
static int start_connect(const struct sockaddr_in *to, int *done)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        fail("socket: %s", errstr(errno));
    if (!connect(s, (const struct sockaddr *)to, sizeof(*to))) {
        *done = 1;
    } else if (errno == EINPROGRESS) {
        *done = 0;
    } else {
        fail("connect: %s", errstr(errno));
    }
    return s;
}

/* A connected socket (non-blocking), or failure after ms. */
static int connect_wait(const struct sockaddr_in *to, int ms, const char *what)
{
    int done;
    int s = start_connect(to, &done);
    if (!done) {
        if (!wait_fd(s, POLLOUT, ms))
            fail("%s: connect did not complete within %d ms", what, ms);
        int err = so_error(s);
        if (err)
            fail("%s: connect: %s", what, errstr(err));
    }
    return s;
}

/* Sends all of buf, on the non-blocking sockets of this program as well:
 * a full send buffer waits for room (tool_util.h's send_all would fail). */
static void send_all_waiting(int fd, const void *buf, size_t len, const char *what)
{
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            wait_fd(fd, POLLOUT, 1000);
            continue;
        }
        if (n <= 0)
            fail("%s: send: %s", what, n ? errstr(errno) : "returned 0");
        p += n;
        len -= (size_t)n;
    }
}

/* Reads one line (without the newline) within ms; fails on EOF/error. */
static void read_line(int fd, char *buf, size_t size, int ms, const char *what)
{
    long end = now_ms() + ms;
    size_t n = 0;
    while (n + 1 < size) {
        char c;
        ssize_t r = recv(fd, &c, 1, 0);
        if (r == 1) {
            if (c == '\n')
                break;
            buf[n++] = c;
            continue;
        }
        if (r == 0)
            fail("%s: EOF after \"%.*s\", expected a line", what, (int)n, buf);
        if (errno != EAGAIN && errno != EINTR)
            fail("%s: recv: %s", what, errstr(errno));
        long left = end - now_ms();
        if (left <= 0 || !wait_fd(fd, POLLIN, (int)left))
            fail("%s: no line within %d ms (got \"%.*s\")", what, ms, (int)n, buf);
    }
    buf[n] = 0;
}

/* Reads until EOF within ms into a growing buffer. */
static unsigned char *read_to_eof(int fd, size_t *lenp, int ms, const char *what)
{
    long end = now_ms() + ms;
    size_t cap = 65536, len = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            fail("out of memory");
        if (len == cap && !(buf = realloc(buf, cap *= 2)))
            fail("out of memory");
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r > 0) {
            len += (size_t)r;
            continue;
        }
        if (r == 0)
            break;
        if (errno != EAGAIN && errno != EINTR)
            fail("%s: recv after %zu bytes: %s", what, len, errstr(errno));
        long left = end - now_ms();
        if (left <= 0 || !wait_fd(fd, POLLIN, (int)left))
            fail("%s: no EOF within %d ms (%zu bytes so far)", what, ms, len);
    }
    *lenp = len;
    return buf;
}

/* ----------------------------------------------------------------- conns -- */

struct conn {
    int fd, connected, slow, stalled;
    size_t len, sent, rcvd;
    unsigned char *msg;
};

static void mode_conns(const struct opts *o)
{
    int n = o->count > 0 ? o->count : 200;
    size_t slow_bytes = o->bytes > 0 ? (size_t)o->bytes : 1048576;
    struct conn *c = calloc((size_t)n, sizeof(*c));
    struct pollfd *p = calloc((size_t)n, sizeof(*p));
    if (!c || !p)
        fail("out of memory");
    unsigned long total = 0;
    for (int i = 0; i < n; i++) {
        /* Distinct contents and lengths. Every 50th is large and read
         * slowly (below), so that the server's sends fill its buffer and
         * it must stop reading and resume on EPOLLOUT. */
        c[i].slow = i % 50 == 7;
        size_t len = c[i].slow ? slow_bytes + (size_t)i : 16 + (size_t)(i * 7919 % 4000);
        c[i].len = len;
        c[i].msg = malloc(len);
        if (!c[i].msg)
            fail("out of memory");
        int h = snprintf((char *)c[i].msg, len, "conn %d of %d:", i + 1, n);
        for (size_t k = (size_t)h; k < len; k++)
            c[i].msg[k] = (unsigned char)(k * 7 + (size_t)i * 13 + (k >> 8));
        total += len;
        c[i].fd = start_connect(&o->to, &c[i].connected);
    }

    /* All handshakes first: every connection is open before data moves. */
    long end = now_ms() + 60000;
    for (;;) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (!c[i].connected)
                p[m++] = (struct pollfd){ c[i].fd, POLLOUT, 0 };
        if (!m)
            break;
        long left = end - now_ms();
        if (left <= 0)
            fail("%d of %d connections still not established after 60 s", m, n);
        if (poll(p, (nfds_t)m, (int)left) < 0 && errno != EINTR)
            fail("poll: %s", errstr(errno));
        for (int i = 0, j = 0; i < n; i++) {
            if (c[i].connected)
                continue;
            if (p[j].revents) {
                int err = so_error(c[i].fd);
                if (err)
                    fail("connection %d: connect: %s", i + 1, errstr(err));
                c[i].connected = 1;
            }
            j++;
        }
    }
    say("%d connections open at once", n);

    /* Send and receive on all of them together, checking every byte. */
    static unsigned char buf[65536];
    end = now_ms() + 120000;
    for (;;) {
        int pending = 0;
        for (int i = 0; i < n; i++) {
            p[i].fd = c[i].fd;
            /* A slow connection is read only while its sending is stuck
             * (or done): the echo backs up to the server first. */
            int read_now = c[i].rcvd < c[i].len &&
                           (!c[i].slow || c[i].stalled || c[i].sent == c[i].len);
            p[i].events = (short)((c[i].sent < c[i].len ? POLLOUT : 0) |
                                  (read_now ? POLLIN : 0));
            p[i].revents = 0;
            if (!p[i].events)
                p[i].fd = -1;
            else
                pending++;
        }
        if (!pending)
            break;
        long left = end - now_ms();
        if (left <= 0) {
            for (int i = 0; i < n; i++)
                if (c[i].rcvd < c[i].len)
                    fail("%d echoes incomplete after 120 s; connection %d: sent %zu, "
                         "received %zu of %zu bytes", pending, i + 1, c[i].sent, c[i].rcvd,
                         c[i].len);
            fail("%d connections still sending after 120 s", pending);
        }
        if (poll(p, (nfds_t)n, (int)left) < 0 && errno != EINTR)
            fail("poll: %s", errstr(errno));
        for (int i = 0; i < n; i++) {
            struct conn *k = &c[i];
            if ((p[i].revents & POLLOUT) && k->sent < k->len) {
                size_t want = k->len - k->sent;
                ssize_t w = send(k->fd, k->msg + k->sent, want, MSG_NOSIGNAL);
                /* Stuck when the buffer took less than all: reading must
                 * start now, or both sides wait on full buffers. */
                k->stalled = (w < 0 && errno == EAGAIN) || (w >= 0 && (size_t)w < want);
                if (w > 0)
                    k->sent += (size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR)
                    fail("connection %d: send after %zu bytes: %s", i + 1, k->sent,
                         errstr(errno));
            }
            if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) && k->rcvd < k->len) {
                ssize_t r = recv(k->fd, buf, sizeof(buf), 0);
                if (r == 0)
                    fail("connection %d: EOF after %zu of %zu echoed bytes", i + 1, k->rcvd,
                         k->len);
                if (r < 0 && errno != EAGAIN && errno != EINTR)
                    fail("connection %d: recv after %zu bytes: %s", i + 1, k->rcvd,
                         errstr(errno));
                if (r < 0)
                    continue;
                if (k->rcvd + (size_t)r > k->sent)
                    fail("connection %d: %zu bytes echoed but only %zu sent", i + 1,
                         k->rcvd + (size_t)r, k->sent);
                for (ssize_t b = 0; b < r; b++)
                    if (buf[b] != k->msg[k->rcvd + (size_t)b])
                        fail("connection %d: echo differs at byte %zu: 0x%02x, sent 0x%02x",
                             i + 1, k->rcvd + (size_t)b, buf[b], k->msg[k->rcvd + (size_t)b]);
                k->rcvd += (size_t)r;
            }
        }
    }
    say("%d connections echoed intact, %lu bytes each way", n, total);

    /* Our FIN on each; the server, having echoed everything, closes. */
    for (int i = 0; i < n; i++)
        if (shutdown(c[i].fd, SHUT_WR))
            fail("connection %d: shutdown(SHUT_WR): %s", i + 1, errstr(errno));
    end = now_ms() + 60000;
    for (int i = 0; i < n; i++) {
        for (;;) {
            ssize_t r = recv(c[i].fd, buf, sizeof(buf), 0);
            if (r == 0)
                break;
            if (r > 0)
                fail("connection %d: %zd bytes more than were sent", i + 1, r);
            if (errno != EAGAIN && errno != EINTR)
                fail("connection %d: recv after our FIN: %s", i + 1, errstr(errno));
            long left = end - now_ms();
            if (left <= 0 || !wait_fd(c[i].fd, POLLIN, (int)left))
                fail("connection %d: no EOF from the server within 60 s of our FIN", i + 1);
        }
        close(c[i].fd);
        free(c[i].msg);
    }
    say("%d connections closed by the server after our FIN", n);
    free(c);
    free(p);
}

/* --------------------------------------------------------------- backlog -- */

#define BACKLOG_MAX 64

static void mode_backlog(const struct opts *o)
{
    int b = o->backlog >= 0 ? o->backlog : 2;
    int x = o->extra > 0 ? o->extra : 3;
    int w = o->pending_ms > 0 ? o->pending_ms : 2000;
    int total = b + 1 + x;
    if (total > BACKLOG_MAX)
        fail("--backlog %d plus --extra %d: at most %d connections", b, x, BACKLOG_MAX);
    struct sockaddr_in ctl_addr = o->control;
    if (!o->have_control) {
        ctl_addr = o->to;
        ctl_addr.sin_port = htons((uint16_t)(ntohs(o->to.sin_port) + 1));
    }
    int ctl = connect_wait(&ctl_addr, 10000, "control connection");

    int fds[BACKLOG_MAX];
    /* One at a time: connection i+1 starts after connection i completed,
     * so each SYN sees the queue the previous handshakes filled. */
    for (int i = 0; i < b + 1; i++) {
        int done;
        fds[i] = start_connect(&o->to, &done);
        if (done)
            continue;
        if (!wait_fd(fds[i], POLLOUT, 10000))
            fail("connection %d of the first backlog+1 = %d did not complete within 10 s "
                 "(the accept queue held only %d?)", i + 1, b + 1, i);
        int err = so_error(fds[i]);
        if (err)
            fail("connection %d of the first backlog+1 = %d: %s", i + 1, b + 1, errstr(err));
    }
    say("%d connections (backlog %d + 1) completed with nobody accepting", b + 1, b);

    for (int i = b + 1; i < total; i++) {
        int done;
        fds[i] = start_connect(&o->to, &done);
        if (done)
            fail("connection %d completed at once with the accept queue full", i + 1);
    }
    /* Now nothing may happen to the extra ones for w ms: no SYN-ACK (the
     * queue is full, so the server drops their SYNs and the retries) and
     * no RST (a full queue is not a refusal). */
    long end = now_ms() + w;
    for (;;) {
        struct pollfd p[BACKLOG_MAX];
        for (int i = b + 1; i < total; i++)
            p[i - b - 1] = (struct pollfd){ fds[i], POLLOUT, 0 };
        long left = end - now_ms();
        if (left <= 0)
            break;
        int n = poll(p, (nfds_t)x, (int)left);
        if (n < 0 && errno != EINTR)
            fail("poll: %s", errstr(errno));
        for (int i = 0; i < x && n > 0; i++) {
            if (!p[i].revents)
                continue;
            int err = so_error(fds[b + 1 + i]);
            if (err)
                fail("connection %d (beyond backlog+1 = %d): %s while the accept queue was "
                     "full; expected its SYN to be dropped, the connect still in progress",
                     b + 2 + i, b + 1, errstr(err));
            fail("connection %d (beyond backlog+1 = %d) completed while the accept queue "
                 "was full; expected its SYN to be dropped", b + 2 + i, b + 1);
        }
    }
    say("%d more connections still in progress after %d ms (not completed, not refused)", x,
        w);

    char line[64];
    int len = snprintf(line, sizeof(line), "accept %d\n", total);
    send_all_waiting(ctl, line, (size_t)len, "control connection");
    /* The dropped ones complete through their SYN retries once the
     * server accepts (Linux retries every second at first since 6.7,
     * before that after 1, 3, 7 s). */
    for (int i = b + 1; i < total; i++) {
        if (!wait_fd(fds[i], POLLOUT, 30000))
            fail("connection %d did not complete within 30 s of 'accept %d'", i + 1, total);
        int err = so_error(fds[i]);
        if (err)
            fail("connection %d after 'accept %d': %s", i + 1, total, errstr(err));
    }
    for (int i = 0; i < total; i++) {
        char msg[32], got[64];
        int ml = snprintf(msg, sizeof(msg), "backlog conn %d\n", i + 1);
        send_all_waiting(fds[i], msg, (size_t)ml, "echo line");
        read_line(fds[i], got, sizeof(got), 30000, "echo line");
        msg[ml - 1] = 0;
        if (strcmp(got, msg))
            fail("connection %d: echo \"%s\", expected \"%s\"", i + 1, got, msg);
        close(fds[i]);
    }
    read_line(ctl, line, sizeof(line), 30000, "control connection");
    char want[32];
    snprintf(want, sizeof(want), "done %d", total);
    if (strcmp(line, want))
        fail("control connection: \"%s\", expected \"%s\"", line, want);
    close(ctl);
    say("after the server accepted, all %d connected and echoed", total);
}

/* ------------------------------------------------------------- halfclose -- */

static void mode_halfclose(const struct opts *o)
{
    size_t bytes = o->bytes > 0 ? (size_t)o->bytes : 100000;
    unsigned char *out = malloc(bytes);
    if (!out)
        fail("out of memory");
    for (size_t i = 0; i < bytes; i++)
        out[i] = (unsigned char)(i * 7 + (i >> 10) + 3);

    /* 1: we half-close first; the reply comes after our FIN. */
    int s = connect_wait(&o->to, 10000, "connection 1");
    send_all_waiting(s, out, bytes, "connection 1");
    if (shutdown(s, SHUT_WR))
        fail("connection 1: shutdown(SHUT_WR): %s", errstr(errno));
    size_t len;
    unsigned char *got = read_to_eof(s, &len, 60000, "connection 1");
    if (len != bytes)
        fail("host-first: sent %zu bytes and shut down writing; got %zu back before EOF",
             bytes, len);
    for (size_t i = 0; i < bytes; i++)
        if (got[i] != out[i])
            fail("host-first: the reply differs at byte %zu (0x%02x, sent 0x%02x)", i, got[i],
                 out[i]);
    free(got);
    close(s);
    say("host-first: sent %zu bytes, shut down writing, read them back up to EOF", bytes);

    /* 2: the guest half-closes first; we answer after its FIN. */
    s = connect_wait(&o->to, 10000, "connection 2");
    got = read_to_eof(s, &len, 60000, "connection 2");
    if (!len)
        fail("guest-first: EOF with no data");
    send_all_waiting(s, got, len, "connection 2 (after the guest's FIN)");
    close(s);
    free(got);
    free(out);
    say("guest-first: read %zu bytes up to EOF, then sent them back", len);
    say("ok");
}

/* --------------------------------------------------------------- refused -- */

static void mode_refused(const struct opts *o)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        fail("socket: %s", errstr(errno));
    /* A blocking connect gives up after SO_SNDTIMEO (EINPROGRESS). */
    struct timeval tv = { .tv_sec = 10 };
    if (setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
        fail("setsockopt(SO_SNDTIMEO): %s", errstr(errno));
    if (!connect(s, (const struct sockaddr *)&o->to, sizeof(o->to)))
        fail("blocking connect succeeded (expected ECONNREFUSED: is something listening?)");
    if (errno == EINPROGRESS || errno == EAGAIN || errno == ETIMEDOUT)
        fail("blocking connect: no answer within 10 s (%s); expected a RST: ECONNREFUSED",
             errname(errno));
    if (errno != ECONNREFUSED)
        fail("blocking connect: %s, expected ECONNREFUSED", errstr(errno));
    close(s);
    say("blocking connect: ECONNREFUSED");

    int done;
    s = start_connect(&o->to, &done);
    if (done)
        fail("non-blocking connect succeeded (expected ECONNREFUSED)");
    int revents = wait_fd(s, POLLOUT, 10000);
    if (!revents)
        fail("non-blocking connect: no answer within 10 s; expected a RST: ECONNREFUSED");
    int err = so_error(s);
    if (err != ECONNREFUSED)
        fail("non-blocking connect: SO_ERROR %s, expected ECONNREFUSED", errname(err));
    close(s);
    say("non-blocking connect: poll revents 0x%x, SO_ERROR ECONNREFUSED", (unsigned)revents);
    say("ok");
}

/* ------------------------------------------------------------ rst-server -- */

static void mode_rst_server(const struct opts *o)
{
    int n = o->count > 0 ? o->count : 3;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0)
        fail("socket: %s", errstr(errno));
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 16))
        fail("bind/listen port %d: %s", o->port, errstr(errno));
    say("listening on port %d", o->port);
    for (int i = 0; i < n; i++) {
        if (!wait_fd(l, POLLIN, 110000))
            fail("connection %d of %d did not come", i + 1, n);
        int s = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s < 0)
            fail("accept4: %s", errstr(errno));
        char line[64];
        read_line(s, line, sizeof(line), 30000, "the 'wait MS' line");
        int ms;
        if (sscanf(line, "wait %d", &ms) != 1 || ms < 0 || ms > 10000)
            fail("connection %d: expected 'wait MS', got \"%s\"", i + 1, line);
        /* Part of the scenario, not a verdict: the guest should be
         * blocked in recv() when the RST arrives. */
        struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
        nanosleep(&t, NULL);
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        if (!o->fin && setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
            fail("setsockopt(SO_LINGER): %s", errstr(errno));
        close(s);
        say("connection %d: %s after %d ms", i + 1, o->fin ? "closed (FIN)" : "aborted with a RST",
            ms);
    }
    close(l);
    say("%s %d connections", o->fin ? "closed" : "reset", n);
}

/* ------------------------------------------------------------------ quit -- */

static void mode_quit(const struct opts *o)
{
    int s = connect_wait(&o->to, 10000, "quit");
    send_all_waiting(s, "quit\n", 5, "quit");
    close(s);
    say("sent");
}

/* ------------------------------------------------------------------ echo -- */

/* The pattern byte at offset i: not periodic at any power of two, so a
 * misplaced block shows. */
static unsigned char echo_byte(size_t i)
{
    return (unsigned char)(i * 7 + i / 251);
}

static void mode_echo(const struct opts *o)
{
    size_t total = o->bytes > 0 ? (size_t)o->bytes : 1048576;
    int deadline = o->deadline_ms > 0 ? o->deadline_ms : 5000;
    long start = now_ms();
    int s = connect_wait(&o->to, deadline, "echo");
    long connected = now_ms() - start;
    size_t sent = 0, rcvd = 0;
    static unsigned char buf[65536];
    while (rcvd < total) {
        long left = start + deadline - now_ms();
        if (left <= 0)
            fail("deadline of %d ms passed: connect %ld ms, %zu of %zu bytes sent, %zu echoed",
                 deadline, connected, sent, total, rcvd);
        struct pollfd p = { s, (short)(POLLIN | (sent < total ? POLLOUT : 0)), 0 };
        int n = poll(&p, 1, (int)(left < 100 ? left : 100));
        if (n < 0 && errno != EINTR)
            fail("poll: %s", errstr(errno));
        if (n <= 0)
            continue;
        if ((p.revents & POLLOUT) && sent < total) {
            size_t chunk = total - sent < sizeof(buf) ? total - sent : sizeof(buf);
            for (size_t i = 0; i < chunk; i++)
                buf[i] = echo_byte(sent + i);
            ssize_t w = send(s, buf, chunk, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                fail("send after %zu bytes: %s", sent, errstr(errno));
            if (w > 0)
                sent += (size_t)w;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = recv(s, buf, sizeof(buf), 0);
            if (r == 0)
                fail("EOF after %zu of %zu bytes echoed", rcvd, total);
            if (r < 0 && errno != EAGAIN && errno != EINTR)
                fail("recv after %zu bytes: %s", rcvd, errstr(errno));
            for (ssize_t i = 0; i < r; i++)
                if (buf[i] != echo_byte(rcvd + (size_t)i))
                    fail("byte %zu echoed as 0x%02x, sent 0x%02x", rcvd + (size_t)i, buf[i],
                         echo_byte(rcvd + (size_t)i));
            if (r > 0)
                rcvd += (size_t)r;
        }
    }
    close(s);
    say("%zu bytes echoed intact in %ld ms (connect %ld ms)", total, now_ms() - start, connected);
}

/* ------------------------------------------------------------------ main -- */

static void usage(void)
{
    fprintf(stderr,
            "usage: tcp_client MODE [--timeout S] OPTIONS...\n"
            "  conns --to ADDR:PORT [--count N] [--bytes SLOW]\n"
            "  backlog --to ADDR:PORT [--control ADDR:PORT] [--backlog B] [--extra X] "
            "[--pending-ms W]\n"
            "  halfclose --to ADDR:PORT [--bytes N]\n"
            "  refused --to ADDR:PORT\n"
            "  rst-server --port PORT [--count N] [--fin]\n"
            "  quit --to ADDR:PORT\n"
            "  echo --to ADDR:PORT [--bytes N] [--deadline-ms D]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        usage();
    tool_mode = argv[1];
    struct opts o = { .backlog = -1 };
    int timeout = 120;
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        if (!strcmp(k, "--fin")) {
            o.fin = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(k, "--to")) {
            parse_addr(v, &o.to);
            o.have_to = 1;
        } else if (!strcmp(k, "--control")) {
            parse_addr(v, &o.control);
            o.have_control = 1;
        } else if (!strcmp(k, "--count")) {
            o.count = parse_int(v, "--count", 1, 10000);
        } else if (!strcmp(k, "--backlog")) {
            o.backlog = parse_int(v, "--backlog", 0, 60);
        } else if (!strcmp(k, "--extra")) {
            o.extra = parse_int(v, "--extra", 1, 60);
        } else if (!strcmp(k, "--pending-ms")) {
            o.pending_ms = parse_int(v, "--pending-ms", 1, 60000);
        } else if (!strcmp(k, "--bytes")) {
            o.bytes = parse_int(v, "--bytes", 1, 100000000);
        } else if (!strcmp(k, "--deadline-ms")) {
            o.deadline_ms = parse_int(v, "--deadline-ms", 1, 600000);
        } else if (!strcmp(k, "--port")) {
            o.port = parse_int(v, "--port", 1, 65535);
        } else if (!strcmp(k, "--timeout")) {
            timeout = parse_int(v, "--timeout", 1, 3600);
        } else {
            usage();
        }
    }
    snprintf(alarm_msg, sizeof(alarm_msg), "tcp_client: %s: FAIL: not done after %d s\n",
             tool_mode, timeout);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)timeout);

    if (!strcmp(tool_mode, "conns") && o.have_to)
        mode_conns(&o);
    else if (!strcmp(tool_mode, "backlog") && o.have_to)
        mode_backlog(&o);
    else if (!strcmp(tool_mode, "halfclose") && o.have_to)
        mode_halfclose(&o);
    else if (!strcmp(tool_mode, "refused") && o.have_to)
        mode_refused(&o);
    else if (!strcmp(tool_mode, "rst-server") && o.port)
        mode_rst_server(&o);
    else if (!strcmp(tool_mode, "quit") && o.have_to)
        mode_quit(&o);
    else if (!strcmp(tool_mode, "echo") && o.have_to)
        mode_echo(&o);
    else
        usage();
    return 0;
}
