/*
 * echo-server: a TCP echo server, the program of manifests/echo-server.yaml
 * (the README's quick start reaches it from the host through a forwarded
 * port). One thread per connection; runs until stopped (tern stop).
 *
 *   echo-server [--port P]     (default 7)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *serve(void *arg)
{
    int c = (int)(long)arg;
    char buf[4096];
    ssize_t n;
    while ((n = read(c, buf, sizeof(buf))) > 0)
        for (ssize_t off = 0; off < n;) {
            ssize_t k = write(c, buf + off, (size_t)(n - off));
            if (k <= 0)
                goto out;
            off += k;
        }
out:
    close(c);
    return NULL;
}

int main(int argc, char **argv)
{
    int port = 7;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: echo-server [--port P]\n");
            return 2;
        }
    }
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "echo-server: bad port %d\n", port);
        return 2;
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    const char *backlog_env = getenv("ECHO_BACKLOG");
    int backlog = backlog_env ? atoi(backlog_env) : 16;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, backlog) < 0) {
        fprintf(stderr, "echo-server: port %d: %s\n", port, strerror(errno));
        return 1;
    }
    printf("echo-server: listening on port %d\n", port);
    fflush(stdout);
    for (;;) {
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer);
        int c = accept(s, (struct sockaddr *)&peer, &len);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "echo-server: accept: %s\n", strerror(errno));
            return 1;
        }
        printf("echo-server: connection from %s:%u\n", inet_ntoa(peer.sin_addr),
               ntohs(peer.sin_port));
        fflush(stdout);
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(long)c) != 0) {
            close(c);
            continue;
        }
        pthread_detach(t);
    }
}
