/*
 * zcopy_echo: OSv's tst-bsd-tcp1-zsnd scenario, the test that found the
 * aarch64 -O0 context-switch bug (DESIGN.md, "The ABI contract"), as one
 * app.
 *
 *   zcopy_echo [--iterations N] [--addr A] [--port P] [--role both|server|client]
 *              [--fallback-send] [--timeout S]
 *
 * A server thread and a client (the main thread) do N connect/accept
 * cycles (default 400) on A:P (default 127.0.0.1:5555, loopback). In each
 * cycle the client connects and sends "This is a TCP message" (22 bytes
 * with its NUL) with zcopy_tx; the server read()s up to 512 bytes (until
 * the NUL arrived), echoes them from that same stack buffer with zcopy_tx,
 * close()s the socket, then poll()s zm_txfd for POLLIN, reads the count
 * (1) and calls zcopy_txclose before the buffer is reused. The client
 * reads the echo up to EOF, checks it is exactly the 22 bytes it sent,
 * closes, and waits for its own completion the same way. The point is
 * the pattern that broke OSv: a buffer the stack holds by reference across
 * a blocking wait and a close, 400 times, with two threads switching.
 *
 * Prints "zcopy_echo: N cycles ok" and exits 0 when every echo was intact
 * and every completion arrived; otherwise "zcopy_echo: FAIL: ..." and
 * status 1. A watchdog thread fails a run stuck for --timeout seconds
 * (default 120), naming the cycle and the step.
 *
 * zcopy_tx exists only on Tern; elsewhere (Linux) it fails with ENOSYS,
 * which is reported as such (status 1). --fallback-send uses send() and
 * skips the completion waits, so that everything else can be checked on
 * the host. --role server / --role client split the two sides over the
 * network (e.g. the server in a guest on --addr 0.0.0.0, the client on the
 * host with --addr GUEST --fallback-send); the server then prints
 * "zcopy_echo: listening on A:P" when ready, and after the last cycle
 * waits for one more connection that the client closes at once, so that
 * it does not exit (on Tern: end the machine) before the client got
 * everything.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <tern/zcopy.h>

#define TOOL_NAME "zcopy_echo"
#include "tool_util.h"

#define MESSAGE "This is a TCP message"     /* sizeof: 22, with the NUL */
#define READ_MAX 512

static int iterations = 400;
static int fallback;            /* --fallback-send: send() instead of zcopy_tx */
static int timeout_s = 120;
static int remote;              /* --role server or client: two programs */
static struct sockaddr_in addr;

/* Where each side is, for the watchdog's message. */
static const char *volatile server_step = "not started";
static const char *volatile client_step = "not started";
static volatile int server_cycle, client_cycle;

static void *watchdog(void *arg)
{
    (void)arg;
    struct timespec t = { .tv_sec = timeout_s };
    while (nanosleep(&t, &t) && errno == EINTR)
        ;
    printf("zcopy_echo: FAIL: stuck for %d s: server at cycle %d %s; client at cycle %d %s\n",
           timeout_s, server_cycle + 1, server_step, client_cycle + 1, client_step);
    fflush(stdout);
    _exit(1);
}

/* One transmission: the iovec lives with the zmsghdr, as long as the
 * kernel may look at either. */
struct ztx {
    struct iovec iov;
    struct zmsghdr zm;
};

static void tx(struct ztx *t, int fd, void *buf, size_t len, const char *who, int cycle)
{
    memset(t, 0, sizeof(*t));
    t->zm.zm_txfd = -1;
    if (fallback) {
        if (send_all(fd, buf, len, NULL))
            fail("%s: cycle %d: send: %s", who, cycle + 1, strerror(errno));
        return;
    }
    t->iov.iov_base = buf;
    t->iov.iov_len = len;
    t->zm.zm_msg.msg_iov = &t->iov;
    t->zm.zm_msg.msg_iovlen = 1;
    ssize_t n = zcopy_tx(fd, &t->zm);
    if (n < 0 && errno == ENOSYS)
        fail("%s: zcopy_tx: ENOSYS (%s): this kernel has no zero-copy transmit "
             "(not Tern? --fallback-send uses send() instead)", who, strerror(errno));
    if (n < 0)
        fail("%s: cycle %d: zcopy_tx: %s", who, cycle + 1, strerror(errno));
    /* A blocking socket queues everything or fails (include/tern/zcopy.h). */
    if ((size_t)n != len)
        fail("%s: cycle %d: zcopy_tx queued %zd of %zu bytes on a blocking socket", who,
             cycle + 1, n, len);
    if (t->zm.zm_txfd < 0)
        fail("%s: cycle %d: zcopy_tx returned %zd but no completion descriptor", who,
             cycle + 1, n);
}

/* Waits until the stack gave the buffer back, then closes the descriptor. */
static void wait_completion(struct ztx *t, const char *who, int cycle)
{
    if (fallback)
        return;
    struct pollfd p = { t->zm.zm_txfd, POLLIN, 0 };
    int n;
    do
        n = poll(&p, 1, 10000);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        fail("%s: cycle %d: poll(zm_txfd): %s", who, cycle + 1, strerror(errno));
    if (n == 0)
        fail("%s: cycle %d: no completion on zm_txfd within 10 s", who, cycle + 1);
    uint64_t v = 0;
    ssize_t r = read(t->zm.zm_txfd, &v, sizeof(v));
    if (r != (ssize_t)sizeof(v) || v != 1)
        fail("%s: cycle %d: read(zm_txfd) gave %zd bytes, count %llu; expected 8 bytes, 1",
             who, cycle + 1, r, (unsigned long long)v);
    zcopy_txclose(&t->zm);
    if (t->zm.zm_txfd != -1)
        fail("%s: cycle %d: zcopy_txclose left zm_txfd %d", who, cycle + 1, t->zm.zm_txfd);
}

static void *server(void *arg)
{
    int l = *(int *)arg;
    for (int i = 0; i < iterations; i++) {
        server_cycle = i;
        server_step = "in accept()";
        int fd = accept(l, NULL, NULL);
        if (fd < 0)
            fail("server: cycle %d: accept: %s", i + 1, strerror(errno));
        /* The buffer is on this thread's stack and belongs to the stack
         * until the completion: exactly OSv's test. */
        char buf[READ_MAX];
        size_t len = 0;
        server_step = "in read()";
        while (len < sizeof(buf) && !memchr(buf, 0, len)) {
            ssize_t n = read(fd, buf + len, sizeof(buf) - len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                fail("server: cycle %d: read: %s", i + 1, strerror(errno));
            if (n == 0)
                break;
            len += (size_t)n;
        }
        if (len == 0)
            fail("server: cycle %d: the client sent nothing", i + 1);
        struct ztx t;
        server_step = "in zcopy_tx()";
        tx(&t, fd, buf, len, "server", i);
        server_step = "in close()";
        if (close(fd))
            fail("server: cycle %d: close: %s", i + 1, strerror(errno));
        server_step = "waiting for the transmit completion (poll zm_txfd)";
        wait_completion(&t, "server", i);
    }
    printf("zcopy_echo: server: %d echoes%s\n", iterations,
           fallback ? "" : ", each completed after close");
    if (remote) {
        /* A unikernel's exit ends the machine, and whatever its stack had
         * not sent yet (the last FIN): the remote client says with one
         * more connection, closed at once, that it got everything. */
        server_step = "waiting for the client's final connection";
        int fd = accept(l, NULL, NULL);
        char c;
        if (fd < 0 || read(fd, &c, 1) != 0)
            fail("server: the client's final connection: expected EOF");
        close(fd);
    }
    server_step = "done";
    return NULL;
}

static void client(void)
{
    for (int i = 0; i < iterations; i++) {
        client_cycle = i;
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            fail("client: socket(AF_INET, SOCK_STREAM): %s", strerror(errno));
        client_step = "in connect()";
        if (connect(s, (struct sockaddr *)&addr, sizeof(addr)))
            fail("client: cycle %d: connect: %s", i + 1, strerror(errno));
        char msg[] = MESSAGE;
        struct ztx t;
        client_step = "in zcopy_tx()";
        tx(&t, s, msg, sizeof(msg), "client", i);
        /* The echo, then EOF (the server closes after echoing). */
        char got[READ_MAX];
        size_t len = 0;
        client_step = "reading the echo";
        for (;;) {
            ssize_t n = read(s, got + len, sizeof(got) - len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                fail("client: cycle %d: read after %zu bytes: %s", i + 1, len,
                     strerror(errno));
            if (n == 0 || (len += (size_t)n) == sizeof(got))
                break;
        }
        if (len != sizeof(msg) || memcmp(got, MESSAGE, sizeof(msg))) {
            /* Shown up to the first NUL, the message's own terminator. */
            fail("client: cycle %d: echo differs: %zu bytes \"%.*s\", expected %zu bytes \"%s\"",
                 i + 1, len, (int)strnlen(got, len), got, sizeof(msg), MESSAGE);
        }
        client_step = "in close()";
        if (close(s))
            fail("client: cycle %d: close: %s", i + 1, strerror(errno));
        client_step = "waiting for the transmit completion (poll zm_txfd)";
        wait_completion(&t, "client", i);
    }
    if (remote) {
        client_step = "in the final connect()";
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr)))
            fail("client: the final connection: %s", strerror(errno));
        close(s);
    }
    client_step = "done";
    printf("zcopy_echo: client: %d echoes intact\n", iterations);
}

static void usage(void)
{
    fprintf(stderr, "usage: zcopy_echo [--iterations N] [--addr A] [--port P] "
                    "[--role both|server|client] [--fallback-send] [--timeout S]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *host = "127.0.0.1", *role = "both";
    int port = 5555;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fallback-send")) {
            fallback = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(argv[i - 1], "--iterations"))
            iterations = parse_int(v, "--iterations", 1, 10000000);
        else if (!strcmp(argv[i - 1], "--addr"))
            host = v;
        else if (!strcmp(argv[i - 1], "--port"))
            port = parse_int(v, "--port", 1, 65535);
        else if (!strcmp(argv[i - 1], "--role"))
            role = v;
        else if (!strcmp(argv[i - 1], "--timeout"))
            timeout_s = parse_int(v, "--timeout", 1, 86400);
        else
            usage();
    }
    int run_server = !strcmp(role, "both") || !strcmp(role, "server");
    int run_client = !strcmp(role, "both") || !strcmp(role, "client");
    if (!run_server && !run_client)
        usage();
    remote = !(run_server && run_client);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    parse_ipv4(host, &addr.sin_addr);
    printf("zcopy_echo: %d cycles on %s:%d, %s\n", iterations, host, port,
           fallback ? "transmitting with send() (--fallback-send)"
                    : "transmitting with zcopy_tx, waiting for each completion");

    pthread_t wd, srv;
    if (pthread_create(&wd, NULL, watchdog, NULL))
        fail("pthread_create (watchdog) failed");
    pthread_detach(wd);

    static int l = -1;
    if (run_server) {
        /* Listening before the client starts: no race on the first
         * connect. */
        l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0)
            fail("server: socket(AF_INET, SOCK_STREAM): %s", strerror(errno));
        int one = 1;
        if (setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
            fail("server: setsockopt(SO_REUSEADDR): %s", strerror(errno));
        if (bind(l, (struct sockaddr *)&addr, sizeof(addr)))
            fail("server: bind %s:%d: %s", host, port, strerror(errno));
        if (listen(l, 16))
            fail("server: listen: %s", strerror(errno));
        if (!run_client)
            printf("zcopy_echo: listening on %s:%d\n", host, port);
        if (pthread_create(&srv, NULL, server, &l))
            fail("pthread_create (server) failed");
    }
    if (run_client)
        client();
    if (run_server) {
        pthread_join(srv, NULL);
        close(l);
    }
    printf("zcopy_echo: %d cycles ok\n", iterations);
    return 0;
}
