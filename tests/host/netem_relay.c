/*
 * netem_relay: a userspace stand-in for `tc qdisc add dev TAP root netem
 * loss 1% reorder 5% delay 5ms`, for hosts whose kernel has no sch_netem
 * (tests/guest/tcp.sh uses tc's netem when it works, this otherwise).
 *
 *   netem_relay --wire IF --host-netns PATH --host-tap IF [--loss PCT]
 *               [--reorder PCT] [--delay-ms MS] [--seed N] [--to-guest-only]
 *
 * Two namespaces and two tap devices, the relay in between:
 *
 *   guest -- QEMU -- IF (wire namespace, no addresses)
 *                     | AF_PACKET socket (all frames of IF)
 *                  netem_relay  (drops, delays, reorders)
 *                     | the tap's file descriptor
 *                   host tap (host namespace, 10.99.0.1) -- Linux TCP
 *
 * The relay starts in the wire namespace, opens a packet socket on IF,
 * then enters the host namespace (setns on PATH, e.g. /run/netns/NAME)
 * and attaches to the host tap. The wire namespace has no addresses and
 * does not forward, so its own stack ignores the guest's frames: the
 * relay is the only way between the two.
 *
 * Impairment per frame, as netem does it: dropped with probability LOSS;
 * else sent at once with probability REORDER (overtaking the frames held
 * back); else held for DELAY ms. The pseudo-random sequence comes from a
 * fixed seed (default 6), so a run's decisions are reproducible for the
 * same frame order. Both directions are impaired unless --to-guest-only
 * (which is what netem on the tap's root qdisc would do).
 *
 * Frames keep their virtio-net header on both sides (PACKET_VNET_HDR,
 * IFF_VNET_HDR): the guest's TSO frames stay whole (a dropped one is a
 * lost burst, as with netem), and checksums the guest left to offload are
 * completed by the host's stack. The host tap gets no offloads, so the
 * host sends the guest plain MTU-sized frames.
 *
 * Prints "netem_relay: ready: ..." once both ends are open, and on SIGTERM
 * or SIGINT a count per direction of frames, drops and early frames.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOOL_NAME "netem_relay"
#define TOOL_USAGE \
    "usage: netem_relay --wire IF --host-netns PATH --host-tap IF [--loss PCT]\n" \
    "                   [--reorder PCT] [--delay-ms MS] [--seed N] [--to-guest-only]\n"
#include "../../apps/tool_util.h"

#define VNET_HDR_LEN sizeof(struct virtio_net_hdr)
/* A whole TSO frame: a 64 KiB IP packet, its Ethernet header, the
 * virtio-net header, and slack. */
#define FRAME_MAX (VNET_HDR_LEN + 14 + 65535 + 64)
/* Frames held back at once, per direction (5 ms at several Gbit/s). */
#define QUEUE_CAP 16384

enum { TO_HOST, TO_GUEST };
static const char *const dir_name[] = { "guest->host", "host->guest" };

struct frame {
    double due;
    size_t len;
    unsigned char *data;
};

struct queue {
    struct frame f[QUEUE_CAP];
    unsigned head, count;
};

struct stats {
    unsigned long long frames, bytes, dropped, early, delayed, overflow, truncated, out_errors;
};

static struct queue queues[2];
static struct stats stats[2];
static int pkt_fd = -1, tap_fd = -1;
static double loss_pct = 1, reorder_pct = 5, delay_s = 0.005;
static int impair_to_host = 1;
static uint64_t rng_state;
static volatile sig_atomic_t stop;
static int first_out_error[2] = { 1, 1 };

/* xorshift64*: a uniform number in [0, 100). */
static double rnd_pct(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    uint64_t r = rng_state * 0x2545f4914f6cdd1dull;
    return (double)(r >> 11) / (double)(1ull << 53) * 100.0;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void emit(int dir, const unsigned char *data, size_t len)
{
    ssize_t n = dir == TO_HOST ? write(tap_fd, data, len) : send(pkt_fd, data, len, 0);
    if (n == (ssize_t)len)
        return;
    /* A full device queue on the way out is one more lost frame, which
     * TCP recovers from like any other; say so once per direction. */
    stats[dir].out_errors++;
    if (first_out_error[dir]) {
        first_out_error[dir] = 0;
        fprintf(stderr, "netem_relay: %s: %s of a %zu-byte frame failed: %s (counted, not "
                "fatal)\n", dir_name[dir], dir == TO_HOST ? "write to the host tap" :
                "send on the wire", len, n < 0 ? strerror(errno) : "short");
    }
}

static void handle(int dir, const unsigned char *data, size_t len)
{
    struct stats *st = &stats[dir];
    st->frames++;
    st->bytes += len - VNET_HDR_LEN;
    if (dir == TO_HOST && !impair_to_host) {
        emit(dir, data, len);
        return;
    }
    if (rnd_pct() < loss_pct) {
        st->dropped++;
        return;
    }
    if (rnd_pct() < reorder_pct) {
        st->early++;
        emit(dir, data, len);
        return;
    }
    struct queue *q = &queues[dir];
    if (q->count == QUEUE_CAP) {
        st->overflow++;
        return;
    }
    unsigned char *copy = malloc(len);
    if (!copy)
        die("out of memory for a held %zu-byte frame", len);
    memcpy(copy, data, len);
    /* Every held frame waits the same delay, so the queue stays in order
     * of due time. */
    q->f[(q->head + q->count++) % QUEUE_CAP] = (struct frame){ now() + delay_s, len, copy };
    st->delayed++;
}

/* Sends the held frames whose time has come; returns the time until the
 * next one in milliseconds (rounded up), or -1 when none is held. */
static int flush_due(void)
{
    double t = now(), next = -1;
    for (int dir = 0; dir < 2; dir++) {
        struct queue *q = &queues[dir];
        while (q->count && q->f[q->head].due <= t) {
            struct frame *f = &q->f[q->head];
            emit(dir, f->data, f->len);
            free(f->data);
            q->head = (q->head + 1) % QUEUE_CAP;
            q->count--;
        }
        if (q->count && (next < 0 || q->f[q->head].due < next))
            next = q->f[q->head].due;
    }
    if (next < 0)
        return -1;
    return (int)((next - t) * 1000.0) + 1;
}

static void read_wire(unsigned char *buf)
{
    for (int batch = 0; batch < 64; batch++) {
        struct sockaddr_ll from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(pkt_fd, buf, FRAME_MAX, MSG_TRUNC | MSG_DONTWAIT,
                             (struct sockaddr *)&from, &flen);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            die("recvfrom on the wire's packet socket: %s", strerror(errno));
        }
        /* What the wire namespace's own stack sends towards the guest is
         * not the guest's traffic. */
        if (from.sll_pkttype == PACKET_OUTGOING)
            continue;
        if ((size_t)n > FRAME_MAX) {
            stats[TO_HOST].truncated++;
            continue;
        }
        if ((size_t)n <= VNET_HDR_LEN)
            continue;
        handle(TO_HOST, buf, (size_t)n);
    }
}

static void read_tap(unsigned char *buf)
{
    for (int batch = 0; batch < 64; batch++) {
        ssize_t n = read(tap_fd, buf, FRAME_MAX);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            die("read from the host tap: %s", strerror(errno));
        }
        if ((size_t)n <= VNET_HDR_LEN)
            continue;
        handle(TO_GUEST, buf, (size_t)n);
    }
}

static int open_wire(const char *ifname)
{
    unsigned idx = if_nametoindex(ifname);
    if (!idx)
        die("wire interface %s: %s", ifname, strerror(errno));
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
    if (s < 0)
        die("socket(AF_PACKET): %s", strerror(errno));
    int one = 1;
    if (setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)))
        die("setsockopt(PACKET_VNET_HDR) on the wire: %s", strerror(errno));
    /* Room for bursts: a frame the socket cannot take is an unplanned
     * loss. */
    int size = 8 << 20;
    setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
    setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
    struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                             .sll_ifindex = (int)idx };
    if (bind(s, (struct sockaddr *)&a, sizeof(a)))
        die("bind the packet socket to %s: %s", ifname, strerror(errno));
    return s;
}

static int open_host_tap(const char *netns, const char *ifname)
{
    int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0)
        die("open %s: %s", netns, strerror(errno));
    if (setns(nsfd, CLONE_NEWNET))
        die("setns to %s: %s", netns, strerror(errno));
    close(nsfd);
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        die("open /dev/net/tun: %s", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (strlen(ifname) >= sizeof(ifr.ifr_name))
        die("host tap name %s is too long", ifname);
    strcpy(ifr.ifr_name, ifname);
    if (ioctl(fd, TUNSETIFF, &ifr))
        die("attach to tap %s in %s (TUNSETIFF): %s", ifname, netns, strerror(errno));
    int hdr = (int)VNET_HDR_LEN;
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr))
        die("TUNSETVNETHDRSZ on %s: %s", ifname, strerror(errno));
    /* No TUNSETOFFLOAD: the host stack then checksums and segments every
     * frame itself, and the guest sees MTU-sized frames only. */
    return fd;
}

int main(int argc, char **argv)
{
    const char *wire = NULL, *netns = NULL, *host_tap = NULL;
    uint64_t seed = 6;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end = NULL;
        if (!strcmp(a, "--to-guest-only")) {
            impair_to_host = 0;
            continue;
        }
        const char *v = option_value(argc, argv, &i);
        if (!strcmp(a, "--wire"))
            wire = v;
        else if (!strcmp(a, "--host-netns"))
            netns = v;
        else if (!strcmp(a, "--host-tap"))
            host_tap = v;
        else if (!strcmp(a, "--loss"))
            loss_pct = strtod(v, &end);
        else if (!strcmp(a, "--reorder"))
            reorder_pct = strtod(v, &end);
        else if (!strcmp(a, "--delay-ms"))
            delay_s = strtod(v, &end) / 1000.0;
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, &end, 0);
        else
            usage("an unknown option");
        if (end && (*end || end == v))
            usage("a bad number");
    }
    if (!wire || !netns || !host_tap)
        usage("--wire, --host-netns and --host-tap are needed");
    if (loss_pct < 0 || loss_pct > 100 || reorder_pct < 0 || reorder_pct > 100 || delay_s < 0 ||
        delay_s > 10)
        usage("loss and reorder are percentages, the delay at most 10000 ms");
    rng_state = seed ? seed : 1;

    pkt_fd = open_wire(wire);               /* in the wire namespace */
    tap_fd = open_host_tap(netns, host_tap);  /* now in the host's */

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    say("ready: %s <-> %s in %s: loss %g%% reorder %g%% delay %g ms, seed %llu, %s", wire,
        host_tap, netns, loss_pct, reorder_pct, delay_s * 1000, (unsigned long long)seed,
        impair_to_host ? "both directions" : "host->guest only");

    unsigned char *buf = malloc(FRAME_MAX + 1);
    if (!buf)
        die("out of memory");
    while (!stop) {
        int timeout = flush_due();
        struct pollfd p[2] = { { .fd = pkt_fd, .events = POLLIN },
                               { .fd = tap_fd, .events = POLLIN } };
        int r = poll(p, 2, timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        if (p[0].revents & POLLIN)
            read_wire(buf);
        if (p[1].revents & POLLIN)
            read_tap(buf);
        if ((p[0].revents | p[1].revents) & (POLLERR | POLLNVAL))
            die("poll reports an error on the %s", p[0].revents & (POLLERR | POLLNVAL) ?
                "wire's packet socket" : "host tap");
    }
    for (int dir = 0; dir < 2; dir++) {
        struct stats *st = &stats[dir];
        say("%s: %llu frames (%llu bytes), %llu dropped (%.2f%%), %llu sent early, %llu "
            "delayed, %llu lost to a full queue, %llu truncated, %llu failed on output",
            dir_name[dir], st->frames, st->bytes, st->dropped,
            st->frames ? 100.0 * (double)st->dropped / (double)st->frames : 0.0, st->early,
            st->delayed, st->overflow, st->truncated, st->out_errors);
    }
    return 0;
}
