/*
 * mmapfile: memory mappings, of a file and anonymous.
 *
 *   mmapfile FILE
 *
 * 1. Maps FILE (MAP_PRIVATE, PROT_READ), computes its SHA-256 from the
 *    mapping and compares it with a plain read() pass over the same file.
 *    The last page is only partly file: the rest must read as zeros.
 * 2. Anonymous memory: a buffer that grows with mremap(MREMAP_MAYMOVE)
 *    from one page to 1 MiB, keeping its contents each time; mprotect to
 *    read-only and back; munmap of a page in the middle of a mapping (the
 *    pieces on both sides stay); MAP_FIXED over part of a mapping (the
 *    replaced pages read as zeros, the others keep their contents).
 *
 * Prints "mmapfile: ok <sha256>" when everything held; otherwise names the
 * failed check and exits 1.
 *
 * The SHA-256 is the kernel's own (kernel/lib/sha256.c, compiled in).
 */
#define _GNU_SOURCE             /* mremap */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kern/sha256.h>

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("mmapfile: FAIL: %s\n", what);
        failures++;
    }
}

static void die_errno(const char *what)
{
    printf("mmapfile: FAIL: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* A byte pattern that differs per page and per offset, so a page moved or
 * copied to the wrong place is noticed. */
static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 131 + i / 4096 * 7 + 1);
}

static int has_pattern(const unsigned char *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != pattern(i))
            return 0;
    return 1;
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* ------------------------------------------------------------ the file --- */

static void file_digests(const char *path, unsigned char map_digest[32],
                         unsigned char read_digest[32])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die_errno(path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        die_errno("fstat");
    size_t size = (size_t)st.st_size;
    long page = sysconf(_SC_PAGESIZE);

    /* An empty file cannot be mapped (EINVAL); its digest is the empty one. */
    if (size == 0) {
        sha256("", 0, map_digest);
    } else {
        unsigned char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED)
            die_errno("mmap of the file");
        sha256(m, size, map_digest);
        /* Past the end of file, up to the end of its page: zeros. */
        size_t tail = size % (size_t)page ? (size_t)page - size % (size_t)page : 0;
        check(all_zero(m + size, tail), "the mapping's last page is not zero past end of file");
        /* A second mapping at an offset: the same bytes as the first. */
        if (size > (size_t)page) {
            unsigned char *m2 = mmap(NULL, size - (size_t)page, PROT_READ, MAP_PRIVATE, fd, page);
            if (m2 == MAP_FAILED)
                die_errno("mmap of the file at an offset");
            check(memcmp(m2, m + page, size - (size_t)page) == 0,
                  "a mapping at offset one page differs from the whole-file mapping");
            munmap(m2, size - (size_t)page);
        }
        if (munmap(m, size) < 0)
            die_errno("munmap of the file");
    }

    /* The same file through read(); the mapping must not have moved the
     * file offset. */
    struct sha256_ctx ctx;
    static unsigned char buf[65536];
    ssize_t n;
    sha256_init(&ctx);
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die_errno("read");
        }
        sha256_update(&ctx, buf, (size_t)n);
    }
    sha256_final(&ctx, read_digest);
    close(fd);
}

/* ----------------------------------------------------------- anonymous --- */

static void anonymous(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    /* A buffer growing by doubling with mremap; the contents move along. */
    size_t len = page;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die_errno("mmap anonymous");
    check(all_zero(p, len), "a new anonymous mapping is not zero");
    for (size_t i = 0; i < len; i++)
        p[i] = pattern(i);
    while (len < 1024 * 1024) {
        size_t nlen = len * 2;
        unsigned char *q = mremap(p, len, nlen, MREMAP_MAYMOVE);
        if (q == MAP_FAILED)
            die_errno("mremap (grow)");
        check(has_pattern(q, 0, len), "mremap lost the contents when growing");
        check(all_zero(q + len, nlen - len), "the part mremap added is not zero");
        for (size_t i = len; i < nlen; i++)
            q[i] = pattern(i);
        p = q;
        len = nlen;
    }
    /* Shrink in place. */
    unsigned char *q = mremap(p, len, len / 2, 0);
    if (q == MAP_FAILED)
        die_errno("mremap (shrink)");
    check(q == p, "mremap shrinking in place moved the mapping");
    len /= 2;
    check(has_pattern(p, 0, len), "mremap lost the contents when shrinking");

    /* Read-only and back; the data stays. (Writing while read-only would
     * fault; the segv app covers faults.) */
    if (mprotect(p, len, PROT_READ) < 0)
        die_errno("mprotect read-only");
    check(has_pattern(p, 0, len), "mprotect changed the contents");
    if (mprotect(p, len, PROT_READ | PROT_WRITE) < 0)
        die_errno("mprotect read-write");
    p[0] = pattern(0);

    /* A hole in the middle: the pieces on both sides stay mapped. */
    if (munmap(p + 4 * page, page) < 0)
        die_errno("munmap of one page in the middle");
    check(has_pattern(p, 0, 4 * page) && has_pattern(p, 5 * page, len),
          "munmap of one page disturbed its neighbours");
    /* The hole can be mapped again exactly there. */
    unsigned char *h = mmap(p + 4 * page, page, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (h == MAP_FAILED)
        die_errno("mmap MAP_FIXED into the hole");
    check(h == p + 4 * page && all_zero(h, page), "MAP_FIXED into the hole");
    if (munmap(p, len) < 0)
        die_errno("munmap");

    /* MAP_FIXED over part of a mapping replaces just those pages. */
    size_t n = 8 * page;
    p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die_errno("mmap anonymous (8 pages)");
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(i);
    q = mmap(p + 2 * page, 3 * page, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (q == MAP_FAILED)
        die_errno("mmap MAP_FIXED over part of a mapping");
    check(q == p + 2 * page, "MAP_FIXED did not map at the address given");
    check(all_zero(p + 2 * page, 3 * page), "pages replaced by MAP_FIXED are not zero");
    check(has_pattern(p, 0, 2 * page) && has_pattern(p, 5 * page, n),
          "MAP_FIXED disturbed the pages around it");
    if (munmap(p, n) < 0)
        die_errno("munmap (8 pages)");

    /* Many small mappings and unmappings, as malloc does for big blocks. */
    for (int i = 0; i < 200; i++) {
        size_t sz = page * (size_t)(1 + i % 17);
        unsigned char *r = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                -1, 0);
        if (r == MAP_FAILED)
            die_errno("mmap (loop)");
        r[0] = 1;
        r[sz - 1] = 2;
        if (munmap(r, sz) < 0)
            die_errno("munmap (loop)");
    }
    /* And through malloc: a block above musl's and glibc's mmap threshold. */
    unsigned char *big = malloc(4 * 1024 * 1024);
    check(big != NULL, "malloc of 4 MiB failed");
    if (big) {
        memset(big, 0xa5, 4 * 1024 * 1024);
        free(big);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mmapfile FILE\n");
        return 2;
    }
    unsigned char dm[32], dr[32];
    file_digests(argv[1], dm, dr);
    check(memcmp(dm, dr, 32) == 0, "the mapping's SHA-256 differs from read()'s");
    anonymous();
    if (failures) {
        printf("mmapfile: %d check(s) failed\n", failures);
        return 1;
    }
    printf("mmapfile: ok ");
    for (int i = 0; i < 32; i++)
        printf("%02x", dm[i]);
    printf("\n");
    return 0;
}
