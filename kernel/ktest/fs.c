/*
 * File-system tests run in the guest (tests/guest/fs.sh builds the images):
 *
 * ktest=fs_checksums walks the whole tree through the VFS and prints one
 *   line per regular file in sha256sum's format ("fs-sha256 HEX  ./path"),
 *   one per symlink ("fs-symlink ./path -> target"), and a summary; the host
 *   compares the lines with sha256sum of the files it packed.
 *
 * ktest=fs_api runs the checks listed in the image's /expect file, one per
 *   line:
 *     stat PATH f|d|l|ENOENT|ENOTDIR|ELOOP [SIZE]   (follows symlinks)
 *     lstat PATH f|d|l|...                          (does not)
 *     readlink PATH TARGET
 *     pread PATH OFFSET TEXT     (the bytes at OFFSET are TEXT)
 *     seekend PATH SIZE          (lseek SEEK_END gives SIZE, then read 0)
 *     ls DIR NAME,NAME,...       (readdir, in order)
 *     open-write PATH            (must fail with EROFS)
 *   and prints "fs_api: ok|FAIL: <line>" for each.
 */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/ktest.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/sha256.h>
#include <kern/string.h>
#include <kern/vfs.h>

#define CHUNK     (64 * 1024)
#define MAX_DEPTH 32
#define PATH_MAX_ 1024

struct frame {
    struct file *dir;
    uint64_t index;
    size_t path_len;
};

static void hex(const uint8_t *d, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * SHA256_DIGEST_SIZE] = 0;
}

/* Hash a file through vfs_read; also check that vfs_map sees the same
 * first page. Returns bytes read or -errno. */
static int64_t hash_file(const char *path, uint8_t *buf, uint8_t digest[32])
{
    struct file *f;
    int r = vfs_open(path, O_RDONLY, &f);
    if (r < 0)
        return r;
    struct sha256_ctx c;
    sha256_init(&c);
    int64_t total = 0, n;
    bool first = true;
    while ((n = vfs_read(f, buf, CHUNK)) > 0) {
        if (first && n >= 4096) {
            const void *m = vfs_map(f, 0, 4096);
            if (!m || memcmp(m, buf, 4096) != 0) {
                vfs_close(f);
                return -EIO;
            }
        }
        first = false;
        sha256_update(&c, buf, (size_t)n);
        total += n;
    }
    vfs_close(f);
    if (n < 0)
        return n;
    sha256_final(&c, digest);
    return total;
}

KTEST(fs_checksums, "walk the root file system; print every file's SHA-256")
{
    if (!vfs_root_mounted()) {
        pr_err("fs_checksums: no root file system (boot with an initrd)\n");
        return 2;
    }
    struct frame *stack = kmalloc(MAX_DEPTH * sizeof(*stack));
    char *path = kmalloc(PATH_MAX_);
    uint8_t *buf = kmalloc(CHUNK);
    uint64_t files = 0, dirs = 1, links = 0, bytes = 0;
    int depth = 0, status = 0;

    path[0] = 0;                    /* "" is the root; children get "/name" */
    if (!stack || !path || !buf || vfs_open("/", O_RDONLY | O_DIRECTORY, &stack[0].dir) < 0) {
        pr_err("fs_checksums: cannot start\n");
        return 1;
    }
    stack[0].index = 0;
    stack[0].path_len = 0;
    while (depth >= 0) {
        struct frame *fr = &stack[depth];
        struct kdirent de;
        path[fr->path_len] = 0;     /* this directory's own path */
        int r = vfs_readdir(fr->dir, fr->index++, &de);
        if (r == -ENOENT) {         /* directory done */
            vfs_close(fr->dir);
            depth--;
            continue;
        }
        if (r < 0) {
            pr_err("fs_checksums: readdir: error %d\n", r);
            status = 1;
            break;
        }
        size_t len = fr->path_len;
        int n = snprintf(path + len, PATH_MAX_ - len, "/%s", de.name);
        if (n < 0 || (size_t)n >= PATH_MAX_ - len) {
            pr_err("fs_checksums: path too long\n");
            status = 1;
            break;
        }
        if (de.type == 4) {
            dirs++;
            if (depth + 1 == MAX_DEPTH) {
                pr_err("fs_checksums: deeper than %d\n", MAX_DEPTH);
                status = 1;
                break;
            }
            struct frame *child = &stack[depth + 1];
            r = vfs_open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, &child->dir);
            if (r < 0) {
                pr_err("fs_checksums: open .%s: error %d\n", path, r);
                status = 1;
                break;
            }
            child->index = 0;
            child->path_len = len + (size_t)n;
            depth++;
        } else if (de.type == 10) {
            char target[512];
            int64_t t = vfs_readlink(path, target, sizeof(target) - 1);
            if (t < 0) {
                pr_err("fs_checksums: readlink .%s: error %lld\n", path, (long long)t);
                status = 1;
            } else {
                target[t] = 0;
                console_printf("fs-symlink .%s -> %s\n", path, target);
                links++;
            }
        } else {
            uint8_t d[32];
            char h[65];
            int64_t got = hash_file(path, buf, d);
            if (got < 0) {
                pr_err("fs_checksums: read .%s: error %lld\n", path, (long long)got);
                status = 1;
            } else {
                hex(d, h);
                console_printf("fs-sha256 %s  .%s\n", h, path);
                files++;
                bytes += (uint64_t)got;
            }
        }
    }
    pr_info("fs: %llu files, %llu directories, %llu symlinks, %llu bytes read\n",
            (unsigned long long)files, (unsigned long long)dirs,
            (unsigned long long)links, (unsigned long long)bytes);
    kfree(buf);
    kfree(path);
    kfree(stack);
    return status;
}

/* --- fs_api ------------------------------------------------------------- */

static int split(char *line, char **w, int max)
{
    int n = 0;
    char *p = line;
    while (*p && n < max) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        w[n++] = p;
        if (n == max)
            break;              /* the last word keeps the rest of the line */
        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = 0;
    }
    return n;
}

static const char *type_of(int r, const struct kstat *st)
{
    if (r == -ENOENT)   return "ENOENT";
    if (r == -ENOTDIR)  return "ENOTDIR";
    if (r == -ELOOP)    return "ELOOP";
    if (r < 0)          return "error";
    switch (st->mode & S_IFMT) {
    case S_IFDIR: return "d";
    case S_IFREG: return "f";
    case S_IFLNK: return "l";
    }
    return "?";
}

static uint64_t to_u64(const char *s)
{
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

static bool check_line(char *line)
{
    char *w[4];
    int n = split(line, w, 4);
    struct kstat st;
    struct file *f;

    if (n >= 3 && (!strcmp(w[0], "stat") || !strcmp(w[0], "lstat"))) {
        int r = vfs_stat(w[1], !strcmp(w[0], "stat"), &st);
        if (strcmp(type_of(r, &st), w[2]) != 0)
            return false;
        return n < 4 || st.size == to_u64(w[3]);
    }
    if (n == 3 && !strcmp(w[0], "readlink")) {
        char t[256];
        int64_t r = vfs_readlink(w[1], t, sizeof(t) - 1);
        if (r < 0)
            return false;
        t[r] = 0;
        return !strcmp(t, w[2]);
    }
    if (n == 4 && !strcmp(w[0], "pread")) {
        char b[256];
        size_t want = strlen(w[3]);
        if (vfs_open(w[1], O_RDONLY, &f) < 0)
            return false;
        int64_t r = vfs_pread(f, b, MIN(want, sizeof(b)), to_u64(w[2]));
        /* pread must not move the file position */
        int64_t pos = vfs_lseek(f, 0, SEEK_CUR);
        vfs_close(f);
        return r == (int64_t)want && !memcmp(b, w[3], want) && pos == 0;
    }
    if (n == 3 && !strcmp(w[0], "seekend")) {
        char b[8];
        if (vfs_open(w[1], O_RDONLY, &f) < 0)
            return false;
        int64_t end = vfs_lseek(f, 0, SEEK_END);
        int64_t r = vfs_read(f, b, sizeof(b));
        int64_t bad = vfs_lseek(f, -1 - end, SEEK_CUR);
        vfs_close(f);
        return end == (int64_t)to_u64(w[2]) && r == 0 && bad == -EINVAL;
    }
    if (n == 3 && !strcmp(w[0], "ls")) {
        char got[512];
        size_t len = 0;
        struct kdirent de;
        if (vfs_open(w[1], O_RDONLY | O_DIRECTORY, &f) < 0)
            return false;
        got[0] = 0;
        for (uint64_t i = 0; vfs_readdir(f, i, &de) == 0 && len < sizeof(got); i++)
            len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", i ? "," : "", de.name);
        vfs_close(f);
        return !strcmp(got, w[2]);
    }
    if (n == 2 && !strcmp(w[0], "open-write"))
        return vfs_open(w[1], O_WRONLY, &f) == -EROFS;
    return false;
}

KTEST(fs_api, "VFS lookups, symlinks, .., reads and errors from /expect")
{
    struct file *f;
    if (vfs_open("/expect", O_RDONLY, &f) < 0) {
        pr_err("fs_api: no /expect in the root file system\n");
        return 2;
    }
    struct kstat st;
    vfs_fstat(f, &st);
    char *text = kmalloc(st.size + 1);
    int64_t n = vfs_read(f, text, st.size);
    vfs_close(f);
    if (n != (int64_t)st.size)
        return 1;
    text[n] = 0;
    int checks = 0, failed = 0;
    for (char *line = text, *next; *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        else
            next = line + strlen(line);
        if (!*line || *line == '#')
            continue;
        char copy[256];
        strlcpy(copy, line, sizeof(copy));
        bool ok = check_line(line);
        console_printf("fs_api: %s: %s\n", ok ? "ok" : "FAIL", copy);
        checks++;
        failed += !ok;
    }
    kfree(text);
    pr_info("fs_api: %d checks, %d failed\n", checks, failed);
    return failed || !checks ? 1 : 0;
}
