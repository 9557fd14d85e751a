/*
 * syscalls: the Linux system calls that the other apps do not exercise,
 * each checked for the exact result Linux gives (return value and errno).
 *
 *   syscalls [DATA-DIR [GROUP...]]
 *
 * DATA-DIR (default /data) is a read-only directory holding:
 *
 *   file        "hello, tern\n" (12 bytes), mode 0644
 *   exec        any contents, mode 0755
 *   link        symlink -> file
 *   dangling    symlink -> nowhere
 *   deeplink    symlink -> sub/deeper
 *   sub/        directory (0755) holding only:
 *     inner       "inner\n", mode 0644
 *     deeper/     an empty directory
 *
 * tests/guest/syscalls.sh makes it and maps it at /data. On a Linux host
 * the same checks pass on a read-only bind mount of such a directory (the
 * EROFS checks need one), run as root from a terminal (isatty(1)):
 *
 *   mount --bind -o ro DIR /mnt && out/apps/syscalls /mnt
 *
 * Every check prints "ok NAME" or "FAIL NAME: got X (errno E), want Y";
 * the last line is "syscalls: N checks, M failed" and the exit status is 1
 * when any failed. GROUP names (see the table at the end) run only those
 * groups.
 *
 * The old calls arm64 never had (access, creat, epoll_wait, time, utime, ...)
 * are checked where the arch has them; elsewhere their *at / 2 forms
 * carry the same check.
 *
 * Where the C library checks arguments itself (musl's dup3, readlink,
 * sigaltstack, clock_nanosleep, fstatat with AT_EMPTY_PATH, ...), the call
 * is made with syscall(SYS_x, ...) so that the kernel's answer is tested.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ reporting --- */

static int nchecks, nfailed;

static const char *errname(int e)
{
    static const struct { int e; const char *name; } names[] = {
        { 0, "0" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },
        { EINTR, "EINTR" }, { EIO, "EIO" }, { ENXIO, "ENXIO" }, { EBADF, "EBADF" },
        { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },
        { EFAULT, "EFAULT" }, { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
        { ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" }, { EINVAL, "EINVAL" },
        { EMFILE, "EMFILE" }, { ENOTTY, "ENOTTY" }, { ESPIPE, "ESPIPE" },
        { EROFS, "EROFS" }, { ERANGE, "ERANGE" }, { ENAMETOOLONG, "ENAMETOOLONG" },
        { ENOSYS, "ENOSYS" }, { ENOTEMPTY, "ENOTEMPTY" }, { ELOOP, "ELOOP" },
        { ETIMEDOUT, "ETIMEDOUT" }, { EOPNOTSUPP, "EOPNOTSUPP" },
    };
    static char other[16];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].e == e)
            return names[i].name;
    snprintf(other, sizeof(other), "%d", e);
    return other;
}

static void report(const char *name, int pass, long got, int err, const char *want)
{
    nchecks++;
    if (pass) {
        printf("ok %s\n", name);
        return;
    }
    nfailed++;
    printf("FAIL %s: got %ld (errno %s), want %s\n", name, got, errname(err), want);
}

static void report_value(const char *name, long got, int err, long want)
{
    char w[32];
    snprintf(w, sizeof(w), "%ld", want);
    report(name, got == want, got, err, w);
}

static void report_error(const char *name, long got, int err, int want)
{
    char w[48];
    snprintf(w, sizeof(w), "-1 (errno %s)", errname(want));
    report(name, got == -1 && err == want, got, err, w);
}

/* CHECK: the call returns exactly want (errno is not looked at). */
#define CHECK(name, call, want)                                                \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(call);                                                \
        int e_ = errno;                                                        \
        report_value(name, r_, e_, (long)(want));                              \
    } while (0)

/* CHECK_ERR: the call fails with -1 and errno err. */
#define CHECK_ERR(name, call, err)                                             \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(call);                                                \
        int e_ = errno;                                                        \
        report_error(name, r_, e_, err);                                       \
    } while (0)

/* CHECK_IF: cond holds; it may use the result r_ and errno e_. */
#define CHECK_IF(name, call, cond, want_text)                                  \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(call);                                                \
        int e_ = errno;                                                        \
        (void)r_;                                                              \
        report(name, (cond), r_, e_, want_text);                               \
    } while (0)

/* CHECK_STR: a string result. */
static void check_str(const char *name, const char *got, const char *want)
{
    nchecks++;
    if (got && !strcmp(got, want)) {
        printf("ok %s\n", name);
        return;
    }
    nfailed++;
    printf("FAIL %s: got \"%s\", want \"%s\"\n", name, got ? got : "(null)", want);
}

/* ------------------------------------------------------------- helpers --- */

static const char *data = "/data";

/* DATA-DIR/rel, in one of a few rotating buffers. */
static const char *dpath(const char *rel)
{
    static char bufs[8][512];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof(bufs[0]), "%s/%s", data, rel);
    return b;
}

static long long now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec ns_to_ts(long long ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
    return ts;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The lowest descriptor not in use. */
static int lowest_free_fd(void)
{
    for (int fd = 0;; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
            return fd;
}

static int open_file(void)
{
    int fd = open(dpath("file"), O_RDONLY);
    if (fd < 0)
        printf("syscalls: cannot open %s: %s\n", dpath("file"), strerror(errno));
    return fd;
}

/* ------------------------------------------------------ dup, dup2, dup3 --- */

static void test_dup(void)
{
    int fd = open_file();
    int expect = lowest_free_fd();
    CHECK("dup(fd) is the lowest free descriptor", dup(fd), expect);
    lseek(fd, 5, SEEK_SET);
    CHECK("dup shares the file offset", lseek(expect, 0, SEEK_CUR), 5);
    CHECK("dup: the copy has FD_CLOEXEC clear", fcntl(expect, F_GETFD), 0);
    close(expect);
    CHECK_ERR("dup(-1)", dup(-1), EBADF);
    CHECK_ERR("dup(closed fd)", dup(999), EBADF);

    CHECK("dup2(fd, 50)", dup2(fd, 50), 50);
    CHECK("dup2(fd, 50) again replaces it", dup2(fd, 50), 50);
    CHECK("dup2(fd, fd) returns fd", dup2(fd, fd), fd);
    CHECK_ERR("dup2(closed, closed)", dup2(99, 99), EBADF);
    CHECK_ERR("dup2(closed, 51)", dup2(99, 51), EBADF);
    CHECK_ERR("dup2(fd, -1)", dup2(fd, -1), EBADF);
    CHECK_ERR("dup2(fd, 1<<20) beyond RLIMIT_NOFILE", dup2(fd, 1 << 20), EBADF);

    CHECK_ERR("dup3(fd, fd, 0)", syscall(SYS_dup3, fd, fd, 0), EINVAL);
    CHECK("dup3(fd, 52, O_CLOEXEC)", syscall(SYS_dup3, fd, 52, O_CLOEXEC), 52);
    CHECK("dup3: the copy has FD_CLOEXEC", fcntl(52, F_GETFD), FD_CLOEXEC);
    CHECK_ERR("dup3(fd, 53, O_NONBLOCK) bad flags", syscall(SYS_dup3, fd, 53, O_NONBLOCK), EINVAL);
    CHECK_ERR("dup3(closed, 53, 0)", syscall(SYS_dup3, 99, 53, 0), EBADF);

    CHECK("close(50)", close(50), 0);
    CHECK_ERR("close(50) again", close(50), EBADF);
    CHECK_ERR("close(-1)", close(-1), EBADF);
    close(52);
    close(fd);
}

/* ---------------------------------------------------------------- fcntl --- */

static void test_fcntl(void)
{
    int fd = open_file();
    CHECK("fcntl(F_GETFD) of a new fd", fcntl(fd, F_GETFD), 0);
    CHECK("fcntl(F_SETFD, FD_CLOEXEC)", fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
    CHECK("fcntl(F_GETFD) after F_SETFD", fcntl(fd, F_GETFD), FD_CLOEXEC);
    CHECK("fcntl(F_SETFD, 0)", fcntl(fd, F_SETFD, 0), 0);
    CHECK("fcntl(F_GETFD) after clearing", fcntl(fd, F_GETFD), 0);

    CHECK("fcntl(F_GETFL) of an O_RDONLY file", fcntl(fd, F_GETFL), O_RDONLY | O_LARGEFILE);
    int raw = (int)syscall(SYS_openat, AT_FDCWD, dpath("file"), O_RDONLY | O_CLOEXEC);
    CHECK("fcntl(F_GETFL): O_LARGEFILE without asking (64-bit)", fcntl(raw, F_GETFL),
          O_RDONLY | O_LARGEFILE);
    CHECK("fcntl(F_GETFD) of an O_CLOEXEC open", fcntl(raw, F_GETFD), FD_CLOEXEC);
    close(raw);
    CHECK("fcntl(F_SETFL, O_NONBLOCK|O_APPEND)", fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND), 0);
    CHECK("fcntl(F_GETFL) after F_SETFL", fcntl(fd, F_GETFL),
          O_RDONLY | O_LARGEFILE | O_NONBLOCK | O_APPEND);
    CHECK("fcntl(F_SETFL, O_RDWR) ignores the access mode", fcntl(fd, F_SETFL, O_RDWR), 0);
    CHECK("fcntl(F_GETFL) still O_RDONLY", fcntl(fd, F_GETFL), O_RDONLY | O_LARGEFILE);

    CHECK("fcntl(F_DUPFD, 60)", fcntl(fd, F_DUPFD, 60), 60);
    CHECK("fcntl(F_DUPFD, 60) takes the next free", fcntl(fd, F_DUPFD, 60), 61);
    CHECK("fcntl(F_DUPFD): the copy has FD_CLOEXEC clear", fcntl(60, F_GETFD), 0);
    CHECK("fcntl(F_DUPFD_CLOEXEC, 70)", fcntl(fd, F_DUPFD_CLOEXEC, 70), 70);
    CHECK("fcntl(F_DUPFD_CLOEXEC): the copy has FD_CLOEXEC", fcntl(70, F_GETFD), FD_CLOEXEC);
    close(60);
    close(61);
    close(70);
    CHECK_ERR("fcntl(F_DUPFD, -1)", fcntl(fd, F_DUPFD, -1), EINVAL);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    CHECK_ERR("fcntl(F_DUPFD, RLIMIT_NOFILE)", fcntl(fd, F_DUPFD, (long)rl.rlim_cur), EINVAL);

    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    CHECK("fcntl(F_GETLK) on an unlocked file", fcntl(fd, F_GETLK, &fl), 0);
    CHECK("fcntl(F_GETLK) says F_UNLCK", fl.l_type, F_UNLCK);
    fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET };
    CHECK("fcntl(F_SETLK, F_RDLCK) on an O_RDONLY fd", fcntl(fd, F_SETLK, &fl), 0);
    fl = (struct flock){ .l_type = F_UNLCK, .l_whence = SEEK_SET };
    CHECK("fcntl(F_SETLK, F_UNLCK)", fcntl(fd, F_SETLK, &fl), 0);
    fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
    CHECK_ERR("fcntl(F_SETLK, F_WRLCK) on an O_RDONLY fd", fcntl(fd, F_SETLK, &fl), EBADF);
    fl = (struct flock){ .l_type = 77, .l_whence = SEEK_SET };
    CHECK_ERR("fcntl(F_SETLK, l_type 77)", fcntl(fd, F_SETLK, &fl), EINVAL);
    CHECK_ERR("fcntl(cmd 12345)", fcntl(fd, 12345, 0), EINVAL);
    CHECK_ERR("fcntl(-1, F_GETFD)", fcntl(-1, F_GETFD), EBADF);
    close(fd);
}

/* ---------------------------------------------------------------- ioctl --- */

static void test_ioctl(void)
{
    struct termios t;
    struct winsize ws;
    int on;
    char c;

    CHECK("isatty(1) (ioctl TCGETS on the console)", isatty(1), 1);
    CHECK("ioctl(1, TCGETS)", ioctl(1, TCGETS, &t), 0);
    CHECK("ioctl(1, TIOCGWINSZ)", ioctl(1, TIOCGWINSZ, &ws), 0);
    CHECK_ERR("ioctl(1, unknown 0x54ff)", ioctl(1, 0x54ff, 0), ENOTTY);
    int fd = open_file();
    CHECK_ERR("ioctl(file, TCGETS)", ioctl(fd, TCGETS, &t), ENOTTY);
    close(fd);
    int null = open("/dev/null", O_RDWR);
    CHECK_ERR("ioctl(/dev/null, TIOCGWINSZ)", ioctl(null, TIOCGWINSZ, &ws), ENOTTY);
    close(null);
    CHECK_ERR("ioctl(-1, FIONBIO)", ioctl(-1, FIONBIO, &on), EBADF);

    int p[2];
    if (pipe(p) < 0) {
        report("pipe", 0, -1, errno, "0");
        return;
    }
    on = 1;
    CHECK("ioctl(pipe, FIONBIO, 1)", ioctl(p[0], FIONBIO, &on), 0);
    CHECK_IF("FIONBIO sets O_NONBLOCK", fcntl(p[0], F_GETFL), r_ >= 0 && (r_ & O_NONBLOCK),
             "O_NONBLOCK set");
    CHECK_ERR("read(empty non-blocking pipe)", read(p[0], &c, 1), EAGAIN);
    on = 0;
    CHECK("ioctl(pipe, FIONBIO, 0)", ioctl(p[0], FIONBIO, &on), 0);
    CHECK_IF("FIONBIO 0 clears O_NONBLOCK", fcntl(p[0], F_GETFL), r_ >= 0 && !(r_ & O_NONBLOCK),
             "O_NONBLOCK clear");
    CHECK("ioctl(FIOCLEX)", ioctl(p[0], FIOCLEX), 0);
    CHECK("FIOCLEX sets FD_CLOEXEC", fcntl(p[0], F_GETFD), FD_CLOEXEC);
    CHECK("ioctl(FIONCLEX)", ioctl(p[0], FIONCLEX), 0);
    CHECK("FIONCLEX clears FD_CLOEXEC", fcntl(p[0], F_GETFD), 0);
    close(p[0]);
    close(p[1]);
}

/* ---------------------------------------------------------------- lseek --- */

static void test_lseek(void)
{
    char buf[16];
    int fd = open_file();
    CHECK("lseek(3, SEEK_SET)", lseek(fd, 3, SEEK_SET), 3);
    CHECK("lseek(2, SEEK_CUR)", lseek(fd, 2, SEEK_CUR), 5);
    CHECK("lseek(-1, SEEK_CUR)", lseek(fd, -1, SEEK_CUR), 4);
    CHECK("lseek(0, SEEK_END)", lseek(fd, 0, SEEK_END), 12);
    CHECK("lseek(-5, SEEK_END)", lseek(fd, -5, SEEK_END), 7);
    memset(buf, 0, sizeof(buf));
    CHECK("read after lseek(-5, SEEK_END)", read(fd, buf, sizeof(buf)), 5);
    check_str("read after lseek(-5, SEEK_END): the bytes", buf, "tern\n");
    CHECK("lseek(100, SEEK_SET) past the end", lseek(fd, 100, SEEK_SET), 100);
    CHECK("read past the end", read(fd, buf, sizeof(buf)), 0);
    CHECK_ERR("lseek(-1, SEEK_SET)", lseek(fd, -1, SEEK_SET), EINVAL);
    CHECK_ERR("lseek(-1000, SEEK_CUR)", lseek(fd, -1000, SEEK_CUR), EINVAL);
    CHECK("a failed lseek keeps the offset", lseek(fd, 0, SEEK_CUR), 100);
    CHECK_ERR("lseek(0, whence 99)", lseek(fd, 0, 99), EINVAL);
    CHECK("lseek(0, SEEK_DATA)", lseek(fd, 0, SEEK_DATA), 0);
    CHECK("lseek(4, SEEK_DATA)", lseek(fd, 4, SEEK_DATA), 4);
    CHECK("lseek(0, SEEK_HOLE) is the end", lseek(fd, 0, SEEK_HOLE), 12);
    CHECK_ERR("lseek(12, SEEK_DATA) at the end", lseek(fd, 12, SEEK_DATA), ENXIO);
    CHECK_ERR("lseek(13, SEEK_HOLE) past the end", lseek(fd, 13, SEEK_HOLE), ENXIO);
    CHECK_ERR("lseek(-1, SEEK_DATA)", lseek(fd, -1, SEEK_DATA), ENXIO);
    close(fd);
    CHECK_ERR("lseek(closed fd)", lseek(fd, 0, SEEK_SET), EBADF);

    int dir = open(data, O_RDONLY | O_DIRECTORY);
    CHECK("lseek(directory, 0, SEEK_SET)", lseek(dir, 0, SEEK_SET), 0);
    close(dir);
    int p[2];
    if (pipe(p) == 0) {
        CHECK_ERR("lseek(pipe)", lseek(p[0], 0, SEEK_CUR), ESPIPE);
        close(p[0]);
        close(p[1]);
    }
}

/* ------------------------------------------------- pread, pwrite, vectors --- */

static struct iovec many_iov[1025];

static void test_rw(void)
{
    char buf[32], a[5], b[20];
    int fd = open_file();
    int p[2];
    if (pipe(p) < 0) {
        report("pipe", 0, -1, errno, "0");
        return;
    }

    memset(buf, 0, sizeof(buf));
    CHECK("pread64(fd, 5, offset 7)", pread(fd, buf, 5, 7), 5);
    check_str("pread64: the bytes", buf, "tern\n");
    CHECK("pread64 leaves the offset alone", lseek(fd, 0, SEEK_CUR), 0);
    CHECK("pread64 at the end", pread(fd, buf, 5, 12), 0);
    CHECK_ERR("pread64(offset -1)", pread(fd, buf, 1, -1), EINVAL);
    CHECK_ERR("pwrite64(O_RDONLY fd)", pwrite(fd, "x", 1, 0), EBADF);
    CHECK_ERR("write(O_RDONLY fd)", write(fd, "x", 1), EBADF);
    CHECK_ERR("pread64(pipe)", pread(p[0], buf, 1, 0), ESPIPE);
    CHECK_ERR("pwrite64(pipe)", pwrite(p[1], "x", 1, 0), ESPIPE);
    CHECK_ERR("read(pipe write end)", read(p[1], buf, 1), EBADF);
    int dir = open(data, O_RDONLY | O_DIRECTORY);
    CHECK_ERR("read(directory)", read(dir, buf, 1), EISDIR);
    CHECK_ERR("pread64(directory)", pread(dir, buf, 1, 0), EISDIR);
    close(dir);
    int null = open("/dev/null", O_WRONLY);
    CHECK("pwrite64(/dev/null)", pwrite(null, "abc", 3, 10), 3);

    /* readv into two buffers: the first filled, the rest in the second. */
    struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
    memset(b, 0, sizeof(b));
    CHECK("readv(file, 5 + 20)", readv(fd, iov, 2), 12);
    CHECK("readv: first buffer", memcmp(a, "hello", 5), 0);
    check_str("readv: second buffer", b, ", tern\n");
    CHECK("readv(iovcnt 0)", readv(fd, iov, 0), 0);
    CHECK_ERR("readv(iovcnt -1)", readv(fd, iov, -1), EINVAL);
    for (int i = 0; i < 1025; i++)
        many_iov[i] = (struct iovec){ buf, 1 };
    CHECK_ERR("readv(iovcnt 1025 > IOV_MAX)", readv(fd, many_iov, 1025), EINVAL);

    struct iovec iov2[2] = { { a, 2 }, { b, 2 } };
    CHECK("preadv(offset 7, 2 + 2)", preadv(fd, iov2, 2, 7), 4);
    CHECK("preadv: the bytes", memcmp(a, "te", 2) || memcmp(b, "rn", 2), 0);
    CHECK_ERR("preadv(pipe)", preadv(p[0], iov2, 2, 0), ESPIPE);

    struct iovec out[2] = { { "abc", 3 }, { "defg", 4 } };
    CHECK("writev(pipe, 3 + 4)", writev(p[1], out, 2), 7);
    memset(buf, 0, sizeof(buf));
    CHECK("read(pipe) after writev", read(p[0], buf, sizeof(buf)), 7);
    check_str("writev: the bytes, in order", buf, "abcdefg");
    CHECK("writev(/dev/null)", writev(null, out, 2), 7);
    CHECK("pwritev(/dev/null)", pwritev(null, out, 2, 0), 7);
    CHECK_ERR("writev(O_RDONLY fd)", writev(fd, out, 2), EBADF);
    close(null);
    close(fd);
    close(p[0]);
    close(p[1]);
}

/* ----------------------------------------------------------- getdents64 --- */

struct dirent64_ {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static void test_getdents(void)
{
    char buf[2048];
    int fd = open(dpath("sub"), O_RDONLY | O_DIRECTORY);
    long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
    CHECK_IF("getdents64(sub)", n, r_ > 0, "> 0");
    int dot = 0, dotdot = 0, inner = 0, deeper = 0, other = 0;
    for (long off = 0; n > 0 && off < n;) {
        struct dirent64_ *d = (struct dirent64_ *)(buf + off);
        if (!strcmp(d->d_name, "."))
            dot = d->d_type == 4 ? 1 : -1;
        else if (!strcmp(d->d_name, ".."))
            dotdot = d->d_type == 4 ? 1 : -1;
        else if (!strcmp(d->d_name, "inner"))
            inner = d->d_type == 8 ? 1 : -1;
        else if (!strcmp(d->d_name, "deeper"))
            deeper = d->d_type == 4 ? 1 : -1;
        else
            other++;
        if (!d->d_reclen)
            break;
        off += d->d_reclen;
    }
    CHECK("getdents64: \".\" (DT_DIR)", dot, 1);
    CHECK("getdents64: \"..\" (DT_DIR)", dotdot, 1);
    CHECK("getdents64: \"inner\" (DT_REG)", inner, 1);
    CHECK("getdents64: \"deeper\" (DT_DIR)", deeper, 1);
    CHECK("getdents64: nothing else", other, 0);
    CHECK("getdents64 at the end", syscall(SYS_getdents64, fd, buf, sizeof(buf)), 0);
    CHECK("lseek(dir, 0, SEEK_SET) rewinds", lseek(fd, 0, SEEK_SET), 0);
    CHECK("getdents64 after rewinding", syscall(SYS_getdents64, fd, buf, sizeof(buf)), n);
    lseek(fd, 0, SEEK_SET);
    CHECK_ERR("getdents64(buffer of 8 bytes)", syscall(SYS_getdents64, fd, buf, 8), EINVAL);
    close(fd);
    int file = open_file();
    CHECK_ERR("getdents64(file)", syscall(SYS_getdents64, file, buf, sizeof(buf)), ENOTDIR);
    close(file);
    CHECK_ERR("getdents64(-1)", syscall(SYS_getdents64, -1, buf, sizeof(buf)), EBADF);
}

/* ------------------------------------------------------------ the stats --- */

/* struct statx (linux/stat.h), which musl 1.2.3 does not declare. */
struct statx_ {
    uint32_t stx_mask, stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink, stx_uid, stx_gid;
    uint16_t stx_mode, spare0;
    uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
    struct { int64_t tv_sec; uint32_t tv_nsec; int32_t reserved; } stx_atime, stx_btime,
        stx_ctime, stx_mtime;
    uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
    uint64_t spare2[14];
};
#define STATX_BASIC_STATS_ 0x7ffu
#define STATX_RESERVED_ 0x80000000u

static void test_stat(void)
{
    struct stat st, s2;
    struct statx_ sx;

    CHECK("stat(file)", stat(dpath("file"), &st), 0);
    CHECK("stat(file): st_size", st.st_size, 12);
    CHECK("stat(file): st_mode", st.st_mode, S_IFREG | 0644);
    CHECK("stat(file): st_nlink", st.st_nlink, 1);
    CHECK("stat(file): st_uid", st.st_uid, 0);
    CHECK("stat(sub): st_mode", stat(dpath("sub"), &s2) == 0 ? (long)s2.st_mode : -1,
          S_IFDIR | 0755);
    CHECK("lstat(link)", lstat(dpath("link"), &s2), 0);
    CHECK("lstat(link): S_IFLNK", s2.st_mode & S_IFMT, S_IFLNK);
    CHECK("lstat(link): st_size is the target's length", s2.st_size, 4);
    CHECK("stat(link) follows it", stat(dpath("link"), &s2), 0);
    CHECK("stat(link): the file's inode", s2.st_ino == st.st_ino && S_ISREG(s2.st_mode), 1);
    CHECK_ERR("stat(dangling)", stat(dpath("dangling"), &s2), ENOENT);
    CHECK("lstat(dangling)", lstat(dpath("dangling"), &s2), 0);
    CHECK_ERR("stat(missing)", stat(dpath("missing"), &s2), ENOENT);
    CHECK_ERR("stat(file/x)", stat(dpath("file/x"), &s2), ENOTDIR);
    CHECK_ERR("stat(\"file/\")", stat(dpath("file/"), &s2), ENOTDIR);
    CHECK_ERR("stat(\"\")", stat("", &s2), ENOENT);

    int fd = open_file();
    CHECK("fstat(fd)", fstat(fd, &s2), 0);
    CHECK("fstat(fd): same inode and size", s2.st_ino == st.st_ino && s2.st_size == 12, 1);
    CHECK_ERR("fstat(-1)", fstat(-1, &s2), EBADF);
    CHECK("fstat(1): a character device", fstat(1, &s2) == 0 && S_ISCHR(s2.st_mode), 1);

    int dir = open(data, O_RDONLY | O_DIRECTORY);
    CHECK("newfstatat(dir, \"link\", AT_SYMLINK_NOFOLLOW)",
          syscall(SYS_newfstatat, dir, "link", &s2, AT_SYMLINK_NOFOLLOW), 0);
    CHECK("newfstatat(AT_SYMLINK_NOFOLLOW): S_IFLNK", s2.st_mode & S_IFMT, S_IFLNK);
    CHECK("newfstatat(dir, \"link\", 0)", syscall(SYS_newfstatat, dir, "link", &s2, 0), 0);
    CHECK("newfstatat(dir, \"link\", 0) follows it", s2.st_ino == st.st_ino, 1);
    CHECK("newfstatat(dir, \"sub/inner\", 0)",
          syscall(SYS_newfstatat, dir, "sub/inner", &s2, 0) == 0 ? (long)s2.st_size : -1, 6);
    CHECK("newfstatat(fd, \"\", AT_EMPTY_PATH)",
          syscall(SYS_newfstatat, fd, "", &s2, AT_EMPTY_PATH), 0);
    CHECK("newfstatat(AT_EMPTY_PATH): the fd's inode", s2.st_ino == st.st_ino, 1);
    CHECK_ERR("newfstatat(fd, \"\", 0)", syscall(SYS_newfstatat, fd, "", &s2, 0), ENOENT);
    CHECK_ERR("newfstatat(file fd, \"x\", 0)", syscall(SYS_newfstatat, fd, "x", &s2, 0), ENOTDIR);
    CHECK_ERR("newfstatat(flags 0x1)", syscall(SYS_newfstatat, dir, "file", &s2, 0x1), EINVAL);
    CHECK("newfstatat(AT_STATX_DONT_SYNC)", syscall(SYS_newfstatat, dir, "file", &s2, 0x4000), 0);
    CHECK_ERR("newfstatat(-5, \"file\")", syscall(SYS_newfstatat, -5, "file", &s2, 0), EBADF);
    CHECK("newfstatat(-5, absolute path) ignores the fd",
          syscall(SYS_newfstatat, -5, dpath("file"), &s2, 0), 0);

    CHECK("statx(file, STATX_BASIC_STATS)",
          syscall(SYS_statx, AT_FDCWD, dpath("file"), 0, STATX_BASIC_STATS_, &sx), 0);
    CHECK("statx: stx_mask has the basic stats", sx.stx_mask & STATX_BASIC_STATS_,
          STATX_BASIC_STATS_);
    CHECK("statx: stx_size", (long)sx.stx_size, 12);
    CHECK("statx: stx_mode", sx.stx_mode, S_IFREG | 0644);
    CHECK("statx: stx_ino", sx.stx_ino == st.st_ino, 1);
    CHECK("statx: stx_mtime is stat's", sx.stx_mtime.tv_sec == st.st_mtim.tv_sec &&
          sx.stx_mtime.tv_nsec == (uint32_t)st.st_mtim.tv_nsec, 1);
    CHECK("statx(link, AT_SYMLINK_NOFOLLOW)",
          syscall(SYS_statx, AT_FDCWD, dpath("link"), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS_,
                  &sx) == 0 ? (long)(sx.stx_mode & S_IFMT) : -1, S_IFLNK);
    CHECK("statx(fd, \"\", AT_EMPTY_PATH)",
          syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS_, &sx) == 0 &&
          sx.stx_ino == st.st_ino, 1);
    CHECK_ERR("statx(mask STATX__RESERVED)",
              syscall(SYS_statx, AT_FDCWD, dpath("file"), 0, STATX_RESERVED_, &sx), EINVAL);
    CHECK_ERR("statx(flags 0x1)",
              syscall(SYS_statx, AT_FDCWD, dpath("file"), 0x1, STATX_BASIC_STATS_, &sx), EINVAL);
    CHECK_ERR("statx(missing)",
              syscall(SYS_statx, AT_FDCWD, dpath("missing"), 0, STATX_BASIC_STATS_, &sx), ENOENT);
    close(dir);
    close(fd);
}

/* ------------------------------------------------------------- readlink --- */

static void test_readlink(void)
{
    char buf[256];
    memset(buf, 0, sizeof(buf));
    CHECK("readlink(link)", readlink(dpath("link"), buf, sizeof(buf)), 4);
    CHECK("readlink(link): the target, not NUL-terminated", memcmp(buf, "file", 4), 0);
    memset(buf, 0, sizeof(buf));
    CHECK("readlink(link, size 2) truncates", readlink(dpath("link"), buf, 2), 2);
    check_str("readlink(link, size 2): the bytes", buf, "fi");
    CHECK("readlink(dangling)", readlink(dpath("dangling"), buf, sizeof(buf)), 7);
    CHECK_ERR("readlink(file) is not a link", readlink(dpath("file"), buf, sizeof(buf)), EINVAL);
    CHECK_ERR("readlink(directory)", readlink(dpath("sub"), buf, sizeof(buf)), EINVAL);
    CHECK_ERR("readlink(missing)", readlink(dpath("missing"), buf, sizeof(buf)), ENOENT);
#ifdef SYS_readlink
    CHECK_ERR("readlink(link, size 0)", syscall(SYS_readlink, dpath("link"), buf, 0), EINVAL);
#else
    CHECK_ERR("readlinkat(AT_FDCWD, link, size 0)",
              syscall(SYS_readlinkat, AT_FDCWD, dpath("link"), buf, 0), EINVAL);
#endif
    int dir = open(data, O_RDONLY | O_DIRECTORY);
    CHECK("readlinkat(dir, \"link\")", readlinkat(dir, "link", buf, sizeof(buf)), 4);
    CHECK_ERR("readlinkat(dir, \"file\")", readlinkat(dir, "file", buf, sizeof(buf)), EINVAL);
    CHECK_ERR("readlinkat(dir, \"\")", readlinkat(dir, "", buf, sizeof(buf)), ENOENT);
    close(dir);
    int fd = open_file();
    CHECK_ERR("readlinkat(file fd, \"x\")", readlinkat(fd, "x", buf, sizeof(buf)), ENOTDIR);
    close(fd);
    memset(buf, 0, sizeof(buf));
    CHECK_IF("readlink(/proc/self/exe)", readlink("/proc/self/exe", buf, sizeof(buf) - 1),
             r_ > 1 && buf[0] == '/', "an absolute path");
}

/* --------------------------------------------------------------- access --- */

static void test_access(void)
{
    CHECK("access(file, F_OK)", access(dpath("file"), F_OK), 0);
    CHECK("access(file, R_OK)", access(dpath("file"), R_OK), 0);
    CHECK_ERR("access(file, W_OK) on a read-only file system", access(dpath("file"), W_OK), EROFS);
    CHECK_ERR("access(file, X_OK) without x bits", access(dpath("file"), X_OK), EACCES);
    CHECK("access(exec, X_OK)", access(dpath("exec"), X_OK), 0);
    CHECK("access(sub, X_OK)", access(dpath("sub"), X_OK), 0);
    CHECK_ERR("access(sub, W_OK)", access(dpath("sub"), W_OK), EROFS);
    CHECK_ERR("access(missing, F_OK)", access(dpath("missing"), F_OK), ENOENT);
    CHECK_ERR("access(dangling, F_OK) follows the link", access(dpath("dangling"), F_OK), ENOENT);
    CHECK_ERR("access(file/x, F_OK)", access(dpath("file/x"), F_OK), ENOTDIR);
#ifdef SYS_access
    CHECK_ERR("access(file, mode 8)", syscall(SYS_access, dpath("file"), 8), EINVAL);
#else
    CHECK_ERR("faccessat(AT_FDCWD, file, mode 8)",
              syscall(SYS_faccessat, AT_FDCWD, dpath("file"), 8), EINVAL);
#endif
    CHECK("access(/dev/null, R_OK|W_OK)", access("/dev/null", R_OK | W_OK), 0);

    int dir = open(data, O_RDONLY | O_DIRECTORY);
    int fd = open_file();
    CHECK("faccessat(dir, \"file\", R_OK)", syscall(SYS_faccessat, dir, "file", R_OK), 0);
    CHECK_ERR("faccessat(dir, \"file\", W_OK)", syscall(SYS_faccessat, dir, "file", W_OK), EROFS);
    CHECK_ERR("faccessat(dir, \"missing\", F_OK)",
              syscall(SYS_faccessat, dir, "missing", F_OK), ENOENT);
    CHECK_ERR("faccessat(file fd, \"x\", F_OK)", syscall(SYS_faccessat, fd, "x", F_OK), ENOTDIR);
    CHECK("faccessat2(dir, \"dangling\", F_OK, AT_SYMLINK_NOFOLLOW)",
          syscall(SYS_faccessat2, dir, "dangling", F_OK, AT_SYMLINK_NOFOLLOW), 0);
    CHECK_ERR("faccessat2(dir, \"file\", X_OK, AT_EACCESS)",
              syscall(SYS_faccessat2, dir, "file", X_OK, AT_EACCESS), EACCES);
    CHECK("faccessat2(fd, \"\", R_OK, AT_EMPTY_PATH)",
          syscall(SYS_faccessat2, fd, "", R_OK, AT_EMPTY_PATH), 0);
    CHECK_ERR("faccessat2(fd, \"\", R_OK, 0)", syscall(SYS_faccessat2, fd, "", R_OK, 0), ENOENT);
    CHECK_ERR("faccessat2(flags 0x1)", syscall(SYS_faccessat2, dir, "file", R_OK, 0x1), EINVAL);
    close(fd);
    close(dir);
}

/* ------------------------------------ opening, and changing the read-only fs --- */

static void test_open(void)
{
    int fd;
    CHECK_ERR("open(file, O_WRONLY)", open(dpath("file"), O_WRONLY), EROFS);
    CHECK_ERR("open(file, O_RDWR)", open(dpath("file"), O_RDWR), EROFS);
    CHECK_ERR("open(file, O_CREAT|O_WRONLY|O_TRUNC)",
              open(dpath("file"), O_CREAT | O_WRONLY | O_TRUNC, 0644), EROFS);
    CHECK_ERR("open(file, O_RDONLY|O_TRUNC)", open(dpath("file"), O_RDONLY | O_TRUNC), EROFS);
    CHECK_ERR("open(file, O_CREAT|O_EXCL|O_WRONLY)",
              open(dpath("file"), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    CHECK_ERR("open(missing, O_CREAT|O_WRONLY)",
              open(dpath("missing"), O_CREAT | O_WRONLY, 0644), EROFS);
    CHECK_ERR("creat(missing)", creat(dpath("missing"), 0644), EROFS);
    CHECK_ERR("open(sub, O_TMPFILE|O_RDWR)", open(dpath("sub"), O_TMPFILE | O_RDWR, 0600), EROFS);
    CHECK_ERR("open(missing, O_RDONLY)", open(dpath("missing"), O_RDONLY), ENOENT);
    CHECK_ERR("open(missing/x)", open(dpath("missing/x"), O_RDONLY), ENOENT);
    CHECK_ERR("open(file, O_DIRECTORY)", open(dpath("file"), O_RDONLY | O_DIRECTORY), ENOTDIR);
    CHECK_ERR("open(\"file/\")", open(dpath("file/"), O_RDONLY), ENOTDIR);
    CHECK_ERR("open(sub, O_WRONLY)", open(dpath("sub"), O_WRONLY), EISDIR);
    CHECK_ERR("open(link, O_NOFOLLOW)", open(dpath("link"), O_RDONLY | O_NOFOLLOW), ELOOP);
    CHECK_ERR("open(dangling)", open(dpath("dangling"), O_RDONLY), ENOENT);
    CHECK_IF("open(sub, O_DIRECTORY)", fd = open(dpath("sub"), O_RDONLY | O_DIRECTORY), r_ >= 0,
             "a descriptor");
    close(fd);
    CHECK_IF("open(link) follows it", fd = open(dpath("link"), O_RDONLY), r_ >= 0, "a descriptor");
    char buf[8] = { 0 };
    CHECK("read(opened through link)", read(fd, buf, 5), 5);
    check_str("read(opened through link): the file's bytes", buf, "hello");
    close(fd);
    CHECK_IF("open(\"sub/\")", fd = open(dpath("sub/"), O_RDONLY), r_ >= 0, "a descriptor");
    close(fd);

    CHECK_ERR("mkdir(new)", mkdir(dpath("newdir"), 0755), EROFS);
    CHECK_ERR("mkdir(existing) says EEXIST first", mkdir(dpath("sub"), 0755), EEXIST);
    CHECK_ERR("mkdirat(AT_FDCWD, sub) says EEXIST first",
              syscall(SYS_mkdirat, AT_FDCWD, dpath("sub"), 0755), EEXIST);
    CHECK_ERR("mkdirat(AT_FDCWD, new)", syscall(SYS_mkdirat, AT_FDCWD, dpath("newdir"), 0755), EROFS);
    CHECK_ERR("rmdir(sub/deeper)", rmdir(dpath("sub/deeper")), EROFS);
    CHECK_ERR("unlink(file)", unlink(dpath("file")), EROFS);
    CHECK_ERR("unlinkat(AT_FDCWD, file, 0)", unlinkat(AT_FDCWD, dpath("file"), 0), EROFS);
    CHECK_ERR("rename(file, new)", rename(dpath("file"), dpath("new")), EROFS);
    CHECK_ERR("renameat2(file, new)",
              syscall(SYS_renameat2, AT_FDCWD, dpath("file"), AT_FDCWD, dpath("new"), 0), EROFS);
    CHECK_ERR("link(file, new)", link(dpath("file"), dpath("new")), EROFS);
    CHECK_ERR("symlink(file, new)", symlink("file", dpath("new")), EROFS);
    CHECK_ERR("chmod(file)", chmod(dpath("file"), 0600), EROFS);
    CHECK_ERR("chown(file)", chown(dpath("file"), 0, 0), EROFS);
    CHECK_ERR("truncate(file)", truncate(dpath("file"), 0), EROFS);
    CHECK_ERR("utimensat(file, now)", utimensat(AT_FDCWD, dpath("file"), NULL, 0), EROFS);
    CHECK_ERR("mknod(new fifo)", mknod(dpath("fifo"), S_IFIFO | 0600, 0), EROFS);
    fd = open_file();
    CHECK_ERR("ftruncate(O_RDONLY fd)", ftruncate(fd, 0), EINVAL);
    CHECK_ERR("fchmod(fd)", fchmod(fd, 0600), EROFS);
    CHECK_ERR("fchown(fd)", fchown(fd, 0, 0), EROFS);
    CHECK("fsync(fd)", fsync(fd), 0);
    CHECK("fdatasync(fd)", fdatasync(fd), 0);
    close(fd);
}

/* ------------------------------------------------ the working directory --- */

static void check_cwd(const char *name, const char *want)
{
    char buf[512];
    check_str(name, getcwd(buf, sizeof(buf)), want);
}

static void test_cwd(void)
{
    char buf[512];
    struct stat st, sub;
    int fd;

    CHECK("chdir(data)", chdir(data), 0);
    check_cwd("getcwd after chdir(data)", data);
    CHECK("getcwd returns the length with its NUL", syscall(SYS_getcwd, buf, sizeof(buf)),
          (long)strlen(data) + 1);
    CHECK_ERR("getcwd(buffer of 2)", syscall(SYS_getcwd, buf, 2), ERANGE);
    CHECK_IF("open(\"file\") relative to the cwd", fd = open("file", O_RDONLY), r_ >= 0,
             "a descriptor");
    memset(buf, 0, sizeof(buf));
    CHECK("read(\"file\")", read(fd, buf, 5), 5);
    check_str("read(\"file\"): the bytes", buf, "hello");
    close(fd);
    CHECK("stat(\"sub/inner\")", stat("sub/inner", &st) == 0 ? (long)st.st_size : -1, 6);
    CHECK("stat(\"./sub/../file\")", stat("./sub/../file", &st) == 0 ? (long)st.st_size : -1, 12);

    stat(dpath("sub"), &sub);
    CHECK("chdir(\"sub\")", chdir("sub"), 0);
    check_cwd("getcwd after chdir(\"sub\")", dpath("sub"));
    CHECK_IF("open(\"inner\")", fd = open("inner", O_RDONLY), r_ >= 0, "a descriptor");
    close(fd);
    CHECK_IF("open(\"../file\")", fd = open("../file", O_RDONLY), r_ >= 0, "a descriptor");
    close(fd);
    CHECK("newfstatat(AT_FDCWD, \"\", AT_EMPTY_PATH) is the cwd",
          syscall(SYS_newfstatat, AT_FDCWD, "", &st, AT_EMPTY_PATH) == 0 &&
          st.st_ino == sub.st_ino, 1);
    CHECK("stat(\".\") is the cwd", stat(".", &st) == 0 && st.st_ino == sub.st_ino, 1);
    CHECK_ERR("faccessat2(AT_FDCWD, \"\", W_OK, AT_EMPTY_PATH) is the cwd's",
              syscall(SYS_faccessat2, AT_FDCWD, "", W_OK, AT_EMPTY_PATH), EROFS);
    CHECK("chdir(\"..\")", chdir(".."), 0);
    check_cwd("getcwd after chdir(\"..\")", data);
    CHECK("chdir(\"./sub/../sub/.\")", chdir("./sub/../sub/."), 0);
    check_cwd("getcwd after chdir(\"./sub/../sub/.\")", dpath("sub"));
    CHECK("chdir(\"deeper\")", chdir("deeper"), 0);
    check_cwd("getcwd after chdir(\"deeper\")", dpath("sub/deeper"));
    CHECK("chdir(\"../..\")", chdir("../.."), 0);
    check_cwd("getcwd after chdir(\"../..\")", data);

    /* Through a symbolic link: the cwd is the directory itself, and ".."
     * is its parent, not the link's. */
    CHECK("chdir(deeplink)", chdir(dpath("deeplink")), 0);
    check_cwd("getcwd after chdir(deeplink) has no link in it", dpath("sub/deeper"));
    CHECK("chdir(\"..\") from a linked directory", chdir(".."), 0);
    check_cwd("getcwd after chdir(\"..\") from a linked directory", dpath("sub"));
    CHECK("chdir(\"deeplink/..\") is sub/deeper's parent",
          chdir(data) || chdir("deeplink/.."), 0);
    check_cwd("getcwd after chdir(\"deeplink/..\")", dpath("sub"));

    CHECK_ERR("chdir(file)", chdir(dpath("file")), ENOTDIR);
    CHECK_ERR("chdir(missing)", chdir(dpath("missing")), ENOENT);
    CHECK_ERR("chdir(\"\")", chdir(""), ENOENT);
    check_cwd("a failed chdir keeps the cwd", dpath("sub"));

    int dir = open(dpath("sub"), O_RDONLY | O_DIRECTORY);
    chdir("/");
    CHECK("fchdir(sub)", fchdir(dir), 0);
    check_cwd("getcwd after fchdir(sub)", dpath("sub"));
    close(dir);
    fd = open_file();
    CHECK_ERR("fchdir(file fd)", fchdir(fd), ENOTDIR);
    close(fd);
    CHECK_ERR("fchdir(-1)", fchdir(-1), EBADF);
    CHECK("chdir(\"/\")", chdir("/"), 0);
    check_cwd("getcwd after chdir(\"/\")", "/");
    CHECK("chdir(\"/..\") stays at /", chdir("/.."), 0);
    check_cwd("getcwd after chdir(\"/..\")", "/");

    /* openat with a directory descriptor. */
    dir = open(data, O_RDONLY | O_DIRECTORY);
    CHECK_IF("openat(dir, \"file\")", fd = openat(dir, "file", O_RDONLY), r_ >= 0, "a descriptor");
    memset(buf, 0, sizeof(buf));
    read(fd, buf, 5);
    check_str("openat(dir, \"file\"): the bytes", buf, "hello");
    close(fd);
    CHECK_IF("openat(dir, \"sub/inner\")", fd = openat(dir, "sub/inner", O_RDONLY), r_ >= 0,
             "a descriptor");
    close(fd);
    int subdir = openat(dir, "sub", O_RDONLY | O_DIRECTORY);
    CHECK_IF("openat(subdir, \"../file\")", fd = openat(subdir, "../file", O_RDONLY), r_ >= 0,
             "a descriptor");
    close(fd);
    close(subdir);
    int linked = openat(dir, "deeplink", O_RDONLY | O_DIRECTORY);
    CHECK("openat(linked dir, \"..\") is sub",
          fstatat(linked, "..", &st, 0) == 0 && st.st_ino == sub.st_ino, 1);
    close(linked);
    fd = open_file();
    CHECK_ERR("openat(file fd, \"x\")", openat(fd, "x", O_RDONLY), ENOTDIR);
    close(fd);
    CHECK_ERR("openat(-5, \"file\")", openat(-5, "file", O_RDONLY), EBADF);
    CHECK_IF("openat(-5, absolute path) ignores the fd", fd = openat(-5, dpath("file"), O_RDONLY),
             r_ >= 0, "a descriptor");
    close(fd);
    close(dir);
}

/* ------------------------------------------------------------- devices --- */

static void test_devices(void)
{
    unsigned char buf[64], again[64];
    struct stat st;
    int null = open("/dev/null", O_RDWR);
    CHECK_IF("open(/dev/null, O_RDWR)", null, r_ >= 0, "a descriptor");
    CHECK("read(/dev/null)", read(null, buf, sizeof(buf)), 0);
    CHECK("write(/dev/null)", write(null, "abc", 3), 3);
    CHECK("fstat(/dev/null): character device 1:3",
          fstat(null, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3), 1);
    close(null);
    CHECK_ERR("open(/dev/null, O_DIRECTORY)", open("/dev/null", O_RDONLY | O_DIRECTORY), ENOTDIR);

    int zero = open("/dev/zero", O_RDONLY);
    memset(buf, 0x55, sizeof(buf));
    CHECK("read(/dev/zero)", read(zero, buf, sizeof(buf)), sizeof(buf));
    int nonzero = 0;
    for (size_t i = 0; i < sizeof(buf); i++)
        nonzero += buf[i] != 0;
    CHECK("read(/dev/zero): zeroes", nonzero, 0);
    CHECK("stat(/dev/zero): character device 1:5",
          stat("/dev/zero", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5), 1);
    close(zero);

    int ur = open("/dev/urandom", O_RDONLY);
    CHECK("read(/dev/urandom)", read(ur, buf, sizeof(buf)), sizeof(buf));
    CHECK("read(/dev/urandom) again", read(ur, again, sizeof(again)), sizeof(again));
    CHECK("two reads of /dev/urandom differ", memcmp(buf, again, sizeof(buf)) != 0, 1);
    CHECK("stat(/dev/urandom): character device 1:9",
          stat("/dev/urandom", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 9), 1);
    close(ur);
}

/* --------------------------------------------------- process and identity --- */

static void test_identity(void)
{
    struct utsname u;
    char name[32];

    CHECK("uname", uname(&u), 0);
    check_str("uname: sysname", u.sysname, "Linux");
#if defined(__aarch64__)
    check_str("uname: machine", u.machine, "aarch64");
#else
    check_str("uname: machine", u.machine, "x86_64");
#endif
    CHECK("getpid() == gettid() in the main thread", syscall(SYS_gettid), getpid());
    CHECK_IF("getppid", getppid(), r_ >= 0, ">= 0");
    CHECK("getuid", getuid(), 0);
    CHECK("geteuid", geteuid(), 0);
    CHECK("getgid", getgid(), 0);
    CHECK("getegid", getegid(), 0);
    mode_t old = umask(027);
    CHECK("umask returns the previous mask", umask(022), 027);
    CHECK("umask keeps only 0777", (umask(07777), umask(022)), 0777);
    umask(old);

    CHECK("prctl(PR_SET_NAME)", prctl(PR_SET_NAME, "tern-syscalls"), 0);
    memset(name, 'x', sizeof(name));
    CHECK("prctl(PR_GET_NAME)", prctl(PR_GET_NAME, name), 0);
    check_str("prctl(PR_GET_NAME): the name", name, "tern-syscalls");
    prctl(PR_SET_NAME, "0123456789abcdefghij");
    prctl(PR_GET_NAME, name);
    check_str("prctl(PR_SET_NAME) keeps 15 bytes", name, "0123456789abcde");
    CHECK_ERR("prctl(option 9999)", prctl(9999, 0, 0, 0, 0), EINVAL);
    prctl(PR_SET_NAME, "syscalls");
}

/* ----------------------------------------------------- resource limits --- */

struct krlimit {
    unsigned long cur, max;
};

static void test_rlimit(void)
{
    struct krlimit rl, rl2, set;

    CHECK("getrlimit(RLIMIT_NOFILE)", syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl), 0);
    CHECK("RLIMIT_NOFILE: 64 <= cur <= max", rl.cur >= 64 && rl.cur <= rl.max, 1);
    CHECK("prlimit64(0, RLIMIT_NOFILE, NULL, &old)",
          syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl2), 0);
    CHECK("prlimit64 and getrlimit agree", rl2.cur == rl.cur && rl2.max == rl.max, 1);
    set = (struct krlimit){ 200, 100 };
    CHECK_ERR("setrlimit(cur > max)", syscall(SYS_setrlimit, RLIMIT_NOFILE, &set), EINVAL);
    set = (struct krlimit){ 100, rl.max };
    CHECK("setrlimit(RLIMIT_NOFILE, cur 100)", syscall(SYS_setrlimit, RLIMIT_NOFILE, &set), 0);
    CHECK("getrlimit reads back cur 100",
          syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl2) == 0 ? (long)rl2.cur : -1, 100);
    CHECK("prlimit64(new, old): set back",
          syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &rl, &rl2), 0);
    CHECK("prlimit64: old cur was 100", (long)rl2.cur, 100);
    CHECK("getrlimit after setting back",
          syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl2) == 0 && rl2.cur == rl.cur &&
          rl2.max == rl.max, 1);
    CHECK_ERR("prlimit64(pid 1<<30)",
              syscall(SYS_prlimit64, 1 << 30, RLIMIT_NOFILE, NULL, &rl2), ESRCH);
    CHECK_ERR("getrlimit(resource 99)", syscall(SYS_getrlimit, 99, &rl2), EINVAL);
    CHECK("getrlimit(RLIMIT_STACK): cur > 0",
          syscall(SYS_getrlimit, RLIMIT_STACK, &rl2) == 0 && rl2.cur > 0, 1);
}

/* ------------------------------------------------- sysinfo, getrandom --- */

static void test_sysinfo(void)
{
    struct sysinfo si;
    CHECK("sysinfo", sysinfo(&si), 0);
    CHECK("sysinfo: 0 < freeram <= totalram",
          si.totalram > 0 && si.freeram > 0 && si.freeram <= si.totalram, 1);
    CHECK("sysinfo: mem_unit >= 1", si.mem_unit >= 1, 1);
    CHECK("sysinfo: procs >= 1", si.procs >= 1, 1);
    struct timespec boot;
    clock_gettime(CLOCK_BOOTTIME, &boot);
    CHECK("sysinfo: uptime is CLOCK_BOOTTIME's seconds",
          labs((long)si.uptime - (long)boot.tv_sec) <= 1, 1);

    unsigned char a[16], b[16];
    CHECK("getrandom(16, 0)", getrandom(a, sizeof(a), 0), 16);
    CHECK("getrandom(16, GRND_NONBLOCK)", getrandom(b, sizeof(b), GRND_NONBLOCK), 16);
    CHECK("two getrandom results differ", memcmp(a, b, sizeof(a)) != 0, 1);
    CHECK("getrandom(0 bytes)", getrandom(a, 0, 0), 0);
    CHECK_ERR("getrandom(flags 0x100)", getrandom(a, sizeof(a), 0x100), EINVAL);
    CHECK_ERR("getrandom(GRND_RANDOM|GRND_INSECURE)",
              getrandom(a, sizeof(a), GRND_RANDOM | GRND_INSECURE), EINVAL);
}

/* ------------------------------------------------ getcpu and affinity --- */

static void test_cpu(void)
{
    cpu_set_t orig, now, one, empty;
    unsigned cpu = 999, node = 999;

    CHECK("sched_getaffinity", sched_getaffinity(0, sizeof(orig), &orig), 0);
    CHECK_IF("sched_getaffinity returns the mask size",
             syscall(SYS_sched_getaffinity, 0, sizeof(now), &now),
             r_ > 0 && r_ % 8 == 0 && r_ <= (long)sizeof(now), "a multiple of 8");
    CHECK_ERR("sched_getaffinity(size 4)", syscall(SYS_sched_getaffinity, 0, 4, &now), EINVAL);
    CHECK("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL), 0);
    CHECK("getcpu: a CPU of the affinity mask", cpu < CPU_SETSIZE && CPU_ISSET(cpu, &orig), 1);
    CHECK("getcpu: node 0", node, 0);
    CHECK("getcpu(NULL, NULL)", syscall(SYS_getcpu, NULL, NULL, NULL), 0);

    int first = -1, last = -1;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &orig)) {
            if (first < 0)
                first = i;
            last = i;
        }
    /* Pin to the first CPU (CPU 0 unless the host restricts us). */
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    CHECK("sched_setaffinity(one CPU)", sched_setaffinity(0, sizeof(one), &one), 0);
    cpu = 999;
    syscall(SYS_getcpu, &cpu, NULL, NULL);
    CHECK("getcpu after pinning", cpu, first);
    sched_yield();
    cpu = 999;
    syscall(SYS_getcpu, &cpu, NULL, NULL);
    CHECK("getcpu after pinning and sched_yield", cpu, first);
    CHECK("sched_getaffinity reads back the one CPU",
          sched_getaffinity(0, sizeof(now), &now) == 0 && CPU_EQUAL(&now, &one), 1);
    if (last != first) {
        CPU_ZERO(&one);
        CPU_SET(last, &one);
        CHECK("sched_setaffinity(the last CPU)", sched_setaffinity(0, sizeof(one), &one), 0);
        cpu = 999;
        syscall(SYS_getcpu, &cpu, NULL, NULL);
        CHECK("getcpu after moving to the last CPU", cpu, last);
    }
    CPU_ZERO(&empty);
    CHECK_ERR("sched_setaffinity(empty mask)", sched_setaffinity(0, sizeof(empty), &empty), EINVAL);
    CHECK_ERR("sched_setaffinity(tid 1<<30)", sched_setaffinity(1 << 30, sizeof(orig), &orig),
              ESRCH);
    CHECK_ERR("sched_getaffinity(tid 1<<30)", sched_getaffinity(1 << 30, sizeof(now), &now), ESRCH);
    CHECK("sched_setaffinity(the original mask)", sched_setaffinity(0, sizeof(orig), &orig), 0);
    CHECK("sched_getaffinity reads back the original mask",
          sched_getaffinity(0, sizeof(now), &now) == 0 && CPU_EQUAL(&now, &orig), 1);
    CHECK("sched_yield", sched_yield(), 0);
}

/* ---------------------------------------------------------------- time --- */

static void test_time(void)
{
    struct timespec a, b, res;
    struct timeval tv;

    CHECK("clock_gettime(CLOCK_MONOTONIC)", clock_gettime(CLOCK_MONOTONIC, &a), 0);
    int backwards = 0;
    for (int i = 0; i < 1000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (b.tv_sec < a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec < a.tv_nsec))
            backwards++;
        a = b;
    }
    CHECK("CLOCK_MONOTONIC never goes backwards (1000 reads)", backwards, 0);
    CHECK("clock_gettime(CLOCK_REALTIME)", clock_gettime(CLOCK_REALTIME, &a), 0);
    time_t t = time(NULL);
    CHECK("CLOCK_REALTIME within a second of time()", labs((long)(a.tv_sec - t)) <= 1, 1);
    CHECK("CLOCK_REALTIME is after 2020", a.tv_sec > 1577836800, 1);
    CHECK("CLOCK_REALTIME: tv_nsec < 1e9", a.tv_nsec >= 0 && a.tv_nsec < 1000000000, 1);
    CHECK("gettimeofday", gettimeofday(&tv, NULL), 0);
    CHECK("gettimeofday within a second of CLOCK_REALTIME", labs((long)(tv.tv_sec - a.tv_sec)) <= 1,
          1);
    CHECK("gettimeofday: tv_usec < 1e6", tv.tv_usec >= 0 && tv.tv_usec < 1000000, 1);
    int tz[2] = { -1, -1 };
    CHECK("gettimeofday(NULL, &tz)", syscall(SYS_gettimeofday, NULL, tz), 0);
#ifdef SYS_time
    time_t t2 = 0;
    long r = syscall(SYS_time, &t2);
    CHECK("time(&t) returns what it stores", r == (long)t2 && labs(r - (long)t) <= 1, 1);
    CHECK("time(NULL)", labs(syscall(SYS_time, NULL) - (long)t) <= 1, 1);
#endif

    CHECK("clock_getres(CLOCK_MONOTONIC)", clock_getres(CLOCK_MONOTONIC, &res), 0);
    CHECK("clock_getres(CLOCK_MONOTONIC): 1 ns", res.tv_sec == 0 && res.tv_nsec == 1, 1);
    CHECK("clock_getres(CLOCK_REALTIME, NULL)", clock_getres(CLOCK_REALTIME, NULL), 0);
    CHECK_ERR("clock_gettime(clock 99)", clock_gettime(99, &a), EINVAL);
    CHECK_ERR("clock_getres(clock 99)", clock_getres(99, &res), EINVAL);
    static const struct { clockid_t id; const char *name; } clocks[] = {
        { CLOCK_MONOTONIC_RAW, "clock_gettime(CLOCK_MONOTONIC_RAW)" },
        { CLOCK_MONOTONIC_COARSE, "clock_gettime(CLOCK_MONOTONIC_COARSE)" },
        { CLOCK_REALTIME_COARSE, "clock_gettime(CLOCK_REALTIME_COARSE)" },
        { CLOCK_BOOTTIME, "clock_gettime(CLOCK_BOOTTIME)" },
        { CLOCK_PROCESS_CPUTIME_ID, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)" },
        { CLOCK_THREAD_CPUTIME_ID, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)" },
    };
    for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++)
        CHECK(clocks[i].name, clock_gettime(clocks[i].id, &a), 0);

    long long t0 = now_ns(CLOCK_MONOTONIC);
    a = (struct timespec){ 0, 2000000 };
    CHECK("nanosleep(2 ms)", syscall(SYS_nanosleep, &a, NULL), 0);
    CHECK("nanosleep slept at least 2 ms", now_ns(CLOCK_MONOTONIC) - t0 >= 2000000, 1);
    a = (struct timespec){ 0, 1000000000 };
    CHECK_ERR("nanosleep(tv_nsec 1e9)", syscall(SYS_nanosleep, &a, NULL), EINVAL);
    a = (struct timespec){ 0, -1 };
    CHECK_ERR("nanosleep(tv_nsec -1)", syscall(SYS_nanosleep, &a, NULL), EINVAL);
    a = (struct timespec){ -1, 0 };
    CHECK_ERR("nanosleep(tv_sec -1)", syscall(SYS_nanosleep, &a, NULL), EINVAL);

    long long deadline = now_ns(CLOCK_MONOTONIC) + 10000000;
    a = ns_to_ts(deadline);
    CHECK("clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, now + 10 ms)",
          clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &a, NULL), 0);
    CHECK("clock_nanosleep(TIMER_ABSTIME) woke after the deadline",
          now_ns(CLOCK_MONOTONIC) >= deadline, 1);
    a = ns_to_ts(now_ns(CLOCK_REALTIME) - 1000000000LL);
    t0 = now_ns(CLOCK_MONOTONIC);
    CHECK("clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, a second ago)",
          clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &a, NULL), 0);
    CHECK("clock_nanosleep(a deadline in the past) returns at once",
          now_ns(CLOCK_MONOTONIC) - t0 < 500000000, 1);
    a = (struct timespec){ 0, 2000000 };
    t0 = now_ns(CLOCK_MONOTONIC);
    CHECK("clock_nanosleep(CLOCK_MONOTONIC, 0, 2 ms)",
          clock_nanosleep(CLOCK_MONOTONIC, 0, &a, NULL), 0);
    CHECK("clock_nanosleep(relative) slept at least 2 ms",
          now_ns(CLOCK_MONOTONIC) - t0 >= 2000000, 1);
    a = (struct timespec){ 0, 1000000000 };
    CHECK("clock_nanosleep(tv_nsec 1e9) returns EINVAL",
          clock_nanosleep(CLOCK_MONOTONIC, 0, &a, NULL), EINVAL);
    a = (struct timespec){ 0, 1000 };
    /* Linux has no nsleep for the thread CPU clock (C libraries say
     * EINVAL before asking). */
    CHECK_ERR("clock_nanosleep(CLOCK_THREAD_CPUTIME_ID)",
              syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &a, NULL), EOPNOTSUPP);
    CHECK_ERR("clock_nanosleep(clock 99)", syscall(SYS_clock_nanosleep, 99, 0, &a, NULL), EINVAL);
}

/* -------------------------------------------------------------- signals --- */

static void handler(int sig)
{
    (void)sig;
}

/* The kernel's struct sigaction (x86_64). */
struct ksigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

static char altstack[65536];

static void test_signals(void)
{
    struct sigaction sa, old;
    struct ksigaction ksa;
    sigset_t set, cur, saved;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sa.sa_flags = SA_RESTART;
    CHECK("rt_sigaction(SIGUSR1, handler)", sigaction(SIGUSR1, &sa, NULL), 0);
    memset(&old, 0, sizeof(old));
    CHECK("rt_sigaction(SIGUSR1, NULL, &old)", sigaction(SIGUSR1, NULL, &old), 0);
    CHECK("rt_sigaction reads back the handler", old.sa_handler == handler, 1);
    CHECK("rt_sigaction reads back SA_RESTART", !!(old.sa_flags & SA_RESTART), 1);
    CHECK("rt_sigaction reads back the mask", sigismember(&old.sa_mask, SIGUSR2), 1);
    CHECK("rt_sigaction (raw) reads back the handler",
          syscall(SYS_rt_sigaction, SIGUSR1, NULL, &ksa, 8) == 0 && ksa.handler == handler &&
          (ksa.mask & (1ULL << (SIGUSR2 - 1))), 1);
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = 0;
    CHECK("rt_sigaction(SIGUSR1, SIG_DFL, &old)", sigaction(SIGUSR1, &sa, &old), 0);
    CHECK("rt_sigaction: old is the handler", old.sa_handler == handler, 1);
    CHECK_ERR("rt_sigaction(sigsetsize 4)", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &ksa, 4),
              EINVAL);
    sa.sa_handler = handler;
    CHECK_ERR("rt_sigaction(SIGKILL, handler)", sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_ERR("rt_sigaction(SIGSTOP, handler)", sigaction(SIGSTOP, &sa, NULL), EINVAL);
    CHECK("rt_sigaction(SIGKILL, NULL, &old) may read",
          syscall(SYS_rt_sigaction, SIGKILL, NULL, &ksa, 8), 0);
    CHECK_ERR("rt_sigaction(signal 0)", syscall(SYS_rt_sigaction, 0, NULL, &ksa, 8), EINVAL);
    CHECK_ERR("rt_sigaction(signal 65)", syscall(SYS_rt_sigaction, 65, NULL, &ksa, 8), EINVAL);

    /* Signals whose action is to be ignored: sent, and nothing happens. */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGUSR2, &sa, NULL);
    CHECK("kill(getpid(), SIGUSR2) with SIG_IGN", kill(getpid(), SIGUSR2), 0);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGUSR2, &sa, NULL);
    CHECK("kill(getpid(), SIGCHLD): ignored by default", kill(getpid(), SIGCHLD), 0);
    CHECK("kill(getpid(), SIGWINCH): ignored by default", kill(getpid(), SIGWINCH), 0);
    CHECK("kill(getpid(), 0)", kill(getpid(), 0), 0);
    CHECK_ERR("kill(1<<30, 0)", kill(1 << 30, 0), ESRCH);
    CHECK_ERR("kill(getpid(), 65)", kill(getpid(), 65), EINVAL);
    long tid = syscall(SYS_gettid);
    CHECK("tgkill(getpid(), gettid(), 0)", syscall(SYS_tgkill, getpid(), tid, 0), 0);
    CHECK_ERR("tgkill(getpid(), 1<<30, 0)", syscall(SYS_tgkill, getpid(), 1 << 30, 0), ESRCH);
    CHECK_ERR("tgkill(getpid(), -1, 0)", syscall(SYS_tgkill, getpid(), -1, 0), EINVAL);
    CHECK_ERR("tgkill(0, gettid(), 0)", syscall(SYS_tgkill, 0, tid, 0), EINVAL);
    CHECK("tkill(gettid(), 0)", syscall(SYS_tkill, tid, 0), 0);
    CHECK_ERR("tkill(1<<30, 0)", syscall(SYS_tkill, 1 << 30, 0), ESRCH);

    /* Masks. */
    sigprocmask(SIG_SETMASK, NULL, &saved);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK("rt_sigprocmask(SIG_BLOCK, {SIGUSR1})", sigprocmask(SIG_BLOCK, &set, NULL), 0);
    sigprocmask(SIG_SETMASK, NULL, &cur);
    CHECK("rt_sigprocmask reads back SIGUSR1 blocked", sigismember(&cur, SIGUSR1), 1);
    CHECK("rt_sigprocmask(SIG_UNBLOCK, {SIGUSR1})", sigprocmask(SIG_UNBLOCK, &set, NULL), 0);
    sigprocmask(SIG_SETMASK, NULL, &cur);
    CHECK("rt_sigprocmask reads back SIGUSR1 unblocked", sigismember(&cur, SIGUSR1), 0);
    uint64_t k = (1ULL << (SIGUSR2 - 1)) | (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)),
             kold = 0;
    CHECK("rt_sigprocmask(SIG_SETMASK, {SIGUSR2, SIGKILL, SIGSTOP})",
          syscall(SYS_rt_sigprocmask, SIG_SETMASK, &k, NULL, 8), 0);
    CHECK("rt_sigprocmask: SIGUSR2 blocked, SIGKILL and SIGSTOP not",
          syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &kold, 8) == 0 &&
          kold == (1ULL << (SIGUSR2 - 1)), 1);
    CHECK_ERR("rt_sigprocmask(how 99)", syscall(SYS_rt_sigprocmask, 99, &k, NULL, 8), EINVAL);
    CHECK_ERR("rt_sigprocmask(sigsetsize 4)",
              syscall(SYS_rt_sigprocmask, SIG_BLOCK, &k, NULL, 4), EINVAL);
    CHECK("rt_sigprocmask(SIG_SETMASK, saved)", sigprocmask(SIG_SETMASK, &saved, NULL), 0);

    /* The alternate stack. */
    stack_t ss, os;
    memset(&os, 0, sizeof(os));
    CHECK("sigaltstack(NULL, &old)", syscall(SYS_sigaltstack, NULL, &os), 0);
    CHECK("sigaltstack: none at first (SS_DISABLE)", os.ss_flags, SS_DISABLE);
    ss = (stack_t){ .ss_sp = altstack, .ss_size = 1024, .ss_flags = 0 };
    CHECK_ERR("sigaltstack(size 1024 < MINSIGSTKSZ)", syscall(SYS_sigaltstack, &ss, NULL), ENOMEM);
    ss.ss_size = sizeof(altstack);
    CHECK("sigaltstack(64 KiB)", syscall(SYS_sigaltstack, &ss, NULL), 0);
    memset(&os, 0, sizeof(os));
    syscall(SYS_sigaltstack, NULL, &os);
    CHECK("sigaltstack reads back sp, size, flags 0",
          os.ss_sp == altstack && os.ss_size == sizeof(altstack) && os.ss_flags == 0, 1);
    ss.ss_flags = SS_ONSTACK;
    CHECK("sigaltstack(SS_ONSTACK) is accepted as 0", syscall(SYS_sigaltstack, &ss, NULL), 0);
    ss.ss_flags = (int)SS_AUTODISARM;
    CHECK("sigaltstack(SS_AUTODISARM)", syscall(SYS_sigaltstack, &ss, NULL), 0);
    memset(&os, 0, sizeof(os));
    syscall(SYS_sigaltstack, NULL, &os);
    CHECK("sigaltstack reads back SS_AUTODISARM", (unsigned)os.ss_flags, SS_AUTODISARM);
    ss.ss_flags = 0x10;
    CHECK_ERR("sigaltstack(flags 0x10)", syscall(SYS_sigaltstack, &ss, NULL), EINVAL);
    ss.ss_flags = SS_DISABLE;
    ss.ss_size = 0;
    CHECK("sigaltstack(SS_DISABLE)", syscall(SYS_sigaltstack, &ss, &os), 0);
    CHECK("sigaltstack(SS_DISABLE): old is the 64 KiB stack",
          os.ss_sp == altstack && os.ss_size == sizeof(altstack), 1);
    memset(&os, 0, sizeof(os));
    syscall(SYS_sigaltstack, NULL, &os);
    CHECK("sigaltstack reads back SS_DISABLE", os.ss_flags, SS_DISABLE);
}

/* --------------------------------------------------------- memory: brk --- */

static void test_brk(void)
{
    /* No libc calls between growing and shrinking: musl's malloc may use
     * brk too. The results are reported afterwards. */
    long cur = syscall(SYS_brk, 0);
    long want = cur + 65536 + 100;
    long grown = syscall(SYS_brk, want);
    int written = 0;
    if (grown == want) {
        memset((char *)cur, 0x5a, 65636);
        written = ((volatile char *)cur)[65635] == 0x5a;
    }
    long shrunk = syscall(SYS_brk, cur);
    long low = syscall(SYS_brk, 1);
    long page = (cur + 4095) & ~4095L;
    long regrown = syscall(SYS_brk, page + 8192);
    int zero = regrown == page + 8192 && ((volatile char *)page)[100] == 0;
    long back = syscall(SYS_brk, cur);

    CHECK_IF("brk(0) returns the break", cur, cur > 0, "> 0");
    CHECK("brk(break + 64 KiB + 100) grows", grown, want);
    CHECK("the new memory is writable", written, 1);
    CHECK("brk(the old break) shrinks", shrunk, cur);
    CHECK("brk(1) below the start fails: the break unchanged", low, cur);
    CHECK("brk grows again", regrown, page + 8192);
    CHECK("memory given back and taken again is zero", zero, 1);
    CHECK("brk shrinks again", back, cur);
}

/* ------------------------------------------------- memory: mmap and co. --- */

static void test_mmap(void)
{
    const long pg = 4096;
    const int anon = MAP_PRIVATE | MAP_ANONYMOUS;
    const int rw = PROT_READ | PROT_WRITE;

    CHECK_ERR("mmap(length 0)", mmap(NULL, 0, rw, anon, -1, 0), EINVAL);
    CHECK_ERR("mmap(neither MAP_SHARED nor MAP_PRIVATE)",
              mmap(NULL, pg, rw, MAP_ANONYMOUS, -1, 0), EINVAL);
    CHECK_ERR("mmap(file, fd -1)", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);

    char *p = mmap(NULL, 3 * pg, rw, anon, -1, 0);
    CHECK_IF("mmap(3 pages, anonymous)", p, p != MAP_FAILED, "an address");
    if (p == MAP_FAILED)
        return;
    CHECK("mmap: anonymous memory is zero", p[0] == 0 && p[3 * pg - 1] == 0, 1);
    CHECK("munmap(third page)", munmap(p + 2 * pg, pg), 0);
    CHECK("munmap(an unmapped range) is fine", munmap(p + 2 * pg, pg), 0);
    CHECK_ERR("mmap(MAP_FIXED_NOREPLACE) over a mapping",
              mmap(p, pg, rw, anon | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
    CHECK("mmap(MAP_FIXED_NOREPLACE) on a free page",
          (long)mmap(p + 2 * pg, pg, rw, anon | MAP_FIXED_NOREPLACE, -1, 0), (long)(p + 2 * pg));
    p[0] = 1;
    CHECK("mmap(MAP_FIXED) over a mapping", (long)mmap(p, pg, rw, anon | MAP_FIXED, -1, 0), (long)p);
    CHECK("mmap(MAP_FIXED): the new page is zero", p[0], 0);
    CHECK_ERR("mmap(MAP_FIXED, address not page aligned)",
              mmap(p + 1, pg, rw, anon | MAP_FIXED, -1, 0), EINVAL);
    CHECK_ERR("munmap(address not page aligned)", munmap(p + 1, pg), EINVAL);
    CHECK_ERR("munmap(length 0)", munmap(p, 0), EINVAL);

    /* mprotect */
    CHECK("mprotect(PROT_READ)", mprotect(p, pg, PROT_READ), 0);
    CHECK("mprotect(PROT_READ|PROT_WRITE)", mprotect(p, pg, rw), 0);
    p[1] = 2;
    CHECK_ERR("mprotect(address not page aligned)", syscall(SYS_mprotect, p + 1, pg, PROT_READ),
              EINVAL);
    CHECK_ERR("mprotect(prot 0x100)", mprotect(p, pg, 0x100), EINVAL);
    munmap(p + 2 * pg, pg);
    CHECK_ERR("mprotect(an unmapped page)", mprotect(p + 2 * pg, pg, PROT_READ), ENOMEM);
    CHECK_ERR("mprotect(a range ending in an unmapped page)", mprotect(p, 3 * pg, PROT_READ),
              ENOMEM);
    mprotect(p, 2 * pg, rw);            /* Linux may have changed the mapped part */

    /* madvise */
    memset(p, 0xaa, 2 * pg);
    CHECK("madvise(MADV_DONTNEED)", madvise(p, pg, MADV_DONTNEED), 0);
    CHECK("MADV_DONTNEED: anonymous memory reads zero", p[0] == 0 && p[pg - 1] == 0, 1);
    CHECK("MADV_DONTNEED: the page after is kept", (unsigned char)p[pg], 0xaa);
    CHECK("madvise(MADV_WILLNEED)", madvise(p, pg, MADV_WILLNEED), 0);
    CHECK_ERR("madvise(address not page aligned)", madvise(p + 1, pg, MADV_DONTNEED), EINVAL);
    CHECK_ERR("madvise(advice 999)", madvise(p, pg, 999), EINVAL);
    munmap(p, 2 * pg);

    /* Files: read-only ones. */
    int fd = open_file();
    CHECK_ERR("mmap(MAP_SHARED, PROT_WRITE) of an O_RDONLY file",
              mmap(NULL, pg, rw, MAP_SHARED, fd, 0), EACCES);
    CHECK_ERR("mmap(offset not page aligned)", syscall(SYS_mmap, 0, pg, PROT_READ, MAP_PRIVATE, fd, 100),
              EINVAL);
    char *f = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
    CHECK_IF("mmap(MAP_SHARED, PROT_READ) of a file", f, f != MAP_FAILED, "an address");
    if (f != MAP_FAILED) {
        CHECK("mmap(file): its bytes", memcmp(f, "hello, tern\n", 12), 0);
        CHECK("mmap(file): zero after the end", f[12] == 0 && f[pg - 1] == 0, 1);
        munmap(f, pg);
    }
    f = mmap(NULL, pg, rw, MAP_PRIVATE, fd, 0);
    CHECK_IF("mmap(MAP_PRIVATE, PROT_WRITE) of an O_RDONLY file", f, f != MAP_FAILED, "an address");
    if (f != MAP_FAILED) {
        char c = 0;
        f[0] = 'J';
        pread(fd, &c, 1, 0);
        CHECK("a private mapping's writes stay private", c, 'h');
        CHECK("madvise(MADV_DONTNEED) of a private file page",
              madvise(f, pg, MADV_DONTNEED), 0);
        CHECK("MADV_DONTNEED: the file's byte is back", f[0], 'h');
        munmap(f, pg);
    }
    int dir = open(data, O_RDONLY | O_DIRECTORY);
    CHECK_ERR("mmap(a directory)", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, dir, 0), ENODEV);
    close(dir);
    close(fd);
    int pp[2];
    if (pipe(pp) == 0) {
        CHECK_ERR("mmap(a pipe)", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, pp[0], 0), ENODEV);
        close(pp[0]);
        close(pp[1]);
    }

    /* mremap: in place, then blocked, then moved. */
    char *q = mmap(NULL, 2 * pg, rw, anon, -1, 0);
    if (q == MAP_FAILED) {
        report("mmap(2 pages)", 0, -1, errno, "an address");
        return;
    }
    munmap(q + pg, pg);
    q[0] = 'A';
    CHECK("mremap(1 -> 2 pages) grows in place", (long)mremap(q, pg, 2 * pg, 0), (long)q);
    q[pg] = 'B';
    char *block = mmap(q + 2 * pg, pg, PROT_READ, anon | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK_ERR("mremap(2 -> 4 pages) blocked, without MREMAP_MAYMOVE",
              mremap(q, 2 * pg, 4 * pg, 0), ENOMEM);
    char *m = mremap(q, 2 * pg, 4 * pg, MREMAP_MAYMOVE);
    CHECK_IF("mremap(2 -> 4 pages, MREMAP_MAYMOVE) moves", m, m != MAP_FAILED && m != q,
             "a new address");
    if (m != MAP_FAILED && m != q) {
        CHECK("mremap: the contents moved along", m[0] == 'A' && m[pg] == 'B', 1);
        CHECK("mremap: the new pages are zero", m[2 * pg] == 0 && m[4 * pg - 1] == 0, 1);
        CHECK_ERR("mremap: the old address is unmapped", mprotect(q, pg, PROT_READ), ENOMEM);
        CHECK("mremap(4 -> 1 page) shrinks in place", (long)mremap(m, 4 * pg, pg, 0), (long)m);
        CHECK_ERR("mremap: the cut pages are unmapped", mprotect(m + pg, pg, PROT_READ), ENOMEM);
        CHECK_ERR("mremap(flags 0x100)", mremap(m, pg, 2 * pg, 0x100), EINVAL);
        munmap(m, pg);
    }
    CHECK_ERR("mremap(an unmapped address)", mremap(q, pg, 2 * pg, MREMAP_MAYMOVE), EFAULT);
    if (block != MAP_FAILED)
        munmap(block, pg);
}

/* --------------------------------------------------------------- futex --- */

#define FUTEX_WAIT_ 0
#define FUTEX_WAKE_ 1
#define FUTEX_REQUEUE_ 3
#define FUTEX_CMP_REQUEUE_ 4
#define FUTEX_WAKE_OP_ 5
#define FUTEX_WAIT_BITSET_ 9
#define FUTEX_CLOCK_REALTIME_ 256
#define FUTEX_BITSET_ANY_ 0xffffffffu
#define FUTEX_OP_SET_ 0
#define FUTEX_OP_ADD_ 1
#define FUTEX_OP_OR_ 2
#define FUTEX_OP_CMP_EQ_ 0
#define FUTEX_OP_CMP_GT_ 4
#define FUTEX_OP_(op, oparg, cmp, cmparg)                                      \
    ((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))

static long futex(uint32_t *uaddr, int op, uint32_t val, const void *timeout_or_val2,
                  uint32_t *uaddr2, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
}

#define NWAITERS 4
static uint32_t fw_start, fw_park, fw_a, fw_b;
static int fw_woken;

static void *futex_waiter(void *arg)
{
    (void)arg;
    futex(&fw_start, FUTEX_WAIT_, 0, NULL, NULL, 0);
    __atomic_add_fetch(&fw_woken, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Wait (up to 5 s) until n waiters have woken; then how many have. */
static int woken_after(int n)
{
    for (int i = 0; i < 5000 && __atomic_load_n(&fw_woken, __ATOMIC_SEQ_CST) < n; i++)
        sleep_ms(1);
    sleep_ms(20);                       /* and no more than n */
    return __atomic_load_n(&fw_woken, __ATOMIC_SEQ_CST);
}

static void test_futex(void)
{
    uint32_t w = 1;
    struct timespec ts;

    CHECK_ERR("futex(FUTEX_WAIT, value differs)", futex(&w, FUTEX_WAIT_, 2, NULL, NULL, 0), EAGAIN);
    ts = (struct timespec){ 0, 10000000 };
    long long t0 = now_ns(CLOCK_MONOTONIC);
    CHECK_ERR("futex(FUTEX_WAIT, 10 ms relative timeout)", futex(&w, FUTEX_WAIT_, 1, &ts, NULL, 0),
              ETIMEDOUT);
    CHECK("futex(FUTEX_WAIT) waited at least 10 ms", now_ns(CLOCK_MONOTONIC) - t0 >= 10000000, 1);
    long long deadline = now_ns(CLOCK_MONOTONIC) + 10000000;
    ts = ns_to_ts(deadline);
    CHECK_ERR("futex(FUTEX_WAIT_BITSET, absolute CLOCK_MONOTONIC + 10 ms)",
              futex(&w, FUTEX_WAIT_BITSET_, 1, &ts, NULL, FUTEX_BITSET_ANY_), ETIMEDOUT);
    CHECK("futex(FUTEX_WAIT_BITSET) woke after the deadline",
          now_ns(CLOCK_MONOTONIC) >= deadline, 1);
    ts = ns_to_ts(now_ns(CLOCK_REALTIME) - 1000000000LL);
    CHECK_ERR("futex(FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, a second ago)",
              futex(&w, FUTEX_WAIT_BITSET_ | FUTEX_CLOCK_REALTIME_, 1, &ts, NULL,
                    FUTEX_BITSET_ANY_), ETIMEDOUT);
    CHECK_ERR("futex(FUTEX_WAIT_BITSET, bitset 0)",
              futex(&w, FUTEX_WAIT_BITSET_, 1, NULL, NULL, 0), EINVAL);
    ts = (struct timespec){ 0, 2000000000 };
    CHECK_ERR("futex(FUTEX_WAIT, tv_nsec 2e9)", futex(&w, FUTEX_WAIT_, 1, &ts, NULL, 0), EINVAL);
    CHECK("futex(FUTEX_WAKE) with no waiters", futex(&w, FUTEX_WAKE_, 1, NULL, NULL, 0), 0);
    CHECK_ERR("futex(FUTEX_WAKE, unaligned address)",
              futex((uint32_t *)((char *)&w + 1), FUTEX_WAKE_, 1, NULL, NULL, 0), EINVAL);
    CHECK_ERR("futex(FUTEX_WAKE|FUTEX_CLOCK_REALTIME)",
              futex(&w, FUTEX_WAKE_ | FUTEX_CLOCK_REALTIME_, 1, NULL, NULL, 0), ENOSYS);
    CHECK_ERR("futex(op 99)", futex(&w, 99, 0, NULL, NULL, 0), ENOSYS);
    uint32_t w2 = 5;
    CHECK("futex(FUTEX_WAKE_OP) with no waiters",
          futex(&w, FUTEX_WAKE_OP_, 1, (void *)1, &w2, FUTEX_OP_(FUTEX_OP_ADD_, 3, FUTEX_OP_CMP_EQ_, 5)),
          0);
    CHECK("futex(FUTEX_WAKE_OP): FUTEX_OP_ADD applied", w2, 8);

    /* Real waiters: NWAITERS threads wait on fw_start. Requeueing them all
     * to fw_park (without waking any) tells when all are asleep. */
    pthread_t th[NWAITERS];
    int started = 0;
    for (int i = 0; i < NWAITERS; i++)
        if (pthread_create(&th[i], NULL, futex_waiter, NULL) == 0)
            started++;
    CHECK("pthread_create for the waiters", started, NWAITERS);
    long moved = 0;
    for (int i = 0; i < 10000 && moved < NWAITERS; i++) {
        long n = futex(&fw_start, FUTEX_REQUEUE_, 0, (void *)(long)INT_MAX, &fw_park, 0);
        if (n > 0)
            moved += n;
        else
            sleep_ms(1);
    }
    CHECK("futex(FUTEX_REQUEUE, 0 woken, all moved) took every waiter", moved, NWAITERS);

    CHECK("futex(FUTEX_CMP_REQUEUE, wake 1, move 2)",
          futex(&fw_park, FUTEX_CMP_REQUEUE_, 1, (void *)2, &fw_a, 0), 3);
    CHECK("FUTEX_CMP_REQUEUE woke one waiter", woken_after(1), 1);
    CHECK_ERR("futex(FUTEX_CMP_REQUEUE, value differs)",
              futex(&fw_park, FUTEX_CMP_REQUEUE_, 1, (void *)1, &fw_a, 1), EAGAIN);
    CHECK("futex(FUTEX_REQUEUE, wake 0, move up to 5)",
          futex(&fw_park, FUTEX_REQUEUE_, 0, (void *)5, &fw_b, 0), 1);
    CHECK("futex(FUTEX_WAKE) of the now empty word",
          futex(&fw_park, FUTEX_WAKE_, INT_MAX, NULL, NULL, 0), 0);
    CHECK("FUTEX_REQUEUE woke nobody", woken_after(1), 1);
    /* fw_a has two waiters, fw_b one. */
    fw_b = 0;
    CHECK("futex(FUTEX_WAKE_OP, SET 7, if old == 0): wakes on both words",
          futex(&fw_a, FUTEX_WAKE_OP_, 1, (void *)1, &fw_b,
                FUTEX_OP_(FUTEX_OP_SET_, 7, FUTEX_OP_CMP_EQ_, 0)), 2);
    CHECK("FUTEX_WAKE_OP: the word was set", fw_b, 7);
    CHECK("FUTEX_WAKE_OP woke two", woken_after(3), 3);
    CHECK("futex(FUTEX_WAKE_OP, ADD 1, if old == 0): the comparison fails",
          futex(&fw_a, FUTEX_WAKE_OP_, 1, (void *)1, &fw_b,
                FUTEX_OP_(FUTEX_OP_ADD_, 1, FUTEX_OP_CMP_EQ_, 0)), 1);
    CHECK("FUTEX_WAKE_OP: the word was added to", fw_b, 8);
    CHECK("FUTEX_WAKE_OP woke the last one", woken_after(4), 4);
    CHECK("futex(FUTEX_WAKE_OP, OR 0x10, if old > 0) with no waiters",
          futex(&fw_a, FUTEX_WAKE_OP_, 1, (void *)1, &fw_b,
                FUTEX_OP_(FUTEX_OP_OR_, 0x10, FUTEX_OP_CMP_GT_, 0)), 0);
    CHECK("FUTEX_WAKE_OP: the word was or-ed", fw_b, 0x18);

    if (__atomic_load_n(&fw_woken, __ATOMIC_SEQ_CST) == started) {
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
    } else {
        /* Do not hang on waiters the kernel lost: exit_group ends them. */
        printf("syscalls: futex waiters left asleep; not joining them\n");
    }
}

/* ------------------------------------------ the rest: small and simple --- */

/* Calls no other app makes and no group above needs: ids, locking memory,
 * the other *at forms of the read-only file system's refusals, robust
 * lists, and the old forms of epoll, eventfd, pipe and select. */
static void test_misc(void)
{
#ifdef SYS_getpgrp
    CHECK("getpgrp() is getpgid(0)", syscall(SYS_getpgrp), getpgid(0));
#endif
    CHECK_ERR("getpgid(1<<30)", getpgid(1 << 30), ESRCH);
    CHECK_IF("getsid(0)", getsid(0), r_ > 0, "> 0");
    CHECK_ERR("getsid(1<<30)", getsid(1 << 30), ESRCH);
    CHECK_ERR("setpgid(1<<30, 0)", setpgid(1 << 30, 0), ESRCH);
    if (getpgrp() == getpid())
        CHECK_ERR("setsid() in a process group leader", setsid(), EPERM);
    CHECK_ERR("getgroups(-1)", syscall(SYS_getgroups, -1, NULL), EINVAL);
    CHECK("setuid(0) as root", syscall(SYS_setuid, 0), 0);
    CHECK("setgid(0) as root", syscall(SYS_setgid, 0), 0);

    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        CHECK("mlock", mlock(p, 4096), 0);
        CHECK("munlock", munlock(p, 4096), 0);
        CHECK("msync(MS_SYNC)", msync(p, 4096, MS_SYNC), 0);
        CHECK_ERR("msync(address not page aligned)", msync(p + 1, 4096, MS_SYNC), EINVAL);
        CHECK_ERR("msync(MS_SYNC|MS_ASYNC)", msync(p, 4096, MS_SYNC | MS_ASYNC), EINVAL);
        munmap(p, 4096);
    }
    CHECK("mlockall(MCL_CURRENT)", mlockall(MCL_CURRENT), 0);
    CHECK("munlockall", munlockall(), 0);
    CHECK_ERR("mlockall(0)", mlockall(0), EINVAL);
    CHECK_ERR("mlockall(MCL_ONFAULT alone)", mlockall(4), EINVAL);

#ifdef SYS_creat
    CHECK_ERR("creat(missing)", syscall(SYS_creat, dpath("missing"), 0644), EROFS);
    CHECK_ERR("creat(file)", syscall(SYS_creat, dpath("file"), 0644), EROFS);
#else
    CHECK_ERR("openat(missing, O_CREAT|O_WRONLY|O_TRUNC)",
              syscall(SYS_openat, AT_FDCWD, dpath("missing"), O_CREAT | O_WRONLY | O_TRUNC, 0644),
              EROFS);
#endif
    CHECK_ERR("fchmodat(AT_FDCWD, file)", syscall(SYS_fchmodat, AT_FDCWD, dpath("file"), 0600),
              EROFS);
    CHECK_ERR("fchownat(AT_FDCWD, file)",
              syscall(SYS_fchownat, AT_FDCWD, dpath("file"), 0, 0, 0), EROFS);
#ifdef SYS_lchown
    CHECK_ERR("lchown(link)", syscall(SYS_lchown, dpath("link"), 0, 0), EROFS);
#else
    CHECK_ERR("fchownat(link, AT_SYMLINK_NOFOLLOW)",
              syscall(SYS_fchownat, AT_FDCWD, dpath("link"), 0, 0, AT_SYMLINK_NOFOLLOW), EROFS);
#endif
    CHECK_ERR("linkat(file, new)",
              syscall(SYS_linkat, AT_FDCWD, dpath("file"), AT_FDCWD, dpath("new"), 0), EROFS);
    CHECK_ERR("renameat(file, new)",
              syscall(SYS_renameat, AT_FDCWD, dpath("file"), AT_FDCWD, dpath("new")), EROFS);
    CHECK_ERR("symlinkat(file, new)", syscall(SYS_symlinkat, "file", AT_FDCWD, dpath("new")),
              EROFS);
    CHECK_ERR("symlinkat(file, dangling) says EEXIST first",
              syscall(SYS_symlinkat, "file", AT_FDCWD, dpath("dangling")), EEXIST);
    CHECK_ERR("symlink(file, link) says EEXIST first", symlink("file", dpath("link")), EEXIST);
    CHECK_ERR("mknodat(new fifo)", syscall(SYS_mknodat, AT_FDCWD, dpath("fifo"), S_IFIFO | 0600, 0),
              EROFS);
    CHECK_ERR("mknod(file) says EEXIST first", mknod(dpath("file"), S_IFIFO | 0600, 0), EEXIST);
#ifdef SYS_utime
    CHECK_ERR("utime(file, now)", syscall(SYS_utime, dpath("file"), NULL), EROFS);
    CHECK_ERR("utimes(file, now)", syscall(SYS_utimes, dpath("file"), NULL), EROFS);
#else
    CHECK_ERR("utimensat(file, now)", syscall(SYS_utimensat, AT_FDCWD, dpath("file"), NULL, 0),
              EROFS);
#endif

    void *head = (void *)1;
    size_t len = 0;
    CHECK("get_robust_list(0)", syscall(SYS_get_robust_list, 0, &head, &len), 0);
    CHECK("get_robust_list: the length is sizeof(struct robust_list_head)", (long)len, 24);
    static struct { void *next; long offset; void *pending; } rhead = { &rhead, 0, NULL };
    void *saved = head;
    CHECK("set_robust_list(&head, 24)", syscall(SYS_set_robust_list, &rhead, 24), 0);
    CHECK("get_robust_list reads it back",
          syscall(SYS_get_robust_list, 0, &head, &len) == 0 && head == (void *)&rhead, 1);
    CHECK_ERR("set_robust_list(len 23)", syscall(SYS_set_robust_list, &rhead, 23), EINVAL);
    CHECK_ERR("get_robust_list(1<<30)", syscall(SYS_get_robust_list, 1 << 30, &head, &len), ESRCH);
    syscall(SYS_set_robust_list, saved, 24);

#ifdef SYS_epoll_create
    CHECK_ERR("epoll_create(0)", syscall(SYS_epoll_create, 0), EINVAL);
    long ep = syscall(SYS_epoll_create, 1);
    CHECK_IF("epoll_create(1)", ep, r_ >= 0, "a descriptor");
#else
    long ep = syscall(SYS_epoll_create1, 0);
    CHECK_IF("epoll_create1(0)", ep, r_ >= 0, "a descriptor");
#endif
    struct timespec zero = { 0, 0 };
    char events[64];
#ifdef SYS_epoll_wait
    CHECK("epoll_wait(nothing, timeout 0)", syscall(SYS_epoll_wait, ep, events, 4, 0), 0);
    CHECK_ERR("epoll_wait(maxevents 0)", syscall(SYS_epoll_wait, ep, events, 0, 0), EINVAL);
#else
    CHECK("epoll_pwait(nothing, timeout 0)",
          syscall(SYS_epoll_pwait, ep, events, 4, 0, NULL, 8), 0);
    CHECK_ERR("epoll_pwait(maxevents 0)", syscall(SYS_epoll_pwait, ep, events, 0, 0, NULL, 8),
              EINVAL);
#endif
    CHECK("epoll_pwait2(nothing, timeout {0, 0})",
          syscall(SYS_epoll_pwait2, ep, events, 4, &zero, NULL, 8), 0);
    /* Files without an inode stat as Linux's anonymous inode: mode 0600,
     * no file type bits. */
    struct stat anon;
    CHECK("fstat(epoll): an anonymous inode, 0600",
          fstat((int)ep, &anon) == 0 && anon.st_mode == 0600, 1);
    close((int)ep);
    long tfd = syscall(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
    CHECK_IF("timerfd_create(CLOCK_MONOTONIC)", tfd, r_ >= 0, "a descriptor");
    CHECK("fstat(timerfd): an anonymous inode, 0600",
          fstat((int)tfd, &anon) == 0 && anon.st_mode == 0600, 1);
    close((int)tfd);
#ifdef SYS_eventfd
    long efd = syscall(SYS_eventfd, 3);
#else
    long efd = syscall(SYS_eventfd2, 3, 0);
#endif
    uint64_t v = 0;
    CHECK_IF("eventfd(3)", efd, r_ >= 0, "a descriptor");
    CHECK("read(eventfd) gives 8 bytes", read((int)efd, &v, sizeof(v)), 8);
    CHECK("read(eventfd): the count", (long)v, 3);
    CHECK("fstat(eventfd): an anonymous inode, 0600",
          fstat((int)efd, &anon) == 0 && anon.st_mode == 0600, 1);
    close((int)efd);
    int pfd[2];
    CHECK("pipe2(O_CLOEXEC)", pipe2(pfd, O_CLOEXEC), 0);
    CHECK("pipe2(O_CLOEXEC): FD_CLOEXEC on both ends",
          fcntl(pfd[0], F_GETFD) == FD_CLOEXEC && fcntl(pfd[1], F_GETFD) == FD_CLOEXEC, 1);
    CHECK("pselect6(nothing, timeout 0)", syscall(SYS_pselect6, 0, NULL, NULL, NULL, &zero, NULL),
          0);
    close(pfd[0]);
    close(pfd[1]);
    CHECK_ERR("pipe2(flags 0x1)", pipe2(pfd, 0x1), EINVAL);
}

/* ------------------------------------------------------ unknown numbers --- */

static void test_unknown(void)
{
    CHECK_ERR("syscall(400): not a Linux system call", syscall(400), ENOSYS);
    CHECK_ERR("syscall(400) again (logged once)", syscall(400), ENOSYS);
    CHECK_ERR("syscall(0x7e56): next to Tern's own", syscall(0x7e56), ENOSYS);
    CHECK_ERR("syscall(100000)", syscall(100000), ENOSYS);
    CHECK_ERR("syscall(-1)", syscall(-1), ENOSYS);
}

/* ---------------------------------------------------------------- proc --- */
/* The generated files Linux programs read facts from: their first line's
 * beginning is what both Linux and Tern write. */

static void check_file_starts(const char *name, const char *path, const char *prefix)
{
    char buf[256] = "";
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n > 0)
        buf[n] = 0;
    nchecks++;
    if (n > 0 && !strncmp(buf, prefix, strlen(prefix))) {
        printf("ok %s\n", name);
        return;
    }
    nfailed++;
    printf("FAIL %s: %s starts \"%.40s\", want \"%s\"\n", name, path, n > 0 ? buf : "", prefix);
}

static void test_proc(void)
{
    check_file_starts("proc meminfo", "/proc/meminfo", "MemTotal:");
    check_file_starts("proc snmp", "/proc/net/snmp", "Ip: Forwarding");
    check_file_starts("proc net/dev", "/proc/net/dev", "Inter-|");
    check_file_starts("sys cpu online", "/sys/devices/system/cpu/online", "0");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK_IF("sysconf nprocessors", cpus, r_ >= 1, ">= 1");
}

/* ---------------------------------------------------------------- main --- */

static const struct {
    const char *name;
    void (*run)(void);
} groups[] = {
    { "dup", test_dup },
    { "fcntl", test_fcntl },
    { "ioctl", test_ioctl },
    { "lseek", test_lseek },
    { "rw", test_rw },
    { "getdents", test_getdents },
    { "stat", test_stat },
    { "readlink", test_readlink },
    { "access", test_access },
    { "open", test_open },
    { "cwd", test_cwd },
    { "devices", test_devices },
    { "identity", test_identity },
    { "rlimit", test_rlimit },
    { "sysinfo", test_sysinfo },
    { "cpu", test_cpu },
    { "time", test_time },
    { "signals", test_signals },
    { "brk", test_brk },
    { "mmap", test_mmap },
    { "misc", test_misc },
    { "futex", test_futex },
    { "unknown", test_unknown },
    { "proc", test_proc },
};

int main(int argc, char **argv)
{
    if (argc > 1)
        data = argv[1];
    size_t n = sizeof(groups) / sizeof(groups[0]);
    for (int a = 2; a < argc; a++) {
        size_t i;
        for (i = 0; i < n && strcmp(argv[a], groups[i].name); i++)
            ;
        if (i == n) {
            printf("syscalls: no group \"%s\"; the groups:", argv[a]);
            for (i = 0; i < n; i++)
                printf(" %s", groups[i].name);
            printf("\n");
            return 2;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int wanted = argc <= 2;
        for (int a = 2; a < argc; a++)
            wanted |= !strcmp(argv[a], groups[i].name);
        if (!wanted)
            continue;
        printf("-- %s\n", groups[i].name);
        groups[i].run();
        chdir("/");
    }
    printf("syscalls: %d checks, %d failed\n", nchecks, nfailed);
    return nfailed ? 1 : 0;
}
