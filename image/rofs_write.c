/*
 * The ROFS writer (interface in rofs_write.h, format in docs/rofs.md).
 *
 * The builder keeps only the tree and the small things (names, symlink
 * targets, in-memory file data the caller handed over); file contents from
 * the host are streamed twice while writing, once to compute the SHA-256
 * that deduplicates them and once to copy them, so an image with a 4 GiB
 * file needs a 1 MiB buffer, not 4 GiB. A file that changes between the two
 * reads is caught (its size or digest differs) and fails the build rather
 * than producing an image whose digests lie.
 *
 * Layout decisions that make the output deterministic and checkable:
 *   - inodes are numbered breadth-first from the root, each directory's
 *     children in name order (byte order, shorter first), so entry j of
 *     the entry table names inode j + 2;
 *   - the string table holds the entry names in entry order, then the
 *     symlink targets in inode order, each followed by a NUL;
 *   - distinct file contents are stored in inode order of their first
 *     file, each at a 4096-byte boundary; padding is zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kern/rofs.h>
#include <kern/sha256.h>

#include "rofs_write.h"

#define COPY_CHUNK (1u << 20)

enum node_type { N_DIR, N_REG, N_LNK };

struct node {
    char *path;                 /* full guest path, for messages and lookup */
    const char *name;           /* last component, inside path */
    size_t name_len;
    enum node_type type;
    struct rofs_meta meta;
    bool explicit_;             /* added by the caller (not implied by a child) */
    struct node *parent;

    struct node **kids;         /* directories */
    size_t nkids, kcap;

    char *host_path;            /* files from the host */
    uint8_t *data;              /* files from memory */
    size_t data_len;
    char *target;               /* symlinks */

    /* filled while writing */
    uint32_t ino;
    uint64_t size;              /* file bytes */
    uint8_t sha[SHA256_DIGEST_SIZE];
    struct node *owner;         /* the file whose extent this one shares, or self */
    uint64_t off;               /* file: data offset; dir: first entry; link: strtab */
    uint32_t name_off;          /* the entry's name in the string table */
};

struct rofs_builder {
    struct node *root;
    struct rofs_meta defaults;  /* for implied directories */
    /* open-addressing hash of path -> node */
    struct node **tab;
    size_t tab_cap, tab_used;
    bool oom;                   /* an allocation failed; every call fails */
};

/* ---- small helpers ------------------------------------------------------ */

static int __attribute__((format(printf, 3, 4)))
err_set(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    while (n--) {
        h ^= *s++;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static struct node **tab_slot(struct node **tab, size_t cap, const char *path)
{
    size_t i = (size_t)fnv1a(path, strlen(path)) & (cap - 1);
    while (tab[i] && strcmp(tab[i]->path, path) != 0)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static struct node *tab_find(struct rofs_builder *b, const char *path)
{
    return *tab_slot(b->tab, b->tab_cap, path);
}

static bool tab_insert(struct rofs_builder *b, struct node *n)
{
    if ((b->tab_used + 1) * 2 > b->tab_cap) {
        size_t cap = b->tab_cap * 2;
        struct node **t = calloc(cap, sizeof(*t));
        if (!t)
            return false;
        for (size_t i = 0; i < b->tab_cap; i++)
            if (b->tab[i])
                *tab_slot(t, cap, b->tab[i]->path) = b->tab[i];
        free(b->tab);
        b->tab = t;
        b->tab_cap = cap;
    }
    *tab_slot(b->tab, b->tab_cap, n->path) = n;
    b->tab_used++;
    return true;
}

static struct node *node_new(const char *path, size_t len, enum node_type type)
{
    struct node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->path = malloc(len + 1);
    if (!n->path) {
        free(n);
        return NULL;
    }
    memcpy(n->path, path, len);
    n->path[len] = 0;
    const char *slash = strrchr(n->path, '/');
    n->name = slash + 1;
    n->name_len = strlen(n->name);
    n->type = type;
    return n;
}

static void node_free(struct node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->path);
    free(n->host_path);
    free(n->data);
    free(n->target);
    free(n);
}

static bool add_kid(struct node *dir, struct node *kid)
{
    if (dir->nkids == dir->kcap) {
        size_t cap = dir->kcap ? dir->kcap * 2 : 8;
        struct node **k = realloc(dir->kids, cap * sizeof(*k));
        if (!k)
            return false;
        dir->kids = k;
        dir->kcap = cap;
    }
    dir->kids[dir->nkids++] = kid;
    kid->parent = dir;
    return true;
}

/* ---- the builder -------------------------------------------------------- */

struct rofs_builder *rofs_builder_new(void)
{
    struct rofs_builder *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->defaults.mode = 0755;
    b->tab_cap = 64;
    b->tab = calloc(b->tab_cap, sizeof(*b->tab));
    b->root = node_new("/", 1, N_DIR);
    if (!b->tab || !b->root) {
        free(b->tab);
        node_free(b->root);
        free(b);
        return NULL;
    }
    b->root->name = "";
    b->root->name_len = 0;
    b->root->meta = b->defaults;
    b->root->parent = b->root;
    tab_insert(b, b->root);
    return b;
}

void rofs_builder_free(struct rofs_builder *b)
{
    if (!b)
        return;
    node_free(b->root);
    free(b->tab);
    free(b);
}

void rofs_builder_set_defaults(struct rofs_builder *b, const struct rofs_meta *m)
{
    b->defaults = *m;
    b->defaults.mode &= 07777;
    if (!b->root->explicit_)
        b->root->meta = b->defaults;
}

/* Check a guest path: absolute, no empty, "." or ".." components, no
 * trailing slash (except "/" itself), names and the whole within limits. */
static int check_path(const char *path, char *err, size_t errlen)
{
    if (!path || path[0] != '/')
        return err_set(err, errlen, "%s: guest paths must be absolute",
                       path ? path : "(null)");
    size_t len = strlen(path);
    if (len >= ROFS_PATH_MAX)
        return err_set(err, errlen, "%.64s...: guest path longer than %u bytes",
                       path, ROFS_PATH_MAX - 1);
    if (len == 1)
        return 0;
    const char *p = path + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0)
            return err_set(err, errlen, "%s: empty path component (repeated or "
                           "trailing '/')", path);
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return err_set(err, errlen, "%s: '.' and '..' are not allowed in "
                           "guest paths", path);
        if (n > ROFS_NAME_MAX)
            return err_set(err, errlen, "%s: a name is longer than %u bytes",
                           path, ROFS_NAME_MAX);
        if (!end)
            return 0;
        p = end + 1;
    }
}

static int check_meta(const char *path, const struct rofs_meta *m,
                      char *err, size_t errlen)
{
    if (!m)
        return err_set(err, errlen, "%s: no metadata given", path);
    if (m->mode & ~07777u)
        return err_set(err, errlen, "%s: mode 0%o has bits outside 07777 (give "
                       "permission bits only)", path, m->mode);
    return 0;
}

/* The directory that will hold path, creating implied directories. */
static struct node *parent_dir(struct rofs_builder *b, const char *path,
                               char *err, size_t errlen)
{
    struct node *dir = b->root;
    const char *p = path + 1;
    const char *end;
    while ((end = strchr(p, '/')) != NULL) {
        size_t len = (size_t)(end - path);
        char *prefix = strndup(path, len);
        if (!prefix)
            goto oom;
        struct node *n = tab_find(b, prefix);
        if (n && n->type != N_DIR) {
            err_set(err, errlen, "%s: %s is a %s, not a directory", path, prefix,
                    n->type == N_LNK ? "symlink" : "file");
            free(prefix);
            return NULL;
        }
        if (!n) {
            n = node_new(path, len, N_DIR);
            if (!n || !add_kid(dir, n) || !tab_insert(b, n)) {
                if (n && n->parent == dir)
                    dir->nkids--;
                node_free(n);
                free(prefix);
                goto oom;
            }
            n->meta = b->defaults;
        }
        free(prefix);
        dir = n;
        p = end + 1;
    }
    return dir;
oom:
    b->oom = true;
    err_set(err, errlen, "%s: out of memory", path);
    return NULL;
}

/* Common part of the add functions: validate, then find or create the node.
 * Returns NULL with err set on failure. */
static struct node *add_node(struct rofs_builder *b, const char *path,
                             enum node_type type, const struct rofs_meta *m,
                             char *err, size_t errlen)
{
    if (b->oom) {
        err_set(err, errlen, "%s: out of memory earlier", path ? path : "");
        return NULL;
    }
    if (check_path(path, err, errlen) || check_meta(path, m, err, errlen))
        return NULL;

    struct node *n = tab_find(b, path);
    if (n) {
        if (n->type == N_DIR && !n->explicit_ && type == N_DIR) {
            n->meta = *m;
            n->explicit_ = true;
            return n;
        }
        if (n->type == N_DIR && !n->explicit_)
            err_set(err, errlen, "%s: duplicate guest path (already a directory "
                    "holding other entries)", path);
        else
            err_set(err, errlen, "%s: duplicate guest path", path);
        return NULL;
    }
    struct node *dir = parent_dir(b, path, err, errlen);
    if (!dir)
        return NULL;
    n = node_new(path, strlen(path), type);
    if (!n || !add_kid(dir, n)) {
        node_free(n);
        b->oom = true;
        err_set(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (!tab_insert(b, n)) {
        dir->nkids--;
        node_free(n);
        b->oom = true;
        err_set(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    n->meta = *m;
    n->explicit_ = true;
    return n;
}

int rofs_add_dir(struct rofs_builder *b, const char *guest_path,
                 const struct rofs_meta *m, char *err, size_t errlen)
{
    return add_node(b, guest_path, N_DIR, m, err, errlen) ? 0 : -1;
}

int rofs_add_file(struct rofs_builder *b, const char *guest_path,
                  const char *host_path, const struct rofs_meta *m,
                  char *err, size_t errlen)
{
    struct stat sb;
    /* Fail early, with both names, rather than at write time. */
    if (!host_path || stat(host_path, &sb) != 0)
        return err_set(err, errlen, "%s: host file %s: %s", guest_path,
                       host_path ? host_path : "(null)", strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return err_set(err, errlen, "%s: host file %s is not a regular file",
                       guest_path, host_path);
    char *copy = strdup(host_path);
    if (!copy)
        return err_set(err, errlen, "%s: out of memory", guest_path);
    struct node *n = add_node(b, guest_path, N_REG, m, err, errlen);
    if (!n) {
        free(copy);
        return -1;
    }
    n->host_path = copy;
    return 0;
}

int rofs_add_file_data(struct rofs_builder *b, const char *guest_path,
                       const void *data, size_t len, const struct rofs_meta *m,
                       char *err, size_t errlen)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return err_set(err, errlen, "%s: out of memory (%zu bytes)", guest_path, len);
    if (len)
        memcpy(copy, data, len);
    struct node *n = add_node(b, guest_path, N_REG, m, err, errlen);
    if (!n) {
        free(copy);
        return -1;
    }
    n->data = copy;
    n->data_len = len;
    return 0;
}

int rofs_add_symlink(struct rofs_builder *b, const char *guest_path,
                     const char *target, const struct rofs_meta *m,
                     char *err, size_t errlen)
{
    size_t tlen = target ? strlen(target) : 0;
    if (tlen < 1 || tlen > ROFS_SYMLINK_MAX)
        return err_set(err, errlen, "%s: symlink target must be 1 to %u bytes",
                       guest_path, ROFS_SYMLINK_MAX);
    char *copy = strdup(target);
    if (!copy)
        return err_set(err, errlen, "%s: out of memory", guest_path);
    struct node *n = add_node(b, guest_path, N_LNK, m, err, errlen);
    if (!n) {
        free(copy);
        return -1;
    }
    n->target = copy;
    return 0;
}

/* ---- writing ------------------------------------------------------------ */

struct writer {
    struct rofs_builder *b;
    int fd;
    void (*progress)(uint64_t done, uint64_t total, void *arg);
    void *parg;
    uint64_t done, total;
    uint8_t *buf;               /* COPY_CHUNK bytes */
    char *err;
    size_t errlen;
    struct node **order;        /* inode order: order[ino - 1] */
    size_t n;
    bool sparse;                /* fd started empty: zero blocks may be holes */
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static int kid_cmp(const void *a, const void *b)
{
    const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c)
        return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

static void tick(struct writer *w, uint64_t bytes)
{
    w->done += bytes;
    if (w->progress)
        w->progress(w->done, w->total, w->parg);
}

static int write_all(struct writer *w, const void *p, size_t n)
{
    const uint8_t *s = p;
    while (n) {
        ssize_t r = write(w->fd, s, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return err_set(w->err, w->errlen, "writing the image: %s",
                           r < 0 ? strerror(errno) : "short write");
        s += r;
        n -= (size_t)r;
    }
    return 0;
}

/*
 * Write file data, leaving all-zero blocks as holes: a sparse host file
 * (a disk image, a preallocated database) stays sparse in rofs.img and
 * costs no disk space for its zeros. Only when the image file started
 * empty (a hole reads as zeros there); rofs_builder_write's final
 * ftruncate gives a trailing hole its size. Data starts block-aligned in
 * the image and chunks are whole blocks, so the blocks tested here are the
 * file system's too.
 */
static int write_data(struct writer *w, const uint8_t *p, size_t n)
{
    static const uint8_t zero[ROFS_BLOCK_SIZE];
    if (!w->sparse)
        return write_all(w, p, n);
    while (n) {
        size_t k = n < ROFS_BLOCK_SIZE ? n : ROFS_BLOCK_SIZE;
        size_t run = 0;
        while (run < n && !memcmp(p + run, zero, k) && k == ROFS_BLOCK_SIZE) {
            run += k;
            k = n - run < ROFS_BLOCK_SIZE ? n - run : ROFS_BLOCK_SIZE;
        }
        if (run) {
            if (lseek(w->fd, (off_t)run, SEEK_CUR) < 0)
                return err_set(w->err, w->errlen, "writing the image: %s", strerror(errno));
            p += run;
            n -= run;
            continue;
        }
        if (write_all(w, p, k))
            return -1;
        p += k;
        n -= k;
    }
    return 0;
}

/* Read a host file in chunks, hashing it; with copy, also write each chunk
 * to the image (and stop if the file grew past the size hashed before). */
static int stream_file(struct writer *w, struct node *f, bool copy,
                       uint8_t sha[SHA256_DIGEST_SIZE], uint64_t *size)
{
    int fd = open(f->host_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(w->err, w->errlen, "%s: host file %s: %s", f->path,
                       f->host_path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return err_set(w->err, w->errlen, "%s: host file %s is not a regular file",
                       f->path, f->host_path);
    }
    struct sha256_ctx c;
    sha256_init(&c);
    uint64_t total = 0;
    for (;;) {
        ssize_t r = read(fd, w->buf, COPY_CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return err_set(w->err, w->errlen, "%s: reading host file %s: %s",
                           f->path, f->host_path, strerror(e));
        }
        if (r == 0)
            break;
        sha256_update(&c, w->buf, (size_t)r);
        total += (uint64_t)r;
        if (copy) {
            if (total > f->size) {
                close(fd);
                return err_set(w->err, w->errlen, "%s: host file %s grew while "
                               "the image was being written", f->path, f->host_path);
            }
            if (write_data(w, w->buf, (size_t)r)) {
                close(fd);
                return -1;
            }
        }
        tick(w, (uint64_t)r);
    }
    close(fd);
    sha256_final(&c, sha);
    *size = total;
    return 0;
}

/* Breadth-first numbering; order[] doubles as the queue. */
static int number_inodes(struct writer *w)
{
    size_t count = 0, cap = 64;
    w->order = malloc(cap * sizeof(*w->order));
    if (!w->order)
        return err_set(w->err, w->errlen, "out of memory");
    w->order[count++] = w->b->root;
    uint64_t entries = 0;
    for (size_t i = 0; i < count; i++) {
        struct node *d = w->order[i];
        d->ino = (uint32_t)(i + 1);
        if (d->type != N_DIR)
            continue;
        if (d->nkids)
            qsort(d->kids, d->nkids, sizeof(*d->kids), kid_cmp);
        d->off = entries;
        entries += d->nkids;
        if (count + d->nkids > ROFS_MAX_INODES)
            return err_set(w->err, w->errlen, "too many entries (the limit is %u)",
                           ROFS_MAX_INODES);
        if (count + d->nkids > cap) {
            while (count + d->nkids > cap)
                cap *= 2;
            struct node **o = realloc(w->order, cap * sizeof(*o));
            if (!o)
                return err_set(w->err, w->errlen, "out of memory");
            w->order = o;
        }
        for (size_t k = 0; k < d->nkids; k++)
            w->order[count++] = d->kids[k];
    }
    w->n = count;
    return 0;
}

/* Hash every file and pick the extent owner for each distinct content. */
static int hash_files(struct writer *w)
{
    size_t cap = 64;
    while (cap < w->n * 2)
        cap *= 2;
    struct node **tab = calloc(cap, sizeof(*tab));
    if (!tab)
        return err_set(w->err, w->errlen, "out of memory");

    for (size_t i = 0; i < w->n; i++) {
        struct node *f = w->order[i];
        if (f->type != N_REG)
            continue;
        if (f->host_path) {
            if (stream_file(w, f, false, f->sha, &f->size)) {
                free(tab);
                return -1;
            }
        } else {
            sha256(f->data, f->data_len, f->sha);
            f->size = f->data_len;
            tick(w, f->data_len);
        }
        f->owner = f;
        if (f->size == 0)
            continue;
        uint64_t key;
        memcpy(&key, f->sha, sizeof(key));
        size_t j = (size_t)(key ^ f->size) & (cap - 1);
        while (tab[j] && !(tab[j]->size == f->size &&
                           memcmp(tab[j]->sha, f->sha, SHA256_DIGEST_SIZE) == 0))
            j = (j + 1) & (cap - 1);
        if (tab[j])
            f->owner = tab[j];
        else
            tab[j] = f;
    }
    free(tab);
    return 0;
}

static int copy_extent(struct writer *w, struct node *f)
{
    if (f->host_path) {
        uint8_t sha[SHA256_DIGEST_SIZE];
        uint64_t size;
        if (stream_file(w, f, true, sha, &size))
            return -1;
        if (size != f->size || memcmp(sha, f->sha, sizeof(sha)) != 0)
            return err_set(w->err, w->errlen, "%s: host file %s changed while the "
                           "image was being written", f->path, f->host_path);
    } else {
        if (write_all(w, f->data, f->data_len))
            return -1;
        tick(w, f->data_len);
    }
    size_t pad = (size_t)(-f->size & (ROFS_BLOCK_SIZE - 1));
    memset(w->buf, 0, pad);
    if (w->sparse && pad)           /* the rest of a block: no hole */
        return lseek(w->fd, (off_t)pad, SEEK_CUR) < 0 ?
               err_set(w->err, w->errlen, "writing the image: %s", strerror(errno)) : 0;
    return write_all(w, w->buf, pad);
}

int rofs_builder_write(struct rofs_builder *b, int fd,
                       void (*progress)(uint64_t done, uint64_t total, void *arg),
                       void *arg, char *err, size_t errlen)
{
    struct writer w = { .b = b, .fd = fd, .progress = progress, .parg = arg,
                        .err = err, .errlen = errlen };
    uint8_t *meta = NULL;
    int ret = -1;

    if (b->oom)
        return err_set(err, errlen, "out of memory earlier while adding entries");
    struct stat fst;
    w.sparse = fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode) && fst.st_size == 0 &&
               lseek(fd, 0, SEEK_CUR) == 0;
    w.buf = malloc(COPY_CHUNK);
    if (!w.buf) {
        err_set(err, errlen, "out of memory");
        goto out;
    }
    if (number_inodes(&w))
        goto out;

    /* Progress counts every byte read: the hashing pass, then the copy. */
    for (size_t i = 0; i < w.n; i++) {
        struct node *f = w.order[i];
        if (f->type != N_REG)
            continue;
        if (f->host_path) {
            struct stat sb;
            if (stat(f->host_path, &sb) == 0)
                w.total += 2 * (uint64_t)sb.st_size;
        } else {
            w.total += 2 * (uint64_t)f->data_len;
        }
    }
    if (hash_files(&w))
        goto out;
    uint64_t hashed = w.done;
    w.total = 2 * hashed;       /* now exact, whatever the files did meanwhile */

    /* The string table: entry names in entry (= inode) order, then targets. */
    uint64_t strtab_size = 0;
    for (size_t i = 1; i < w.n; i++)
        strtab_size += w.order[i]->name_len + 1;
    for (size_t i = 0; i < w.n; i++)
        if (w.order[i]->type == N_LNK)
            strtab_size += strlen(w.order[i]->target) + 1;
    if (strtab_size > UINT32_MAX) {
        err_set(err, errlen, "names and symlink targets exceed 4 GiB");
        goto out;
    }

    uint64_t inode_off = ROFS_SB_SIZE;
    uint64_t dirent_off = inode_off + (uint64_t)w.n * ROFS_INODE_SIZE;
    uint64_t strtab_off = dirent_off + (uint64_t)(w.n - 1) * ROFS_DIRENT_SIZE;
    uint64_t data_off = (strtab_off + strtab_size + ROFS_BLOCK_SIZE - 1) &
                        ~(uint64_t)(ROFS_BLOCK_SIZE - 1);
    uint64_t end = data_off;
    for (size_t i = 0; i < w.n; i++) {
        struct node *f = w.order[i];
        if (f->type != N_REG || f->size == 0 || f->owner != f)
            continue;
        f->off = end;
        end += (f->size + ROFS_BLOCK_SIZE - 1) & ~(uint64_t)(ROFS_BLOCK_SIZE - 1);
    }

    meta = calloc(1, data_off);
    if (!meta) {
        err_set(err, errlen, "out of memory (%llu bytes of metadata)",
                (unsigned long long)data_off);
        goto out;
    }
    uint8_t *strtab = meta + strtab_off;
    uint32_t spos = 0;
    for (size_t i = 1; i < w.n; i++) {
        struct node *e = w.order[i];
        uint8_t *de = meta + dirent_off + (i - 1) * ROFS_DIRENT_SIZE;
        e->name_off = spos;
        memcpy(strtab + spos, e->name, e->name_len);
        spos += (uint32_t)e->name_len + 1;
        put32(de + ROFS_DE_INO, e->ino);
        put32(de + ROFS_DE_NAMEOFF, e->name_off);
        put16(de + ROFS_DE_NAMELEN, (uint16_t)e->name_len);
        de[ROFS_DE_TYPE] = e->type == N_DIR ? ROFS_DT_DIR :
                           e->type == N_REG ? ROFS_DT_REG : ROFS_DT_LNK;
    }
    for (size_t i = 0; i < w.n; i++) {
        struct node *x = w.order[i];
        uint8_t *ip = meta + inode_off + i * ROFS_INODE_SIZE;
        uint32_t type = 0, nlink = 1, parent = 0;
        uint64_t size = 0, off = 0;
        switch (x->type) {
        case N_DIR:
            type = ROFS_S_IFDIR;
            nlink = 2;
            for (size_t k = 0; k < x->nkids; k++)
                nlink += x->kids[k]->type == N_DIR;
            parent = x->parent->ino;
            size = x->nkids;
            off = x->off;
            break;
        case N_REG:
            type = ROFS_S_IFREG;
            size = x->size;
            off = x->size ? x->owner->off : 0;
            memcpy(ip + ROFS_INO_SHA256, x->sha, SHA256_DIGEST_SIZE);
            break;
        case N_LNK: {
            size_t tlen = strlen(x->target);
            type = ROFS_S_IFLNK;
            size = tlen;
            off = spos;
            memcpy(strtab + spos, x->target, tlen);
            spos += (uint32_t)tlen + 1;
            break;
        }
        }
        put32(ip + ROFS_INO_MODE, type | (x->meta.mode & 07777));
        put32(ip + ROFS_INO_NLINK, nlink);
        put32(ip + ROFS_INO_UID, x->meta.uid);
        put32(ip + ROFS_INO_GID, x->meta.gid);
        put64(ip + ROFS_INO_MTIME, (uint64_t)x->meta.mtime);
        put32(ip + ROFS_INO_PARENT, parent);
        put64(ip + ROFS_INO_SIZE, size);
        put64(ip + ROFS_INO_OFFSET, off);
    }

    memcpy(meta + ROFS_SB_MAGIC, ROFS_MAGIC, ROFS_MAGIC_LEN);
    put16(meta + ROFS_SB_VMAJOR, ROFS_VERSION_MAJOR);
    put16(meta + ROFS_SB_VMINOR, ROFS_VERSION_MINOR);
    put32(meta + ROFS_SB_SBSIZE, ROFS_SB_SIZE);
    put32(meta + ROFS_SB_BLOCKSIZE, ROFS_BLOCK_SIZE);
    put64(meta + ROFS_SB_IMAGESIZE, end);
    put64(meta + ROFS_SB_DATAOFF, data_off);
    put64(meta + ROFS_SB_DATASIZE, end - data_off);
    put64(meta + ROFS_SB_INODEOFF, inode_off);
    put32(meta + ROFS_SB_INODECOUNT, (uint32_t)w.n);
    put32(meta + ROFS_SB_INODESIZE, ROFS_INODE_SIZE);
    put64(meta + ROFS_SB_DIRENTOFF, dirent_off);
    put32(meta + ROFS_SB_DIRENTCOUNT, (uint32_t)(w.n - 1));
    put32(meta + ROFS_SB_DIRENTSIZE, ROFS_DIRENT_SIZE);
    put64(meta + ROFS_SB_STRTABOFF, strtab_off);
    put64(meta + ROFS_SB_STRTABSIZE, strtab_size);
    put32(meta + ROFS_SB_ROOTINO, ROFS_ROOT_INO);
    put32(meta + ROFS_SB_CRC, rofs_meta_crc(meta, data_off));

    if (write_all(&w, meta, data_off))
        goto out;
    for (size_t i = 0; i < w.n; i++) {
        struct node *f = w.order[i];
        if (f->type != N_REG || f->size == 0)
            continue;
        if (f->owner != f) {
            tick(&w, f->size);      /* shared: nothing to copy */
            continue;
        }
        if (copy_extent(&w, f))
            goto out;
    }
    /* Drop whatever a previous, longer file left behind fd. */
    if (ftruncate(fd, (off_t)end) != 0) {
        err_set(err, errlen, "setting the image size: %s", strerror(errno));
        goto out;
    }
    ret = 0;
out:
    free(meta);
    free(w.buf);
    free(w.order);
    return ret;
}
