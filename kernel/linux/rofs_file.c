/*
 * kfiles for paths: files and directories of the ROFS root (through the
 * VFS), and the few device files programs expect (/dev/null, /dev/zero,
 * /dev/urandom, /dev/random). The file system is read-only: opening for
 * writing, creating or truncating fails with EROFS.
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/random.h>
#include <kern/string.h>
#include <kern/vfs.h>
#include <kern/vm.h>
#include "linux.h"
#include "proc_files.h"
#include "rofs_file.h"

/* ---- ROFS files ------------------------------------------------------------ */

static int64_t rofs_pread(struct kfile *f, void *buf, size_t n, uint64_t off)
{
    return vfs_pread(f->priv, buf, n, off);
}

static int64_t rofs_read(struct kfile *f, void *buf, size_t n, uint64_t *pos)
{
    int64_t r = vfs_pread(f->priv, buf, n, *pos);
    if (r > 0)
        *pos += (uint64_t)r;
    return r;
}

static int64_t rofs_lseek(struct kfile *f, int64_t off, int whence)
{
    struct kstat st;
    int64_t base;
    vfs_fstat(f->priv, &st);
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)f->pos; break;
    case SEEK_END: base = (int64_t)st.size; break;
    case 3:                                     /* SEEK_DATA: no holes */
        if (off < 0 || (uint64_t)off >= st.size)
            return -ENXIO;
        return f->pos = (uint64_t)off;
    case 4:                                     /* SEEK_HOLE: the end */
        if (off < 0 || (uint64_t)off > st.size)
            return -ENXIO;
        return f->pos = st.size;
    default: return -EINVAL;
    }
    if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
        return -EINVAL;
    f->pos = (uint64_t)(base + off);
    return (int64_t)f->pos;
}

static int rofs_stat(struct kfile *f, struct kstat *st)
{
    return vfs_fstat(f->priv, st);
}

static int rofs_readdir(struct kfile *f, uint64_t index, struct kdirent *de)
{
    return vfs_readdir(f->priv, index, de);
}

static int rofs_mmap(struct kfile *f, struct vm_file *out)
{
    struct kstat st;
    vfs_fstat(f->priv, &st);
    if ((st.mode & S_IFMT) != S_IFREG)
        return -ENODEV;
    out->size = st.size;
    out->data = st.size ? vfs_map(f->priv, 0, st.size) : NULL;
    return st.size && !out->data ? -ENODEV : 0;
}

static void rofs_release(struct kfile *f)
{
    vfs_close(f->priv);
}

static const struct kfile_ops rofs_ops = {
    .kind = "file",
    .read = rofs_read,
    .pread = rofs_pread,
    .lseek = rofs_lseek,
    .stat = rofs_stat,
    .readdir = rofs_readdir,
    .mmap = rofs_mmap,
    .release = rofs_release,
};

/* ---- device files ------------------------------------------------------------ */

enum dev { DEV_NULL, DEV_ZERO, DEV_RANDOM };

static int64_t dev_read(struct kfile *f, void *buf, size_t n, uint64_t *pos)
{
    switch ((enum dev)(uintptr_t)f->priv) {
    case DEV_NULL:
        return 0;
    case DEV_ZERO:
        memset(buf, 0, n);
        return (int64_t)n;
    default:
        random_to_app(buf, n);
        return (int64_t)n;
    }
}

static int64_t dev_write(struct kfile *f, const void *buf, size_t n, uint64_t *pos)
{
    return (int64_t)n;                  /* all three discard what is written */
}

static int64_t dev_pread(struct kfile *f, void *buf, size_t n, uint64_t off)
{
    return dev_read(f, buf, n, &off);
}

static int64_t dev_pwrite(struct kfile *f, const void *buf, size_t n, uint64_t off)
{
    return (int64_t)n;
}

static int64_t dev_lseek(struct kfile *f, int64_t off, int whence)
{
    return 0;
}

static int dev_stat(struct kfile *f, struct kstat *st)
{
    static const uint32_t rdev[] = { [DEV_NULL] = 0x103, [DEV_ZERO] = 0x105,
                                     [DEV_RANDOM] = 0x109 };
    memset(st, 0, sizeof(*st));
    st->mode = 0020666;                 /* S_IFCHR, rw for all */
    st->nlink = 1;
    st->ino = 0x100 + (uint64_t)(uintptr_t)f->priv;
    st->rdev = rdev[(uintptr_t)f->priv];
    return 0;
}

static const struct kfile_ops dev_ops = {
    .kind = "device",
    .read = dev_read,
    .write = dev_write,
    .pread = dev_pread,
    .pwrite = dev_pwrite,
    .lseek = dev_lseek,
    .stat = dev_stat,
};

static const struct {
    const char *path;
    enum dev dev;
} devices[] = {
    { "/dev/null", DEV_NULL },
    { "/dev/zero", DEV_ZERO },
    { "/dev/urandom", DEV_RANDOM },
    { "/dev/random", DEV_RANDOM },
};

/* ---- opening ----------------------------------------------------------------- */

bool path_is_device(const char *path, struct kstat *st)
{
    for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
        if (!strcmp(path, devices[i].path)) {
            if (st) {
                struct kfile f = { .priv = (void *)(uintptr_t)devices[i].dev };
                dev_stat(&f, st);
            }
            return true;
        }
    return false;
}

int path_open(const char *path, int flags, struct kfile **out)
{
    int acc = flags & O_ACCMODE;
    unsigned keep = flags & (O_ACCMODE | O_NONBLOCK | O_APPEND | O_LARGEFILE | O_DIRECT |
                             O_NOATIME | O_SYNC | O_DSYNC | O_PATH);
    for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
        if (strcmp(path, devices[i].path))
            continue;
        if (flags & O_DIRECTORY)
            return -ENOTDIR;
        *out = kfile_alloc(&dev_ops, (void *)(uintptr_t)devices[i].dev, keep);
        return *out ? 0 : -ENOMEM;
    }
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return -EROFS;
    if (!strncmp(path, "/proc/", 6) || !strncmp(path, "/sys/", 5)) {
        int err = proc_open(path, flags, out);
        if (err != -ENOENT)
            return err;
    }
    struct file *vf;
    int err = vfs_open(path, (flags & (O_DIRECTORY | O_NOFOLLOW)) | O_RDONLY, &vf);
    if (err == -ENOENT && (flags & O_CREAT))
        return -EROFS;                  /* it would have to be created */
    if (err)
        return err;
    struct kstat st;
    vfs_fstat(vf, &st);
    if ((flags & O_CREAT) && (flags & O_EXCL)) {
        vfs_close(vf);
        return -EEXIST;
    }
    if ((flags & O_CREAT) && (st.mode & S_IFMT) == S_IFDIR) {
        vfs_close(vf);
        return -EISDIR;
    }
    if (acc != O_RDONLY || (flags & O_TRUNC)) {
        vfs_close(vf);
        return (st.mode & S_IFMT) == S_IFDIR && acc != O_RDONLY ? -EISDIR : -EROFS;
    }
    struct kfile *f = kfile_alloc(&rofs_ops, vf, keep);
    char *copy = kmalloc(strlen(path) + 1);
    if (!f || !copy) {
        kfree(copy);
        if (f)
            kfile_put(f);               /* closes vf */
        else
            vfs_close(vf);
        return -ENOMEM;
    }
    memcpy(copy, path, strlen(path) + 1);
    f->path = copy;
    *out = f;
    return 0;
}
