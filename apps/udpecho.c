/*
 * udpecho: a UDP echo server (RFC 862) for the network tests.
 *
 *   udpecho [--port N]
 *
 * Sends every datagram back to where it came from, until one that says
 * "quit"; then prints how many it echoed and exits 0. It prints
 * "udpecho: listening on port N" once it is ready, which the tests wait
 * for before they send.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int port = 7;
    if (argc == 3 && !strcmp(argv[1], "--port"))
        port = atoi(argv[2]);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) {
        fprintf(stderr, "udpecho: socket: %s\n", strerror(errno));
        return 1;
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (bind(s, (struct sockaddr *)&a, sizeof(a))) {
        fprintf(stderr, "udpecho: bind port %d: %s\n", port, strerror(errno));
        return 1;
    }
    printf("udpecho: listening on port %d\n", port);
    fflush(stdout);
    static char buf[65536];
    unsigned long count = 0, bytes = 0;
    for (;;) {
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
        if (n < 0) {
            fprintf(stderr, "udpecho: recvfrom: %s\n", strerror(errno));
            return 1;
        }
        if (n == 4 && !memcmp(buf, "quit", 4))
            break;
        if (sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, flen) != n) {
            fprintf(stderr, "udpecho: sendto: %s\n", strerror(errno));
            return 1;
        }
        count++;
        bytes += (unsigned long)n;
    }
    printf("udpecho: echoed %lu datagrams, %lu bytes\n", count, bytes);
    return 0;
}
