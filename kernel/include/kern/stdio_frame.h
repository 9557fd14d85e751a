/*
 * The app's stdout and stderr framed into the console (`stdio=framed`).
 *
 * A platform with one console and no channel of the app's own (Xen's PV
 * console) carries the kernel's log and the app's output on the same
 * ring. When tern run asks for it, the kernel wraps each piece of the
 * app's output in a record, so that tern can give the app's bytes to its
 * stdout and stderr exactly (binary too) and the kernel's lines to
 * console.log, as it does on KVM with the virtio-console ports.
 *
 * A record is an APC string, which terminals do not display, and a
 * newline, so that a line-based log keeps each record on a line of its
 * own:
 *
 *     ESC '_' "tern" FD ';' BASE64 ESC '\' '\n'
 *
 * FD is '1' or '2'; BASE64 (RFC 4648, padded) carries 1 to
 * STDIO_FRAME_DATA_MAX bytes, so that the console cannot change them (a
 * console may turn "\n" into "\r\n"). Everything outside records is the
 * kernel's text. A record is written to the console in one piece; one cut
 * short (a console that dropped bytes) is dropped whole and counted.
 *
 * The kernel encodes (kernel/linux/stdio_framed.c), tern decodes
 * (image/run.c); this file is both ends' one definition.
 */
#ifndef KERN_STDIO_FRAME_H
#define KERN_STDIO_FRAME_H

#include <kern/types.h>

/* The kernel option that turns records on (kern/options.h), as tern run
 * adds it to an image's command line. */
#define STDIO_FRAME_OPTION "stdio=framed"

#define STDIO_FRAME_DATA_MAX 180
/* "\033_tern" FD ';' + base64 of DATA_MAX + "\033\\\n" */
#define STDIO_FRAME_MAX (8 + (STDIO_FRAME_DATA_MAX + 2) / 3 * 4 + 3)

/* One record of fd's n bytes (1 <= n <= STDIO_FRAME_DATA_MAX) into out
 * (STDIO_FRAME_MAX bytes); returns its length. */
size_t stdio_frame_encode(int fd, const void *data, size_t n, char *out);

/* The reading end: feed it the console's bytes as they come, in pieces of
 * any size; it calls text() with the kernel's bytes and app() with each
 * whole record's. */
struct stdio_deframer {
    void (*text)(void *arg, const char *data, size_t n);
    void (*app)(void *arg, int fd, const void *data, size_t n);
    void *arg;
    unsigned long records;      /* whole records passed to app() */
    unsigned long lost;         /* records cut short, dropped */
    /* (the decoder's state) */
    int state;
    size_t matched;             /* bytes of the record's head seen */
    int fd;
    uint32_t bits;
    int nbits;
    size_t nchars;              /* base64 characters, padding included */
    size_t npad;
    size_t n;
    uint8_t data[STDIO_FRAME_DATA_MAX + 3];
};

void stdio_deframe(struct stdio_deframer *d, const char *p, size_t n);
/* The end of the console: a record left open is lost. */
void stdio_deframe_end(struct stdio_deframer *d);

#endif
