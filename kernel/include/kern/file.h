/*
 * Open files as the Linux layer sees them: a kfile (Linux's "open file
 * description") with an operations table, shared by every descriptor that
 * refers to it (dup, dup2), and the process's descriptor table. ROFS files,
 * the console, pipes, eventfds, timerfds, epoll instances and (later)
 * sockets are all kfiles.
 *
 * Buffers handed to read/write/pread/pwrite are app pointers that the
 * system call layer has already checked (kern/uaccess.h): operations use
 * them directly, but never while holding a spinlock or with interrupts off
 * (a first touch page-faults and the handler may sleep). Operations return
 * a count or -errno.
 *
 * Readiness: a kfile's poll() says which POLL* events hold now, and the
 * kfile calls kfile_notify() whenever that may have changed, which runs
 * the hooks that poll/select/epoll waiters registered on its pollhead.
 */
#ifndef KERN_FILE_H
#define KERN_FILE_H

#include <arch/linux_abi.h>     /* O_DIRECT, O_LARGEFILE */
#include <kern/list.h>
#include <kern/spinlock.h>
#include <kern/types.h>
#include <kern/vfs.h>

/* Linux poll bits. */
#define POLLIN      0x0001
#define POLLPRI     0x0002
#define POLLOUT     0x0004
#define POLLERR     0x0008
#define POLLHUP     0x0010
#define POLLNVAL    0x0020
#define POLLRDNORM  0x0040
#define POLLRDBAND  0x0080
#define POLLWRNORM  0x0100
#define POLLWRBAND  0x0200
#define POLLRDHUP   0x2000

/* Linux open status flags (beyond kern/vfs.h's; O_DIRECT and O_LARGEFILE,
 * whose bits differ by arch, are the arch's: arch/linux_abi.h). */
#define O_NONBLOCK  04000
#define O_APPEND    02000
#define O_CLOEXEC   02000000
#define O_EXCL      0200
#define O_NOCTTY    0400
#define O_PATH      010000000
#define O_NOATIME   01000000
#define O_SYNC      04010000
#define O_DSYNC     010000
#define O_TMPFILE   (020000000 | O_DIRECTORY)

#define FD_CLOEXEC  1

struct kfile;
struct vm_file;

/* Called with the pollhead's spinlock held and interrupts off, from any
 * context (an interrupt, a timer): short, no sleeping, no app memory. */
struct poll_hook {
    struct list_head link;
    void (*fn)(struct poll_hook *h, unsigned events);
};

struct pollhead {
    spinlock_t lock;
    struct list_head hooks;
};

void pollhead_init(struct pollhead *ph);
void poll_hook_add(struct pollhead *ph, struct poll_hook *h);
void poll_hook_del(struct pollhead *ph, struct poll_hook *h);
/* Run every hook: the events that may have become true (0 = unknown). */
void pollhead_notify(struct pollhead *ph, unsigned events);

struct kfile_ops {
    const char *kind;               /* "file", "pipe", ... for messages */
    /* At *pos for seekable files (the kfile's position, which the caller
     * locks and advances); pos is NULL for streams. */
    int64_t (*read)(struct kfile *f, void *buf, size_t n, uint64_t *pos);
    int64_t (*write)(struct kfile *f, const void *buf, size_t n, uint64_t *pos);
    /* NULL: -ESPIPE for pread/pwrite/lseek. */
    int64_t (*pread)(struct kfile *f, void *buf, size_t n, uint64_t off);
    int64_t (*pwrite)(struct kfile *f, const void *buf, size_t n, uint64_t off);
    int64_t (*lseek)(struct kfile *f, int64_t off, int whence);
    int (*stat)(struct kfile *f, struct kstat *st);
    int (*readdir)(struct kfile *f, uint64_t index, struct kdirent *de);
    /* arg is the raw argument (often an app pointer, not yet checked). */
    int64_t (*ioctl)(struct kfile *f, unsigned long cmd, uintptr_t arg);
    /* Events that hold now (POLLIN ...). NULL: always POLLIN|POLLOUT. */
    unsigned (*poll)(struct kfile *f);
    /* The bytes to map for mmap; -ENODEV when it cannot be mapped. */
    int (*mmap)(struct kfile *f, struct vm_file *out);
    /* The last reference is gone. */
    void (*release)(struct kfile *f);
};

struct kfile {
    const struct kfile_ops *ops;
    int refs;
    unsigned flags;                 /* O_ACCMODE | O_NONBLOCK | O_APPEND ... */
    uint64_t pos;
    void *priv;
    char *path;                     /* absolute, for ROFS files and dirs; or NULL */
    struct pollhead poll;
    /* The epoll items watching this file (kernel/linux/epoll.c), linked
     * and unlinked under poll.lock; they hold no reference, and the last
     * kfile_put removes them, as Linux does. */
    struct list_head epitems;
};

/* A new kfile with one reference; NULL when memory is short. */
struct kfile *kfile_alloc(const struct kfile_ops *ops, void *priv, unsigned flags);
void kfile_get(struct kfile *f);
void kfile_put(struct kfile *f);
/* What the file's poll() says (POLLIN|POLLOUT when it has none). */
unsigned kfile_poll(struct kfile *f);
/* A stat for files without an inode (eventfd, epoll, timerfd): Linux's
 * anonymous inode, no file type bits, mode 0600, one link. */
int kfile_anon_stat(struct kfile *f, struct kstat *st);
/* Wake poll/select/epoll waiters: f's readiness may have changed. */
void kfile_notify(struct kfile *f, unsigned events);
/* Drop f from every epoll set that watches it (kfile_put, before release). */
void epoll_file_gone(struct kfile *f);

/* The descriptor table (one process). */
#define FD_MAX 1024                 /* RLIMIT_NOFILE */
/* Install f (taking over the caller's reference) at the lowest free
 * descriptor >= min; returns it, or -EMFILE. */
int fd_install(struct kfile *f, int min, unsigned fd_flags);
/* Install f at exactly fd, closing what was there (dup2). */
int fd_install_at(int fd, struct kfile *f, unsigned fd_flags);
/* The kfile behind fd, with a reference the caller puts; NULL: bad fd. */
struct kfile *fd_get(int fd);
int fd_close(int fd);
int fd_get_flags(int fd);           /* FD_CLOEXEC or -EBADF */
int fd_set_flags(int fd, unsigned fd_flags);

/* Descriptors 0, 1 and 2 on the console (kernel/linux/console_file.c). */
void console_files_init(void);

#endif
