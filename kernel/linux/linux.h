/*
 * Shared between the files of the Linux personality (kernel/linux/) and
 * nowhere else: the process, app threads, and the loaded image.
 */
#ifndef LINUX_LINUX_H
#define LINUX_LINUX_H

#include <kern/list.h>
#include <kern/types.h>
#include <kern/vm.h>
#include <kern/waitq.h>

struct thread;
struct syscall_frame;

/* What the ELF loader learned and placed (elf_load.c). */
struct app_image {
    uintptr_t entry;            /* where the app starts */
    uintptr_t bias;             /* load bias: 0 for ET_EXEC */
    uintptr_t phdr;             /* the program headers in memory (AT_PHDR) */
    unsigned phent, phnum;
    uintptr_t end;              /* the highest segment's end: brk starts here */
    bool exec_stack;            /* PT_GNU_STACK asked for PF_X */
    bool pie;
};

/* Load path (absolute) into the address space. 0, or -errno with the
 * reason written to why ("not an ELF file", "PT_LOAD 2 extends past the
 * end of the file", ...). */
int elf_load(const char *path, struct app_image *img, char *why, size_t why_size);

/* One app thread: a kernel thread with Linux identity. */
struct app_thread {
    struct thread *thread;
    int tid;
    uint32_t *clear_child_tid;  /* set_tid_address, CLONE_CHILD_CLEARTID */
    uintptr_t robust_list;
    size_t robust_len;
    uint64_t sigmask;
    uintptr_t altstack_sp;
    size_t altstack_size;
    int altstack_flags;
};

#define APP_PID 1               /* the one process; its first thread's tid */
#define NSIG 64

struct linux_sigaction {
    uintptr_t handler;
    uint64_t flags;
    uintptr_t restorer;
    uint64_t mask;
};

/* The process: everything its threads share. */
struct process {
    struct mutex lock;          /* brk, cwd, sigactions */
    char cwd[4096];
    uintptr_t brk_start, brk;   /* brk: current end of the heap */
    struct linux_sigaction sigactions[NSIG];
    int live_threads;
    int next_tid;
    const char *exe;            /* argv[0], for /proc/self/exe and messages */
};

extern struct process proc;

/* The current thread's app identity (NULL for kernel threads). */
struct app_thread *app_current(void);

/* A new app thread that will run from frame f (copied onto its syscall
 * stack) with thread pointer (TLS base) tls; with inherit_fpu (a clone child) it starts
 * with the caller's vector state. Not running until app_thread_launch, so
 * the caller can publish its tid first. NULL when memory is short. */
struct app_thread *app_thread_create(const struct syscall_frame *f, uintptr_t tls,
                                     bool inherit_fpu);
void app_thread_launch(struct app_thread *at);

/* The calling app thread ends (SYS_exit): clear_child_tid, then the
 * process ends too when it was the last. */
void app_thread_exit(int status) __noreturn;

/* Resolve a path (absolute, or relative to dirfd / the cwd) into an
 * absolute path in buf. -errno on failure. AT_FDCWD is -100. */
#define AT_FDCWD (-100)
int path_resolve(int dirfd, const char *path, char *buf, size_t size);
/* Copy an app path string and resolve it: path_resolve after
 * strncpy_from_user; -EFAULT, -ENAMETOOLONG, -ENOENT (empty). */
int path_from_user(int dirfd, const char *upath, char *buf, size_t size);
/* The metadata a *at call names (sys_stat.c): the app path upath from
 * dirfd (following a last symlink unless AT_SYMLINK_NOFOLLOW), or dirfd
 * itself with AT_EMPTY_PATH and "". 0 or -errno. */
struct kstat;
int stat_at(int dirfd, const char *upath, int flags, struct kstat *st);

/* Fill checked app memory with random bytes (sys_misc.c). */
void random_to_app(void *ubuf, size_t n);

/* zcopy_tx's completion descriptor (zcopy_file.c): a kfile in *out and
 * its notification, with pending = 1 for the sender (kern/socket.h). */
struct zc_notify;
struct kfile;
struct zc_notify *zcopy_file_new(struct kfile **out);

/* zcopy_txq's completion queue (zcopy_txq.c): a new queue (flags:
 * O_NONBLOCK); a send's notification on queue file f (NULL and *err:
 * -EINVAL when f is no queue, -ENOBUFS when 4096 sends are in flight),
 * and its end once queued (queued: it sent bytes, so it counts; then the
 * notification is sealed). */
struct kfile *zcopy_txq_new(unsigned flags);
struct zc_notify *zcopy_txq_send_new(struct kfile *f, int *err);
void zcopy_txq_send_end(struct zc_notify *zn, bool queued);
/* A send the stack copies instead (at most zcopy_copy_max bytes): room
 * on f first (0 or the -errno of zcopy_txq_send_new), then, once sent
 * (sent: it sent bytes), counted complete at once. */
int zcopy_txq_copy_begin(struct kfile *f);
void zcopy_txq_copy_end(struct kfile *f, bool sent);

#endif
