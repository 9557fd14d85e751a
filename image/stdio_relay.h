/*
 * The app's standard I/O between tern run and the guest: QEMU gets a
 * virtio-serial device with the ports tern.stdin, tern.stdout and
 * tern.stderr (drivers/virtio/virtio_console.c is the guest side), each a
 * unix socket QEMU connects to at start; tern relays them to its own
 * descriptors 0, 1 and 2, byte for byte. Its stdin ending (a pipe's writer
 * closing, Ctrl-D on a terminal) is the app's end of file.
 */
#ifndef TERN_STDIO_RELAY_H
#define TERN_STDIO_RELAY_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct argv_buf;

struct stdio_relay {
    char dir[64];               /* the private directory holding the sockets */
    int listen_fd[3];           /* stdin, stdout, stderr: until QEMU connected */
    int fd[3];                  /* the connections, -1 when closed */
    int poll_at[4];             /* where relay_pollfds put each fd (3: our stdin) */
    bool stdin_open;            /* our stdin still has data to come */
    char pending[65536];        /* stdin read but not yet taken by QEMU */
    size_t pending_len, pending_off;
    /* Also hand the app's output here (--log), when set. */
    void (*copy)(void *arg, const char *data, size_t n);
    void *copy_arg;
    bool broken_pipe;           /* our stdout's reader went away */
    unsigned long long out_bytes, err_bytes;
};

/* Create the sockets and add the device and its ports to QEMU's argv.
 * Dies with a message when it cannot. */
void relay_setup(struct stdio_relay *r, struct argv_buf *a);

/* After QEMU started: accept its three connections. False (with a
 * message in err) when QEMU did not connect within timeout_ms or ended;
 * alive() says whether QEMU still runs. */
bool relay_connect(struct stdio_relay *r, int timeout_ms, bool (*alive)(void *), void *arg,
                   char *err, size_t errlen);

/* The descriptors to poll now, appended at p[*n]. */
void relay_pollfds(struct stdio_relay *r, struct pollfd *p, int *n);

/* Move whatever the poll found ready. */
void relay_handle(struct stdio_relay *r, const struct pollfd *p);

/* QEMU has ended: copy what is left in the sockets. */
void relay_drain(struct stdio_relay *r);

/* Close everything and remove the sockets. */
void relay_close(struct stdio_relay *r);

#endif
