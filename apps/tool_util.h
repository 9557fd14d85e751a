/*
 * The command-line and socket helpers of the TCP test and benchmark
 * programs, one definition for all of them: the apps that run in the guest and natively
 * (apps/tcpbulk.c, apps/tcpserver.c, apps/zcopy_echo.c, bench/bulksend.c:
 * `tern cc`, musl) and the host programs (tests/host/tcp_peer.c,
 * tcp_client.c, netem_relay.c, bench/sink.c: the host's gcc, glibc).
 *
 * A program defines TOOL_NAME, its name as a string literal, before the
 * include: every line these helpers print starts "TOOL_NAME: ", which is
 * what the tests match. A program that also defines TOOL_USAGE (its
 * synopsis, a string literal ending in a newline) gets usage() from here.
 *
 * Everything is static inline, as in apps/tcp_pattern.h: each program uses
 * a different part, and -Wunused-function would fail the build over the
 * rest.
 */
#ifndef TOOL_UTIL_H
#define TOOL_UTIL_H

#ifndef TOOL_NAME
#error "tool_util.h: define TOOL_NAME (the program's name, a string literal) first"
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ----------------------------------------------------------- messages --- */

/* Set by a program that runs one of several modes: its say() and fail()
 * lines then read "NAME: MODE: ...", so that a test can tell the modes of
 * one run apart. */
static const char *tool_mode __attribute__((unused));

/* "NAME: [MODE: ]MARKER" and the message, on stdout. */
static inline void say_line(const char *marker, const char *fmt, va_list ap)
{
    fputs(TOOL_NAME ": ", stdout);
    if (tool_mode)
        printf("%s: ", tool_mode);
    fputs(marker, stdout);
    vprintf(fmt, ap);
    putchar('\n');
    /* At once: on a guest's console stdout is not a terminal, so it is
     * fully buffered, and the tests wait for lines. */
    fflush(stdout);
}

/* A status line on stdout. */
static inline __attribute__((format(printf, 1, 2))) void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say_line("", fmt, ap);
    va_end(ap);
}

/* A check that failed, on stdout with the rest of the report, where the
 * tests look for "FAIL"; status 1. */
static inline __attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say_line("FAIL: ", fmt, ap);
    va_end(ap);
    exit(1);
}

/* An error that ends the program: "NAME: what: why" on stderr, status 1.
 * Whatever stdout holds goes out first, so that the two read in order. */
static inline __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs(TOOL_NAME ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

#ifdef TOOL_USAGE
/* A command-line mistake: what is wrong, then the synopsis; status 2. */
static inline __attribute__((noreturn)) void usage(const char *why)
{
    fprintf(stderr, TOOL_NAME ": %s\n" TOOL_USAGE, why);
    exit(2);
}

/* The value of the option argv[*i], for a loop over argv: steps *i onto
 * it. An option that is the last word is a usage error. */
static inline const char *option_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        usage("an option without its value");
    return argv[++*i];
}

/* "PROGRAM COMMAND OPTIONS...": one entry a command, then { NULL }. */
struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);     /* gets the words after COMMAND */
};

/* Runs the command argv[1] names and returns its status; none, or one
 * not in cmds, is a usage error: why. */
static inline int run_subcommand(int argc, char **argv, const struct subcommand *cmds,
                                 const char *why)
{
    for (; argc >= 2 && cmds->name; cmds++)
        if (!strcmp(argv[1], cmds->name))
            return cmds->run(argc - 2, argv + 2);
    usage(why);
}
#endif

/* Names rather than strerror text, so that test output can be matched
 * exactly and reads the same on every libc. */
static inline const char *errname(int e)
{
    switch (e) {
    case 0: return "0";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ECONNABORTED: return "ECONNABORTED";
    case EPIPE: return "EPIPE";
    case EINPROGRESS: return "EINPROGRESS";
    case EALREADY: return "EALREADY";
    case EAGAIN: return "EAGAIN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case ENOTCONN: return "ENOTCONN";
    case EISCONN: return "EISCONN";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EMFILE: return "EMFILE";
    case ENOMEM: return "ENOMEM";
    case ENOBUFS: return "ENOBUFS";
    case EINTR: return "EINTR";
    }
    static char buf[32];
    snprintf(buf, sizeof(buf), "errno %d", e);
    return buf;
}

/* "ENAME (strerror text)". */
static inline const char *errstr(int e)
{
    static char buf[160];
    snprintf(buf, sizeof(buf), "%s (%s)", errname(e), strerror(e));
    return buf;
}

/* ---------------------------------------------------- numbers and time --- */

/* CLOCK_MONOTONIC in seconds. */
static inline double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A decimal size with an optional K, M or G suffix (powers of 1024, either
 * case) into *out; -1 for anything else, a sign or an overflow included. */
static inline int parse_size(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return -1;
    unsigned long long mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1ull << 10; end++; break;
    case 'm': case 'M': mul = 1ull << 20; end++; break;
    case 'g': case 'G': mul = 1ull << 30; end++; break;
    }
    if (*end || (v && mul > ~0ull / v))
        return -1;
    *out = v * mul;
    return 0;
}

/* A port to listen on, in parse_size's syntax like the other numbers:
 * 0..65535, 0 for a free one. */
static inline int parse_listen_port(const char *s, unsigned long long *port)
{
    return parse_size(s, port) || *port > 65535 ? -1 : 0;
}

/* A decimal integer in [lo, hi]; anything else ends the program with
 * "NAME: bad WHAT 'S' (LO..HI)" and status 2. */
static inline int parse_int(const char *s, const char *what, int lo, int hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, TOOL_NAME ": bad %s '%s' (%d..%d)\n", what, s, lo, hi);
        exit(2);
    }
    return (int)v;
}

/* ------------------------------------------------------------ timeout --- */

/* Set by SIGALRM once the time given to arm_timeout has run out. */
static volatile sig_atomic_t timed_out __attribute__((unused));
static unsigned timeout_armed_s __attribute__((unused));

static inline void on_timeout_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
}

/* After `seconds` (0: never), SIGALRM sets timed_out. The handler goes in
 * without SA_RESTART, so that it also interrupts whatever call is blocked
 * then: that call fails with EINTR, and the caller that sees it reports
 * the timeout with what it was doing (check_timeout). */
static inline void arm_timeout(unsigned seconds)
{
    if (!seconds)
        return;
    timeout_armed_s = seconds;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_timeout_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(seconds);
}

/* After an EINTR: once the time is up, "timed out after S s DOING (N bytes
 * so far)" and status 1. */
static inline void check_timeout(const char *doing, unsigned long long bytes)
{
    if (timed_out)
        die("timed out after %u s %s (%llu bytes so far)", timeout_armed_s, doing, bytes);
}

/* -------------------------------------------------------- IPv4 and TCP --- */

#define TOOL_HOST_MAX 64

/* Splits "ADDR:PORT" at its last colon: copies ADDR into host and returns
 * the text of PORT; NULL when there is no colon or ADDR does not fit. */
static inline const char *split_host_port(const char *s, char host[TOOL_HOST_MAX])
{
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= TOOL_HOST_MAX)
        return NULL;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    return colon + 1;
}

/* A dotted-quad IPv4 address; anything else ends the program with
 * "NAME: bad IPv4 address 'HOST'" and status 2. */
static inline void parse_ipv4(const char *host, struct in_addr *out)
{
    if (inet_pton(AF_INET, host, out) != 1) {
        fprintf(stderr, TOOL_NAME ": bad IPv4 address '%s'\n", host);
        exit(2);
    }
}

/* "ADDR:PORT" (an IPv4 address, a port 1..65535) into *a; anything else
 * ends the program with status 2, naming what is wrong. */
static inline void parse_addr(const char *s, struct sockaddr_in *a)
{
    char host[TOOL_HOST_MAX];
    const char *port = split_host_port(s, host);
    if (!port) {
        fprintf(stderr, TOOL_NAME ": bad address '%s' (want ADDR:PORT)\n", s);
        exit(2);
    }
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)parse_int(port, "port", 1, 65535));
    parse_ipv4(host, &a->sin_addr);
}

/* ADDR:PORT as parse_addr takes it, for the option --to of a program with
 * usage(why): returns NULL, or the `why` to give it. */
static inline const char *parse_to_option(const char *to, struct sockaddr_in *a)
{
    char host[TOOL_HOST_MAX];
    const char *port_text = split_host_port(to, host);
    if (!port_text)
        return "--to wants ADDR:PORT";
    char *end;
    long port = strtol(port_text, &end, 10);
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (*end || port < 1 || port > 65535 || inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return "--to wants ADDR:PORT with an IPv4 address";
    return NULL;
}

/* A TCP connection to *a (`to`: the same as the user wrote it, for the
 * messages). The peer may still be starting, or a link or an ARP entry
 * may not be there yet: what those explain is retried every 100 ms for
 * `timeout` seconds. Anything else, or the end of an arm_timeout, is
 * fatal. */
static inline int connect_retrying(const struct sockaddr_in *a, const char *to, double timeout)
{
    double deadline = now() + timeout;
    for (;;) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0)
            die("socket: %s", strerror(errno));
        if (!connect(s, (const struct sockaddr *)a, sizeof(*a)))
            return s;
        int err = errno;
        close(s);
        check_timeout("connecting", 0);
        if ((err != ECONNREFUSED && err != ETIMEDOUT && err != EHOSTUNREACH &&
             err != ENETUNREACH && err != EINTR) || now() > deadline)
            die("connect to %s: %s", to, strerror(err));
        usleep(100 * 1000);
    }
}

/* Sends all len bytes of buf on a blocking socket, again after a signal;
 * MSG_NOSIGNAL, so that a reset connection is an EPIPE, not a SIGPIPE
 * that ends the program. Returns 0, or -1 with errno (0 when send()
 * returned 0) and *sent (if not NULL) the bytes that did go out. */
static inline int send_all(int fd, const void *buf, size_t len, size_t *sent)
{
    const char *p = buf;
    size_t done = 0;
    int status = 0;
    while (done < len) {
        /* An alarm (arm_timeout) during a send that had moved bytes
         * returns the short count, not EINTR: look before every call. */
        if (timed_out) {
            errno = EINTR;
            status = -1;
            break;
        }
        ssize_t n = send(fd, p + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = 0;
            status = -1;
            break;
        }
        done += (size_t)n;
    }
    if (sent)
        *sent = done;
    return status;
}

/* A TCP socket listening on 0.0.0.0:port. Port 0 picks a free one (tests
 * share the host with other runs), so it says which: "NAME: listening on
 * port P", the line the tests wait for. */
static inline int listen_on_port(unsigned port, int backlog)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    if (ls < 0)
        die("socket: %s", strerror(errno));
    /* So that a rerun does not wait for the last run's TIME_WAIT. */
    int one = 1;
    if (setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
        die("setsockopt(SO_REUSEADDR): %s", strerror(errno));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)))
        die("bind 0.0.0.0:%u: %s", port, strerror(errno));
    if (listen(ls, backlog))
        die("listen: %s", strerror(errno));
    socklen_t alen = sizeof(a);
    if (getsockname(ls, (struct sockaddr *)&a, &alen))
        die("getsockname: %s", strerror(errno));
    say("listening on port %u", ntohs(a.sin_port));
    return ls;
}

/* The one connection a listener is for: accepts it, closes the listener
 * and says where the connection came from. */
static inline int accept_one(int ls)
{
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    int s;
    while ((s = accept(ls, (struct sockaddr *)&from, &flen)) < 0 && errno == EINTR)
        check_timeout("waiting for a connection", 0);
    if (s < 0)
        die("accept: %s", strerror(errno));
    close(ls);
    char fa[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &from.sin_addr, fa, sizeof(fa));
    say("connection from %s:%u", fa, ntohs(from.sin_port));
    return s;
}

#endif
