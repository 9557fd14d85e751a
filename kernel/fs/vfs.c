/*
 * The VFS over the shared ROFS reader (kernel/fs/rofs/rofs_reader.c). The
 * image lives in memory (a boot module, or a disk read whole at boot, both
 * reached through the direct map), so reads are copies out of it and
 * mappings point straight into it.
 */
#include <arch/mm.h>
#include <kern/blkdev.h>
#include <kern/boot.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/page_alloc.h>
#include <kern/printk.h>
#include <kern/rofs.h>
#include <kern/string.h>
#include <kern/timer.h>
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

static enum rofs_status mount_image(const void *img, uint64_t len, struct rofs_error *err)
{
    enum rofs_status s = rofs_open(&root, img, len, 0, err);
    if (s == ROFS_OK)
        mounted = true;
    return s;
}

static int mount_module(const struct boot_module *m)
{
    struct rofs_error err;
    if (mount_image(phys_to_virt(m->start), m->end - m->start, &err) != ROFS_OK) {
        pr_err("vfs: the boot module is not a usable ROFS image: %s\n", err.msg);
        return -EIO;
    }
    pr_info("vfs: mounted ROFS %u.%u from boot module 0 (%llu KiB, %u inodes) on /\n",
            root.version_major, root.version_minor,
            (unsigned long long)(m->end - m->start) / 1024, root.inode_count);
    return 0;
}

/*
 * The root from a disk. The VFS uses its image in place (vfs_map hands out
 * pointers into it, and the ELF loader maps file pages straight from it
 * by physical address), so the image is read once, whole, into physically
 * contiguous pages and from then on treated like a boot module. Its size
 * is the superblock's image_size, not the disk's: a disk rounded up costs
 * no memory. The pages stay allocated for good, also when the image turns
 * out bad: the kernel stops then anyway.
 */
static int mount_disk(struct blkdev *bd)
{
    uint64_t disk_bytes = bd->sectors > UINT64_MAX / BLK_SECTOR_SIZE ? UINT64_MAX :
                          bd->sectors * BLK_SECTOR_SIZE;
    if (disk_bytes < ROFS_BLOCK_SIZE) {
        pr_err("vfs: disk %s: %llu bytes, too small for a ROFS image\n", bd->name,
               (unsigned long long)disk_bytes);
        return -EIO;
    }
    paddr_t first_pa = page_alloc(0);
    if (!first_pa) {
        pr_err("vfs: disk %s: out of memory\n", bd->name);
        return -EIO;
    }
    uint8_t *first = phys_to_virt(first_pa);
    int r = blk_read(bd, 0, first, ROFS_BLOCK_SIZE);
    if (r < 0) {
        pr_err("vfs: disk %s: cannot read its first block (error %d)\n", bd->name, r);
        return -EIO;
    }
    /* Enough of the superblock to know how much to read; rofs_open
     * checks all of it once the image is in memory. */
    if (memcmp(first + ROFS_SB_MAGIC, ROFS_MAGIC, ROFS_MAGIC_LEN) != 0) {
        pr_err("vfs: disk %s: not a ROFS image (bad magic)\n", bd->name);
        return -EIO;
    }
    uint64_t size;
    memcpy(&size, first + ROFS_SB_IMAGESIZE, sizeof(size));
    if (size == 0 || size % ROFS_BLOCK_SIZE) {
        pr_err("vfs: disk %s: not a usable ROFS image: image size %llu is not a positive "
               "multiple of %u\n", bd->name, (unsigned long long)size, ROFS_BLOCK_SIZE);
        return -EIO;
    }
    if (size > disk_bytes) {
        pr_err("vfs: disk %s: not a usable ROFS image: truncated (the image is %llu bytes, "
               "the disk %llu)\n", bd->name, (unsigned long long)size,
               (unsigned long long)disk_bytes);
        return -EIO;
    }
    unsigned order = page_order_for(size);
    paddr_t pa = order <= PAGE_ALLOC_MAX_ORDER ? page_alloc(order) : 0;
    if (!pa) {
        pr_err("vfs: disk %s: no %llu KiB of contiguous memory for its ROFS image (give the "
               "guest more memory)\n", bd->name, (unsigned long long)size / 1024);
        return -EIO;
    }
    page_alloc_trim(pa, order, ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE);
    uint8_t *img = phys_to_virt(pa);
    memcpy(img, first, ROFS_BLOCK_SIZE);
    page_free(first_pa, 0);
    uint64_t t0 = clock_monotonic_ns();
    r = blk_read(bd, ROFS_BLOCK_SIZE / BLK_SECTOR_SIZE, img + ROFS_BLOCK_SIZE,
                 size - ROFS_BLOCK_SIZE);
    uint64_t ms = (clock_monotonic_ns() - t0) / 1000000;
    if (r < 0) {
        pr_err("vfs: disk %s: reading the ROFS image failed (error %d)\n", bd->name, r);
        return -EIO;
    }

    struct rofs_error err;
    if (mount_image(img, size, &err) != ROFS_OK) {
        pr_err("vfs: disk %s: not a usable ROFS image: %s\n", bd->name, err.msg);
        return -EIO;
    }
    pr_info("vfs: mounted ROFS %u.%u from disk %s (%llu KiB, %u inodes, read in %llu ms) "
            "on /\n", root.version_major, root.version_minor, bd->name,
            (unsigned long long)size / 1024, root.inode_count, (unsigned long long)ms);
    return 0;
}

int vfs_mount_root(void)
{
    if (boot_info.nr_modules > 0)
        return mount_module(&boot_info.modules[0]);
    struct blkdev *bd = blkdev_get(0);
    if (bd)
        return mount_disk(bd);
    return -ENOENT;
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
