/*
 * The app's standard input, output and error apart from the kernel log.
 *
 * By default descriptors 0, 1 and 2 are the console (kernel/linux/
 * console_file.c): output is mixed into the kernel log and input is at its
 * end. A driver that finds a separate channel for one of them (the
 * virtio-console ports tern.stdin, tern.stdout and tern.stderr,
 * drivers/virtio/virtio_console.c) registers it here before the app
 * starts; that descriptor then uses the channel, byte for byte (no newline
 * translation), and the console keeps the kernel's lines only.
 */
#ifndef KERN_APPIO_H
#define KERN_APPIO_H

#include <kern/types.h>

struct kfile;

struct appio {
    /* buf is app memory the syscall layer has checked; neither is called
     * with a spinlock held. read returns 0 at the end of the input and
     * blocks for data unless nonblock (-EAGAIN then). */
    int64_t (*read)(struct appio *io, void *buf, size_t n, bool nonblock);
    int64_t (*write)(struct appio *io, const void *buf, size_t n);
    /* POLLIN / POLLOUT ... that hold now. */
    unsigned (*poll)(struct appio *io);
    /* Set by console_file.c: the file to notify (kfile_notify) when the
     * channel's readiness may have changed. The driver reads it from its
     * interrupt handler. */
    struct kfile *volatile file;
};

/* Descriptor numbers. */
#define APPIO_STDIN  0
#define APPIO_STDOUT 1
#define APPIO_STDERR 2

/* Use io for descriptor fd (0..2) from now on: called at device discovery,
 * before console_files_init gives the app its descriptors. */
void appio_register(int fd, struct appio *io);

/* stdio=framed (kern/options.h): the channel that frames fd's output (1
 * or 2) into the console (kernel/linux/stdio_framed.c); NULL for others. */
struct appio *stdio_framed_appio(int fd);

/* The host asked the app to stop (tern stop): end it as the default
 * action of SIGTERM would, with exit status 143. Thread context only. */
void appio_host_stop(void) __noreturn;

#endif
