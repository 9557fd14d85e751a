/*
 * The virtual file system: today one read-only root, the ROFS image that
 * came as the first boot module or on the first disk (kern/blkdev.h). File
 * pages can be used in place: the image is in memory and every file starts
 * on a page boundary, so vfs_map needs no copy.
 *
 * Functions return 0 or a byte count on success and -errno (Linux values,
 * kern/errno.h) on failure.
 */
#ifndef KERN_VFS_H
#define KERN_VFS_H

#include <arch/linux_abi.h>     /* O_DIRECTORY, O_NOFOLLOW: their bits differ by arch */
#include <kern/types.h>

#define O_ACCMODE   03
#define O_RDONLY    00
#define O_WRONLY    01
#define O_RDWR      02
#define O_CREAT     0100
#define O_TRUNC     01000

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

#define S_IFMT   0170000
#define S_IFDIR  0040000
#define S_IFREG  0100000
#define S_IFLNK  0120000
#define S_IFCHR  0020000
#define S_IFIFO  0010000
#define S_IFSOCK 0140000

struct kstat {
    uint64_t ino;
    uint32_t mode, nlink, uid, gid;
    uint64_t size;
    int64_t mtime;
    uint32_t mtime_nsec;
    uint64_t blocks;        /* 512-byte units */
    uint64_t rdev;          /* device files: Linux's (major << 8) | minor */
};

struct kdirent {
    uint64_t ino;
    uint8_t type;           /* DT_DIR 4, DT_REG 8, DT_LNK 10 (Linux values) */
    char name[256];
};

struct file;

/* Mount the root file system from the first boot module, or else from the
 * first block device (read whole into memory). Returns 0, -ENOENT when
 * there is neither, or -EIO for a bad image or a failed read (the reason
 * is printed). */
int vfs_mount_root(void);
bool vfs_root_mounted(void);

int vfs_open(const char *path, int flags, struct file **out);
void vfs_close(struct file *f);
int64_t vfs_read(struct file *f, void *buf, size_t n);
int64_t vfs_pread(struct file *f, void *buf, size_t n, uint64_t off);
int64_t vfs_lseek(struct file *f, int64_t off, int whence);
int vfs_fstat(struct file *f, struct kstat *st);
int vfs_stat(const char *path, bool follow, struct kstat *st);
/* The index-th entry of an open directory; -ENOENT past the end. */
int vfs_readdir(struct file *f, uint64_t index, struct kdirent *de);
/* Copies at most size bytes of the target, no NUL; returns the length. */
int64_t vfs_readlink(const char *path, char *buf, size_t size);
/* The file's bytes [off, off+len) in place, read-only; off page-aligned. */
const void *vfs_map(struct file *f, uint64_t off, size_t len);

#endif
