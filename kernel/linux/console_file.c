/*
 * The console as the app's standard input, output and error (descriptors
 * 0, 1, 2): output goes to every kernel console, serialized with the
 * kernel's own lines; input is at its end (there is no input device yet),
 * so reads return 0. It answers the terminal ioctls that C libraries ask
 * (isatty's TCGETS, TIOCGWINSZ) so that stdout is line-buffered as on a
 * terminal.
 *
 * A descriptor whose channel a driver registered (kern/appio.h) carries
 * its bytes on that channel instead, exactly (no newline translation: that
 * was the serial port's). It still answers as the console did (a terminal,
 * the character device 5:1), so an app sees what it saw before: C
 * libraries keep stdout line-buffered, which a detached server's log
 * needs, and isatty() stays true even when tern run's output is a pipe.
 */
#include <kern/appio.h>
#include <kern/console.h>
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/options.h>
#include <kern/panic.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/uaccess.h>

#define TCGETS      0x5401
#define TCSETS      0x5402
#define TCSETSW     0x5403
#define TCSETSF     0x5404
#define TIOCGPGRP   0x540f
#define TIOCSPGRP   0x5410
#define TIOCGWINSZ  0x5413
#define TIOCSWINSZ  0x5414

/* The kernel's struct termios (what TCGETS copies out), 36 bytes. */
struct kernel_termios {
    uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
    uint8_t c_line;
    uint8_t c_cc[19];
};

struct winsize {
    uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

static struct kernel_termios termios = {
    .c_iflag = 0x500,                   /* ICRNL | IXON */
    .c_oflag = 0x5,                     /* OPOST | ONLCR */
    .c_cflag = 0xbf,                    /* B38400 | CS8 | CREAD */
    .c_lflag = 0x8a3b,                  /* ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN */
    .c_cc = { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22 },
};

static int64_t console_read(struct kfile *f, void *buf, size_t n, uint64_t *pos)
{
    return 0;
}

static int64_t console_write_op(struct kfile *f, const void *buf, size_t n, uint64_t *pos)
{
    /* Through a kernel buffer: the console is written under a spinlock,
     * where app memory may not be touched. */
    char tmp[256];
    for (size_t done = 0; done < n;) {
        size_t k = MIN(n - done, sizeof(tmp));
        memcpy(tmp, (const char *)buf + done, k);
        console_output(tmp, k);
        done += k;
    }
    return (int64_t)n;
}

static int console_stat(struct kfile *f, struct kstat *st)
{
    memset(st, 0, sizeof(*st));
    st->mode = S_IFCHR | 0620;
    st->nlink = 1;
    st->ino = 3;
    st->rdev = (5 << 8) | 1;            /* /dev/console: 5, 1 */
    return 0;
}

static int64_t console_ioctl(struct kfile *f, unsigned long cmd, uintptr_t arg)
{
    switch (cmd) {
    case TCGETS:
        return copy_to_user((void *)arg, &termios, sizeof(termios));
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
        return copy_from_user(&termios, (const void *)arg, sizeof(termios));
    case TIOCGWINSZ: {
        struct winsize ws = { 24, 80, 0, 0 };
        return copy_to_user((void *)arg, &ws, sizeof(ws));
    }
    case TIOCSWINSZ:
        return 0;
    case TIOCGPGRP: {
        int32_t pgrp = 1;
        return copy_to_user((void *)arg, &pgrp, sizeof(pgrp));
    }
    case TIOCSPGRP:
        return 0;
    default:
        return -ENOTTY;
    }
}

/* Always writable; and readable, since reading returns end-of-file at once. */
static unsigned console_poll(struct kfile *f)
{
    return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
}

static const struct kfile_ops console_ops = {
    .kind = "console",
    .read = console_read,
    .write = console_write_op,
    .stat = console_stat,
    .ioctl = console_ioctl,
    .poll = console_poll,
};

/* ---- channels apart from the console (kern/appio.h) ---------------------- */

static struct appio *appio_of[3];

void appio_register(int fd, struct appio *io)
{
    if (fd >= 0 && fd < 3)
        appio_of[fd] = io;
}

static bool nonblocking(struct kfile *f)
{
    return __atomic_load_n(&f->flags, __ATOMIC_RELAXED) & O_NONBLOCK;
}

static int64_t appio_read_op(struct kfile *f, void *buf, size_t n, uint64_t *pos)
{
    struct appio *io = f->priv;
    if (!io->read)
        return -EBADF;
    return n ? io->read(io, buf, n, nonblocking(f)) : 0;
}

static int64_t appio_write_op(struct kfile *f, const void *buf, size_t n, uint64_t *pos)
{
    struct appio *io = f->priv;
    if (!io->write)
        return -EBADF;
    return n ? io->write(io, buf, n) : 0;
}

static unsigned appio_poll(struct kfile *f)
{
    struct appio *io = f->priv;
    return io->poll(io);
}

static const struct kfile_ops appio_ops = {
    .kind = "console",
    .read = appio_read_op,
    .write = appio_write_op,
    .stat = console_stat,
    .ioctl = console_ioctl,
    .poll = appio_poll,
};

void appio_host_stop(void)
{
    console_end_line();
    pr_warn("app: the host asked it to stop (tern stop): ending it as SIGTERM would\n");
    kernel_exit(128 + 15);
}

void console_files_init(void)
{
    for (int fd = 0; fd < 3; fd++) {
        struct appio *io = appio_of[fd];
        if (!io && kopt.stdio == STDIO_FRAMED)
            io = stdio_framed_appio(fd);
        struct kfile *f = io ? kfile_alloc(&appio_ops, io, fd ? O_WRONLY : O_RDONLY)
                             : kfile_alloc(&console_ops, NULL, O_RDWR);
        if (!f || fd_install_at(fd, f, 0) != fd)
            panic("console_files_init: out of memory");
        if (io) {
            kfile_get(f);               /* the driver's reference, kept for good */
            io->file = f;
        }
    }
}
