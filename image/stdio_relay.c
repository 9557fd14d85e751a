/*
 * tern run's side of the app's standard I/O (stdio_relay.h).
 *
 * tern listens and QEMU connects (chardev socket clients): the sockets
 * exist before QEMU starts, so QEMU's connect at start-up cannot race them,
 * and every port is connected before the guest looks at it. End of file on
 * tern.stdin is a half close (shutdown SHUT_WR): QEMU reads what is left,
 * as the guest takes it, then sees the end and closes the port, which the
 * guest's driver reports as end of file after the last byte. A full close
 * would hang up the socket at once and QEMU could drop bytes it had not
 * read yet.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "stdio_relay.h"
#include "util.h"

static const char *const names[3] = { "in", "out", "err" };
static const char *const ports[3] = { "tern.stdin", "tern.stdout", "tern.stderr" };

void relay_setup(struct stdio_relay *r, struct argv_buf *a)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/tern-stdio-XXXXXX");
    if (!mkdtemp(r->dir))
        die("%s: %s", r->dir, strerror(errno));
    for (int i = 0; i < 3; i++) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", r->dir, names[i]);
        r->fd[i] = -1;
        r->listen_fd[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (r->listen_fd[i] < 0 || bind(r->listen_fd[i], (struct sockaddr *)&sa, sizeof(sa)) ||
            listen(r->listen_fd[i], 1))
            die("%s: %s", sa.sun_path, strerror(errno));
        argv_add(a, "-chardev");
        argv_addf(a, "socket,id=tern_%s,path=%s", names[i], sa.sun_path);
    }
    argv_add(a, "-device");
    argv_add(a, "virtio-serial-pci,id=tern_serial,max_ports=8");
    for (int i = 0; i < 3; i++) {
        argv_add(a, "-device");
        argv_addf(a, "virtserialport,bus=tern_serial.0,nr=%d,chardev=tern_%s,name=%s", i + 1,
                  names[i], ports[i]);
    }
    r->stdin_open = true;
    for (int i = 0; i < 4; i++)
        r->poll_at[i] = -1;
}

static void end_stdin(struct stdio_relay *r);

bool relay_connect(struct stdio_relay *r, int timeout_ms, bool (*alive)(void *), void *arg,
                   char *err, size_t errlen)
{
    uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (int i = 0; i < 3; i++) {
        for (;;) {
            struct pollfd p = { r->listen_fd[i], POLLIN, 0 };
            if (poll(&p, 1, 50) > 0) {
                r->fd[i] = accept4(r->listen_fd[i], NULL, NULL, SOCK_CLOEXEC);
                if (r->fd[i] >= 0)
                    break;
            }
            if (!alive(arg)) {
                snprintf(err, errlen, "QEMU ended before it connected the app's %s", ports[i]);
                return false;
            }
            if (now_ns() > deadline) {
                snprintf(err, errlen, "QEMU did not connect the app's %s in %d s", ports[i],
                         timeout_ms / 1000);
                return false;
            }
        }
        close(r->listen_fd[i]);
        r->listen_fd[i] = -1;
    }
    /* The stdin socket is written without blocking: a guest that does not
     * read must not stop the relay of its output. */
    fcntl(r->fd[0], F_SETFL, fcntl(r->fd[0], F_GETFL) | O_NONBLOCK);
    /* A terminal that is not ours to read (tern run ... & in a shell):
     * reading it would stop tern (SIGTTIN), so the app's stdin is empty. */
    if (isatty(0) && tcgetpgrp(0) != getpgrp())
        end_stdin(r);
    return true;
}

void relay_pollfds(struct stdio_relay *r, struct pollfd *p, int *n)
{
    for (int i = 0; i < 4; i++)
        r->poll_at[i] = -1;
    for (int i = 1; i < 3; i++)
        if (r->fd[i] >= 0) {
            r->poll_at[i] = *n;
            p[(*n)++] = (struct pollfd){ r->fd[i], POLLIN, 0 };
        }
    if (r->fd[0] >= 0 && r->pending_len > r->pending_off) {
        r->poll_at[0] = *n;
        p[(*n)++] = (struct pollfd){ r->fd[0], POLLOUT, 0 };
    } else if (r->fd[0] >= 0 && r->stdin_open) {
        r->poll_at[3] = *n;
        p[(*n)++] = (struct pollfd){ 0, POLLIN, 0 };
    }
}

static void out(struct stdio_relay *r, int fd, const char *buf, size_t n)
{
    if (r->copy)
        r->copy(r->copy_arg, buf, n);
    while (n && !r->broken_pipe) {
        ssize_t k = write(fd, buf, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            /* Nobody reads our output any more (tern run | head). */
            if (errno == EPIPE)
                r->broken_pipe = true;
            return;
        }
        buf += k;
        n -= (size_t)k;
    }
}

/* Read one piece from guest stream i (1 stdout, 2 stderr); false at its end. */
static bool copy_out(struct stdio_relay *r, int i)
{
    char buf[65536];
    ssize_t n = read(r->fd[i], buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0) {
        close(r->fd[i]);
        r->fd[i] = -1;
        return false;
    }
    out(r, i, buf, (size_t)n);
    if (i == 1)
        r->out_bytes += (unsigned long long)n;
    else
        r->err_bytes += (unsigned long long)n;
    return true;
}

static void end_stdin(struct stdio_relay *r)
{
    r->stdin_open = false;
    if (r->fd[0] >= 0)
        shutdown(r->fd[0], SHUT_WR);
}

void relay_handle(struct stdio_relay *r, const struct pollfd *p)
{
    for (int i = 1; i < 3; i++)
        if (r->poll_at[i] >= 0 && p[r->poll_at[i]].revents)
            copy_out(r, i);
    if (r->poll_at[3] >= 0 && p[r->poll_at[3]].revents) {
        ssize_t n = read(0, r->pending, sizeof(r->pending));
        if (n > 0) {
            r->pending_len = (size_t)n;
            r->pending_off = 0;
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            end_stdin(r);
        }
    }
    if (r->poll_at[0] >= 0 && p[r->poll_at[0]].revents) {
        ssize_t n = write(r->fd[0], r->pending + r->pending_off,
                          r->pending_len - r->pending_off);
        if (n > 0) {
            r->pending_off += (size_t)n;
            if (r->pending_off == r->pending_len)
                r->pending_off = r->pending_len = 0;
        } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
            /* QEMU closed it: the app will not read any more. */
            close(r->fd[0]);
            r->fd[0] = -1;
        }
    }
}

void relay_drain(struct stdio_relay *r)
{
    for (int i = 1; i < 3; i++)
        while (r->fd[i] >= 0) {
            struct pollfd p = { r->fd[i], POLLIN, 0 };
            /* QEMU has ended, so its end is closed: the rest is buffered. */
            if (poll(&p, 1, 1000) <= 0 || !copy_out(r, i))
                break;
        }
}

void relay_close(struct stdio_relay *r)
{
    for (int i = 0; i < 3; i++) {
        if (r->fd[i] >= 0)
            close(r->fd[i]);
        if (r->listen_fd[i] >= 0)
            close(r->listen_fd[i]);
        r->fd[i] = r->listen_fd[i] = -1;
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", r->dir, names[i]);
        unlink(path);
    }
    if (r->dir[0])
        rmdir(r->dir);
    r->dir[0] = 0;
}
