/*
 * stdio=framed: the app's stdout and stderr as records in the console
 * (kern/stdio_frame.h), for a platform whose one console carries the
 * kernel's log too (Xen's PV console). tern run asks for it on Xen and
 * gives the app's bytes to its own stdout and stderr, exactly, and the
 * kernel's lines to console.log, as the virtio-console ports allow on KVM.
 * Without the option the app's output is text in the console, which is
 * what a person at `xl console` wants to read.
 */
#include <kern/appio.h>
#include <kern/console.h>
#include <kern/file.h>
#include <kern/stdio_frame.h>
#include <kern/string.h>

struct framed_out {
    struct appio io;
    int fd;
};

static int64_t framed_write(struct appio *io, const void *buf, size_t n)
{
    const struct framed_out *out = (const struct framed_out *)io;
    /* The app's bytes through a kernel buffer: the console is written
     * under a spinlock, where app memory may not be touched. */
    uint8_t data[STDIO_FRAME_DATA_MAX];
    char rec[STDIO_FRAME_MAX];
    for (size_t done = 0; done < n;) {
        size_t k = MIN(n - done, sizeof(data));
        memcpy(data, (const uint8_t *)buf + done, k);
        console_write_record(rec, stdio_frame_encode(out->fd, data, k, rec));
        done += k;
    }
    return (int64_t)n;
}

/* The console never refuses output (a console that is not drained drops
 * it, kern/console.h's drivers say how). */
static unsigned framed_poll(struct appio *io)
{
    return POLLOUT | POLLWRNORM;
}

static struct framed_out framed[3] = {
    [1] = { { .write = framed_write, .poll = framed_poll }, 1 },
    [2] = { { .write = framed_write, .poll = framed_poll }, 2 },
};

struct appio *stdio_framed_appio(int fd)
{
    return fd == 1 || fd == 2 ? &framed[fd].io : NULL;
}
