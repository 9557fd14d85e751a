/*
 * fileread: checksums of files, read every way a program commonly reads.
 *
 *   fileread PATH...
 *
 * For each regular file prints "<sha256-hex>  <path>", the format of
 * sha256sum, so a test can compare the lines with the host's sha256sum of
 * the same files. A directory is walked recursively (opendir/readdir,
 * entries sorted by name, lstat on each); a symbolic link is printed as
 * "symlink  <path> -> <target>" and not followed.
 *
 * Each file is read with read() in odd-sized chunks (so reads straddle
 * page and block boundaries), and checked against the other ways to get
 * at the same bytes: fstat's size, lseek(SEEK_CUR) after the reads and
 * lseek(SEEK_END), pread() at a few offsets (compared with what read()
 * returned there), read() at end of file and pread() past it returning 0,
 * and lseek(SEEK_SET) back to the start. Any error prints the errno message
 * and makes the exit status 1 (the other paths are still done).
 *
 * The SHA-256 is the kernel's own (kernel/lib/sha256.c, compiled into this
 * program), so the tree has one implementation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kern/sha256.h>

/* Read sizes, used in turn: odd, prime or a page plus one, never aligned. */
static const size_t chunk_sizes[] = { 1, 7, 4093, 4097, 65537, 13, 131071, 511 };
#define BIG_CHUNK 131071

/* pread() is checked at these places; each window remembers the bytes
 * read() saw there. */
#define NWIN 5
#define WIN_LEN 37
struct window {
    off_t off;
    size_t len;
    unsigned char data[WIN_LEN];
};

static int status;

static void fail(const char *path, const char *what)
{
    fprintf(stderr, "fileread: %s: %s: %s\n", path, what, strerror(errno));
    status = 1;
}

static void fail_check(const char *path, const char *what)
{
    fprintf(stderr, "fileread: %s: %s\n", path, what);
    status = 1;
}

static void print_hex(const unsigned char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", d[i]);
}

static void hash_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fail(path, "open");
        return;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        fail(path, "fstat");
        close(fd);
        return;
    }
    off_t size = st.st_size;

    /* The windows: start, a third in, the middle plus one, near the end,
     * the last byte; clipped to the file. */
    struct window win[NWIN];
    off_t offs[NWIN] = { 0, size / 3, size / 2 + 1, size - 100, size - 1 };
    for (int i = 0; i < NWIN; i++) {
        win[i].off = offs[i] < 0 ? 0 : offs[i] > size ? size : offs[i];
        win[i].len = (size_t)(size - win[i].off < WIN_LEN ? size - win[i].off : WIN_LEN);
    }

    static unsigned char buf[BIG_CHUNK];
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    off_t pos = 0;
    for (size_t k = 0;; k++) {
        size_t want = chunk_sizes[k % (sizeof(chunk_sizes) / sizeof(chunk_sizes[0]))];
        ssize_t n = read(fd, buf, want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail(path, "read");
            close(fd);
            return;
        }
        if (n == 0)
            break;
        sha256_update(&ctx, buf, (size_t)n);
        /* Remember the bytes that fall into each window. */
        for (int i = 0; i < NWIN; i++) {
            off_t lo = win[i].off > pos ? win[i].off : pos;
            off_t hi = win[i].off + (off_t)win[i].len;
            if (hi > pos + n)
                hi = pos + n;
            if (lo < hi)
                memcpy(win[i].data + (lo - win[i].off), buf + (lo - pos), (size_t)(hi - lo));
        }
        pos += n;
    }

    /* The read pass must agree with fstat and with the file offset. */
    if (pos != size)
        fail_check(path, "read() returned a different number of bytes than fstat's size");
    if (lseek(fd, 0, SEEK_CUR) != pos)
        fail_check(path, "lseek(SEEK_CUR) after reading is not the number of bytes read");
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0)
        fail(path, "lseek(SEEK_END)");
    else if (end != size)
        fail_check(path, "lseek(SEEK_END) is not fstat's size");
    if (read(fd, buf, 1) != 0)
        fail_check(path, "read() at end of file did not return 0");

    /* pread at each window: the same bytes, and the offset untouched. */
    for (int i = 0; i < NWIN; i++) {
        unsigned char got[WIN_LEN];
        ssize_t n = pread(fd, got, WIN_LEN, win[i].off);
        if (n < 0) {
            fail(path, "pread");
            break;
        }
        if ((size_t)n != win[i].len || memcmp(got, win[i].data, win[i].len) != 0) {
            fprintf(stderr, "fileread: %s: pread at offset %lld differs from read()\n",
                    path, (long long)win[i].off);
            status = 1;
        }
    }
    if (pread(fd, buf, 16, size + 4096) != 0)
        fail_check(path, "pread() past the end did not return 0");
    if (lseek(fd, 0, SEEK_CUR) != size)
        fail_check(path, "pread() moved the file offset");

    /* Back to the start: read() sees the first window again. */
    if (lseek(fd, 0, SEEK_SET) != 0) {
        fail(path, "lseek(SEEK_SET)");
    } else if (win[0].len > 0) {
        ssize_t n = read(fd, buf, win[0].len);
        if (n != (ssize_t)win[0].len || memcmp(buf, win[0].data, win[0].len) != 0)
            fail_check(path, "read() after lseek(0, SEEK_SET) differs from the first read");
    }
    close(fd);

    unsigned char digest[SHA256_DIGEST_SIZE];
    sha256_final(&ctx, digest);
    print_hex(digest, sizeof(digest));
    printf("  %s\n", path);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void visit(const char *path);

static void walk_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        fail(path, "opendir");
        return;
    }
    /* Collect and sort, so the output does not depend on directory order. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof(*names));
            if (!nn) {
                fail(path, "realloc");
                break;
            }
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (!names[n]) {
            fail(path, "strdup");
            break;
        }
        n++;
        errno = 0;
    }
    if (errno)
        fail(path, "readdir");
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(path) + 1 + strlen(names[i]) + 1;
        char *child = malloc(len);
        if (!child) {
            fail(path, "malloc");
            break;
        }
        /* "/" plus "x" is "/x", not "//x". */
        snprintf(child, len, "%s%s%s", path,
                 path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
        visit(child);
        free(child);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void visit(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        fail(path, "lstat");
        return;
    }
    if (S_ISREG(st.st_mode)) {
        hash_file(path);
    } else if (S_ISDIR(st.st_mode)) {
        walk_dir(path);
    } else if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        if (n < 0) {
            fail(path, "readlink");
            return;
        }
        target[n] = 0;
        /* lstat's size of a link is the length of its target. */
        if (st.st_size != n)
            fail_check(path, "lstat's size is not the length of readlink's target");
        printf("symlink  %s -> %s\n", path, target);
    } else {
        printf("other  %s\n", path);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fileread PATH...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++)
        visit(argv[i]);
    return status;
}
