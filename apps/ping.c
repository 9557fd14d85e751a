/*
 * ping: ICMP echo through an unprivileged ping socket
 * (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)), as Linux's ping does.
 *
 *   ping [-c COUNT] ADDRESS
 *
 * Sends COUNT (default 3) echo requests a second apart with 56 bytes of
 * data, prints a line per reply with its round-trip time, and exits 0 when
 * every request was answered with its own data, 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    int count = 3, i = 1;
    if (argc > 2 && !strcmp(argv[1], "-c")) {
        count = atoi(argv[2]);
        i = 3;
    }
    struct sockaddr_in to = { .sin_family = AF_INET };
    if (i >= argc || inet_pton(AF_INET, argv[i], &to.sin_addr) != 1) {
        fprintf(stderr, "usage: ping [-c COUNT] ADDRESS\n");
        return 2;
    }
    int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    if (s < 0) {
        fprintf(stderr, "ping: socket: %s\n", strerror(errno));
        return 1;
    }
    int answered = 0;
    for (int seq = 1; seq <= count; seq++) {
        unsigned char req[8 + 56], rep[8 + 56 + 64];
        memset(req, 0, 8);
        req[0] = 8;                             /* echo request */
        req[6] = (unsigned char)(seq >> 8);
        req[7] = (unsigned char)seq;
        for (int k = 0; k < 56; k++)
            req[8 + k] = (unsigned char)(k + seq);
        double t0 = now_ms();
        if (sendto(s, req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
            fprintf(stderr, "ping: sendto: %s\n", strerror(errno));
            return 1;
        }
        struct pollfd p = { s, POLLIN, 0 };
        while (poll(&p, 1, 3000) == 1) {
            ssize_t n = recv(s, rep, sizeof(rep), 0);
            if (n == (ssize_t)sizeof(req) && rep[0] == 0 && rep[7] == (unsigned char)seq &&
                !memcmp(rep + 8, req + 8, 56)) {
                printf("ping: %zd bytes from %s: seq=%d time=%.3f ms\n", n, argv[i], seq,
                       now_ms() - t0);
                answered++;
                break;
            }
        }
        if (seq < count)
            sleep(1);
    }
    printf("ping: %d sent, %d answered\n", count, answered);
    return answered == count ? 0 : 1;
}
