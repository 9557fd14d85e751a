/*
 * tcp_peer: the host side of the bulk TCP tests (tests/guest/tcp.sh),
 * talking to apps/tcpbulk over the host's own Linux TCP.
 *
 *   tcp_peer sink --port P [--bytes N] [--pattern-check] [--pattern-period BYTES]
 *                 [--timeout S]
 *   tcp_peer source --to ADDR:PORT --bytes N [--msg SIZE] [--corrupt-at OFFSET]
 *                 [--connect-timeout S] [--timeout S]
 *   tcp_peer pattern --bytes N          (the pattern stream on stdout)
 *
 * sink listens on 0.0.0.0:P (P 0: a free port), prints "tcp_peer:
 * listening on port P", accepts one connection, reads it to EOF and prints
 * "tcp_peer: received N bytes sha256 HEX". --pattern-check compares
 * every byte with the pattern stream of apps/tcp_pattern.h at its offset
 * (with --pattern-period B: the first B bytes of it, repeated, which is
 * what `tcpbulk send --mode sendfile` sends of a file made by `tcp_peer
 * pattern --bytes B`). --bytes N makes any other length an error.
 *
 * source connects (retrying while the peer is not listening yet), sends N
 * bytes of the pattern stream, half-closes, waits for the peer's close and
 * prints "tcp_peer: sent N bytes sha256 HEX". --corrupt-at OFFSET flips
 * that byte on the wire while the printed digest stays that of the true
 * stream: the negative control for the comparison, standing in for a
 * stack that corrupts data.
 *
 * --timeout S bounds the whole run: "tcp_peer: timed out" and status 1.
 * Errors name what failed, on stderr, with status 1 (2 for usage).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <kern/sha256.h>

#define TOOL_NAME "tcp_peer"
#define TOOL_USAGE \
    "usage: tcp_peer sink --port P [--bytes N] [--pattern-check] [--pattern-period B]\n" \
    "                     [--timeout S]\n" \
    "       tcp_peer source --to ADDR:PORT --bytes N [--msg SIZE] [--corrupt-at OFF]\n" \
    "                     [--connect-timeout S] [--timeout S]\n" \
    "       tcp_peer pattern --bytes N\n"
#include "../../apps/tcp_pattern.h"
#include "../../apps/tool_util.h"

typedef unsigned long long ull;

static void print_digest(const char *verb, ull bytes, struct sha256_ctx *sha, double secs)
{
    uint8_t d[SHA256_DIGEST_SIZE];
    char h[2 * SHA256_DIGEST_SIZE + 1];
    sha256_final(sha, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        sprintf(h + 2 * i, "%02x", d[i]);
    say("%s %llu bytes sha256 %s", verb, bytes, h);
    if (secs <= 0)
        secs = 1e-9;
    say("%.1f MiB in %.2f s, %.1f MiB/s", (double)bytes / (1 << 20), secs,
        (double)bytes / (1 << 20) / secs);
}

static int cmd_sink(int argc, char **argv)
{
    ull port = 0, want = 0, period = 0;
    int have_port = 0, have_bytes = 0, check = 0;
    unsigned timeout = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        ull x;
        if (!strcmp(a, "--pattern-check")) {
            check = 1;
            continue;
        }
        const char *v = option_value(argc, argv, &i);
        if (!strcmp(a, "--port") && !parse_listen_port(v, &port))
            have_port = 1;
        else if (!strcmp(a, "--bytes") && !parse_size(v, &want))
            have_bytes = 1;
        else if (!strcmp(a, "--pattern-period") && !parse_size(v, &period) && period)
            check = 1;
        else if (!strcmp(a, "--timeout") && !parse_size(v, &x) && x && x < 1000000)
            timeout = (unsigned)x;
        else
            usage("a bad option or value");
    }
    if (!have_port)
        usage("sink needs --port");
    arm_timeout(timeout);

    int s = accept_one(listen_on_port((unsigned)port, 1));

    static unsigned char buf[1 << 20];
    struct sha256_ctx sha;
    sha256_init(&sha);
    ull got = 0, bad_at = ~0ull;
    unsigned char bad_byte = 0;
    double t0 = now();
    for (;;) {
        /* Here too, not only on EINTR: an alarm during a recv that had
         * data returns it, and the next recv would block for good. */
        check_timeout("receiving", got);
        ssize_t n = recv(s, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("recv after %llu bytes: %s", got, strerror(errno));
        if (n == 0)
            break;
        if (check && bad_at == ~0ull) {
            size_t b = tcp_pattern_check_periodic(buf, got, (size_t)n, period);
            if (b < (size_t)n) {
                bad_at = got + b;
                bad_byte = buf[b];
            }
        }
        sha256_update(&sha, buf, (size_t)n);
        got += (ull)n;
    }
    double secs = now() - t0;
    close(s);
    print_digest("received", got, &sha, secs);
    int status = 0;
    if (bad_at != ~0ull) {
        fprintf(stderr, "tcp_peer: pattern mismatch at stream byte %llu: got 0x%02x, expected "
                "0x%02x\n", bad_at, bad_byte,
                tcp_pattern_byte(period ? bad_at % period : bad_at));
        status = 1;
    } else if (check) {
        say("every byte matched the pattern stream%s", period ? " (repeated)" : "");
    }
    if (have_bytes && got != want) {
        fprintf(stderr, "tcp_peer: expected %llu bytes, the peer closed after %llu\n", want, got);
        status = 1;
    }
    return status;
}

static int cmd_source(int argc, char **argv)
{
    const char *to = NULL;
    ull total = 0, msg = 256 << 10, corrupt_at = ~0ull, connect_timeout = 10;
    int have_bytes = 0;
    unsigned timeout = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        ull x;
        const char *v = option_value(argc, argv, &i);
        if (!strcmp(a, "--to"))
            to = v;
        else if (!strcmp(a, "--bytes") && !parse_size(v, &total))
            have_bytes = 1;
        else if (!strcmp(a, "--msg") && !parse_size(v, &x) && x && x <= (64 << 20))
            msg = x;
        else if (!strcmp(a, "--corrupt-at") && !parse_size(v, &x))
            corrupt_at = x;
        else if (!strcmp(a, "--connect-timeout") && !parse_size(v, &x))
            connect_timeout = x;
        else if (!strcmp(a, "--timeout") && !parse_size(v, &x) && x && x < 1000000)
            timeout = (unsigned)x;
        else
            usage("a bad option or value");
    }
    if (!to || !have_bytes)
        usage("source needs --to and --bytes");
    signal(SIGPIPE, SIG_IGN);
    arm_timeout(timeout);
    struct sockaddr_in peer;
    const char *bad_to = parse_to_option(to, &peer);
    if (bad_to)
        usage(bad_to);
    int s = connect_retrying(&peer, to, (double)connect_timeout);
    say("connected to %s", to);

    unsigned char *buf = malloc(msg);
    if (!buf)
        die("out of memory for a %llu-byte buffer", msg);
    struct sha256_ctx sha;
    sha256_init(&sha);
    ull sent = 0;
    double t0 = now();
    while (sent < total) {
        size_t n = (size_t)(total - sent < msg ? total - sent : msg);
        tcp_pattern_fill(buf, sent, n);
        /* The digest is of the true stream; only the wire copy is bad. */
        sha256_update(&sha, buf, n);
        if (corrupt_at >= sent && corrupt_at < sent + n)
            buf[corrupt_at - sent] ^= 0x01;
        for (size_t done = 0; done < n;) {
            /* An alarm during a send that had moved bytes returns the
             * short count, not EINTR: check before every call. */
            check_timeout("sending", sent + done);
            ssize_t w = send(s, buf + done, n - done, 0);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                die("send of stream bytes [%llu, %llu): %s", sent + done, sent + n,
                    w < 0 ? strerror(errno) : "returned 0");
            done += (size_t)w;
        }
        sent += n;
    }
    if (shutdown(s, SHUT_WR))
        die("shutdown(SHUT_WR) after the last byte: %s", strerror(errno));
    /* The receiver closes after reading everything: wait for that, so
     * this line means the bytes arrived (not just left). */
    for (;;) {
        char c[512];
        check_timeout("waiting for the receiver to close", sent);
        ssize_t n = recv(s, c, sizeof(c), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("waiting for the receiver to close: %s", strerror(errno));
        if (n == 0)
            break;
        die("the receiver sent %zd bytes; it should send nothing", n);
    }
    double secs = now() - t0;
    close(s);
    print_digest("sent", sent, &sha, secs);
    if (corrupt_at != ~0ull)
        say("byte %llu was flipped on the wire (--corrupt-at)", corrupt_at);
    free(buf);
    return 0;
}

static int cmd_pattern(int argc, char **argv)
{
    ull total = 0;
    if (argc != 2 || strcmp(argv[0], "--bytes") || parse_size(argv[1], &total))
        usage("pattern needs --bytes N");
    static unsigned char buf[1 << 16];
    for (ull off = 0; off < total;) {
        size_t n = (size_t)(total - off < sizeof(buf) ? total - off : sizeof(buf));
        tcp_pattern_fill(buf, off, n);
        if (fwrite(buf, 1, n, stdout) != n)
            die("write to stdout at byte %llu: %s", off, strerror(errno));
        off += n;
    }
    if (fflush(stdout))
        die("write to stdout: %s", strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    static const struct subcommand cmds[] = {
        { "sink", cmd_sink }, { "source", cmd_source }, { "pattern", cmd_pattern }, { 0 }
    };
    return run_subcommand(argc, argv, cmds, "expected sink, source or pattern");
}
