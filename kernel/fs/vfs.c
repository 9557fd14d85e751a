/*
 * The VFS over the shared ROFS reader (kernel/fs/rofs/rofs_reader.c). The
 * image lives in memory (a boot module, reached through the direct map),
 * so reads are copies out of it and mappings point straight into it.
 */
#include <arch/mm.h>
#include <kern/boot.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/printk.h>
#include <kern/rofs.h>
#include <kern/string.h>
#include <kern/vfs.h>

struct file {
    uint32_t ino;
    uint32_t mode;
    uint64_t size;
    uint64_t pos;
    const uint8_t *data;        /* regular files: their bytes in the image */
    int flags;
};

static struct rofs root;
static bool mounted;

static int status_to_errno(enum rofs_status s)
{
    switch (s) {
    case ROFS_OK:           return 0;
    case ROFS_ENOENT:       return -ENOENT;
    case ROFS_ENOTDIR:      return -ENOTDIR;
    case ROFS_ELOOP:        return -ELOOP;
    case ROFS_ENAMETOOLONG: return -ENAMETOOLONG;
    case ROFS_EINVAL:       return -EINVAL;
    default:                return -EIO;        /* a corrupt image */
    }
}

int vfs_mount_root(void)
{
    struct rofs_error err;

    if (boot_info.nr_modules == 0)
        return -ENOENT;
    const struct boot_module *m = &boot_info.modules[0];
    enum rofs_status s = rofs_open(&root, phys_to_virt(m->start), m->end - m->start, 0, &err);
    if (s != ROFS_OK) {
        pr_err("vfs: the boot module is not a usable ROFS image: %s\n", err.msg);
        return -EIO;
    }
    mounted = true;
    pr_info("vfs: mounted ROFS %u.%u from boot module 0 (%llu KiB, %u inodes) on /\n",
            root.version_major, root.version_minor,
            (unsigned long long)(m->end - m->start) / 1024, root.inode_count);
    return 0;
}

bool vfs_root_mounted(void)
{
    return mounted;
}

static int resolve(const char *path, bool follow, uint32_t *ino)
{
    struct rofs_error err;
    if (!mounted)
        return -ENOENT;
    size_t len = strnlen(path, ROFS_PATH_MAX + 1);
    if (len == 0)
        return -ENOENT;
    if (len > ROFS_PATH_MAX)
        return -ENAMETOOLONG;
    /* Relative paths start at "/" until there are working directories. */
    return status_to_errno(rofs_resolve(&root, ROFS_ROOT_INO, path, len, follow, ino, &err));
}

int vfs_open(const char *path, int flags, struct file **out)
{
    uint32_t ino;
    struct rofs_stat st;
    struct rofs_error err;

    if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)))
        return -EROFS;
    int r = resolve(path, !(flags & O_NOFOLLOW), &ino);
    if (r < 0)
        return r;
    r = status_to_errno(rofs_stat(&root, ino, &st, &err));
    if (r < 0)
        return r;
    if ((st.mode & S_IFMT) == S_IFLNK)
        return -ELOOP;              /* O_NOFOLLOW on a symlink */
    if ((flags & O_DIRECTORY) && (st.mode & S_IFMT) != S_IFDIR)
        return -ENOTDIR;
    struct file *f = kzalloc(sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->ino = ino;
    f->mode = st.mode;
    f->size = st.size;
    f->flags = flags;
    if ((st.mode & S_IFMT) == S_IFREG) {
        uint64_t off, size;
        r = status_to_errno(rofs_file_data(&root, ino, &off, &size, &err));
        if (r < 0) {
            kfree(f);
            return r;
        }
        f->data = size ? rofs_file_ptr(&root, off) : NULL;
    }
    *out = f;
    return 0;
}

void vfs_close(struct file *f)
{
    kfree(f);
}

int64_t vfs_pread(struct file *f, void *buf, size_t n, uint64_t off)
{
    if ((f->mode & S_IFMT) == S_IFDIR)
        return -EISDIR;
    if (off >= f->size)
        return 0;
    uint64_t avail = f->size - off;
    if (n > avail)
        n = (size_t)avail;
    memcpy(buf, f->data + off, n);
    return (int64_t)n;
}

int64_t vfs_read(struct file *f, void *buf, size_t n)
{
    int64_t r = vfs_pread(f, buf, n, f->pos);
    if (r > 0)
        f->pos += (uint64_t)r;
    return r;
}

int64_t vfs_lseek(struct file *f, int64_t off, int whence)
{
    int64_t base;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)f->pos; break;
    case SEEK_END: base = (int64_t)f->size; break;
    default: return -EINVAL;
    }
    if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
        return -EINVAL;
    f->pos = (uint64_t)(base + off);
    return (int64_t)f->pos;
}

static void fill_stat(const struct rofs_stat *rs, struct kstat *st)
{
    memset(st, 0, sizeof(*st));
    st->ino = rs->ino;
    st->mode = rs->mode;
    st->nlink = rs->nlink;
    st->uid = rs->uid;
    st->gid = rs->gid;
    st->size = rs->size;
    st->mtime = rs->mtime;
    st->mtime_nsec = rs->mtime_nsec;
    st->blocks = (rs->size + 511) / 512;
}

int vfs_fstat(struct file *f, struct kstat *st)
{
    struct rofs_stat rs;
    struct rofs_error err;
    int r = status_to_errno(rofs_stat(&root, f->ino, &rs, &err));
    if (r == 0)
        fill_stat(&rs, st);
    return r;
}

int vfs_stat(const char *path, bool follow, struct kstat *st)
{
    uint32_t ino;
    struct rofs_stat rs;
    struct rofs_error err;
    int r = resolve(path, follow, &ino);
    if (r == 0)
        r = status_to_errno(rofs_stat(&root, ino, &rs, &err));
    if (r == 0)
        fill_stat(&rs, st);
    return r;
}

int vfs_readdir(struct file *f, uint64_t index, struct kdirent *de)
{
    struct rofs_dirent rd;
    struct rofs_error err;
    if ((f->mode & S_IFMT) != S_IFDIR)
        return -ENOTDIR;
    int r = status_to_errno(rofs_readdir(&root, f->ino, index, &rd, &err));
    if (r < 0)
        return r;
    de->ino = rd.ino;
    de->type = rd.type;
    size_t n = MIN((size_t)rd.name_len, sizeof(de->name) - 1);
    memcpy(de->name, rd.name, n);
    de->name[n] = 0;
    return 0;
}

int64_t vfs_readlink(const char *path, char *buf, size_t size)
{
    uint32_t ino;
    const char *target;
    size_t len;
    struct rofs_error err;
    int r = resolve(path, false, &ino);
    if (r < 0)
        return r;
    r = status_to_errno(rofs_readlink(&root, ino, &target, &len, &err));
    if (r < 0)
        return r;
    len = MIN(len, size);
    memcpy(buf, target, len);
    return (int64_t)len;
}

const void *vfs_map(struct file *f, uint64_t off, size_t len)
{
    if ((f->mode & S_IFMT) != S_IFREG || !IS_ALIGNED(off, PAGE_SIZE) ||
        off > f->size || len > f->size - off)
        return NULL;
    return f->data ? f->data + off : NULL;
}
