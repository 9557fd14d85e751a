#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tern: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void verror(const char *fmt, va_list ap)
{
    fputs("tern: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(fmt, ap);
    va_end(ap);
    exit(2);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("tern: out of memory\n", stderr);
        exit(2);
    }
    return p;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

void argv_add(struct argv_buf *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = realloc(a->v, a->cap * sizeof(*a->v));
        if (!a->v) {
            fputs("tern: out of memory\n", stderr);
            exit(2);
        }
    }
    a->v[a->n++] = xstrdup(s);
    a->v[a->n] = NULL;
}

void argv_addf(struct argv_buf *a, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    argv_add(a, buf);
}

void argv_free(struct argv_buf *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

bool find_on_path(const char *prog, char *out, size_t len)
{
    if (strchr(prog, '/')) {
        snprintf(out, len, "%s", prog);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(out, len, "%.*s/%s", (int)n, path, prog);
        if (access(out, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

int spawn_on_pty(char *const argv[], int *master, char *err, size_t errlen)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0 || grantpt(m) || unlockpt(m)) {
        snprintf(err, errlen, "cannot make a pty for %s: %s", argv[0], strerror(errno));
        if (m >= 0)
            close(m);
        return -1;
    }
    char *slave_name = ptsname(m);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        setsid();
        int s = open(slave_name, O_RDWR);
        if (s < 0)
            _exit(127);
        dup2(s, 0);
        dup2(s, 1);
        dup2(s, 2);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    *master = m;
    return pid;
}

bool pty_relay(int master, int wait_ms, bool (*output)(const char *data, size_t n, void *arg),
               void *arg, bool *exit_seen)
{
    for (;;) {
        struct pollfd p = { master, POLLIN, 0 };
        int r = poll(&p, 1, wait_ms);
        if (r == 0)
            return true;
        if (r < 0 || !(p.revents & POLLIN))
            return r < 0 && errno == EINTR;
        char buf[4096];
        ssize_t n = read(master, buf, sizeof(buf));
        if (n <= 0)                     /* EOF, or EIO: the slave's end */
            return n < 0 && (errno == EAGAIN || errno == EINTR);
        if (output(buf, (size_t)n, arg))
            *exit_seen = true;
    }
}
