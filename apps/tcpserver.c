/*
 * tcpserver: TCP connection behaviour, the guest side of
 * tests/guest/tcpconn.sh (the host side is tests/host/tcp_client.c).
 *
 *   tcpserver [--timeout S] MODE OPTIONS... [then MODE OPTIONS...]...
 *
 * Modes (several may run one after another, joined by "then", so that one
 * boot can test two things, e.g. a refused connect and then a listener):
 *
 *   echo --port P [--max N] [--backlog B]
 *       An epoll echo server: non-blocking listener and connections,
 *       level-triggered EPOLLIN/EPOLLOUT, partial writes kept and finished
 *       on EPOLLOUT (reading stops while a connection's buffer is full, so
 *       a slow reader throttles its writer instead of growing memory).
 *       Ends after N connections closed, or when a connection's first
 *       bytes are the line "quit" (the tests use that: in a unikernel the
 *       exit ends the machine, and FINs the stack has not sent yet with
 *       it, so the host says when it has seen every close). Prints
 *       "tcpserver: echo: connections=C closed=D reset=R max_open=M
 *       bytes=B partial_writes=W": max_open is how many connections were
 *       open at the same time, the point of the 200-connection test.
 *       A connection whose first bytes are the line "stats" gets one line
 *       back, "open=N CurrEstab=E MemTotal=T kB MemFree=F kB used=U kB"
 *       (from /proc/net/snmp and /proc/meminfo),
 *       also printed as "tcpserver: echo: stats: ...", and is closed: the
 *       attack tests (tests/guest/attack_mem.sh) show the guest's memory
 *       with their connections held. A connection's 16 KiB buffer is
 *       allocated when its first bytes arrive, so that an idle connection
 *       costs the app almost nothing (the kernel's cost is under test).
 *
 *   backlog --port P [--backlog B] [--control-port Q]
 *       listen(P, B) and accept nothing until the host sends "accept K" on
 *       a control connection to Q (default P+1); then accepts K
 *       connections (the ones queued and the ones whose SYNs were dropped
 *       meanwhile and are retried by the host), echoes one line on each,
 *       prints "tcpserver: backlog: accepted=K queued_at_trigger=Q
 *       backlog=B", answers "done K" on the control connection and ends
 *       when the host closes that.
 *
 *   halfclose --port P [--bytes N]
 *       Two connections, in order. First: read until EOF (the host shut
 *       down its sending side), then send back everything received and
 *       close (a socket in CLOSE_WAIT still sends). Second: send N bytes
 *       (default 100000), shutdown(SHUT_WR), then read until EOF and check
 *       that the host sent exactly those bytes back (a socket in
 *       FIN_WAIT_2 still receives).
 *
 *   connect-refused --to ADDR:PORT
 *       Nobody listens at ADDR:PORT: a blocking connect must fail with
 *       ECONNREFUSED, and a non-blocking one with EINPROGRESS (or at once
 *       with ECONNREFUSED), then poll reports it and SO_ERROR says
 *       ECONNREFUSED once (a second SO_ERROR reads 0).
 *
 *   dead-peer --to ADDR:PORT
 *       ADDR:PORT is `tcp_client rst-server`, which reads one line
 *       "wait MS" on each connection, waits MS ms and closes with
 *       SO_LINGER {1, 0}, i.e. aborts with a RST. Three connections: a
 *       recv() blocked when the RST comes must fail with ECONNRESET (not
 *       return 0, not hang); send() after the RST must fail with
 *       ECONNRESET or EPIPE, twice; a writer filling the send buffer must
 *       get ECONNRESET or EPIPE instead of blocking forever.
 *
 * Every mode prints "tcpserver: MODE: ok" (or its summary) and the program
 * exits 0 when all passed; the first failure prints "tcpserver: MODE:
 * FAIL: why" and exits 1. A watchdog thread ends a run that is stuck for
 * longer than --timeout seconds (default 120), saying where it was stuck,
 * so that a missing wakeup in the kernel shows up as a clear failure
 * rather than as a test timeout. Listening modes print "tcpserver:
 * listening on port P" when they are ready, which the test waits for.
 *
 * Every send uses MSG_NOSIGNAL: a send to a reset connection must give
 * EPIPE, not kill the program with SIGPIPE.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOOL_NAME "tcpserver"
#include "tool_util.h"

struct opts {
    int port, max, backlog, control_port, bytes;
    int have_to;
    struct sockaddr_in to;
};

/* What the program is waiting for now, for the watchdog's message. */
static const char *volatile step = "starting";
static int timeout_s = 120;

struct echo_stats {
    unsigned long conns, closed, resets, open, max_open, bytes, partial;
};
/* The echo server's counts, for the watchdog to show how far it got. */
static struct echo_stats *volatile echo_progress;

static void *watchdog(void *arg)
{
    (void)arg;
    struct timespec t = { .tv_sec = timeout_s };
    while (nanosleep(&t, &t) && errno == EINTR)
        ;
    struct echo_stats *st = echo_progress;
    if (st)
        printf("tcpserver: %s: FAIL: still %s after %d s (connections=%lu closed=%lu "
               "open=%lu bytes=%lu)\n", tool_mode, step, timeout_s, st->conns, st->closed,
               st->open, st->bytes);
    else
        printf("tcpserver: %s: FAIL: still %s after %d s\n", tool_mode, step, timeout_s);
    fflush(stdout);
    _exit(1);
}

/* A bound, listening socket; `flags` go to socket() (SOCK_NONBLOCK). */
static int listener(int port, int backlog, int flags)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
    if (s < 0)
        fail("socket(AF_INET, SOCK_STREAM): %s", errstr(errno));
    /* So that a rerun on the host does not wait for TIME_WAIT to pass. */
    int one = 1;
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
        fail("setsockopt(SO_REUSEADDR): %s", errstr(errno));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (bind(s, (struct sockaddr *)&a, sizeof(a)))
        fail("bind port %d: %s", port, errstr(errno));
    if (listen(s, backlog))
        fail("listen(backlog %d): %s", backlog, errstr(errno));
    return s;
}

static int connect_to(const struct sockaddr_in *to)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        fail("socket(AF_INET, SOCK_STREAM): %s", errstr(errno));
    step = "in a blocking connect()";
    if (connect(s, (const struct sockaddr *)to, sizeof(*to)))
        fail("connect: %s", errstr(errno));
    return s;
}

/* One line, byte by byte so that nothing after the newline is consumed;
 * returns its length without the newline, or -1 with errno (0 for EOF). */
static int read_line(int fd, char *buf, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        char c;
        ssize_t r = recv(fd, &c, 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = 0;
            return -1;
        }
        if (c == '\n')
            break;
        buf[n++] = c;
    }
    buf[n] = 0;
    return (int)n;
}

/* Reads until EOF into a growing buffer; fails on errors. */
static unsigned char *read_to_eof(int fd, size_t *lenp)
{
    size_t cap = 65536, len = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            fail("out of memory");
        if (len == cap)
            buf = realloc(buf, cap *= 2);
        if (!buf)
            fail("out of memory");
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("recv after %zu bytes: %s", len, errstr(errno));
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *lenp = len;
    return buf;
}

/* ------------------------------------------------------------------ echo -- */

#define ECHO_BUF 16384

struct conn {
    int fd;
    uint32_t interest;          /* the events registered with epoll */
    int eof, seen;              /* peer shut down writing; data arrived */
    size_t head, len;           /* buf[head, head+len) not yet echoed */
    unsigned char *buf;         /* ECHO_BUF bytes, from the first data on */
};

enum { KEEP, CLOSE, RESET, QUIT, STATS };

/* The value of column `name` of the "Tcp:" lines of /proc/net/snmp (a
 * header line of names, then one of values), or -1. */
static long snmp_tcp(const char *name)
{
    FILE *f = fopen("/proc/net/snmp", "r");
    char head[512], vals[512];
    long v = -1;
    while (f && fgets(head, sizeof(head), f)) {
        if (strncmp(head, "Tcp:", 4) || !fgets(vals, sizeof(vals), f))
            continue;
        char *hs, *vs;
        char *h = strtok_r(head, " \n", &hs), *w = strtok_r(vals, " \n", &vs);
        while (h && w && strcmp(h, name)) {
            h = strtok_r(NULL, " \n", &hs);
            w = strtok_r(NULL, " \n", &vs);
        }
        if (h && w)
            v = strtol(w, NULL, 10);
        break;
    }
    if (f)
        fclose(f);
    return v;
}

/* "open=N CurrEstab=E MemTotal=T kB MemFree=F kB used=U kB" into line:
 * the figures of /proc/net/snmp and /proc/meminfo (Linux's and Tern's)
 * with n connections open. */
static void memory_figures(char *line, size_t size, unsigned long n)
{
    long total = -1, free_kb = -1;
    FILE *f = fopen("/proc/meminfo", "r");
    char l[128];
    while (f && fgets(l, sizeof(l), f)) {
        sscanf(l, "MemTotal: %ld kB", &total);
        sscanf(l, "MemFree: %ld kB", &free_kb);
    }
    if (f)
        fclose(f);
    snprintf(line, size, "open=%lu CurrEstab=%ld MemTotal=%ld kB MemFree=%ld kB used=%ld kB", n,
             snmp_tcp("CurrEstab"), total, free_kb,
             total >= 0 && free_kb >= 0 ? total - free_kb : -1);
}

/* Reads what there is room for and echoes what is buffered; returns KEEP,
 * or CLOSE/RESET when the connection is done, or QUIT. */
static int echo_serve(struct conn *c, uint32_t ev, struct echo_stats *st)
{
    if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->eof && c->len < ECHO_BUF) {
        if (!c->buf && !(c->buf = malloc(ECHO_BUF)))
            fail("out of memory for a connection's buffer at %lu connections", st->open);
        if (c->len == 0)
            c->head = 0;
        if (c->head + c->len == ECHO_BUF) {
            memmove(c->buf, c->buf + c->head, c->len);
            c->head = 0;
        }
        size_t tail = c->head + c->len;
        ssize_t r = recv(c->fd, c->buf + tail, ECHO_BUF - tail, 0);
        if (r > 0) {
            if (!c->seen && r >= 5 && !memcmp(c->buf + tail, "quit\n", 5))
                return QUIT;
            if (!c->seen && r >= 6 && !memcmp(c->buf + tail, "stats\n", 6))
                return STATS;
            c->seen = 1;
            c->len += (size_t)r;
        } else if (r == 0) {
            c->eof = 1;
        } else if (errno == ECONNRESET) {
            return RESET;
        } else if (errno != EAGAIN && errno != EINTR) {
            fail("recv: %s", errstr(errno));
        }
    }
    if (c->len) {
        ssize_t w = send(c->fd, c->buf + c->head, c->len, MSG_NOSIGNAL);
        if (w > 0) {
            st->bytes += (unsigned long)w;
            if ((size_t)w < c->len)
                st->partial++;
            c->head += (size_t)w;
            c->len -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            st->partial++;
        } else if (w < 0 && (errno == ECONNRESET || errno == EPIPE)) {
            return RESET;
        } else {
            fail("send: %s", w < 0 ? errstr(errno) : "returned 0");
        }
    }
    if (c->eof && !c->len)
        return CLOSE;
    return KEEP;
}

static void echo_close(int ep, struct conn *c, struct echo_stats *st)
{
    if (epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL))
        fail("epoll_ctl(EPOLL_CTL_DEL): %s", errstr(errno));
    close(c->fd);
    free(c->buf);
    free(c);
    st->open--;
}

static void mode_echo(const struct opts *o)
{
    int l = listener(o->port, o->backlog > 0 ? o->backlog : 256, SOCK_NONBLOCK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        fail("epoll_create1: %s", errstr(errno));
    /* The listener is the entry whose data.ptr is NULL. */
    struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, l, &lev))
        fail("epoll_ctl(EPOLL_CTL_ADD, listener): %s", errstr(errno));
    printf("tcpserver: listening on port %d\n", o->port);

    static struct echo_stats st;
    memset(&st, 0, sizeof(st));
    echo_progress = &st;
    int quit = 0;
    struct epoll_event evs[64];
    while (!quit && !(o->max && st.closed >= (unsigned long)o->max)) {
        step = "waiting in epoll_wait";
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("epoll_wait: %s", errstr(errno));
        for (int i = 0; i < n && !quit; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                /* Take everything pending: with level-triggered epoll one
                 * accept per wakeup would work too, but slower. */
                for (;;) {
                    int fd = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) {
                        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                            break;
                        fail("accept4: %s", errstr(errno));
                    }
                    c = calloc(1, sizeof(*c));
                    if (!c)
                        fail("out of memory at %lu connections", st.open);
                    c->fd = fd;
                    c->interest = EPOLLIN;
                    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
                        fail("epoll_ctl(EPOLL_CTL_ADD): %s", errstr(errno));
                    st.conns++;
                    if (++st.open > st.max_open)
                        st.max_open = st.open;
                }
                continue;
            }
            switch (echo_serve(c, evs[i].events, &st)) {
            case QUIT:
                /* The control connection is not one of the counted ones. */
                echo_close(ep, c, &st);
                st.conns--;
                quit = 1;
                break;
            case STATS: {
                /* Not one of the counted connections either. The line is
                 * short: one send fits an empty socket buffer. */
                char line[160];
                memory_figures(line, sizeof(line), st.open - 1);
                say("stats: %s", line);
                size_t len = strlen(line);
                line[len++] = '\n';
                if (send(c->fd, line, len, MSG_NOSIGNAL) < 0)
                    say("stats: send: %s", errstr(errno));
                echo_close(ep, c, &st);
                st.conns--;
                break;
            }
            case RESET:
                st.resets++;
                /* fall through */
            case CLOSE:
                echo_close(ep, c, &st);
                st.closed++;
                break;
            default: {
                /* Read only while there is room; ask for EPOLLOUT only
                 * while something waits to be sent. */
                uint32_t want = (c->eof || c->len == ECHO_BUF ? 0 : EPOLLIN) |
                                (c->len ? EPOLLOUT : 0);
                if (want != c->interest) {
                    struct epoll_event ev = { .events = want, .data.ptr = c };
                    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev))
                        fail("epoll_ctl(EPOLL_CTL_MOD): %s", errstr(errno));
                    c->interest = want;
                }
            }
            }
        }
    }
    say("connections=%lu closed=%lu reset=%lu max_open=%lu bytes=%lu partial_writes=%lu%s",
        st.conns, st.closed, st.resets, st.max_open, st.bytes, st.partial,
        quit ? " (quit)" : "");
    echo_progress = NULL;
    /* Connections still open at a quit are closed with the program. */
    close(ep);
    close(l);
}

/* --------------------------------------------------------------- backlog -- */

#define BACKLOG_MAX_ACCEPT 64

static void mode_backlog(const struct opts *o)
{
    int cport = o->control_port ? o->control_port : o->port + 1;
    /* Non-blocking, so that the connections queued at the trigger can be
     * counted: accept until EAGAIN. */
    int l = listener(o->port, o->backlog, SOCK_NONBLOCK);
    int cl = listener(cport, 1, 0);
    printf("tcpserver: listening on port %d (backlog %d, control port %d)\n", o->port,
           o->backlog, cport);

    step = "waiting for the control connection";
    int cfd = accept4(cl, NULL, NULL, SOCK_CLOEXEC);
    if (cfd < 0)
        fail("accept4(control): %s", errstr(errno));
    char line[64];
    step = "waiting for the line 'accept K' on the control connection";
    if (read_line(cfd, line, sizeof(line)) < 0)
        fail("control connection: %s", errno ? errstr(errno) : "EOF");
    int want;
    if (sscanf(line, "accept %d", &want) != 1 || want < 1 || want > BACKLOG_MAX_ACCEPT)
        fail("control connection: expected 'accept K' (K 1..%d), got '%s'",
             BACKLOG_MAX_ACCEPT, line);

    int fds[BACKLOG_MAX_ACCEPT], n = 0, queued = -1;
    step = "accepting";
    while (n < want) {
        int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            fds[n++] = fd;
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN)
            fail("accept4: %s", errstr(errno));
        if (queued < 0)
            queued = n;         /* everything that waited for the trigger */
        /* The rest arrive as the host retries their SYNs (Linux: every
         * second at first since 6.7, else after 1, 3, 7 s); the watchdog
         * bounds the wait. */
        step = "waiting for retried connections (poll on the listener)";
        struct pollfd p = { l, POLLIN, 0 };
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            fail("poll(listener): %s", errstr(errno));
    }
    if (queued < 0)
        queued = n;
    step = "echoing one line on each accepted connection";
    for (int i = 0; i < n; i++) {
        char buf[64];
        int len = read_line(fds[i], buf, sizeof(buf) - 1);
        if (len < 0)
            fail("connection %d: %s", i + 1, errno ? errstr(errno) : "EOF before a line");
        buf[len++] = '\n';
        if (send_all(fds[i], buf, (size_t)len, NULL))
            fail("connection %d: send: %s", i + 1, errstr(errno));
        close(fds[i]);
    }
    say("accepted=%d queued_at_trigger=%d backlog=%d", n, queued, o->backlog);
    char done[32];
    int dl = snprintf(done, sizeof(done), "done %d\n", n);
    if (send_all(cfd, done, (size_t)dl, NULL))
        fail("control connection: send: %s", errstr(errno));
    /* On a unikernel the program's exit ends the machine, and with it
     * whatever the stack had not sent yet: wait until the host, having
     * read "done", closes its end. */
    step = "waiting for the host to close the control connection";
    if (read_line(cfd, line, sizeof(line)) >= 0)
        fail("control connection: expected EOF after 'done', got \"%s\"", line);
    if (errno)
        fail("control connection: expected EOF after 'done': %s", errstr(errno));
    close(cfd);
    close(cl);
    close(l);
}

/* ------------------------------------------------------------- halfclose -- */

static unsigned char pattern_byte(size_t i)
{
    return (unsigned char)(i * 131 + (i >> 9) + 7);
}

static void mode_halfclose(const struct opts *o)
{
    size_t bytes = o->bytes > 0 ? (size_t)o->bytes : 100000;
    int l = listener(o->port, 4, 0);
    printf("tcpserver: listening on port %d\n", o->port);

    /* 1: the host closes its side first; this side answers after EOF. */
    step = "waiting for connection 1 (host half-closes)";
    int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        fail("accept4: %s", errstr(errno));
    step = "reading connection 1 until EOF";
    size_t len;
    unsigned char *got = read_to_eof(fd, &len);
    step = "sending the reply on connection 1 after EOF";
    if (send_all(fd, got, len, NULL))
        fail("host-first: send after the peer's FIN: %s", errstr(errno));
    free(got);
    close(fd);
    say("host-first: read %zu bytes up to EOF, then sent them back", len);

    /* 2: this side closes first and keeps reading. */
    step = "waiting for connection 2 (guest half-closes)";
    fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        fail("accept4: %s", errstr(errno));
    unsigned char *out = malloc(bytes);
    if (!out)
        fail("out of memory");
    for (size_t i = 0; i < bytes; i++)
        out[i] = pattern_byte(i);
    step = "sending on connection 2";
    if (send_all(fd, out, bytes, NULL))
        fail("guest-first: send: %s", errstr(errno));
    if (shutdown(fd, SHUT_WR))
        fail("guest-first: shutdown(SHUT_WR): %s", errstr(errno));
    step = "reading connection 2 after shutdown(SHUT_WR)";
    got = read_to_eof(fd, &len);
    if (len != bytes)
        fail("guest-first: sent %zu bytes and shut down writing; got %zu back before EOF",
             bytes, len);
    for (size_t i = 0; i < bytes; i++)
        if (got[i] != out[i])
            fail("guest-first: the reply differs at byte %zu (0x%02x, sent 0x%02x)", i,
                 got[i], out[i]);
    free(got);
    free(out);
    close(fd);
    say("guest-first: sent %zu bytes, shut down writing, read them back up to EOF", bytes);
    close(l);
    say("ok");
}

/* ------------------------------------------------------- connect-refused -- */

static void mode_connect_refused(const struct opts *o)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        fail("socket(AF_INET, SOCK_STREAM): %s", errstr(errno));
    step = "in a blocking connect() to a closed port";
    if (!connect(s, (const struct sockaddr *)&o->to, sizeof(o->to)))
        fail("blocking connect succeeded (expected ECONNREFUSED: is something listening?)");
    if (errno != ECONNREFUSED)
        fail("blocking connect: %s, expected ECONNREFUSED", errstr(errno));
    close(s);
    say("blocking connect: ECONNREFUSED");

    s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        fail("socket(SOCK_NONBLOCK): %s", errstr(errno));
    step = "in a non-blocking connect()";
    int r = connect(s, (const struct sockaddr *)&o->to, sizeof(o->to));
    if (!r)
        fail("non-blocking connect succeeded (expected EINPROGRESS or ECONNREFUSED)");
    if (errno == ECONNREFUSED) {
        say("non-blocking connect: ECONNREFUSED at once");
    } else if (errno != EINPROGRESS) {
        fail("non-blocking connect: %s, expected EINPROGRESS", errstr(errno));
    } else {
        step = "in poll(POLLOUT) after a non-blocking connect to a closed port";
        struct pollfd p = { s, POLLOUT, 0 };
        int n;
        do
            n = poll(&p, 1, 10000);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            fail("poll: %s", errstr(errno));
        if (n == 0)
            fail("non-blocking connect: poll(POLLOUT) reported nothing in 10 s (no RST?)");
        if (!(p.revents & (POLLOUT | POLLERR)))
            fail("non-blocking connect: poll revents 0x%x lack POLLOUT and POLLERR",
                 (unsigned)p.revents);
        int err = -1;
        socklen_t el = sizeof(err);
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el))
            fail("getsockopt(SO_ERROR): %s", errstr(errno));
        if (err != ECONNREFUSED)
            fail("non-blocking connect: SO_ERROR %s, expected ECONNREFUSED", errname(err));
        /* SO_ERROR reports a pending error once. */
        el = sizeof(err);
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el))
            fail("getsockopt(SO_ERROR): %s", errstr(errno));
        if (err != 0)
            fail("a second getsockopt(SO_ERROR) gave %s, expected 0 (the error is "
                 "reported once)", errname(err));
        say("non-blocking connect: EINPROGRESS, poll revents 0x%x, SO_ERROR ECONNREFUSED",
            (unsigned)p.revents);
    }
    close(s);
    say("ok");
}

/* ------------------------------------------------------------- dead-peer -- */

static void mode_dead_peer(const struct opts *o)
{
    /* 1: blocked in recv() when the RST arrives (the peer waits 300 ms
     * before aborting, so that recv is most likely already sleeping; the
     * verdict is the same if the RST comes first). */
    int s = connect_to(&o->to);
    static const char w300[] = "wait 300\n";
    if (send_all(s, w300, sizeof(w300) - 1, NULL))
        fail("recv case: send: %s", errstr(errno));
    step = "blocked in recv() waiting for the peer's RST";
    char c;
    ssize_t r;
    do
        r = recv(s, &c, 1, 0);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        fail("recv case: recv returned 0 (EOF), expected ECONNRESET: the RST was taken "
             "for a FIN?");
    if (r > 0)
        fail("recv case: recv returned data, expected ECONNRESET");
    if (errno != ECONNRESET)
        fail("recv case: recv: %s, expected ECONNRESET", errstr(errno));
    close(s);
    say("recv: ECONNRESET");

    /* 2: send() after the RST arrived. */
    s = connect_to(&o->to);
    static const char w0[] = "wait 0\n";
    if (send_all(s, w0, sizeof(w0) - 1, NULL))
        fail("send case: send: %s", errstr(errno));
    step = "in poll() waiting for the peer's RST";
    struct pollfd p = { s, POLLIN, 0 };
    int n;
    do
        n = poll(&p, 1, 10000);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        fail("send case: poll: %s", n ? errstr(errno) : "nothing in 10 s after the peer's RST");
    unsigned revents = (unsigned)p.revents;
    int e1, e2;
    step = "in send() after the peer's RST";
    if (send(s, "x", 1, MSG_NOSIGNAL) >= 0)
        fail("send case: the first send after the RST succeeded (poll revents 0x%x)", revents);
    e1 = errno;
    if (send(s, "x", 1, MSG_NOSIGNAL) >= 0)
        fail("send case: the second send after the RST succeeded");
    e2 = errno;
    if ((e1 != ECONNRESET && e1 != EPIPE) || (e2 != ECONNRESET && e2 != EPIPE))
        fail("send case: sends after the RST gave %s, %s; expected ECONNRESET or EPIPE",
             errname(e1), errname(e2));
    close(s);
    say("send: poll revents 0x%x, then %s, %s", revents, errname(e1), errname(e2));

    /* 3: a writer that keeps sending: once the RST is in, send must fail,
     * including a send already blocked on a full buffer (the peer reads
     * nothing for 500 ms, long enough to fill the buffers both sides). */
    s = connect_to(&o->to);
    static const char w500[] = "wait 500\n";
    if (send_all(s, w500, sizeof(w500) - 1, NULL))
        fail("writer case: send: %s", errstr(errno));
    static char chunk[65536];
    unsigned long sent = 0;
    step = "in send() on a connection the peer reset (writer case)";
    for (;;) {
        ssize_t w = send(s, chunk, sizeof(chunk), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            break;
        sent += (unsigned long)w;
    }
    int e = errno;
    if (e != ECONNRESET && e != EPIPE)
        fail("writer case: send: %s, expected ECONNRESET or EPIPE", errstr(e));
    close(s);
    say("writer: %s after %lu bytes", errname(e), sent);
    say("ok");
}

/* ------------------------------------------------------------------ main -- */

static void usage(void)
{
    fprintf(stderr,
            "usage: tcpserver [--timeout S] MODE OPTIONS... [then MODE OPTIONS...]...\n"
            "  echo --port P [--max N] [--backlog B]\n"
            "  backlog --port P [--backlog B] [--control-port Q]\n"
            "  halfclose --port P [--bytes N]\n"
            "  connect-refused --to ADDR:PORT\n"
            "  dead-peer --to ADDR:PORT\n");
    exit(2);
}

/* Runs the mode in argv[0] with its options up to argc. */
static void run_mode(int argc, char **argv)
{
    struct opts o = { .backlog = -1 };
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(k, "--port"))
            o.port = parse_int(v, "port", 1, 65535);
        else if (!strcmp(k, "--max"))
            o.max = parse_int(v, "--max", 0, 1000000);
        else if (!strcmp(k, "--backlog"))
            o.backlog = parse_int(v, "--backlog", 0, 65535);
        else if (!strcmp(k, "--control-port"))
            o.control_port = parse_int(v, "port", 1, 65535);
        else if (!strcmp(k, "--bytes"))
            o.bytes = parse_int(v, "--bytes", 1, 100000000);
        else if (!strcmp(k, "--to")) {
            parse_addr(v, &o.to);
            o.have_to = 1;
        } else
            usage();
    }
    tool_mode = argv[0];
    step = "starting";
    if (!strcmp(tool_mode, "echo") && o.port) {
        mode_echo(&o);
    } else if (!strcmp(tool_mode, "backlog") && o.port) {
        if (o.backlog < 0)
            o.backlog = 2;
        mode_backlog(&o);
    } else if (!strcmp(tool_mode, "halfclose") && o.port) {
        mode_halfclose(&o);
    } else if (!strcmp(tool_mode, "connect-refused") && o.have_to) {
        mode_connect_refused(&o);
    } else if (!strcmp(tool_mode, "dead-peer") && o.have_to) {
        mode_dead_peer(&o);
    } else {
        usage();
    }
}

int main(int argc, char **argv)
{
    /* Line-buffered even when stdout is not a terminal: the test waits
     * for the "listening" line while the program runs. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    tool_mode = "tcpserver";    /* the prefix's mode until the first one starts */
    int i = 1;
    if (argc > 2 && !strcmp(argv[1], "--timeout")) {
        timeout_s = parse_int(argv[2], "--timeout", 1, 86400);
        i = 3;
    }
    if (i >= argc)
        usage();
    pthread_t t;
    if (pthread_create(&t, NULL, watchdog, NULL)) {
        printf("tcpserver: FAIL: pthread_create (watchdog) failed\n");
        return 1;
    }
    pthread_detach(t);
    while (i < argc) {
        int j = i;
        while (j < argc && strcmp(argv[j], "then"))
            j++;
        run_mode(j - i, argv + i);
        i = j + 1;
    }
    return 0;
}
