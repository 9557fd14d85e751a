/*
 * udp_client: the host side of the guest UDP echo test.
 *
 *   udp_client ADDR PORT
 *
 * Sends datagrams of many sizes (1 byte to 8000, so that the larger ones
 * are fragmented by IP both ways) with a distinct pattern each, checks
 * that each comes back exactly, retrying a lost one a few times, then
 * sends "quit". Prints one line per failure and a summary; exit 0 when
 * every datagram came back intact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const int sizes[] = { 1, 2, 17, 100, 512, 1024, 1400, 1472, 1473, 1500, 2000,
                             2960, 2961, 4000, 5000, 8000 };

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: udp_client ADDR PORT\n");
        return 2;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
    if (s < 0 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
        fprintf(stderr, "udp_client: bad address %s\n", argv[1]);
        return 2;
    }
    if (connect(s, (struct sockaddr *)&to, sizeof(to))) {
        perror("udp_client: connect");
        return 1;
    }
    int failed = 0, ok = 0;
    static unsigned char out[8192], in[8192];
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int n = sizes[i];
        for (int k = 0; k < n; k++)
            out[k] = (unsigned char)(k * 31 + n);
        int got = -1;
        for (int attempt = 0; attempt < 5 && got != n; attempt++) {
            if (send(s, out, (size_t)n, 0) != n) {
                perror("udp_client: send");
                return 1;
            }
            struct pollfd p = { s, POLLIN, 0 };
            while (poll(&p, 1, 2000) == 1) {
                got = (int)recv(s, in, sizeof(in), 0);
                if (got == n && !memcmp(in, out, (size_t)n))
                    break;
            }
        }
        if (got == n && !memcmp(in, out, (size_t)n)) {
            ok++;
        } else {
            printf("udp_client: %d-byte datagram: %s\n", n,
                   got < 0 ? "no echo" : "echo differs");
            failed++;
        }
    }
    send(s, "quit", 4, 0);
    printf("udp_client: %d echoed intact, %d failed\n", ok, failed);
    return failed ? 1 : 0;
}
