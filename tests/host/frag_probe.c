/*
 * frag_probe: issue 18's reassembly attacks against a UDP echo server
 * (apps/udpecho in the guest), from the host side of a test namespace.
 *
 *   frag_probe ADDR PORT
 *
 * 1. A 3000-byte "secret" datagram through an ordinary UDP socket (Linux
 *    fragments it); its echo must come back.
 * 2. Crafted fragments (a raw socket, IP_HDRINCL), all to PORT from the
 *    UDP socket's port, so any echo comes back to it:
 *    a. [0, 1480), a hole, the end [2960, 3008) and a fragment [3008,
 *       4488) past it: the old reassembly counted the last toward the
 *       bytes it had and echoed the hole filled with the secret's bytes;
 *    b. [0, 1480), [1472, 2952) overlapping it, the end [2952, 3008):
 *       must be dropped (overlaps drop the datagram);
 *    c. a clean datagram in 3 fragments, out of order with a duplicate:
 *       must be echoed exactly.
 *    The guest handles frames in order, so once c's echo is here an echo
 *    of a or b would have been too: no blind wait for "nothing".
 * 3. Floods of datagrams that never complete: first fragments of
 *    FLOOD_FIRST datagrams, then FLOOD_BIG datagrams of 40 full fragments
 *    (some 6 MB of frames); then c again must come back, and how long it
 *    took is printed.
 * 4. "quit" for the server, whatever happened before.
 * Prints what came back (and, for an unexpected echo, how many of its
 * bytes were the secret's); exit 0 when only the secret and c came back
 * intact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SECRET_LEN  3000
#define FLOOD_FIRST 4000                /* first fragments of as many datagrams */
#define FLOOD_BIG   100                 /* datagrams of 40 full fragments */

static int udp_fd, raw_fd;
static struct sockaddr_in guest;
static uint32_t host_addr;              /* network order */
static uint16_t host_port;              /* network order */
static unsigned char secret[SECRET_LEN];

static uint16_t ip_checksum(const unsigned char *h, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* One fragment: bytes [off, off + len) of the UDP datagram d (header
 * included), with MF as given. */
static int send_fragment(uint16_t id, const unsigned char *d, uint32_t off, uint32_t len,
                         int more)
{
    unsigned char pkt[20 + 1500];
    if (len > 1480) {
        fprintf(stderr, "frag_probe: a fragment of %u bytes does not fit the MTU\n", len);
        return -1;
    }
    memset(pkt, 0, 20);
    pkt[0] = 0x45;
    pkt[2] = (unsigned char)((20 + len) >> 8);
    pkt[3] = (unsigned char)(20 + len);
    pkt[4] = (unsigned char)(id >> 8);
    pkt[5] = (unsigned char)id;
    uint16_t frag = (uint16_t)(off / 8 | (more ? 0x2000 : 0));
    pkt[6] = (unsigned char)(frag >> 8);
    pkt[7] = (unsigned char)frag;
    pkt[8] = 64;
    pkt[9] = IPPROTO_UDP;
    memcpy(pkt + 12, &host_addr, 4);
    memcpy(pkt + 16, &guest.sin_addr, 4);
    uint16_t c = ip_checksum(pkt, 20);
    pkt[10] = (unsigned char)(c >> 8);
    pkt[11] = (unsigned char)c;
    memcpy(pkt + 20, d + off, len);
    if (sendto(raw_fd, pkt, 20 + len, 0, (struct sockaddr *)&guest, sizeof(guest)) !=
        (ssize_t)(20 + len)) {
        fprintf(stderr, "frag_probe: raw send: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* A UDP datagram (8-byte header, no checksum) of n payload bytes from fill. */
static void make_datagram(unsigned char *d, uint32_t n, unsigned char fill)
{
    memcpy(d, &host_port, 2);
    memcpy(d + 2, &guest.sin_port, 2);
    d[4] = (unsigned char)((8 + n) >> 8);
    d[5] = (unsigned char)(8 + n);
    d[6] = d[7] = 0;
    for (uint32_t i = 0; i < n; i++)
        d[8 + i] = (unsigned char)(fill + i * 7);
}

/* The next echo within ms milliseconds into buf; its length, or -1. */
static ssize_t wait_echo(unsigned char *buf, size_t size, int ms)
{
    struct pollfd p = { udp_fd, POLLIN, 0 };
    if (poll(&p, 1, ms) != 1)
        return -1;
    return recv(udp_fd, buf, size, 0);
}

/* The end of the probe, passed or not: the server is told to quit. */
static int finish(int rc)
{
    send(udp_fd, "quit", 4, 0);
    return rc;
}

static int report_unexpected(const char *what, const unsigned char *buf, ssize_t n)
{
    int same = 0;
    for (ssize_t i = 0; i < n && i < SECRET_LEN; i++)
        same += buf[i] == secret[i];
    printf("frag_probe: FAIL: %s was echoed: %zd bytes, %d of them the secret's at the same "
           "place\n", what, n, same);
    return -1;
}

static unsigned char hole[8 + 3000 + 1480], overlap[8 + 3000], clean[8 + 3000];
static unsigned char flood[40 * 1480];

/* Send the clean datagram (ids from *id; up to attempts times, waiting
 * wait_ms for its echo each time): 0 when it came back intact and nothing
 * else came before it. */
static int clean_echoed(uint16_t *id, int attempts, int wait_ms)
{
    static unsigned char buf[65536];
    for (int attempt = 0; attempt < attempts; attempt++) {
        uint16_t cid = (*id)++;
        if (send_fragment(cid, clean, 1480, 1480, 1) || send_fragment(cid, clean, 2960, 48, 0) ||
            send_fragment(cid, clean, 1480, 1480, 1) ||       /* an exact duplicate */
            send_fragment(cid, clean, 0, 1480, 1))
            return -1;
        ssize_t n = wait_echo(buf, sizeof(buf), wait_ms);
        if (n == 3000 && !memcmp(buf, clean + 8, 3000))
            return 0;
        if (n == 3000 && !memcmp(buf, overlap + 8, 1472))
            return report_unexpected("the overlapping datagram", buf, n);
        if (n >= 0)
            return report_unexpected("the datagram with a hole (or a flood's)", buf, n);
    }
    printf("frag_probe: FAIL: the clean fragmented datagram was not echoed\n");
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: frag_probe ADDR PORT\n");
        return 2;
    }
    guest.sin_family = AF_INET;
    guest.sin_port = htons((uint16_t)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &guest.sin_addr) != 1) {
        fprintf(stderr, "frag_probe: bad address %s\n", argv[1]);
        return 2;
    }
    udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
    raw_fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);   /* implies IP_HDRINCL */
    if (udp_fd < 0 || raw_fd < 0) {
        fprintf(stderr, "frag_probe: socket: %s (raw sockets need root)\n", strerror(errno));
        return 1;
    }
    struct sockaddr_in me;
    socklen_t mlen = sizeof(me);
    if (connect(udp_fd, (struct sockaddr *)&guest, sizeof(guest)) ||
        getsockname(udp_fd, (struct sockaddr *)&me, &mlen)) {
        fprintf(stderr, "frag_probe: connect: %s\n", strerror(errno));
        return 1;
    }
    host_addr = me.sin_addr.s_addr;
    host_port = me.sin_port;

    /* 1. The secret, through Linux's own fragmentation. */
    static unsigned char buf[65536];
    for (int i = 0; i < SECRET_LEN; i++)
        secret[i] = (unsigned char)(0xc0 | (i & 0x3f));
    ssize_t n = -1;
    for (int attempt = 0; attempt < 3 && n != SECRET_LEN; attempt++) {
        if (send(udp_fd, secret, SECRET_LEN, 0) != SECRET_LEN) {
            fprintf(stderr, "frag_probe: send: %s\n", strerror(errno));
            return 1;
        }
        n = wait_echo(buf, sizeof(buf), 5000);
    }
    if (n != SECRET_LEN || memcmp(buf, secret, SECRET_LEN)) {
        printf("frag_probe: FAIL: the secret datagram was not echoed intact (%zd bytes)\n", n);
        return finish(1);
    }
    printf("frag_probe: secret datagram of %d bytes echoed\n", SECRET_LEN);

    /* 2. The crafted ones. */
    make_datagram(hole, 3000 + 1480, 0x11);
    hole[4] = (unsigned char)((8 + 3000) >> 8);           /* the end says 3008 */
    hole[5] = (unsigned char)(8 + 3000);
    make_datagram(overlap, 3000, 0x22);
    make_datagram(clean, 3000, 0x33);
    uint16_t id = (uint16_t)(getpid() * 3);
    int bad = 0;
    bad |= send_fragment(id, hole, 0, 1480, 1);
    bad |= send_fragment(id, hole, 2960, 48, 0);
    bad |= send_fragment(id, hole, 3008, 1480, 1);
    bad |= send_fragment(id + 1, overlap, 0, 1480, 1);
    bad |= send_fragment(id + 1, overlap, 1472, 1480, 1);
    bad |= send_fragment(id + 1, overlap, 2952, 56, 0);
    id += 2;
    if (bad || clean_echoed(&id, 3, 5000) != 0)
        return finish(1);
    printf("frag_probe: hole + fragment past the end: not echoed; overlap: not echoed; "
           "clean datagram (out of order, a duplicate): echoed intact\n");

    /* 3. Floods: first fragments of FLOOD_FIRST datagrams, then FLOOD_BIG
     * datagrams of 40 full fragments each, none ever complete; then the
     * clean datagram must still get through. */
    unsigned sent = 0;
    for (int i = 0; i < FLOOD_FIRST && !bad; i++, sent++)
        bad |= send_fragment(id++, hole, 0, 1480, 1);
    for (int i = 0; i < FLOOD_BIG && !bad; i++, id++)
        for (uint32_t k = 0; k < 40 && !bad; k++, sent++)
            bad |= send_fragment(id, flood, k * 1480, 1480, 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* The flood may still be queued before it, or have crowded it out
     * (the tap drops what the guest does not take): short waits, retried. */
    if (bad || clean_echoed(&id, 30, 500) != 0)
        return finish(1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("frag_probe: after a flood of %u fragments (%d first fragments, %d datagrams of 40), "
           "the clean datagram was echoed intact %.3f s later\n", sent, FLOOD_FIRST, FLOOD_BIG,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return finish(0);
}
