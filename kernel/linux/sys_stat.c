/*
 * stat, lstat, fstat, newfstatat and statx: file metadata in Linux's
 * layouts. Everything belongs to root (0:0); times are the mtime for all
 * three (ROFS keeps one). struct stat is the arch's layout (struct
 * linux_stat, arch/linux_abi.h: x86_64's own, or arm64's generic one);
 * statx is the same everywhere.
 */
#include <arch/linux_abi.h>
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/uaccess.h>
#include <kern/vfs.h>
#include "linux.h"
#include "rofs_file.h"

#define PATH_MAX 4096
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_NO_AUTOMOUNT     0x800
#define AT_EMPTY_PATH       0x1000
#define AT_STATX_SYNC_TYPE  0x6000

#define ROFS_DEV 0x801                  /* what st_dev reports: "8:1" */

struct statx_timestamp {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t reserved;
};

struct linux_statx {
    uint32_t stx_mask, stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink, stx_uid, stx_gid;
    uint16_t stx_mode, spare0;
    uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
    struct statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
    uint64_t spare2[14];
};
_Static_assert(sizeof(struct linux_statx) == 256, "struct statx layout");

#define STATX_BASIC_STATS 0x7ff

static int to_user_stat(const struct kstat *k, struct linux_stat *ust)
{
    struct linux_stat s;
    memset(&s, 0, sizeof(s));
    s.st_dev = k->rdev ? 5 : ROFS_DEV;
    s.st_ino = k->ino;
    s.st_nlink = k->nlink;
    s.st_mode = k->mode;
    s.st_uid = k->uid;
    s.st_gid = k->gid;
    s.st_rdev = k->rdev;
    s.st_size = (int64_t)k->size;
    s.st_blksize = 4096;
    s.st_blocks = (int64_t)k->blocks;
    s.st_atime = s.st_mtime = s.st_ctime = k->mtime;
    s.st_atime_nsec = s.st_mtime_nsec = s.st_ctime_nsec = k->mtime_nsec;
    return copy_to_user(ust, &s, sizeof(s));
}

static int fd_stat(int fd, struct kstat *st)
{
    struct kfile *f = fd_get(fd);
    if (!f)
        return -EBADF;
    int err = f->ops->stat ? f->ops->stat(f, st) : -EINVAL;
    kfile_put(f);
    return err;
}

/* The metadata a *at call names: a path from dirfd, or dirfd itself with
 * AT_EMPTY_PATH and "". */
int stat_at(int dirfd, const char *upath, int flags, struct kstat *st)
{
    char path[PATH_MAX];
    bool empty = false;
    if (flags & AT_EMPTY_PATH) {
        char first;
        if (copy_from_user(&first, upath, 1))
            return -EFAULT;
        if (!first && dirfd != AT_FDCWD)
            return fd_stat(dirfd, st);
        empty = !first;                 /* AT_FDCWD: the working directory */
    }
    int err = empty ? path_resolve(AT_FDCWD, ".", path, sizeof(path))
                    : path_from_user(dirfd, upath, path, sizeof(path));
    if (err)
        return err;
    if (path_is_device(path, st))
        return 0;
    return vfs_stat(path, !(flags & AT_SYMLINK_NOFOLLOW), st);
}

SYSCALL2(fstat, int, fd, struct linux_stat *, ust)
{
    struct kstat st;
    int err = fd_stat(fd, &st);
    return err ? err : to_user_stat(&st, ust);
}

SYSCALL4(newfstatat, int, dirfd, const char *, upath, struct linux_stat *, ust, int, flags)
{
    struct kstat st;
    /* Linux's newfstatat is statx underneath: it takes the sync flags too. */
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
        return -EINVAL;
    int err = stat_at(dirfd, upath, flags, &st);
    return err ? err : to_user_stat(&st, ust);
}

LEGACY_SYSCALL2(stat, const char *, upath, struct linux_stat *, ust)
{
    return sys_newfstatat(AT_FDCWD, upath, ust, 0);
}

LEGACY_SYSCALL2(lstat, const char *, upath, struct linux_stat *, ust)
{
    return sys_newfstatat(AT_FDCWD, upath, ust, AT_SYMLINK_NOFOLLOW);
}

SYSCALL5(statx, int, dirfd, const char *, upath, int, flags, unsigned, mask,
         struct linux_statx *, ustx)
{
    struct kstat st;
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
        return -EINVAL;
    if (mask & 0x80000000u)             /* STATX__RESERVED */
        return -EINVAL;
    int err = stat_at(dirfd, upath, flags, &st);
    if (err)
        return err;
    struct linux_statx x;
    memset(&x, 0, sizeof(x));
    x.stx_mask = STATX_BASIC_STATS;
    x.stx_blksize = 4096;
    x.stx_nlink = st.nlink;
    x.stx_uid = st.uid;
    x.stx_gid = st.gid;
    x.stx_mode = (uint16_t)st.mode;
    x.stx_ino = st.ino;
    x.stx_size = st.size;
    x.stx_blocks = st.blocks;
    x.stx_atime.tv_sec = x.stx_ctime.tv_sec = x.stx_mtime.tv_sec = st.mtime;
    x.stx_atime.tv_nsec = x.stx_ctime.tv_nsec = x.stx_mtime.tv_nsec = st.mtime_nsec;
    x.stx_rdev_major = (uint32_t)(st.rdev >> 8);
    x.stx_rdev_minor = (uint32_t)(st.rdev & 0xff);
    x.stx_dev_major = st.rdev ? 0 : ROFS_DEV >> 8;
    x.stx_dev_minor = st.rdev ? 5 : ROFS_DEV & 0xff;
    return copy_to_user(ustx, &x, sizeof(x));
}
