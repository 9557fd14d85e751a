/*
 * Unit tests for ROFS: the host writer (image/rofs_write.c) and the shared
 * reader (kernel/fs/rofs/rofs_reader.c), compiled with ASan and UBSan.
 *
 *   - round trips: images built with the writer API into a temp file are
 *     read back and compared field by field;
 *   - path resolution: ".", "..", symlinks, loops, limits;
 *   - writer input errors;
 *   - a corpus of hand-made bad images: one test per corruption class,
 *     each asserting the reader's status and message. Most corruptions get
 *     their checksum recomputed so that the check under test, not the CRC,
 *     is what catches them;
 *   - a deterministic mutation run over the same code the fuzzer drives.
 */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kern/rofs.h>
#include <kern/sha256.h>

#include "rofs_write.h"
#include "../fuzz/rofs_exercise.h"

/* ---- helpers ------------------------------------------------------------ */

static const struct rofs_meta M644 = { 0644, 1000, 100, 1700000000 };
static const struct rofs_meta M755 = { 0755, 0, 0, 1600000000 };
static const struct rofs_meta M777 = { 0777, 0, 0, 1600000000 };

struct img {
    uint8_t *p;
    size_t len;
};

static char err[512];

static int tmpfile_fd(char *path, size_t size)
{
    snprintf(path, size, "/tmp/tern-rofs-test-XXXXXX");
    return mkstemp(path);
}

/* Write the builder's image to a temp file and read it back. */
static struct img build_with(struct rofs_builder *b,
                             void (*progress)(uint64_t, uint64_t, void *), void *arg)
{
    struct img im = { NULL, 0 };
    char path[64];
    int fd = tmpfile_fd(path, sizeof(path));
    CHECK(fd >= 0);
    err[0] = 0;
    int r = rofs_builder_write(b, fd, progress, arg, err, sizeof(err));
    if (r != 0) {
        close(fd);
        unlink(path);
        return im;
    }
    struct stat sb;
    CHECK(fstat(fd, &sb) == 0);
    im.len = (size_t)sb.st_size;
    im.p = malloc(im.len ? im.len : 1);
    CHECK(pread(fd, im.p, im.len, 0) == (ssize_t)im.len);
    close(fd);
    unlink(path);
    return im;
}

static struct img build(struct rofs_builder *b)
{
    return build_with(b, NULL, NULL);
}

static uint64_t get(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put(uint8_t *p, int bytes, uint64_t v)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t *inode_at(struct img *im, uint32_t ino)
{
    return im->p + get(im->p + ROFS_SB_INODEOFF, 8) + (uint64_t)(ino - 1) * ROFS_INODE_SIZE;
}

static uint8_t *dirent_at(struct img *im, uint32_t j)
{
    return im->p + get(im->p + ROFS_SB_DIRENTOFF, 8) + (uint64_t)j * ROFS_DIRENT_SIZE;
}

static uint8_t *strtab(struct img *im)
{
    return im->p + get(im->p + ROFS_SB_STRTABOFF, 8);
}

/* Recompute the metadata CRC after a corruption. */
static void fix_crc(struct img *im)
{
    uint64_t data_off = get(im->p + ROFS_SB_DATAOFF, 8);
    if (data_off >= ROFS_SB_SIZE && data_off <= im->len)
        put(im->p + ROFS_SB_CRC, 4, rofs_meta_crc(im->p, data_off));
}

/* The image most corruption tests start from. Breadth-first numbering in
 * name order gives: 1 /, 2 /a, 3 /e -> a/b.txt, 4 /f (empty), 5 /g (same
 * bytes as /a/b.txt), 6 /a/b.txt, 7 /a/c, 8 /a/c/d; entry j names inode
 * j + 2. */
static struct img base_image(void)
{
    struct rofs_builder *b = rofs_builder_new();
    CHECK(rofs_add_file_data(b, "/a/b.txt", "hello\n", 6, &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_file_data(b, "/a/c/d", "dddd", 4, &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_symlink(b, "/e", "a/b.txt", &M777, err, sizeof(err)) == 0);
    CHECK(rofs_add_file_data(b, "/f", "", 0, &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_file_data(b, "/g", "hello\n", 6, &M644, err, sizeof(err)) == 0);
    struct img im = build(b);
    rofs_builder_free(b);
    CHECK(im.p != NULL);
    return im;
}

static enum rofs_status open_img(struct img *im, struct rofs *fs, struct rofs_error *e)
{
    return rofs_open(fs, im->p, im->len, 0, e);
}

/* Count of problems rofs_check reports, and the messages (joined). */
struct collected {
    int n;
    char all[4096];
    enum rofs_status codes[32];
};

static void collect(void *arg, const struct rofs_error *e)
{
    struct collected *c = arg;
    if (c->n < 32)
        c->codes[c->n] = e->code;
    c->n++;
    size_t l = strlen(c->all);
    snprintf(c->all + l, sizeof(c->all) - l, "%s\n", e->msg);
}

static bool has_code(const struct collected *c, enum rofs_status s)
{
    for (int i = 0; i < c->n && i < 32; i++)
        if (c->codes[i] == s)
            return true;
    return false;
}

/* Open without the checksum and run the full check. */
static struct collected check_img(struct img *im)
{
    struct collected c;
    struct rofs fs;
    struct rofs_error e;
    memset(&c, 0, sizeof(c));
    if (rofs_open(&fs, im->p, im->len, ROFS_OPEN_NO_CHECKSUM, &e) != ROFS_OK) {
        c.n = -1;
        snprintf(c.all, sizeof(c.all), "open: %s", e.msg);
        return c;
    }
    rofs_check(&fs, ROFS_CHECK_DATA, collect, &c, NULL);
    return c;
}

#define CHECK_MSG(e, substr) do { \
        if (!strstr((e).msg, (substr))) { \
            printf("  %s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, \
                   (e).msg, (substr)); \
            check_failed_current = 1; \
        } \
    } while (0)

/* Open must fail with code and a message containing substr. */
#define EXPECT_OPEN(im, code, substr) do { \
        struct rofs fs_; struct rofs_error e_; \
        e_.msg[0] = 0; \
        CHECK_EQ_INT(rofs_open(&fs_, (im).p, (im).len, 0, &e_), (code)); \
        CHECK_MSG(e_, substr); \
    } while (0)

/* The full check must report code with substr among its messages. */
#define EXPECT_CHECK(im, code, substr) do { \
        struct collected c_ = check_img(&(im)); \
        CHECK(c_.n > 0); \
        CHECK(has_code(&c_, (code))); \
        if (!strstr(c_.all, (substr))) { \
            printf("  %s:%d: check output \"%s\" lacks \"%s\"\n", __FILE__, \
                   __LINE__, c_.all, (substr)); \
            check_failed_current = 1; \
        } \
    } while (0)

/* The same for the base image with inode ino's field f (b bytes) set to v. */
#define EXPECT_FIELD_CHECK(ino, f, b, v, code, substr) do { \
        struct img im_ = base_image(); \
        put(inode_at(&im_, (ino)) + (f), (b), (v)); \
        fix_crc(&im_); \
        EXPECT_CHECK(im_, code, substr); \
        free(im_.p); \
    } while (0)

static uint32_t resolve(const struct rofs *fs, const char *path, bool follow,
                        enum rofs_status *st)
{
    uint32_t ino = 0;
    *st = rofs_resolve(fs, ROFS_ROOT_INO, path, strlen(path), follow, &ino, NULL);
    return *st == ROFS_OK ? ino : 0;
}

static uint32_t must_resolve(const struct rofs *fs, const char *path)
{
    enum rofs_status s;
    uint32_t ino = resolve(fs, path, true, &s);
    if (s != ROFS_OK)
        printf("  resolve %s: %s\n", path, rofs_strstatus(s));
    return ino;
}

/* ---- round trips -------------------------------------------------------- */

TEST(rofs_roundtrip_basic)
{
    struct img im = base_image();
    struct rofs fs;
    struct rofs_error e;
    CHECK_EQ_INT(open_img(&im, &fs, &e), ROFS_OK);
    CHECK_EQ_INT(fs.inode_count, 8);
    CHECK_EQ_INT(im.len % 4096, 0);
    CHECK_EQ_INT(fs.len, im.len);

    /* root lists a, e, f, g in order, with their types */
    static const char *names[] = { "a", "e", "f", "g" };
    static const uint8_t types[] = { ROFS_DT_DIR, ROFS_DT_LNK, ROFS_DT_REG, ROFS_DT_REG };
    for (int i = 0; i < 4; i++) {
        struct rofs_dirent de;
        CHECK_EQ_INT(rofs_readdir(&fs, ROFS_ROOT_INO, i, &de, &e), ROFS_OK);
        CHECK_EQ_STR(de.name, names[i]);
        CHECK_EQ_INT(de.type, types[i]);
        CHECK_EQ_INT(de.ino, i + 2);
    }
    struct rofs_dirent de;
    CHECK_EQ_INT(rofs_readdir(&fs, ROFS_ROOT_INO, 4, &de, &e), ROFS_ENOENT);

    /* metadata of a file */
    uint32_t ino = must_resolve(&fs, "/a/b.txt");
    struct rofs_stat st;
    CHECK_EQ_INT(rofs_stat(&fs, ino, &st, &e), ROFS_OK);
    CHECK_EQ_INT(st.mode, ROFS_S_IFREG | 0644);
    CHECK_EQ_INT(st.uid, 1000);
    CHECK_EQ_INT(st.gid, 100);
    CHECK_EQ_INT(st.mtime, 1700000000);
    CHECK_EQ_INT(st.nlink, 1);
    CHECK_EQ_INT(st.size, 6);
    uint8_t d[32];
    sha256("hello\n", 6, d);
    CHECK(memcmp(st.sha256, d, 32) == 0);
    uint64_t off, size;
    CHECK_EQ_INT(rofs_file_data(&fs, ino, &off, &size, &e), ROFS_OK);
    CHECK_EQ_INT(off % 4096, 0);
    CHECK(off >= fs.data_off);
    CHECK_EQ_INT(size, 6);
    CHECK(memcmp(rofs_file_ptr(&fs, off), "hello\n", 6) == 0);

    /* directories: link counts, parents, implied parent's defaults */
    uint32_t a = must_resolve(&fs, "/a");
    CHECK_EQ_INT(rofs_stat(&fs, a, &st, &e), ROFS_OK);
    CHECK_EQ_INT(st.mode, ROFS_S_IFDIR | 0755);
    CHECK_EQ_INT(st.nlink, 3);          /* 2 + subdirectory c */
    CHECK_EQ_INT(st.parent, ROFS_ROOT_INO);
    CHECK_EQ_INT(st.size, 2);
    CHECK_EQ_INT(st.uid, 0);
    CHECK_EQ_INT(st.mtime, 0);
    CHECK_EQ_INT(rofs_stat(&fs, ROFS_ROOT_INO, &st, &e), ROFS_OK);
    CHECK_EQ_INT(st.nlink, 3);
    CHECK_EQ_INT(st.parent, ROFS_ROOT_INO);

    /* symlink */
    const char *t;
    size_t tlen;
    enum rofs_status s;
    uint32_t l = resolve(&fs, "/e", false, &s);
    CHECK_EQ_INT(s, ROFS_OK);
    CHECK_EQ_INT(rofs_readlink(&fs, l, &t, &tlen, &e), ROFS_OK);
    CHECK_EQ_INT(tlen, 7);
    CHECK_EQ_STR(t, "a/b.txt");
    CHECK_EQ_INT(rofs_stat(&fs, l, &st, &e), ROFS_OK);
    CHECK_EQ_INT(st.mode, ROFS_S_IFLNK | 0777);
    CHECK_EQ_INT(must_resolve(&fs, "/e"), ino);

    /* empty file */
    uint32_t f = must_resolve(&fs, "/f");
    CHECK_EQ_INT(rofs_file_data(&fs, f, &off, &size, &e), ROFS_OK);
    CHECK_EQ_INT(off, 0);
    CHECK_EQ_INT(size, 0);

    /* wrong-type calls */
    CHECK_EQ_INT(rofs_file_data(&fs, a, &off, &size, &e), ROFS_EINVAL);
    CHECK_EQ_INT(rofs_readlink(&fs, a, &t, &tlen, &e), ROFS_EINVAL);
    CHECK_EQ_INT(rofs_readdir(&fs, ino, 0, &de, &e), ROFS_ENOTDIR);
    CHECK_EQ_INT(rofs_stat(&fs, 0, &st, &e), ROFS_EINVAL);
    CHECK_EQ_INT(rofs_stat(&fs, 9, &st, &e), ROFS_EINVAL);

    /* the full check is clean, and counts the shared extent */
    struct rofs_check_stats cs;
    struct collected c;
    memset(&c, 0, sizeof(c));
    CHECK_EQ_INT(rofs_check(&fs, ROFS_CHECK_DATA, collect, &c, &cs), ROFS_OK);
    if (c.n)
        printf("  unexpected problems:\n%s", c.all);
    CHECK_EQ_INT(c.n, 0);
    CHECK_EQ_INT(cs.dirs, 3);
    CHECK_EQ_INT(cs.files, 4);
    CHECK_EQ_INT(cs.symlinks, 1);
    CHECK_EQ_INT(cs.file_bytes, 16);
    CHECK_EQ_INT(cs.stored_bytes, 10);
    CHECK_EQ_INT(cs.dedup_files, 1);
    free(im.p);
}

TEST(rofs_dedup_shares_one_extent)
{
    struct img im = base_image();
    struct rofs fs;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    uint64_t o1, o2, s1, s2, o3, s3;
    CHECK_EQ_INT(rofs_file_data(&fs, must_resolve(&fs, "/a/b.txt"), &o1, &s1, NULL), ROFS_OK);
    CHECK_EQ_INT(rofs_file_data(&fs, must_resolve(&fs, "/g"), &o2, &s2, NULL), ROFS_OK);
    CHECK_EQ_INT(rofs_file_data(&fs, must_resolve(&fs, "/a/c/d"), &o3, &s3, NULL), ROFS_OK);
    CHECK_EQ_INT(o1, o2);
    CHECK(o3 != o1);
    /* two distinct extents, page-aligned, after one metadata page */
    CHECK_EQ_INT(fs.data_off, 4096);
    CHECK_EQ_INT(im.len, 3 * 4096);
    free(im.p);
}

TEST(rofs_deterministic_regardless_of_add_order)
{
    struct img x = base_image();
    struct rofs_builder *b = rofs_builder_new();
    /* the same entries, added in another order */
    CHECK(rofs_add_file_data(b, "/g", "hello\n", 6, &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_file_data(b, "/f", "", 0, &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_symlink(b, "/e", "a/b.txt", &M777, err, sizeof(err)) == 0);
    CHECK(rofs_add_file_data(b, "/a/c/d", "dddd", 4, &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_file_data(b, "/a/b.txt", "hello\n", 6, &M644, err, sizeof(err)) == 0);
    struct img y = build(b);
    rofs_builder_free(b);
    CHECK_EQ_INT(x.len, y.len);
    CHECK(x.len == y.len && memcmp(x.p, y.p, x.len) == 0);
    free(x.p);
    free(y.p);
}

TEST(rofs_explicit_dirs_and_defaults)
{
    struct rofs_builder *b = rofs_builder_new();
    struct rofs_meta def = { 0750, 5, 6, 1234 };
    rofs_builder_set_defaults(b, &def);
    CHECK(rofs_add_file_data(b, "/x/y/z", "z", 1, &M644, err, sizeof(err)) == 0);
    /* an implied directory can be made explicit afterwards, once */
    CHECK(rofs_add_dir(b, "/x", &M755, err, sizeof(err)) == 0);
    CHECK(rofs_add_dir(b, "/x", &M755, err, sizeof(err)) == -1);
    CHECK(strstr(err, "/x: duplicate guest path") != NULL);
    CHECK(rofs_add_dir(b, "/empty", &M755, err, sizeof(err)) == 0);
    struct img im = build(b);
    rofs_builder_free(b);
    struct rofs fs;
    struct rofs_stat st;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    CHECK_EQ_INT(rofs_stat(&fs, must_resolve(&fs, "/x"), &st, NULL), ROFS_OK);
    CHECK_EQ_INT(st.mode, ROFS_S_IFDIR | 0755);
    CHECK_EQ_INT(st.mtime, 1600000000);
    CHECK_EQ_INT(rofs_stat(&fs, must_resolve(&fs, "/x/y"), &st, NULL), ROFS_OK);
    CHECK_EQ_INT(st.mode, ROFS_S_IFDIR | 0750);
    CHECK_EQ_INT(st.uid, 5);
    CHECK_EQ_INT(st.gid, 6);
    CHECK_EQ_INT(st.mtime, 1234);
    CHECK_EQ_INT(rofs_stat(&fs, ROFS_ROOT_INO, &st, NULL), ROFS_OK);
    CHECK_EQ_INT(st.mode, ROFS_S_IFDIR | 0750);     /* "/" follows the defaults */
    CHECK_EQ_INT(rofs_stat(&fs, must_resolve(&fs, "/empty"), &st, NULL), ROFS_OK);
    CHECK_EQ_INT(st.size, 0);
    CHECK_EQ_INT(st.nlink, 2);
    CHECK_EQ_INT(check_img(&im).n, 0);
    free(im.p);
}

TEST(rofs_empty_image_is_just_root)
{
    struct rofs_builder *b = rofs_builder_new();
    struct img im = build(b);
    rofs_builder_free(b);
    struct rofs fs;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    CHECK_EQ_INT(im.len, 4096);
    CHECK_EQ_INT(fs.inode_count, 1);
    CHECK_EQ_INT(fs.data_size, 0);
    CHECK_EQ_INT(check_img(&im).n, 0);
    free(im.p);
}

/* Host files are streamed; sizes straddle the 1 MiB copy chunk. */
TEST(rofs_host_files_streamed)
{
    char p1[64], p2[64], p3[64];
    int fds[3] = { tmpfile_fd(p1, sizeof(p1)), tmpfile_fd(p2, sizeof(p2)),
                   tmpfile_fd(p3, sizeof(p3)) };
    size_t big = 3 * 1024 * 1024 + 17;
    uint8_t *buf = malloc(big);
    check_rng_seed(42);
    for (size_t i = 0; i < big; i++)
        buf[i] = (uint8_t)check_rng();
    CHECK(write(fds[0], buf, big) == (ssize_t)big);
    CHECK(write(fds[1], buf, big) == (ssize_t)big);         /* a duplicate */
    CHECK(write(fds[2], buf, 1 << 20) == 1 << 20);          /* exactly a chunk */
    for (int i = 0; i < 3; i++)
        close(fds[i]);

    struct rofs_builder *b = rofs_builder_new();
    CHECK(rofs_add_file(b, "/big", p1, &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_file(b, "/dir/big2", p2, &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_file(b, "/mib", p3, &M644, err, sizeof(err)) == 0);
    struct img im = build(b);
    rofs_builder_free(b);
    unlink(p1);
    unlink(p2);
    unlink(p3);
    CHECK(im.p != NULL);
    if (!im.p)
        return;

    struct rofs fs;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    uint64_t off, size, off2, size2;
    CHECK_EQ_INT(rofs_file_data(&fs, must_resolve(&fs, "/big"), &off, &size, NULL), ROFS_OK);
    CHECK_EQ_INT(size, big);
    CHECK(memcmp(rofs_file_ptr(&fs, off), buf, big) == 0);
    CHECK_EQ_INT(rofs_file_data(&fs, must_resolve(&fs, "/dir/big2"), &off2, &size2, NULL), ROFS_OK);
    CHECK_EQ_INT(off2, off);
    CHECK_EQ_INT(rofs_file_data(&fs, must_resolve(&fs, "/mib"), &off, &size, NULL), ROFS_OK);
    CHECK_EQ_INT(size, 1 << 20);
    CHECK(memcmp(rofs_file_ptr(&fs, off), buf, 1 << 20) == 0);
    /* metadata page + 3 MiB + 1 page + 1 MiB */
    CHECK_EQ_INT(im.len, 4096 + (3 << 20) + 4096 + (1 << 20));
    /* padding after the odd-sized file is zero */
    const uint8_t *pad = rofs_file_ptr(&fs, off) - 4096 + 17;
    bool zero = true;
    for (int i = 0; i < 4096 - 17; i++)
        zero &= pad[i] == 0;
    CHECK(zero);
    CHECK_EQ_INT(check_img(&im).n, 0);
    free(buf);
    free(im.p);
}

struct grow_ctx {
    const char *path;
    bool done;
    uint64_t calls, last_done, last_total;
    bool monotonic;
};

/* Appends to the host file once the hashing pass has finished (done ==
 * total / 2), so the copy pass sees a different file. */
static void grow_progress(uint64_t done, uint64_t total, void *arg)
{
    struct grow_ctx *g = arg;
    g->calls++;
    if (done < g->last_done)
        g->monotonic = false;
    g->last_done = done;
    g->last_total = total;
    if (g->path && !g->done && total && done * 2 == total) {
        int fd = open(g->path, O_WRONLY | O_APPEND);
        CHECK(fd >= 0 && write(fd, "more", 4) == 4);
        close(fd);
        g->done = true;
    }
}

TEST(rofs_host_file_changing_while_writing_fails)
{
    /* /f is hashed first; when the hashing pass is over (after /g), /f
     * grows, and the copy pass must notice. */
    char p[64], q[64];
    int fd = tmpfile_fd(p, sizeof(p));
    CHECK(write(fd, "0123456789", 10) == 10);
    close(fd);
    fd = tmpfile_fd(q, sizeof(q));
    CHECK(write(fd, "abcdefghij", 10) == 10);
    close(fd);
    struct rofs_builder *b = rofs_builder_new();
    CHECK(rofs_add_file(b, "/f", p, &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_file(b, "/g", q, &M644, err, sizeof(err)) == 0);
    struct grow_ctx g = { .path = p, .monotonic = true };
    struct img im = build_with(b, grow_progress, &g);
    rofs_builder_free(b);
    unlink(p);
    unlink(q);
    CHECK(im.p == NULL);
    CHECK(g.done);
    CHECK(strstr(err, "/f: host file") && strstr(err, "while the image was being written"));
    free(im.p);
}

TEST(rofs_progress_reaches_total)
{
    struct rofs_builder *b = rofs_builder_new();
    static uint8_t data[10000];
    CHECK(rofs_add_file_data(b, "/a", data, sizeof(data), &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_file_data(b, "/b", data, sizeof(data), &M644, err, sizeof(err)) == 0);
    struct grow_ctx g = { .monotonic = true };
    struct img im = build_with(b, grow_progress, &g);
    rofs_builder_free(b);
    CHECK(im.p != NULL);
    CHECK(g.calls > 0);
    CHECK(g.monotonic);
    CHECK_EQ_INT(g.last_done, g.last_total);
    CHECK_EQ_INT(g.last_total, 4 * sizeof(data));
    free(im.p);
}

/* Thousands of entries in nested directories: every one found by path,
 * directories sorted, the check clean. */
TEST(rofs_many_files)
{
    enum { DIRS = 40, PER = 60 };
    struct rofs_builder *b = rofs_builder_new();
    char path[128], content[64];
    for (int d = 0; d < DIRS; d++)
        for (int f = 0; f < PER; f++) {
            snprintf(path, sizeof(path), "/d%02d/sub%d/file-%04d", d, d % 3, f * 7919 % 10007);
            int n = snprintf(content, sizeof(content), "%d/%d", d, f % 50);
            CHECK(rofs_add_file_data(b, path, content, (size_t)n, &M644, err, sizeof(err)) == 0);
        }
    struct img im = build(b);
    rofs_builder_free(b);
    struct rofs fs;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    CHECK_EQ_INT(fs.inode_count, 1 + DIRS * 2 + DIRS * PER);
    int bad = 0;
    for (int d = 0; d < DIRS; d++)
        for (int f = 0; f < PER; f++) {
            snprintf(path, sizeof(path), "/d%02d/sub%d/file-%04d", d, d % 3, f * 7919 % 10007);
            int n = snprintf(content, sizeof(content), "%d/%d", d, f % 50);
            uint32_t ino = must_resolve(&fs, path);
            uint64_t off, size;
            if (!ino || rofs_file_data(&fs, ino, &off, &size, NULL) != ROFS_OK ||
                size != (uint64_t)n || memcmp(rofs_file_ptr(&fs, off), content, size))
                bad++;
        }
    CHECK_EQ_INT(bad, 0);
    struct rofs_check_stats cs;
    CHECK_EQ_INT(rofs_check(&fs, ROFS_CHECK_DATA, NULL, NULL, &cs), ROFS_OK);
    CHECK_EQ_INT(cs.files, DIRS * PER);
    CHECK_EQ_INT(cs.dedup_files, DIRS * PER - DIRS * 50);
    free(im.p);
}

/* ---- path resolution ---------------------------------------------------- */

static struct img links_image(void)
{
    struct rofs_builder *b = rofs_builder_new();
    CHECK(rofs_add_file_data(b, "/usr/lib/libc.so", "libc", 4, &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_symlink(b, "/lib", "usr/lib", &M777, err, sizeof(err)) == 0);
    CHECK(rofs_add_symlink(b, "/abs", "/usr/lib/libc.so", &M777, err, sizeof(err)) == 0);
    CHECK(rofs_add_symlink(b, "/usr/lib/up", "../..", &M777, err, sizeof(err)) == 0);
    CHECK(rofs_add_symlink(b, "/dangling", "/nope", &M777, err, sizeof(err)) == 0);
    CHECK(rofs_add_symlink(b, "/loop1", "loop2", &M777, err, sizeof(err)) == 0);
    CHECK(rofs_add_symlink(b, "/loop2", "/loop1", &M777, err, sizeof(err)) == 0);
    CHECK(rofs_add_symlink(b, "/root", "/", &M777, err, sizeof(err)) == 0);
    CHECK(rofs_add_symlink(b, "/slashdir", "usr/lib/", &M777, err, sizeof(err)) == 0);
    /* a chain of exactly 40 links, c40 -> c39 -> ... -> c1 -> /usr, and one
     * of 41 */
    char name[32], target[32];
    for (int i = 1; i <= 41; i++) {
        snprintf(name, sizeof(name), "/chain/c%d", i);
        if (i == 1)
            snprintf(target, sizeof(target), "/usr");
        else
            snprintf(target, sizeof(target), "c%d", i - 1);
        CHECK(rofs_add_symlink(b, name, target, &M777, err, sizeof(err)) == 0);
    }
    struct img im = build(b);
    rofs_builder_free(b);
    return im;
}

TEST(rofs_resolve_paths)
{
    struct img im = links_image();
    struct rofs fs;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    enum rofs_status s;
    uint32_t libc = must_resolve(&fs, "/usr/lib/libc.so");
    uint32_t usr = must_resolve(&fs, "/usr");
    uint32_t lib = must_resolve(&fs, "/usr/lib");
    CHECK(libc && usr && lib);

    CHECK_EQ_INT(must_resolve(&fs, "/"), ROFS_ROOT_INO);
    CHECK_EQ_INT(must_resolve(&fs, "///"), ROFS_ROOT_INO);
    CHECK_EQ_INT(must_resolve(&fs, "/.."), ROFS_ROOT_INO);
    CHECK_EQ_INT(must_resolve(&fs, "/../../usr/./lib//libc.so"), libc);
    CHECK_EQ_INT(must_resolve(&fs, "/usr/lib/../lib/./"), lib);
    CHECK_EQ_INT(must_resolve(&fs, "/lib/libc.so"), libc);     /* relative link */
    CHECK_EQ_INT(must_resolve(&fs, "/abs"), libc);             /* absolute link */
    CHECK_EQ_INT(must_resolve(&fs, "/usr/lib/up"), ROFS_ROOT_INO);
    CHECK_EQ_INT(must_resolve(&fs, "/lib/up/lib/up/usr"), usr);
    CHECK_EQ_INT(must_resolve(&fs, "/root/root/usr"), usr);
    CHECK_EQ_INT(must_resolve(&fs, "/slashdir"), lib);
    CHECK_EQ_INT(must_resolve(&fs, "/lib/.."), usr);  /* ".." is of the target */
    CHECK_EQ_INT(must_resolve(&fs, "/chain/c40"), usr);

    /* relative to a directory */
    uint32_t ino = 0;
    CHECK_EQ_INT(rofs_resolve(&fs, usr, "lib/libc.so", 11, true, &ino, NULL), ROFS_OK);
    CHECK_EQ_INT(ino, libc);
    CHECK_EQ_INT(rofs_resolve(&fs, lib, "..", 2, true, &ino, NULL), ROFS_OK);
    CHECK_EQ_INT(ino, usr);
    CHECK_EQ_INT(rofs_resolve(&fs, libc, "x", 1, true, &ino, NULL), ROFS_ENOTDIR);

    /* follow == false stops at a final link, but not at inner ones */
    uint32_t l = resolve(&fs, "/lib", false, &s);
    CHECK_EQ_INT(s, ROFS_OK);
    CHECK(l != lib && l != 0);
    CHECK_EQ_INT(resolve(&fs, "/lib/", false, &s), lib);  /* trailing slash follows */
    CHECK_EQ_INT(resolve(&fs, "/lib/libc.so", false, &s), libc);

    /* errors */
    resolve(&fs, "/nope", true, &s);
    CHECK_EQ_INT(s, ROFS_ENOENT);
    resolve(&fs, "/usr/nope/x", true, &s);
    CHECK_EQ_INT(s, ROFS_ENOENT);
    resolve(&fs, "/dangling", true, &s);
    CHECK_EQ_INT(s, ROFS_ENOENT);
    CHECK(resolve(&fs, "/dangling", false, &s) != 0);
    resolve(&fs, "/usr/lib/libc.so/x", true, &s);
    CHECK_EQ_INT(s, ROFS_ENOTDIR);
    resolve(&fs, "/usr/lib/libc.so/", true, &s);
    CHECK_EQ_INT(s, ROFS_ENOTDIR);
    resolve(&fs, "/abs/", false, &s);
    CHECK_EQ_INT(s, ROFS_ENOTDIR);
    resolve(&fs, "/loop1", true, &s);
    CHECK_EQ_INT(s, ROFS_ELOOP);
    CHECK(resolve(&fs, "/loop1", false, &s) != 0);
    resolve(&fs, "/loop1/x", false, &s);
    CHECK_EQ_INT(s, ROFS_ELOOP);
    resolve(&fs, "/chain/c41", true, &s);
    CHECK_EQ_INT(s, ROFS_ELOOP);
    resolve(&fs, "", true, &s);
    CHECK_EQ_INT(s, ROFS_ENOENT);

    char longname[300];
    memset(longname, 'x', sizeof(longname));
    longname[0] = '/';
    longname[299] = 0;
    resolve(&fs, longname, true, &s);
    CHECK_EQ_INT(s, ROFS_ENAMETOOLONG);
    CHECK_EQ_INT(rofs_lookup(&fs, ROFS_ROOT_INO, longname + 1, 298, &ino, NULL),
                 ROFS_ENAMETOOLONG);
    char *longpath = malloc(5000);
    for (int i = 0; i < 4998; i += 2)
        memcpy(longpath + i, "/.", 2);
    longpath[4998] = 0;
    resolve(&fs, longpath, true, &s);
    CHECK_EQ_INT(s, ROFS_ENAMETOOLONG);
    longpath[4094] = 0;         /* 4094 bytes: under the limit */
    CHECK_EQ_INT(resolve(&fs, longpath, true, &s), ROFS_ROOT_INO);
    free(longpath);
    free(im.p);
}

TEST(rofs_lookup_binary_search_edges)
{
    struct rofs_builder *b = rofs_builder_new();
    /* names that differ in length and prefix: sorted a, a0, aa, b */
    const char *names[] = { "/b", "/aa", "/a0", "/a" };
    for (int i = 0; i < 4; i++)
        CHECK(rofs_add_file_data(b, names[i], "x", 1, &M644, err, sizeof(err)) == 0);
    struct img im = build(b);
    rofs_builder_free(b);
    struct rofs fs;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    const char *sorted[] = { "a", "a0", "aa", "b" };
    for (int i = 0; i < 4; i++) {
        struct rofs_dirent de;
        uint32_t ino;
        CHECK_EQ_INT(rofs_readdir(&fs, ROFS_ROOT_INO, i, &de, NULL), ROFS_OK);
        CHECK_EQ_STR(de.name, sorted[i]);
        CHECK_EQ_INT(rofs_lookup(&fs, ROFS_ROOT_INO, sorted[i], strlen(sorted[i]), &ino, NULL), ROFS_OK);
        CHECK_EQ_INT(ino, de.ino);
    }
    uint32_t ino;
    CHECK_EQ_INT(rofs_lookup(&fs, ROFS_ROOT_INO, "", 0, &ino, NULL), ROFS_ENOENT);
    CHECK_EQ_INT(rofs_lookup(&fs, ROFS_ROOT_INO, "a1", 2, &ino, NULL), ROFS_ENOENT);
    CHECK_EQ_INT(rofs_lookup(&fs, ROFS_ROOT_INO, "c", 1, &ino, NULL), ROFS_ENOENT);
    CHECK_EQ_INT(rofs_lookup(&fs, ROFS_ROOT_INO, "0", 1, &ino, NULL), ROFS_ENOENT);
    free(im.p);
}

/* ---- writer input errors ------------------------------------------------ */

TEST(rofs_writer_rejects_bad_input)
{
    struct rofs_builder *b = rofs_builder_new();
    struct rofs_meta bad = { 0100644, 0, 0, 0 };
    char longn[300];
    memset(longn, 'n', sizeof(longn));
    longn[0] = '/';
    longn[299] = 0;
    CHECK(rofs_add_dir(b, "rel/x", &M755, err, sizeof(err)) == -1 && strstr(err, "rel/x: guest paths must be absolute"));
    CHECK(rofs_add_dir(b, "/a/../b", &M755, err, sizeof(err)) == -1 && strstr(err, "/a/../b: '.' and '..' are not allowed"));
    CHECK(rofs_add_dir(b, "/a/./b", &M755, err, sizeof(err)) == -1 && strstr(err, "/a/./b: '.' and '..' are not allowed"));
    CHECK(rofs_add_dir(b, "/a//b", &M755, err, sizeof(err)) == -1 && strstr(err, "/a//b: empty path component"));
    CHECK(rofs_add_dir(b, "/a/", &M755, err, sizeof(err)) == -1 && strstr(err, "/a/: empty path component"));
    CHECK(rofs_add_dir(b, longn, &M755, err, sizeof(err)) == -1 && strstr(err, "a name is longer than 255 bytes"));
    CHECK(rofs_add_file_data(b, "/m", "", 0, &bad, err, sizeof(err)) == -1 && strstr(err, "/m: mode 0100644 has bits outside 07777"));
    CHECK(rofs_add_symlink(b, "/s", "", &M777, err, sizeof(err)) == -1 && strstr(err, "/s: symlink target must be 1 to 4095 bytes"));
    CHECK(rofs_add_file(b, "/h", "/nonexistent/tern/x", &M644, err, sizeof(err)) == -1 && strstr(err, "/h: host file /nonexistent/tern/x: No such file"));
    CHECK(rofs_add_file(b, "/h", "/tmp", &M644, err, sizeof(err)) == -1 && strstr(err, "/h: host file /tmp is not a regular file"));

    /* duplicates and type clashes */
    CHECK(rofs_add_file_data(b, "/f", "x", 1, &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_file_data(b, "/f", "y", 1, &M644, err, sizeof(err)) == -1);
    CHECK(strstr(err, "/f: duplicate guest path") != NULL);
    CHECK(rofs_add_dir(b, "/f", &M755, err, sizeof(err)) == -1);
    CHECK(rofs_add_file_data(b, "/f/g", "y", 1, &M644, err, sizeof(err)) == -1);
    CHECK(strstr(err, "/f/g: /f is a file, not a directory") != NULL);
    CHECK(rofs_add_symlink(b, "/l", "/f", &M777, err, sizeof(err)) == 0);
    CHECK(rofs_add_file_data(b, "/l/x/y", "y", 1, &M644, err, sizeof(err)) == -1);
    CHECK(strstr(err, "/l/x/y: /l is a symlink, not a directory") != NULL);
    CHECK(rofs_add_file_data(b, "/d/x", "y", 1, &M644, err, sizeof(err)) == 0);
    CHECK(rofs_add_file_data(b, "/d", "y", 1, &M644, err, sizeof(err)) == -1);
    CHECK(strstr(err, "/d: duplicate guest path") != NULL);
    CHECK(rofs_add_file_data(b, "/", "y", 1, &M644, err, sizeof(err)) == -1);

    /* the failures left the builder usable and consistent */
    struct img im = build(b);
    rofs_builder_free(b);
    CHECK(im.p != NULL);
    struct collected c = check_img(&im);
    CHECK_EQ_INT(c.n, 0);
    free(im.p);
}

/* ---- the corpus of bad images: superblock ------------------------------- */

TEST(rofs_bad_too_small)
{
    struct img im = base_image();
    struct img t = { im.p, 0 };
    EXPECT_OPEN(t, ROFS_ETOOSMALL, "image is 0 bytes, smaller than the 128-byte superblock");
    t.len = 127;
    EXPECT_OPEN(t, ROFS_ETOOSMALL, "image is 127 bytes");
    /* cut short: the superblock says more than there is */
    t.len = im.len - 1;
    EXPECT_OPEN(t, ROFS_ETOOSMALL, "image truncated: the superblock says 12288 bytes, only 12287 present");
    /* padding after the image (a disk rounded up) is fine */
    uint8_t *bigger = calloc(1, im.len + 512);
    memcpy(bigger, im.p, im.len);
    struct img pad = { bigger, im.len + 512 };
    struct rofs fs;
    CHECK_EQ_INT(open_img(&pad, &fs, NULL), ROFS_OK);
    CHECK_EQ_INT(fs.len, im.len);
    free(bigger);
    free(im.p);
}

TEST(rofs_bad_magic)
{
    struct img im = base_image();
    im.p[0] = 'X';
    EXPECT_OPEN(im, ROFS_EMAGIC, "bad magic: not a ROFS image");
    memset(im.p, 0, im.len);
    EXPECT_OPEN(im, ROFS_EMAGIC, "not a ROFS image");
    free(im.p);
}

TEST(rofs_bad_version)
{
    struct img im = base_image();
    put(im.p + ROFS_SB_VMAJOR, 2, 2);
    fix_crc(&im);
    EXPECT_OPEN(im, ROFS_EVERSION, "format version 2.0 is not supported (this reader reads 1.x)");
    put(im.p + ROFS_SB_VMAJOR, 2, 1);
    put(im.p + ROFS_SB_INCOMPAT, 4, 0x10);
    fix_crc(&im);
    EXPECT_OPEN(im, ROFS_EVERSION, "unknown incompatible features 0x10");
    /* a newer minor version and unknown compatible features are readable */
    put(im.p + ROFS_SB_INCOMPAT, 4, 0);
    put(im.p + ROFS_SB_VMINOR, 2, 7);
    put(im.p + ROFS_SB_COMPAT, 4, 0xff);
    fix_crc(&im);
    struct rofs fs;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    CHECK_EQ_INT(fs.version_minor, 7);
    free(im.p);
}

TEST(rofs_bad_checksum)
{
    struct img im = base_image();
    /* one flipped bit in a name: only the CRC notices */
    strtab(&im)[0] ^= 0x20;
    EXPECT_OPEN(im, ROFS_ECHECKSUM, "metadata checksum 0x");
    struct rofs fs;
    CHECK_EQ_INT(rofs_open(&fs, im.p, im.len, ROFS_OPEN_NO_CHECKSUM, NULL), ROFS_OK);
    /* the checksum covers the padding before the data too */
    strtab(&im)[0] ^= 0x20;
    im.p[4095] = 1;
    EXPECT_OPEN(im, ROFS_ECHECKSUM, "computed 0x");
    /* and the stored value itself */
    im.p[4095] = 0;
    im.p[ROFS_SB_CRC] ^= 1;
    EXPECT_OPEN(im, ROFS_ECHECKSUM, "metadata checksum");
    free(im.p);
}

TEST(rofs_bad_superblock_fields)
{
    struct { int off, bytes; uint64_t val; const char *msg; } cases[] = {
        { ROFS_SB_SBSIZE, 4, 256, "superblock size 256, expected 128" },
        { ROFS_SB_BLOCKSIZE, 4, 512, "block size 512, expected 4096" },
        { ROFS_SB_IMAGESIZE, 8, 0, "image size 0 is not a positive multiple of 4096" },
        { ROFS_SB_IMAGESIZE, 8, 8000, "image size 8000 is not a positive multiple" },
        { ROFS_SB_IMAGESIZE, 8, 8192, "data region [4096, +8192) does not end the 8192-byte image" },
        { ROFS_SB_DATAOFF, 8, 100, "data region [100, +8192)" },
        { ROFS_SB_DATAOFF, 8, 0, "data region [0, +8192)" },
        { ROFS_SB_DATAOFF, 8, UINT64_MAX - 4095, "data region" },
        { ROFS_SB_DATASIZE, 8, 4096, "data region [4096, +4096)" },
        { ROFS_SB_DATASIZE, 8, UINT64_MAX, "data region" },
        { ROFS_SB_ROOTINO, 4, 2, "root inode 2, expected 1" },
        { ROFS_SB_INODESIZE, 4, 64, "inode size 64, expected 96" },
        { ROFS_SB_INODECOUNT, 4, 0, "inode count 0 is not in 1..16777216" },
        { ROFS_SB_INODECOUNT, 4, 0xffffffff, "inode count 4294967295 is not in" },
        { ROFS_SB_INODECOUNT, 4, 1u << 24, "inode table [128, +1610612736) is not inside" },
        { ROFS_SB_INODEOFF, 8, 64, "inode table [64, +768) is not inside the metadata area [128, 4096)" },
        { ROFS_SB_INODEOFF, 8, 132, "inode table [132, +768)" },
        { ROFS_SB_INODEOFF, 8, UINT64_MAX - 7, "inode table [18446744073709551608, +768)" },
        { ROFS_SB_INODEOFF, 8, 4000, "inode table [4000, +768)" },
        { ROFS_SB_DIRENTSIZE, 4, 32, "directory entry size 32, expected 16" },
        { ROFS_SB_DIRENTCOUNT, 4, 6, "6 directory entries for 8 inodes (expected 7)" },
        { ROFS_SB_DIRENTOFF, 8, 128, "directory entry table [128, +112) is not between" },
        { ROFS_SB_DIRENTOFF, 8, UINT64_MAX - 7, "directory entry table" },
        { ROFS_SB_DIRENTOFF, 8, 4000, "directory entry table [4000, +112)" },
        { ROFS_SB_STRTABOFF, 8, 128, "string table [128, +" },
        { ROFS_SB_STRTABOFF, 8, UINT64_MAX, "string table" },
        { ROFS_SB_STRTABSIZE, 8, 5000, "string table" },
        { ROFS_SB_STRTABSIZE, 8, UINT64_MAX, "string table" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct img im = base_image();
        put(im.p + cases[i].off, cases[i].bytes, cases[i].val);
        fix_crc(&im);
        struct rofs fs;
        struct rofs_error e;
        enum rofs_status s = open_img(&im, &fs, &e);
        if (s == ROFS_OK || !strstr(e.msg, cases[i].msg) || !rofs_status_is_corrupt(s)) {
            printf("  case %zu: status %d \"%s\", expected \"%s\"\n", i, s,
                   s == ROFS_OK ? "" : e.msg, cases[i].msg);
            check_failed_current = 1;
        }
        /* a failed open leaves fs unusable rather than half-filled */
        CHECK(s == ROFS_OK || fs.img == NULL);
        free(im.p);
    }
}

TEST(rofs_bad_root)
{
    struct img im = base_image();
    put(inode_at(&im, 1) + ROFS_INO_MODE, 4, ROFS_S_IFREG | 0644);
    put(inode_at(&im, 1) + ROFS_INO_OFFSET, 8, 0);
    put(inode_at(&im, 1) + ROFS_INO_SIZE, 8, 0);
    fix_crc(&im);
    EXPECT_OPEN(im, ROFS_ETREE, "the root inode is not a directory");
    free(im.p);
    im = base_image();
    put(inode_at(&im, 1) + ROFS_INO_PARENT, 4, 2);
    fix_crc(&im);
    EXPECT_OPEN(im, ROFS_ETREE, "the root directory's parent is 2, not itself");
    free(im.p);
}

/* ---- bad inodes ------------------------------------------------------------ */

/* Corrupt a field of inode ino; rofs_stat on it must fail with code/msg,
 * and so must the full check. */
static void expect_inode(uint32_t ino, int field, int bytes, uint64_t val,
                         enum rofs_status code, const char *msg, int line)
{
    struct img im = base_image();
    put(inode_at(&im, ino) + field, bytes, val);
    fix_crc(&im);
    struct rofs fs;
    struct rofs_error e = { 0 };
    struct rofs_stat st;
    enum rofs_status s = open_img(&im, &fs, &e);
    if (s == ROFS_OK)
        s = rofs_stat(&fs, ino, &st, &e);
    if (s != code || !strstr(e.msg, msg)) {
        printf("  line %d: inode %u: status %d \"%s\", expected %d \"%s\"\n",
               line, ino, s, e.msg, code, msg);
        check_failed_current = 1;
    }
    if (ino != ROFS_ROOT_INO) {
        struct collected c = check_img(&im);
        if (!has_code(&c, code) || !strstr(c.all, msg)) {
            printf("  line %d: check: \"%s\" lacks \"%s\"\n", line, c.all, msg);
            check_failed_current = 1;
        }
    }
    free(im.p);
}
#define EXPECT_INODE(ino, f, b, v, code, msg) expect_inode(ino, f, b, v, code, msg, __LINE__)

TEST(rofs_bad_inode_mode)
{
    EXPECT_INODE(4, ROFS_INO_MODE, 4, 0020644, ROFS_EINODE,
                 "inode 4: mode 020644 is not a directory, file or symlink");
    EXPECT_INODE(4, ROFS_INO_MODE, 4, 0, ROFS_EINODE, "inode 4: mode 00 is not a directory");
    EXPECT_INODE(4, ROFS_INO_MODE, 4, 0x80000000u | ROFS_S_IFREG, ROFS_EINODE,
                 "has unknown bits");
    EXPECT_INODE(4, ROFS_INO_MTIME_NSEC, 4, 1000000000u, ROFS_EINODE,
                 "inode 4: mtime nanoseconds 1000000000 >= 10^9");
}

TEST(rofs_bad_inode_file_extent)
{
    /* inode 6 is /a/b.txt: 6 bytes at 4096 */
    EXPECT_INODE(6, ROFS_INO_OFFSET, 8, 4097, ROFS_EINODE,
                 "inode 6: file data [4097, +6) is not a 4096-aligned extent");
    EXPECT_INODE(6, ROFS_INO_OFFSET, 8, 0, ROFS_EINODE, "file data [0, +6)");
    EXPECT_INODE(6, ROFS_INO_OFFSET, 8, 12288, ROFS_EINODE, "file data [12288, +6)");
    EXPECT_INODE(6, ROFS_INO_SIZE, 8, 8193, ROFS_EINODE, "file data [4096, +8193)");
    EXPECT_INODE(6, ROFS_INO_SIZE, 8, UINT64_MAX, ROFS_EINODE,
                 "file data [4096, +18446744073709551615)");
    EXPECT_INODE(6, ROFS_INO_OFFSET, 8, UINT64_MAX - 4095, ROFS_EINODE, "file data");
    EXPECT_INODE(4, ROFS_INO_OFFSET, 8, 4096, ROFS_EINODE,
                 "inode 4: empty file with data offset 4096 (must be 0)");
}

TEST(rofs_bad_inode_dir_and_symlink)
{
    /* inode 2 is /a: entries [4, +2); inode 3 is /e -> a/b.txt */
    EXPECT_INODE(2, ROFS_INO_SIZE, 8, 4, ROFS_EINODE,
                 "inode 2: directory entries [4, +4) outside the table of 7 entries");
    EXPECT_INODE(2, ROFS_INO_OFFSET, 8, UINT64_MAX, ROFS_EINODE, "directory entries");
    EXPECT_INODE(2, ROFS_INO_SIZE, 8, UINT64_MAX, ROFS_EINODE, "directory entries");
    EXPECT_INODE(2, ROFS_INO_PARENT, 4, 0, ROFS_EINODE, "inode 2: parent directory 0 is not in 1..8");
    EXPECT_INODE(2, ROFS_INO_PARENT, 4, 9, ROFS_EINODE, "parent directory 9");
    EXPECT_INODE(3, ROFS_INO_SIZE, 8, 0, ROFS_EINODE,
                 "inode 3: symlink target length 0 is not in 1..4095");
    EXPECT_INODE(3, ROFS_INO_SIZE, 8, 4096, ROFS_EINODE, "symlink target length 4096");
    EXPECT_INODE(3, ROFS_INO_SIZE, 8, 6, ROFS_EINODE,
                 "is not a NUL-terminated string");     /* no NUL after 6 bytes */
    EXPECT_INODE(3, ROFS_INO_OFFSET, 8, 1u << 31, ROFS_EINODE, "symlink target [2147483648, +7)");
    EXPECT_INODE(3, ROFS_INO_OFFSET, 8, UINT64_MAX, ROFS_EINODE, "symlink target");
}

TEST(rofs_bad_symlink_with_nul_inside)
{
    struct img im = base_image();
    struct rofs fs;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    uint64_t off = get(inode_at(&im, 3) + ROFS_INO_OFFSET, 8);
    strtab(&im)[off + 2] = 0;       /* "a/\0.txt" */
    fix_crc(&im);
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    struct rofs_error e;
    const char *t;
    size_t len;
    CHECK_EQ_INT(rofs_readlink(&fs, 3, &t, &len, &e), ROFS_EINODE);
    CHECK_MSG(e, "inode 3: symlink target");
    free(im.p);
}

/* ---- bad directory entries ---------------------------------------------- */

/* Corrupt a field of entry j; reading it (readdir of its directory) must
 * fail with code/msg, and the check must report it. */
static void expect_dirent(uint32_t dir, uint32_t j, uint32_t index, int field, int bytes,
                          uint64_t val, enum rofs_status code, const char *msg, int line)
{
    struct img im = base_image();
    put(dirent_at(&im, j) + field, bytes, val);
    fix_crc(&im);
    struct rofs fs;
    struct rofs_error e = { 0 };
    struct rofs_dirent de;
    enum rofs_status s = open_img(&im, &fs, &e);
    if (s == ROFS_OK)
        s = rofs_readdir(&fs, dir, index, &de, &e);
    if (s != code || !strstr(e.msg, msg)) {
        printf("  line %d: entry %u: status %d \"%s\", expected %d \"%s\"\n",
               line, j, s, e.msg, code, msg);
        check_failed_current = 1;
    }
    struct collected c = check_img(&im);
    if (!has_code(&c, code) || !strstr(c.all, msg)) {
        printf("  line %d: check: \"%s\" lacks \"%s\"\n", line, c.all, msg);
        check_failed_current = 1;
    }
    free(im.p);
}
#define EXPECT_DIRENT(dir, j, idx, f, b, v, code, msg) \
    expect_dirent(dir, j, idx, f, b, v, code, msg, __LINE__)

TEST(rofs_bad_dirent_fields)
{
    /* entry 1 is /e (root's 2nd); entry 4 is /a/b.txt (/a's first) */
    EXPECT_DIRENT(1, 1, 1, ROFS_DE_INO, 4, 0, ROFS_EDIRENT,
                  "directory 1, entry 1: inode 0 is not in 2..8");
    EXPECT_DIRENT(1, 1, 1, ROFS_DE_INO, 4, 1, ROFS_EDIRENT, "inode 1 is not in 2..8");
    EXPECT_DIRENT(1, 1, 1, ROFS_DE_INO, 4, 9, ROFS_EDIRENT, "inode 9 is not in 2..8");
    EXPECT_DIRENT(2, 4, 0, ROFS_DE_NAMELEN, 2, 0, ROFS_ENAME,
                  "directory 2, entry 4: name length 0 is not in 1..255");
    EXPECT_DIRENT(2, 4, 0, ROFS_DE_NAMELEN, 2, 256, ROFS_ENAME, "name length 256");
    EXPECT_DIRENT(2, 4, 0, ROFS_DE_NAMELEN, 2, 3, ROFS_ENAME,
                  "is not a NUL-terminated string");
    EXPECT_DIRENT(2, 4, 0, ROFS_DE_NAMEOFF, 4, 0xffffffffu, ROFS_ENAME,
                  "name [4294967295, +5)");
    EXPECT_DIRENT(1, 1, 1, ROFS_DE_TYPE, 1, ROFS_DT_REG, ROFS_EDIRENT,
                  "directory 1, entry \"e\": type 8 does not match inode 3's mode 0120777");
    EXPECT_DIRENT(1, 1, 1, ROFS_DE_TYPE, 1, 0, ROFS_EDIRENT, "type 0 does not match");
}

TEST(rofs_bad_dirent_names)
{
    /* rewrite the name "b.txt" in place (same length) */
    static const struct { const char *name; size_t len; } bad[] = {
        { "a/b", 3 }, { ".", 1 }, { "..", 2 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct img im = base_image();
        uint8_t *de = dirent_at(&im, 4);
        memcpy(strtab(&im) + get(de + ROFS_DE_NAMEOFF, 4), bad[i].name, bad[i].len + 1);
        put(de + ROFS_DE_NAMELEN, 2, bad[i].len);
        fix_crc(&im);
        struct rofs fs;
        struct rofs_error e;
        struct rofs_dirent d;
        CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
        CHECK_EQ_INT(rofs_readdir(&fs, 2, 0, &d, &e), ROFS_ENAME);
        CHECK_MSG(e, "is not allowed");
        uint32_t ino;
        /* lookups that touch the bad entry fail loudly instead of
         * returning it */
        CHECK(rofs_lookup(&fs, 2, "c", 1, &ino, &e) != ROFS_OK || ino == 7);
        free(im.p);
    }
}

/* ---- bad trees -------------------------------------------------------------- */

TEST(rofs_bad_order)
{
    /* swap the names of /a/b.txt and /a/c (entries 4 and 5): the names are
     * then out of order, though every entry is valid on its own */
    struct img im = base_image();
    uint8_t *d4 = dirent_at(&im, 4), *d5 = dirent_at(&im, 5);
    uint8_t tmp[8];
    memcpy(tmp, d4 + ROFS_DE_NAMEOFF, 8);
    memcpy(d4 + ROFS_DE_NAMEOFF, d5 + ROFS_DE_NAMEOFF, 4);
    memcpy(d4 + ROFS_DE_NAMELEN, d5 + ROFS_DE_NAMELEN, 2);
    memcpy(d5 + ROFS_DE_NAMEOFF, tmp, 4);
    memcpy(d5 + ROFS_DE_NAMELEN, tmp + 4, 2);
    fix_crc(&im);
    EXPECT_CHECK(im, ROFS_EORDER, "directory 2: \"b.txt\" does not sort after \"c\"");
    /* the binary search may miss, but terminates */
    struct rofs fs;
    uint32_t ino;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    rofs_lookup(&fs, 2, "b.txt", 5, &ino, NULL);
    free(im.p);

    /* a duplicate name is out of order too */
    im = base_image();
    d4 = dirent_at(&im, 4);
    d5 = dirent_at(&im, 5);
    put(d5 + ROFS_DE_NAMEOFF, 4, get(d4 + ROFS_DE_NAMEOFF, 4));
    put(d5 + ROFS_DE_NAMELEN, 2, get(d4 + ROFS_DE_NAMELEN, 2));
    fix_crc(&im);
    EXPECT_CHECK(im, ROFS_EORDER, "\"b.txt\" does not sort after \"b.txt\"");
    free(im.p);
}

TEST(rofs_bad_tree_shape)
{
    /* an entry naming another inode than its position says (here: /a/c
     * names inode 2, /a itself: a cycle) */
    struct img im = base_image();
    put(dirent_at(&im, 5) + ROFS_DE_INO, 4, 2);
    fix_crc(&im);
    EXPECT_CHECK(im, ROFS_ETREE, "directory 2, entry \"c\": inode 2, expected 7");
    /* resolving through the cycle terminates */
    struct rofs fs;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    char path[1024] = "";
    for (int i = 0; i < 200; i++)
        strcat(path, "/c");
    enum rofs_status s;
    uint32_t a = resolve(&fs, "/a", true, &s);
    uint32_t ino;
    CHECK_EQ_INT(rofs_resolve(&fs, a, path + 1, strlen(path) - 1, true, &ino, NULL), ROFS_OK);
    CHECK_EQ_INT(ino, a);
    free(im.p);

    /* a directory's entries starting in the wrong place */
    EXPECT_FIELD_CHECK(7, ROFS_INO_OFFSET, 8, 0, ROFS_ETREE,
                       "directory 7: entries start at 0, expected 6");

    /* a subdirectory whose parent field is wrong */
    EXPECT_FIELD_CHECK(7, ROFS_INO_PARENT, 4, 1, ROFS_ETREE,
                       "directory 7 (\"c\" in 2): parent field 1, expected 2");

    /* a parent pointing downwards (would let ".." walk in circles) */
    EXPECT_FIELD_CHECK(2, ROFS_INO_PARENT, 4, 7, ROFS_ETREE,
                       "directory 2: parent 7 must be a lower inode number");

    /* directory link counts */
    EXPECT_FIELD_CHECK(2, ROFS_INO_NLINK, 4, 2, ROFS_ETREE,
                       "directory 2: link count 2, expected 3 (2 + 1 subdirectories)");

    /* file link counts and parent fields */
    im = base_image();
    put(inode_at(&im, 6) + ROFS_INO_NLINK, 4, 2);
    put(inode_at(&im, 5) + ROFS_INO_PARENT, 4, 1);
    fix_crc(&im);
    EXPECT_CHECK(im, ROFS_EINODE, "inode 6: link count 2, expected 1");
    EXPECT_CHECK(im, ROFS_EINODE, "inode 5: parent field 1, expected 0");
    free(im.p);

    /* a file claiming to be a directory's child count mismatch: the root
     * owns one entry fewer, so the last entry belongs to nobody */
    EXPECT_FIELD_CHECK(7, ROFS_INO_SIZE, 8, 0, ROFS_ETREE,
                       "directories own 6 entries, the table has 7");
}

TEST(rofs_bad_reserved_bytes)
{
    struct img im = base_image();
    inode_at(&im, 4)[50] = 1;
    im.p[120] = 1;
    put(inode_at(&im, 3) + ROFS_INO_SHA256, 1, 1);
    fix_crc(&im);
    EXPECT_CHECK(im, ROFS_EINODE, "inode 4: reserved bytes are not zero");
    EXPECT_CHECK(im, ROFS_ESUPER, "superblock: reserved bytes are not zero");
    EXPECT_CHECK(im, ROFS_EINODE, "inode 3: digest field of a symlink is not zero");
    /* a later minor version may use them */
    put(im.p + ROFS_SB_VMINOR, 2, 1);
    put(inode_at(&im, 3) + ROFS_INO_SHA256, 1, 0);
    fix_crc(&im);
    CHECK_EQ_INT(check_img(&im).n, 0);
    free(im.p);
}

TEST(rofs_bad_file_data)
{
    /* file data is outside the checksum: the digests catch it */
    struct img im = base_image();
    struct rofs fs;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    uint64_t off, size;
    CHECK_EQ_INT(rofs_file_data(&fs, must_resolve(&fs, "/a/c/d"), &off, &size, NULL), ROFS_OK);
    im.p[off] ^= 1;
    CHECK_EQ_INT(open_img(&im, &fs, NULL), ROFS_OK);
    EXPECT_CHECK(im, ROFS_EDATA, "inode 8: the SHA-256 of its 4 bytes does not match");
    /* without ROFS_CHECK_DATA the check does not read file data */
    CHECK_EQ_INT(rofs_check(&fs, 0, NULL, NULL, NULL), ROFS_OK);
    free(im.p);
}

TEST(rofs_check_reports_every_problem)
{
    struct img im = base_image();
    put(inode_at(&im, 4) + ROFS_INO_MODE, 4, 0020644);      /* bad type */
    put(inode_at(&im, 6) + ROFS_INO_NLINK, 4, 9);           /* bad link count */
    put(dirent_at(&im, 6) + ROFS_DE_NAMELEN, 2, 0);         /* bad name */
    fix_crc(&im);
    struct collected c = check_img(&im);
    CHECK(c.n >= 3);
    CHECK(has_code(&c, ROFS_EINODE));
    CHECK(has_code(&c, ROFS_ENAME));
    CHECK(strstr(c.all, "inode 4: mode 020644") != NULL);
    CHECK(strstr(c.all, "inode 6: link count 9") != NULL);
    CHECK(strstr(c.all, "directory 7, entry 6: name length 0") != NULL);
    free(im.p);
}

TEST(rofs_strstatus_names_every_status)
{
    for (int s = 0; s < ROFS_NSTATUS; s++)
        CHECK(strcmp(rofs_strstatus((enum rofs_status)s), "unknown error") != 0);
    CHECK_EQ_STR(rofs_strstatus(ROFS_ENOENT), "no such file or directory");
    CHECK_EQ_STR(rofs_strstatus((enum rofs_status)99), "unknown error");
    CHECK(!rofs_status_is_corrupt(ROFS_ENOENT));
    CHECK(rofs_status_is_corrupt(ROFS_ECHECKSUM));
}

TEST(rofs_crc32c_known_value)
{
    /* the standard check value of CRC-32C */
    CHECK_EQ_INT(rofs_crc32c(0, "123456789", 9), 0xe3069283);
    CHECK_EQ_INT(rofs_crc32c(rofs_crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
    CHECK_EQ_INT(rofs_crc32c(0, "", 0), 0);
}

/* ---- mutation run --------------------------------------------------------- */

/* Deterministic random corruptions of a valid image (with the CRC fixed up
 * half the time), every reader entry point run over each under ASan. The
 * fuzzer does this better when clang is there; this keeps a floor. */
TEST(rofs_mutations_never_crash)
{
    struct img base = links_image();
    struct img m = { malloc(base.len), base.len };
    check_rng_seed(2024);
    uint64_t meta = get(base.p + ROFS_SB_DATAOFF, 8);
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(m.p, base.p, base.len);
        int flips = 1 + (int)(check_rng() % 8);
        for (int k = 0; k < flips; k++) {
            uint64_t r = check_rng();
            /* mostly metadata, where the structure is */
            size_t pos = (r & 3) ? (size_t)((r >> 8) % meta) : (size_t)((r >> 8) % m.len);
            switch ((r >> 4) & 3) {
            case 0: m.p[pos] ^= (uint8_t)(1u << ((r >> 40) & 7)); break;
            case 1: m.p[pos] = (uint8_t)(r >> 48); break;
            case 2: m.p[pos] = 0xff; break;
            case 3: m.p[pos] = 0; break;
            }
        }
        if (iter & 1)
            fix_crc(&m);
        size_t len = (iter % 7 == 0) ? (size_t)(check_rng() % m.len) : m.len;
        rofs_exercise(m.p, len);
    }
    free(m.p);
    free(base.p);
    CHECK(1);   /* reaching here without a sanitizer report is the test */
}
