/*
 * File system calls over kfiles: open/openat, close, read/write and their
 * vector and positioned forms, lseek, getdents64, readlink, access, fcntl,
 * ioctl, dup*, getcwd/chdir/fchdir, and the calls that would change the
 * (read-only) file system, which fail with EROFS.
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/uaccess.h>
#include <kern/vfs.h>
#include "linux.h"
#include "rofs_file.h"

#define PATH_MAX 4096
#define IOV_MAX 1024
#define SSIZE_MAX_ 0x7ffffffffffff000LL     /* Linux's MAX_RW_COUNT, rounded */

#define F_DUPFD         0
#define F_GETFD         1
#define F_SETFD         2
#define F_GETFL         3
#define F_SETFL         4
#define F_GETLK         5
#define F_SETLK         6
#define F_SETLKW        7
#define F_DUPFD_CLOEXEC 1030
#define F_RDLCK         0
#define F_WRLCK         1
#define F_UNLCK         2

#define FIONBIO   0x5421
#define FIOCLEX   0x5451
#define FIONCLEX  0x5450
#define FIOASYNC  0x5452

#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_EACCESS          0x200
#define AT_EMPTY_PATH       0x1000

/* ---- paths ------------------------------------------------------------------- */

/* The base (the cwd or dirfd's path) goes straight into buf and path after
 * it: these run under path buffers of their callers on the 16 KiB
 * syscall stack, so they keep no PATH_MAX buffers of their own. */
int path_resolve(int dirfd, const char *path, char *buf, size_t size)
{
    if (!path[0])
        return -ENOENT;
    if (path[0] == '/') {
        if (strlcpy(buf, path, size) >= size)
            return -ENAMETOOLONG;
        return 0;
    }
    size_t n;
    if (dirfd == AT_FDCWD) {
        mutex_lock(&proc.lock);
        n = strlcpy(buf, proc.cwd, size);
        mutex_unlock(&proc.lock);
    } else {
        struct kfile *d = fd_get(dirfd);
        if (!d)
            return -EBADF;
        struct kstat st;
        int err = d->ops->stat ? d->ops->stat(d, &st) : -ENOTDIR;
        if (!err && ((st.mode & S_IFMT) != S_IFDIR || !d->path))
            err = -ENOTDIR;
        n = err ? 0 : strlcpy(buf, d->path, size);
        kfile_put(d);
        if (err)
            return err;
    }
    if (n >= size || n + 1 + strlen(path) + 1 > size)
        return -ENAMETOOLONG;
    if (n == 0 || buf[n - 1] != '/')
        buf[n++] = '/';
    memcpy(buf + n, path, strlen(path) + 1);
    return 0;
}

int path_from_user(int dirfd, const char *upath, char *buf, size_t size)
{
    char *path = kmalloc(PATH_MAX);
    if (!path)
        return -ENOMEM;
    int64_t n = strncpy_from_user(path, upath, PATH_MAX);
    int err = n < 0 ? (int)n : path_resolve(dirfd, path, buf, size);
    kfree(path);
    return err;
}

/* ---- open and close ------------------------------------------------------------ */

static int64_t do_openat(int dirfd, const char *upath, int flags)
{
    char path[PATH_MAX];
    flags |= O_LARGEFILE;               /* as Linux forces on 64-bit (F_GETFL shows it) */
    int err = path_from_user(dirfd, upath, path, sizeof(path));
    if (err)
        return err;
    struct kfile *f;
    err = path_open(path, flags, &f);
    if (err)
        return err;
    int fd = fd_install(f, 0, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0);
    if (fd < 0)
        kfile_put(f);
    return fd;
}

SYSCALL4(openat, int, dirfd, const char *, upath, int, flags, unsigned, mode)
{
    return do_openat(dirfd, upath, flags);
}

LEGACY_SYSCALL3(open, const char *, upath, int, flags, unsigned, mode)
{
    return sys_openat(AT_FDCWD, upath, flags, mode);
}

LEGACY_SYSCALL2(creat, const char *, upath, unsigned, mode)
{
    return sys_openat(AT_FDCWD, upath, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

SYSCALL1(close, int, fd)
{
    return fd_close(fd);
}

/* ---- reading and writing ------------------------------------------------------- */

/* read/write and their positioned forms: check the descriptor's access
 * mode and the app's buffer, then call the kfile's operation. */
static int64_t do_rw(int fd, void *ubuf, size_t n, bool write, bool positioned, int64_t off)
{
    if (n > SSIZE_MAX_)
        n = SSIZE_MAX_;
    struct kfile *f = fd_get(fd);
    if (!f)
        return -EBADF;
    const struct kfile_ops *ops = f->ops;
    int64_t r;
    if ((f->flags & O_ACCMODE) == (write ? O_RDONLY : O_WRONLY) || (f->flags & O_PATH))
        r = -EBADF;
    else if (write ? !user_readable(ubuf, n) : !user_writable(ubuf, n))
        r = -EFAULT;
    else if (positioned && off < 0)
        r = -EINVAL;
    else if (positioned && (write ? !ops->pwrite : !ops->pread))
        r = -ESPIPE;
    else if (positioned)
        r = write ? ops->pwrite(f, ubuf, n, (uint64_t)off) : ops->pread(f, ubuf, n, (uint64_t)off);
    else if (write ? !ops->write : !ops->read)
        r = !write && ops->readdir ? -EISDIR : -EINVAL;
    else if (write)
        r = ops->write(f, ubuf, n, ops->lseek ? &f->pos : NULL);
    else
        r = ops->read(f, ubuf, n, ops->lseek ? &f->pos : NULL);
    kfile_put(f);
    return r;
}

static int64_t do_read(int fd, void *ubuf, size_t n, bool positioned, int64_t off)
{
    return do_rw(fd, ubuf, n, false, positioned, off);
}

static int64_t do_write(int fd, const void *ubuf, size_t n, bool positioned, int64_t off)
{
    return do_rw(fd, (void *)ubuf, n, true, positioned, off);
}

SYSCALL3(read, int, fd, void *, ubuf, size_t, n)
{
    return do_read(fd, ubuf, n, false, 0);
}

SYSCALL3(write, int, fd, const void *, ubuf, size_t, n)
{
    return do_write(fd, ubuf, n, false, 0);
}

SYSCALL4(pread64, int, fd, void *, ubuf, size_t, n, int64_t, off)
{
    return do_read(fd, ubuf, n, true, off);
}

SYSCALL4(pwrite64, int, fd, const void *, ubuf, size_t, n, int64_t, off)
{
    return do_write(fd, ubuf, n, true, off);
}

struct linux_iovec {
    void *base;
    size_t len;
};

/* readv/writev and the positioned forms: one element at a time, stopping
 * at the first short transfer, as a regular file or pipe would. */
static int64_t do_rw_vec(int fd, const struct linux_iovec *uiov, int cnt, bool write,
                         bool positioned, int64_t off)
{
    if (cnt < 0 || cnt > IOV_MAX)
        return -EINVAL;
    struct linux_iovec iov[64];
    int64_t total = 0;
    for (int i = 0; i < cnt; i += 64) {
        int k = MIN(cnt - i, 64);
        if (copy_from_user(iov, uiov + i, k * sizeof(iov[0])))
            return total ? total : -EFAULT;
        for (int j = 0; j < k; j++) {
            if (!iov[j].len)
                continue;
            int64_t r = write ? do_write(fd, iov[j].base, iov[j].len, positioned, off + total)
                              : do_read(fd, iov[j].base, iov[j].len, positioned, off + total);
            if (r < 0)
                return total ? total : r;
            total += r;
            if ((size_t)r < iov[j].len)
                return total;
        }
    }
    return total;
}

SYSCALL3(readv, int, fd, const struct linux_iovec *, uiov, int, cnt)
{
    return do_rw_vec(fd, uiov, cnt, false, false, 0);
}

SYSCALL3(writev, int, fd, const struct linux_iovec *, uiov, int, cnt)
{
    return do_rw_vec(fd, uiov, cnt, true, false, 0);
}

SYSCALL4(preadv, int, fd, const struct linux_iovec *, uiov, int, cnt, int64_t, off)
{
    return do_rw_vec(fd, uiov, cnt, false, true, off);
}

SYSCALL4(pwritev, int, fd, const struct linux_iovec *, uiov, int, cnt, int64_t, off)
{
    return do_rw_vec(fd, uiov, cnt, true, true, off);
}

SYSCALL3(lseek, int, fd, int64_t, off, int, whence)
{
    struct kfile *f = fd_get(fd);
    if (!f)
        return -EBADF;
    int64_t r = f->ops->lseek ? f->ops->lseek(f, off, whence) : -ESPIPE;
    kfile_put(f);
    return r;
}

/* ---- directories --------------------------------------------------------------- */

SYSCALL3(getdents64, int, fd, void *, ubuf, size_t, size)
{
    struct kfile *f = fd_get(fd);
    if (!f)
        return -EBADF;
    /* ROFS files all have readdir; only directories list anything. */
    struct kstat self;
    if (!f->ops->readdir || f->ops->stat(f, &self) || (self.mode & S_IFMT) != S_IFDIR) {
        kfile_put(f);
        return -ENOTDIR;
    }
    if (!user_writable(ubuf, size)) {
        kfile_put(f);
        return -EFAULT;
    }
    /* Entries 0 and 1 are "." and ".."; the directory's own follow. */
    size_t used = 0;
    int64_t err = 0;
    for (;;) {
        struct kdirent de;
        if (f->pos < 2) {
            de.ino = self.ino;
            de.type = 4;
            strlcpy(de.name, f->pos ? ".." : ".", sizeof(de.name));
        } else {
            int r = f->ops->readdir(f, f->pos - 2, &de);
            if (r == -ENOENT)
                break;
            if (r < 0) {
                err = r;
                break;
            }
        }
        size_t namelen = strlen(de.name);
        size_t reclen = ALIGN_UP(8 + 8 + 2 + 1 + namelen + 1, 8);
        if (used + reclen > size) {
            if (!used)
                err = -EINVAL;          /* the buffer cannot hold one entry */
            break;
        }
        uint8_t *p = (uint8_t *)ubuf + used;
        uint64_t next = f->pos + 1;
        uint16_t rl = (uint16_t)reclen;
        memset(p, 0, reclen);
        memcpy(p, &de.ino, 8);
        memcpy(p + 8, &next, 8);
        memcpy(p + 16, &rl, 2);
        p[18] = de.type;
        memcpy(p + 19, de.name, namelen);
        used += reclen;
        f->pos++;
    }
    kfile_put(f);
    return used ? (int64_t)used : err;
}

SYSCALL4(readlinkat, int, dirfd, const char *, upath, char *, ubuf, int, size)
{
    char path[PATH_MAX];
    if (size <= 0)
        return -EINVAL;
    int err = path_from_user(dirfd, upath, path, sizeof(path));
    if (err)
        return err;
    if (!user_writable(ubuf, (size_t)size))
        return -EFAULT;
    if (!strcmp(path, "/proc/self/exe") && proc.exe) {
        size_t n = MIN(strlen(proc.exe), (size_t)size);
        memcpy(ubuf, proc.exe, n);
        return (int64_t)n;
    }
    char target[PATH_MAX];
    int64_t n = vfs_readlink(path, target, sizeof(target));
    if (n < 0)
        return n == -EINVAL ? -EINVAL : n;
    n = MIN(n, (int64_t)size);
    memcpy(ubuf, target, (size_t)n);
    return n;
}

LEGACY_SYSCALL3(readlink, const char *, upath, char *, ubuf, int, size)
{
    return sys_readlinkat(AT_FDCWD, upath, ubuf, size);
}

/* access: the file system is read-only, everything readable is readable;
 * W_OK fails with EROFS on its files, directories and links; X_OK needs an
 * x bit (or a directory). Owner is root, as are we. */
static int access_check(const struct kstat *st, int mode)
{
    unsigned type = st->mode & S_IFMT;
    if ((mode & 2) && (type == S_IFREG || type == S_IFDIR || type == S_IFLNK))
        return -EROFS;
    if ((mode & 1) && type != S_IFDIR && !(st->mode & 0111))
        return -EACCES;
    return 0;
}

static int64_t do_access(int dirfd, const char *upath, int mode, int flags)
{
    struct kstat st;
    if (mode & ~7)
        return -EINVAL;
    int err = stat_at(dirfd, upath, flags, &st);
    return err ? err : access_check(&st, mode);
}

SYSCALL3(faccessat, int, dirfd, const char *, upath, int, mode)
{
    return do_access(dirfd, upath, mode, 0);
}

LEGACY_SYSCALL2(access, const char *, upath, int, mode)
{
    return sys_faccessat(AT_FDCWD, upath, mode);
}

SYSCALL4(faccessat2, int, dirfd, const char *, upath, int, mode, int, flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EACCESS | AT_EMPTY_PATH))
        return -EINVAL;
    return do_access(dirfd, upath, mode, flags);
}

/* ---- descriptors --------------------------------------------------------------- */

SYSCALL1(dup, int, fd)
{
    struct kfile *f = fd_get(fd);
    if (!f)
        return -EBADF;
    int r = fd_install(f, 0, 0);
    if (r < 0)
        kfile_put(f);
    return r;
}

static int64_t do_dup3(int oldfd, int newfd, int flags)
{
    if (flags & ~O_CLOEXEC)
        return -EINVAL;
    if (newfd < 0 || newfd >= FD_MAX)
        return -EBADF;
    struct kfile *f = fd_get(oldfd);
    if (!f)
        return -EBADF;
    return fd_install_at(newfd, f, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0);
}

SYSCALL3(dup3, int, oldfd, int, newfd, int, flags)
{
    if (oldfd == newfd)
        return -EINVAL;
    return do_dup3(oldfd, newfd, flags);
}

/* dup3 but for oldfd == newfd, which is newfd if it is open (dup3: EINVAL). */
LEGACY_SYSCALL2(dup2, int, oldfd, int, newfd)
{
    if (oldfd == newfd) {
        struct kfile *f = fd_get(oldfd);
        if (!f)
            return -EBADF;
        kfile_put(f);
        return newfd;
    }
    return sys_dup3(oldfd, newfd, 0);
}

struct linux_flock {
    int16_t l_type, l_whence;
    int64_t l_start, l_len;
    int32_t l_pid;
};

SYSCALL3(fcntl, int, fd, int, cmd, uintptr_t, arg)
{
    struct kfile *f = fd_get(fd);
    int64_t r;
    if (!f)
        return -EBADF;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        kfile_get(f);
        r = fd_install(f, (int)arg, cmd == F_DUPFD_CLOEXEC ? FD_CLOEXEC : 0);
        if (r < 0)
            kfile_put(f);
        break;
    case F_GETFD:
        r = fd_get_flags(fd);
        break;
    case F_SETFD:
        r = fd_set_flags(fd, arg & FD_CLOEXEC);
        break;
    case F_GETFL:
        r = f->flags;
        break;
    case F_SETFL: {
        const unsigned settable = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME;
        f->flags = (f->flags & ~settable) | ((unsigned)arg & settable);
        kfile_notify(f, 0);
        r = 0;
        break;
    }
    case F_GETLK: {
        /* No other process can hold a lock: report it unlocked. */
        struct linux_flock fl;
        r = copy_from_user(&fl, (void *)arg, sizeof(fl));
        if (!r && fl.l_type != F_RDLCK && fl.l_type != F_WRLCK)
            r = -EINVAL;
        if (!r) {
            fl.l_type = F_UNLCK;
            r = copy_to_user((void *)arg, &fl, sizeof(fl));
        }
        break;
    }
    case F_SETLK:
    case F_SETLKW: {
        /* Always granted (one process), but only as the descriptor's
         * access mode allows, as Linux checks. */
        struct linux_flock fl;
        int acc = f->flags & O_ACCMODE;
        r = copy_from_user(&fl, (void *)arg, sizeof(fl));
        if (!r && fl.l_type == F_RDLCK && acc == O_WRONLY)
            r = -EBADF;
        else if (!r && fl.l_type == F_WRLCK && acc == O_RDONLY)
            r = -EBADF;
        else if (!r && fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK)
            r = -EINVAL;
        break;
    }
    default:
        r = -EINVAL;
    }
    kfile_put(f);
    return r;
}

SYSCALL3(ioctl, int, fd, unsigned long, cmd, uintptr_t, arg)
{
    struct kfile *f = fd_get(fd);
    int64_t r;
    if (!f)
        return -EBADF;
    switch (cmd) {
    case FIONBIO: {
        int on;
        r = copy_from_user(&on, (void *)arg, sizeof(on));
        if (!r)
            f->flags = on ? f->flags | O_NONBLOCK : f->flags & ~O_NONBLOCK;
        break;
    }
    case FIOCLEX:
        r = fd_set_flags(fd, FD_CLOEXEC);
        break;
    case FIONCLEX:
        r = fd_set_flags(fd, 0);
        break;
    default:
        r = f->ops->ioctl ? f->ops->ioctl(f, cmd, arg) : -ENOTTY;
    }
    kfile_put(f);
    return r;
}

SYSCALL1(fsync, int, fd)
{
    struct kfile *f = fd_get(fd);
    if (!f)
        return -EBADF;
    kfile_put(f);
    return 0;
}

SYSCALL1(fdatasync, int, fd)
{
    return sys_fsync(fd);
}

/* ---- the working directory ------------------------------------------------------ */

SYSCALL2(getcwd, char *, ubuf, size_t, size)
{
    char cwd[PATH_MAX];
    mutex_lock(&proc.lock);
    strlcpy(cwd, proc.cwd, sizeof(cwd));
    mutex_unlock(&proc.lock);
    size_t n = strlen(cwd) + 1;
    if (size < n)
        return -ERANGE;
    if (copy_to_user(ubuf, cwd, n))
        return -EFAULT;
    return (int64_t)n;
}

#define SYMLOOP_MAX 40                  /* Linux's limit on links in one walk */

/* The physical form of the absolute path of a directory, as Linux keeps
 * the working directory: every symbolic link replaced by its target, and
 * no ".", ".." or repeated "/" left. ".." is the parent of the directory
 * reached so far, not of the link that led there, and getcwd never shows
 * a link. out and the work buffers are on the heap: this runs on the
 * 16 KiB syscall stack. */
static int physical_dir(const char *path, char *out)
{
    char *rest = kmalloc(PATH_MAX), *next = kmalloc(PATH_MAX);
    size_t o = 0;                       /* out[0..o): "/a/b", "" for the root */
    unsigned links = 0;
    int err = 0;
    if (!rest || !next) {
        err = -ENOMEM;
        goto done;
    }
    strlcpy(rest, path, PATH_MAX);
    out[0] = 0;
    for (const char *p = rest;;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - p);
        if (n == 1 && p[0] == '.') {
            p = e;
            continue;
        }
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            out[o] = 0;
            p = e;
            continue;
        }
        if (o + 1 + n + 1 > PATH_MAX) {
            err = -ENAMETOOLONG;
            break;
        }
        out[o] = '/';
        memcpy(out + o + 1, p, n);
        out[o + 1 + n] = 0;
        struct kstat st;
        err = vfs_stat(out, false, &st);
        if (err)
            break;
        if ((st.mode & S_IFMT) == S_IFLNK) {
            /* Walk the target, then what followed the link. */
            int64_t len = ++links > SYMLOOP_MAX ? -ELOOP
                                                : vfs_readlink(out, next, PATH_MAX - 1);
            if (len < 0) {
                err = (int)len;
                break;
            }
            if ((size_t)len + 1 + strlen(e) + 1 > PATH_MAX) {
                err = -ENAMETOOLONG;
                break;
            }
            next[len] = '/';
            strlcpy(next + len + 1, e, PATH_MAX - (size_t)len - 1);
            char *t = rest;
            rest = next;
            next = t;
            p = rest;
            if (rest[0] == '/')
                o = 0;                  /* an absolute target starts over */
            out[o] = 0;                 /* a relative one from the link's directory */
            continue;
        }
        if ((st.mode & S_IFMT) != S_IFDIR) {
            err = -ENOTDIR;
            break;
        }
        o += 1 + n;
        p = e;
    }
    if (!err && o == 0)
        strlcpy(out, "/", PATH_MAX);
done:
    kfree(rest);
    kfree(next);
    return err;
}

static int64_t set_cwd(const char *path)
{
    char *canon = kmalloc(PATH_MAX);
    if (!canon)
        return -ENOMEM;
    int err = physical_dir(path, canon);
    if (!err) {
        mutex_lock(&proc.lock);
        strlcpy(proc.cwd, canon, sizeof(proc.cwd));
        mutex_unlock(&proc.lock);
    }
    kfree(canon);
    return err;
}

SYSCALL1(chdir, const char *, upath)
{
    char path[PATH_MAX];
    int err = path_from_user(AT_FDCWD, upath, path, sizeof(path));
    return err ? err : set_cwd(path);
}

SYSCALL1(fchdir, int, fd)
{
    struct kfile *f = fd_get(fd);
    if (!f)
        return -EBADF;
    int64_t r = f->path ? set_cwd(f->path) : -ENOTDIR;
    kfile_put(f);
    return r;
}

/* ---- changes to the file system: it is read-only ---------------------------------- */

/* The legacy ones (rmdir, rename, ...: not in arm64's table) are
 * registered only where the arch has them (kern/syscall.h). */
#define EROFS_CALL(n, ...) SYSCALL_DEFINE_(n, (void), ()) { return -EROFS; }
#define LEGACY_EROFS_CALL(n, ...) LEGACY_SYSCALL_DEFINE_(n, (void), ()) { return -EROFS; }
EROFS_CALL(unlinkat)
EROFS_CALL(renameat)
EROFS_CALL(renameat2)
EROFS_CALL(linkat)
EROFS_CALL(fchmodat)
EROFS_CALL(fchownat)
EROFS_CALL(truncate)
EROFS_CALL(utimensat)
LEGACY_EROFS_CALL(rmdir)
LEGACY_EROFS_CALL(unlink)
LEGACY_EROFS_CALL(rename)
LEGACY_EROFS_CALL(link)
LEGACY_EROFS_CALL(chmod)
LEGACY_EROFS_CALL(chown)
LEGACY_EROFS_CALL(lchown)
LEGACY_EROFS_CALL(utimes)
LEGACY_EROFS_CALL(utime)

/* Calls that create a name: EEXIST when it exists (a dangling link
 * too), as Linux looks the name up before it asks for write access;
 * EROFS otherwise. */
static int64_t create_at(int dirfd, const char *upath)
{
    char path[PATH_MAX];
    struct kstat st;
    int err = path_from_user(dirfd, upath, path, sizeof(path));
    if (err)
        return err;
    if (path_is_device(path, NULL) || !vfs_stat(path, false, &st))
        return -EEXIST;
    return -EROFS;
}

SYSCALL3(mkdirat, int, dirfd, const char *, upath, unsigned, mode)
{
    return create_at(dirfd, upath);
}

LEGACY_SYSCALL2(mkdir, const char *, upath, unsigned, mode)
{
    return sys_mkdirat(AT_FDCWD, upath, mode);
}

SYSCALL4(mknodat, int, dirfd, const char *, upath, unsigned, mode, unsigned, dev)
{
    return create_at(dirfd, upath);
}

LEGACY_SYSCALL3(mknod, const char *, upath, unsigned, mode, unsigned, dev)
{
    return sys_mknodat(AT_FDCWD, upath, mode, dev);
}

SYSCALL3(symlinkat, const char *, target, int, dirfd, const char *, upath)
{
    return create_at(dirfd, upath);
}

LEGACY_SYSCALL2(symlink, const char *, target, const char *, upath)
{
    return sys_symlinkat(target, AT_FDCWD, upath);
}

/* On an open descriptor: no descriptor is open for writing a regular file
 * (ROFS opens are read-only), so ftruncate is EINVAL as on Linux; chmod
 * and chown are EROFS. */
SYSCALL2(ftruncate, int, fd, int64_t, len)
{
    struct kfile *f = fd_get(fd);
    if (!f)
        return -EBADF;
    kfile_put(f);
    return -EINVAL;
}

static int64_t fd_erofs(int fd)
{
    struct kfile *f = fd_get(fd);
    if (!f)
        return -EBADF;
    kfile_put(f);
    return -EROFS;
}

SYSCALL2(fchmod, int, fd, unsigned, mode)
{
    return fd_erofs(fd);
}

SYSCALL3(fchown, int, fd, unsigned, uid, unsigned, gid)
{
    return fd_erofs(fd);
}
