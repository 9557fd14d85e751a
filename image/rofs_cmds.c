/*
 * tern ls / cat / check / mkrofs: look inside ROFS images and make them
 * from a host directory. Reading goes through the same validating reader
 * the kernel uses (kernel/fs/rofs/rofs_reader.c), so what these commands
 * accept is exactly what a guest can mount.
 *
 * Exit statuses: 0 success; 1 the image is corrupt or a path is not in it
 * (or, for mkrofs, the input cannot be packed); 2 bad usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <kern/rofs.h>
#include <kern/sha256.h>

#include "rofs_write.h"
#include "tern.h"
#include "util.h"

/* Print "tern: error: <message>" and return 1 (not-found and corrupt). */
static int __attribute__((format(printf, 1, 2))) fail1(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(fmt, ap);
    va_end(ap);
    return 1;
}

/* ---- opening an image --------------------------------------------------- */

struct image {
    const char *name;           /* as the user gave it, for messages */
    void *map;
    size_t maplen;
    struct rofs fs;
};

/* Map the file and open it with flags. On failure prints the error and
 * returns 1 (the image is bad) or exits 2 (it cannot be read at all). */
static int image_open(struct image *im, const char *path, unsigned flags,
                      struct rofs_error *errp)
{
    static const uint8_t empty[1];
    struct rofs_error e;
    struct stat sb;

    memset(im, 0, sizeof(*im));
    im->name = path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die("%s: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        die("%s: not a regular file", path);
    if (sb.st_size > 0) {
        im->maplen = (size_t)sb.st_size;
        im->map = mmap(NULL, im->maplen, PROT_READ, MAP_PRIVATE, fd, 0);
        if (im->map == MAP_FAILED)
            die("%s: mmap: %s", path, strerror(errno));
    }
    close(fd);
    enum rofs_status s = rofs_open(&im->fs, im->map ? im->map : empty,
                                   im->maplen, flags, &e);
    if (errp)
        *errp = e;
    if (s != ROFS_OK) {
        if (!errp)
            fail1("%s: %s", path, e.msg);
        return 1;
    }
    return 0;
}

static void image_close(struct image *im)
{
    if (im->map)
        munmap(im->map, im->maplen);
}

/* Resolve path in the image; prints "IMAGE: PATH: why" on failure. */
static int image_resolve(struct image *im, const char *path, bool follow,
                         uint32_t *ino)
{
    struct rofs_error e;
    if (path[0] != '/')
        return fail1("%s: %s: paths in an image are absolute", im->name, path);
    enum rofs_status s = rofs_resolve(&im->fs, ROFS_ROOT_INO, path, strlen(path),
                                      follow, ino, &e);
    if (s == ROFS_OK)
        return 0;
    if (rofs_status_is_corrupt(s))
        return fail1("%s: %s: corrupt image: %s", im->name, path, e.msg);
    return fail1("%s: %s: %s", im->name, path, rofs_strstatus(s));
}

/* ---- tern ls ------------------------------------------------------------ */

static void mode_string(uint32_t mode, char out[11])
{
    static const char rwx[] = "rwxrwxrwx";
    out[0] = (mode & ROFS_S_IFMT) == ROFS_S_IFDIR ? 'd' :
             (mode & ROFS_S_IFMT) == ROFS_S_IFLNK ? 'l' : '-';
    for (int i = 0; i < 9; i++)
        out[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
    if (mode & 04000)
        out[3] = (mode & 0100) ? 's' : 'S';
    if (mode & 02000)
        out[6] = (mode & 0010) ? 's' : 'S';
    if (mode & 01000)
        out[9] = (mode & 0001) ? 't' : 'T';
    out[10] = 0;
}

struct ls_opts {
    bool long_fmt, recursive;
};

/* One line for inode ino, shown as `name`. */
static int ls_entry(struct image *im, uint32_t ino, const char *name,
                    const struct ls_opts *o)
{
    struct rofs_stat st;
    struct rofs_error e;
    if (!o->long_fmt) {
        printf("%s\n", name);
        return 0;
    }
    if (rofs_stat(&im->fs, ino, &st, &e) != ROFS_OK)
        return fail1("%s: %s: corrupt image: %s", im->name, name, e.msg);
    char mode[11], when[32] = "?";
    mode_string(st.mode, mode);
    time_t t = (time_t)st.mtime;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    printf("%s %5u %5u %10llu %s %s", mode, st.uid, st.gid,
           (unsigned long long)st.size, when, name);
    if ((st.mode & ROFS_S_IFMT) == ROFS_S_IFLNK) {
        const char *target;
        size_t len;
        if (rofs_readlink(&im->fs, ino, &target, &len, &e) != ROFS_OK)
            return fail1("%s: %s: corrupt image: %s", im->name, name, e.msg);
        printf(" -> %.*s", (int)len, target);
    }
    putchar('\n');
    return 0;
}

/* List directory dir (shown as path). Recursion depth is bounded by the
 * tree's depth, which a checked image keeps finite; the depth guard below
 * keeps a corrupt one from recursing forever. */
static int ls_dir(struct image *im, uint32_t dir, const char *path,
                  const struct ls_opts *o, unsigned depth)
{
    if (depth > 2048)
        return fail1("%s: %s: directories nested too deep (corrupt image?)",
                     im->name, path);
    int ret = 0;
    for (uint64_t i = 0;; i++) {
        struct rofs_dirent de;
        struct rofs_error e;
        enum rofs_status s = rofs_readdir(&im->fs, dir, i, &de, &e);
        if (s == ROFS_ENOENT)
            break;
        if (s != ROFS_OK)
            return fail1("%s: %s: corrupt image: %s", im->name, path, e.msg);
        if (!o->recursive) {
            ret |= ls_entry(im, de.ino, de.name, o);
            continue;
        }
        size_t plen = strlen(path);
        char *full = xmalloc(plen + de.name_len + 2);
        sprintf(full, "%s%s%s", path, path[plen - 1] == '/' ? "" : "/", de.name);
        ret |= ls_entry(im, de.ino, full, o);
        if (de.type == ROFS_DT_DIR && de.ino > dir)    /* inodes grow downwards */
            ret |= ls_dir(im, de.ino, full, o, depth + 1);
        free(full);
    }
    return ret;
}

static void ls_usage(FILE *f)
{
    fputs("usage: tern ls [-l] [-R] IMAGE [PATH]\n"
          "\n"
          "List a directory of a ROFS image (default /), or show one entry.\n"
          "\n"
          "options:\n"
          "  -l, --long       mode, uid, gid, size (directories: entries), mtime\n"
          "                   (UTC), name, and -> target for symlinks\n"
          "  -R, --recursive  everything below PATH, one full path per line\n"
          "\n"
          "Exits 1 when PATH is not in the image or the image is corrupt.\n"
          "\n"
          "examples:\n"
          "  tern ls build/hello/rofs.img\n"
          "  tern ls -l build/hello/rofs.img /etc\n"
          "  tern ls -lR build/hello/rofs.img\n", f);
}

int cmd_ls(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "long", no_argument, NULL, 'l' },
        { "recursive", no_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    struct ls_opts o = { 0 };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+lRh", longopts, NULL)) != -1) {
        switch (c) {
        case 'l': o.long_fmt = true; break;
        case 'R': o.recursive = true; break;
        case 'h': ls_usage(stdout); return 0;
        default:
            die("ls: option '%s' is unknown (see tern ls --help)", argv[optind - 1]);
        }
    }
    if (argc - optind < 1 || argc - optind > 2)
        die("ls: expected IMAGE [PATH] (see tern ls --help)");
    const char *path = argc - optind == 2 ? argv[optind + 1] : "/";

    struct image im;
    if (image_open(&im, argv[optind], 0, NULL))
        return 1;
    uint32_t ino;
    /* Like ls: -l shows a symlink itself, otherwise what it points to;
     * "link/" always means the directory. */
    int ret = image_resolve(&im, path, !o.long_fmt, &ino);
    if (ret == 0) {
        struct rofs_stat st;
        struct rofs_error e;
        if (rofs_stat(&im.fs, ino, &st, &e) != ROFS_OK)
            ret = fail1("%s: %s: corrupt image: %s", im.name, path, e.msg);
        else if ((st.mode & ROFS_S_IFMT) == ROFS_S_IFDIR)
            ret = ls_dir(&im, ino, path, &o, 0);
        else
            ret = ls_entry(&im, ino, path, &o);
    }
    fflush(stdout);
    image_close(&im);
    return ret;
}

/* ---- tern cat ----------------------------------------------------------- */

static void cat_usage(FILE *f)
{
    fputs("usage: tern cat IMAGE PATH...\n"
          "\n"
          "Write the contents of files in a ROFS image to standard output\n"
          "(symlinks are followed). Each file's contents are checked against its\n"
          "SHA-256 digest first. Exits 1 when a path is missing, is not a regular\n"
          "file, or the image is corrupt (a digest mismatch included).\n"
          "\n"
          "example:\n"
          "  tern cat build/hello/rofs.img /etc/hosts\n", f);
}

int cmd_cat(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        cat_usage(stdout);
        return 0;
    }
    if (argc < 3)
        die("cat: expected IMAGE PATH... (see tern cat --help)");
    struct image im;
    if (image_open(&im, argv[1], 0, NULL))
        return 1;
    int ret = 0;
    for (int i = 2; i < argc; i++) {
        uint32_t ino;
        uint64_t off, size;
        struct rofs_stat st;
        struct rofs_error e;
        if (image_resolve(&im, argv[i], true, &ino)) {
            ret = 1;
            continue;
        }
        if (rofs_stat(&im.fs, ino, &st, &e) != ROFS_OK) {
            ret = fail1("%s: %s: corrupt image: %s", im.name, argv[i], e.msg);
            continue;
        }
        if ((st.mode & ROFS_S_IFMT) == ROFS_S_IFDIR) {
            ret = fail1("%s: %s: is a directory", im.name, argv[i]);
            continue;
        }
        if (rofs_file_data(&im.fs, ino, &off, &size, &e) != ROFS_OK) {
            ret = fail1("%s: %s: %s", im.name, argv[i], e.msg);
            continue;
        }
        /* Check the bytes against the inode's SHA-256 before writing any:
         * a damaged file is reported, never passed on as good data. */
        uint8_t digest[SHA256_DIGEST_SIZE];
        sha256(size ? rofs_file_ptr(&im.fs, off) : "", (size_t)size, digest);
        if (st.sha256 && memcmp(digest, st.sha256, SHA256_DIGEST_SIZE) != 0) {
            ret = fail1("%s: %s: corrupt image: the file's contents do not match its "
                        "SHA-256 digest (tern check %s lists every damaged file)", im.name,
                        argv[i], im.name);
            continue;
        }
        if (size && fwrite(rofs_file_ptr(&im.fs, off), 1, (size_t)size, stdout) != size) {
            ret = fail1("writing standard output: %s", strerror(errno));
            break;
        }
    }
    if (fflush(stdout) != 0)
        ret = fail1("writing standard output: %s", strerror(errno));
    image_close(&im);
    return ret;
}

/* ---- tern check --------------------------------------------------------- */

/* Guest paths for messages: each inode's parent and name, found by a
 * breadth-first walk that visits every inode at most once. */
struct names {
    uint32_t *parent;
    const char **name;
    uint16_t *len;
    uint32_t count;
};

static void names_build(struct names *n, const struct rofs *fs)
{
    n->count = fs->inode_count;
    n->parent = calloc(n->count + 1, sizeof(*n->parent));
    n->name = calloc(n->count + 1, sizeof(*n->name));
    n->len = calloc(n->count + 1, sizeof(*n->len));
    uint32_t *queue = calloc(n->count + 1, sizeof(*queue));
    if (!n->parent || !n->name || !n->len || !queue) {
        free(queue);
        return;     /* paths are a nicety; messages still name inodes */
    }
    size_t head = 0, tail = 0;
    queue[tail++] = ROFS_ROOT_INO;
    n->parent[ROFS_ROOT_INO] = ROFS_ROOT_INO;
    while (head < tail) {
        uint32_t dir = queue[head++];
        struct rofs_dirent de;
        for (uint64_t i = 0; rofs_readdir(fs, dir, i, &de, NULL) == ROFS_OK; i++) {
            if (n->parent[de.ino])
                continue;   /* seen already: a corrupt tree */
            n->parent[de.ino] = dir;
            n->name[de.ino] = de.name;
            n->len[de.ino] = de.name_len;
            if (de.type == ROFS_DT_DIR && tail <= n->count)
                queue[tail++] = de.ino;
        }
    }
    free(queue);
}

/* The path of ino into buf, or "" when unknown. */
static const char *names_path(const struct names *n, uint32_t ino, char *buf, size_t size)
{
    if (!n->parent || ino < 1 || ino > n->count || !n->parent[ino])
        return "";
    if (ino == ROFS_ROOT_INO)
        return "/";
    size_t pos = size - 1;
    buf[pos] = 0;
    for (uint32_t steps = 0; ino != ROFS_ROOT_INO && steps < n->count; steps++) {
        size_t l = n->len[ino];
        if (l + 1 > pos)
            return "";
        pos -= l;
        memcpy(buf + pos, n->name[ino], l);
        buf[--pos] = '/';
        ino = n->parent[ino];
    }
    return buf + pos;
}

static void names_free(struct names *n)
{
    free(n->parent);
    free(n->name);
    free(n->len);
}

struct check_ctx {
    const char *image;
    struct names names;
    uint64_t problems;
};

static void check_report(void *arg, const struct rofs_error *e)
{
    struct check_ctx *c = arg;
    char buf[ROFS_PATH_MAX + 2];
    const char *path = names_path(&c->names, e->ino, buf, sizeof(buf));
    printf("%s: %s%s%s%s\n", c->image, e->msg, *path ? " (" : "", path, *path ? ")" : "");
    c->problems++;
}

static void check_usage(FILE *f)
{
    fputs("usage: tern check [--no-data] IMAGE\n"
          "\n"
          "Validate a ROFS image the way fsck would: superblock, checksum, every\n"
          "inode and directory entry, the tree's shape, and (unless --no-data)\n"
          "each file's contents against its SHA-256. Prints a summary and exits\n"
          "0, or lists every problem found and exits 1.\n"
          "\n"
          "example:\n"
          "  tern check build/hello/rofs.img\n", f);
}

int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "no-data", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    unsigned flags = ROFS_CHECK_DATA;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': flags &= ~ROFS_CHECK_DATA; break;
        case 'h': check_usage(stdout); return 0;
        default:
            die("check: option '%s' is unknown (see tern check --help)", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        die("check: expected one IMAGE (see tern check --help)");

    struct check_ctx ctx = { .image = argv[optind] };
    struct image im;
    struct rofs_error e;
    if (image_open(&im, ctx.image, 0, &e)) {
        if (e.code != ROFS_ECHECKSUM) {
            printf("%s: %s\n", ctx.image, e.msg);
            printf("%s: 1 problem found\n", ctx.image);
            image_close(&im);
            return 1;
        }
        /* A bad checksum says something changed; look on for what. */
        printf("%s: %s\n", ctx.image, e.msg);
        ctx.problems++;
        image_close(&im);
        if (image_open(&im, ctx.image, ROFS_OPEN_NO_CHECKSUM, &e)) {
            printf("%s: %s\n", ctx.image, e.msg);
            printf("%s: %llu problems found\n", ctx.image,
                   (unsigned long long)ctx.problems + 1);
            image_close(&im);
            return 1;
        }
    }
    names_build(&ctx.names, &im.fs);
    struct rofs_check_stats st;
    rofs_check(&im.fs, flags, check_report, &ctx, &st);
    names_free(&ctx.names);
    if (ctx.problems) {
        printf("%s: %llu problem%s found\n", ctx.image,
               (unsigned long long)ctx.problems, ctx.problems == 1 ? "" : "s");
        image_close(&im);
        return 1;
    }
    const struct rofs *fs = &im.fs;
    printf("%s: clean: ROFS %u.%u, %llu directories, %llu files, %llu symlinks\n",
           ctx.image, fs->version_major, fs->version_minor,
           (unsigned long long)st.dirs, (unsigned long long)st.files,
           (unsigned long long)st.symlinks);
    printf("  %llu bytes in files, %llu stored; %llu file%s deduplicated, "
           "%llu bytes saved\n",
           (unsigned long long)st.file_bytes, (unsigned long long)st.stored_bytes,
           (unsigned long long)st.dedup_files, st.dedup_files == 1 ? "" : "s",
           (unsigned long long)(st.file_bytes - st.stored_bytes));
    printf("  image %llu bytes: metadata %llu, data %llu; metadata CRC32C 0x%08x%s\n",
           (unsigned long long)fs->len, (unsigned long long)fs->data_off,
           (unsigned long long)fs->data_size, fs->crc,
           (flags & ROFS_CHECK_DATA) ? "; file digests verified" : "");
    image_close(&im);
    return 0;
}

/* ---- tern mkrofs -------------------------------------------------------- */

struct mk_opts {
    bool set_owner;
    uint32_t uid, gid;
    bool set_mtime;
    int64_t mtime;
    bool clamp;                 /* SOURCE_DATE_EPOCH is set */
    int64_t epoch;
    struct rofs_builder *b;
    uint64_t entries;
};

static void mk_meta(const struct mk_opts *o, const struct stat *sb, struct rofs_meta *m)
{
    m->mode = sb->st_mode & 07777;
    m->uid = o->set_owner ? o->uid : 0;
    m->gid = o->set_owner ? o->gid : 0;
    m->mtime = o->set_mtime ? o->mtime : (int64_t)sb->st_mtime;
    if (o->clamp && m->mtime > o->epoch)
        m->mtime = o->epoch;
}

/* Add everything below host directory `host` as guest directory `guest`.
 * Host symlinks are kept as symlinks, never followed, so a loop on the
 * host cannot make this recurse forever. */
static int mk_walk(struct mk_opts *o, const char *host, const char *guest)
{
    char err[512];
    DIR *d = opendir(host);
    if (!d)
        return fail1("%s: %s", host, strerror(errno));
    int ret = 0;
    struct dirent *ent;
    errno = 0;
    while (ret == 0 && (ent = readdir(d)) != NULL) {
        if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
            continue;
        char hpath[PATH_MAX], gpath[ROFS_PATH_MAX + 1];
        if (snprintf(hpath, sizeof(hpath), "%s/%s", host, ent->d_name) >= (int)sizeof(hpath))
            return closedir(d), fail1("%s/%s: host path too long", host, ent->d_name);
        if (snprintf(gpath, sizeof(gpath), "%s/%s", strcmp(guest, "/") ? guest : "",
                     ent->d_name) >= (int)sizeof(gpath))
            return closedir(d), fail1("%s: guest path too long", hpath);
        struct stat sb;
        if (lstat(hpath, &sb) != 0)
            return closedir(d), fail1("%s: %s", hpath, strerror(errno));
        struct rofs_meta m;
        mk_meta(o, &sb, &m);
        int r;
        if (S_ISDIR(sb.st_mode)) {
            r = rofs_add_dir(o->b, gpath, &m, err, sizeof(err));
            if (r == 0)
                ret = mk_walk(o, hpath, gpath);
        } else if (S_ISREG(sb.st_mode)) {
            r = rofs_add_file(o->b, gpath, hpath, &m, err, sizeof(err));
        } else if (S_ISLNK(sb.st_mode)) {
            char target[ROFS_SYMLINK_MAX + 2];
            ssize_t n = readlink(hpath, target, sizeof(target));
            if (n < 0)
                return closedir(d), fail1("%s: %s", hpath, strerror(errno));
            if (n > (ssize_t)ROFS_SYMLINK_MAX)
                return closedir(d), fail1("%s: symlink target longer than %u bytes",
                                          hpath, ROFS_SYMLINK_MAX);
            target[n] = 0;
            r = rofs_add_symlink(o->b, gpath, target, &m, err, sizeof(err));
        } else {
            return closedir(d), fail1("%s: not a file, directory or symlink "
                                      "(only those go into an image)", hpath);
        }
        if (r != 0)
            return closedir(d), fail1("%s", err);
        o->entries++;
        errno = 0;
    }
    if (ret == 0 && errno)
        ret = fail1("%s: %s", host, strerror(errno));
    closedir(d);
    return ret;
}

static void mk_progress(uint64_t done, uint64_t total, void *arg)
{
    static int last = -1;
    int pct = total ? (int)(done * 100 / total) : 100;
    if (pct != last) {
        fprintf(stderr, "\rtern: mkrofs: %3d%%", pct);
        if (pct == 100)
            fputc('\n', stderr);
        last = pct;
    }
}

static void mkrofs_usage(FILE *f)
{
    fputs("usage: tern mkrofs [options] IMAGE DIR\n"
          "\n"
          "Pack the host directory tree DIR into a ROFS image at IMAGE (DIR\n"
          "becomes /). Files, directories and symlinks are kept with their\n"
          "permission bits; symlinks are stored, not followed. Identical files\n"
          "are stored once. IMAGE is written atomically (temp file + rename).\n"
          "`tern build` makes images from a manifest; this packs a tree as is.\n"
          "\n"
          "options:\n"
          "  --owner UID:GID   owner of every entry (default 0:0)\n"
          "  --mtime SECONDS   mtime of every entry (default: the host's,\n"
          "                    clamped to $SOURCE_DATE_EPOCH when it is set)\n"
          "\n"
          "example:\n"
          "  tern mkrofs rootfs.img ./rootfs && tern ls -lR rootfs.img\n", f);
}

static bool parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

int cmd_mkrofs(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "owner", required_argument, NULL, 'o' },
        { "mtime", required_argument, NULL, 'm' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    struct mk_opts o = { 0 };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': {
            unsigned long uid, gid;
            char extra;
            if (sscanf(optarg, "%lu:%lu%c", &uid, &gid, &extra) != 2 ||
                uid > UINT32_MAX || gid > UINT32_MAX)
                die("mkrofs: --owner %s: expected UID:GID (numbers)", optarg);
            o.set_owner = true;
            o.uid = (uint32_t)uid;
            o.gid = (uint32_t)gid;
            break;
        }
        case 'm':
            if (!parse_i64(optarg, &o.mtime))
                die("mkrofs: --mtime %s: expected seconds since the epoch", optarg);
            o.set_mtime = true;
            break;
        case 'h': mkrofs_usage(stdout); return 0;
        default:
            die("mkrofs: option '%s' is unknown or needs a value (see tern mkrofs --help)",
                argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        die("mkrofs: expected IMAGE DIR (see tern mkrofs --help)");
    const char *image = argv[optind], *dir = argv[optind + 1];
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        if (!parse_i64(sde, &o.epoch))
            die("mkrofs: SOURCE_DATE_EPOCH=%s: expected seconds since the epoch", sde);
        o.clamp = true;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0)
        die("mkrofs: %s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        die("mkrofs: %s: not a directory", dir);

    /* Replace only a ROFS image: IMAGE DIR swapped by mistake, or a typo,
     * must not destroy another file. */
    struct stat ib;
    if (lstat(image, &ib) == 0) {
        char magic[8] = { 0 };
        int ifd = S_ISREG(ib.st_mode) ? open(image, O_RDONLY | O_CLOEXEC) : -1;
        bool is_rofs = ifd >= 0 && read(ifd, magic, 8) == 8 && !memcmp(magic, ROFS_MAGIC, 8);
        if (ifd >= 0)
            close(ifd);
        if (S_ISDIR(ib.st_mode))
            die("mkrofs: %s is a directory; the image comes first: tern mkrofs IMAGE DIR",
                image);
        if (!is_rofs && ib.st_size > 0)
            die("mkrofs: %s exists and is not a ROFS image; not overwriting it (remove it "
                "first, or choose another IMAGE)", image);
    }
    o.b = rofs_builder_new();
    if (!o.b)
        die("out of memory");
    char err[512];
    struct rofs_meta m;
    mk_meta(&o, &sb, &m);
    if (rofs_add_dir(o.b, "/", &m, err, sizeof(err)) != 0)
        die("mkrofs: %s", err);
    if (mk_walk(&o, dir, "/") != 0) {
        rofs_builder_free(o.b);
        return 1;
    }

    /* Write beside the target, then rename: a failure leaves no image. */
    char *tmp = xmalloc(strlen(image) + 16);
    sprintf(tmp, "%s.tmp.XXXXXX", image);
    int fd = mkstemp(tmp);
    if (fd < 0)
        die("mkrofs: %s: %s", tmp, strerror(errno));
    int ret = 0;
    if (rofs_builder_write(o.b, fd, isatty(2) ? mk_progress : NULL, NULL,
                           err, sizeof(err)) != 0)
        ret = fail1("mkrofs: %s: %s", image, err);
    else if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
        ret = fail1("mkrofs: %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && ret == 0)
        ret = fail1("mkrofs: %s: %s", tmp, strerror(errno));
    if (ret == 0 && rename(tmp, image) != 0)
        ret = fail1("mkrofs: %s: %s", image, strerror(errno));
    if (ret != 0)
        unlink(tmp);
    else
        printf("%s: %llu entries from %s\n", image, (unsigned long long)o.entries + 1, dir);
    free(tmp);
    rofs_builder_free(o.b);
    return ret;
}
