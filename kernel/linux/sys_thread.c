/*
 * Threads and identity: clone (threads only: one process, no fork),
 * clone3, exit, exit_group, set_tid_address, robust lists, the ids, and
 * CPU placement (sched_yield, affinity, getcpu).
 */
#include <arch/linux_abi.h>
#include <kern/app.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/thread.h>
#include <kern/uaccess.h>
#include "linux.h"

#define CLONE_VM             0x00000100
#define CLONE_FS             0x00000200
#define CLONE_FILES          0x00000400
#define CLONE_SIGHAND        0x00000800
#define CLONE_PIDFD          0x00001000
#define CLONE_PTRACE         0x00002000
#define CLONE_VFORK          0x00004000
#define CLONE_PARENT         0x00008000
#define CLONE_THREAD         0x00010000
#define CLONE_NEWNS          0x00020000
#define CLONE_SYSVSEM        0x00040000
#define CLONE_SETTLS         0x00080000
#define CLONE_PARENT_SETTID  0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_DETACHED       0x00400000
#define CLONE_UNTRACED       0x00800000
#define CLONE_CHILD_SETTID   0x01000000

/* What a thread shares with its creator: all of this is required. */
#define CLONE_THREAD_SET (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)
#define CLONE_THREAD_OPTIONAL (CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | \
                               CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED)

static int64_t do_clone(uint64_t flags, uintptr_t stack, uint32_t *parent_tid,
                        uint32_t *child_tid, uintptr_t tls)
{
    if ((flags & CLONE_THREAD_SET) != CLONE_THREAD_SET) {
        static bool said;
        if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
            pr_warn("clone: flags %#llx ask for a new process (fork/vfork/spawn); Tern "
                    "runs one process, only threads (ENOSYS)\n", (unsigned long long)flags);
        return -ENOSYS;
    }
    if ((flags & 0xff & ~0x11) || (flags & ~(CLONE_THREAD_SET | CLONE_THREAD_OPTIONAL | 0xff)))
        return -EINVAL;                 /* the low byte may only carry SIGCHLD/0 */

    struct syscall_frame f = *thread_current()->syscall_frame;
    syscall_frame_child(&f, stack);
    uintptr_t fs = (flags & CLONE_SETTLS) ? tls : arch_tls_get();
    struct app_thread *at = app_thread_create(&f, fs, true);
    if (!at)
        return -ENOMEM;
    uint32_t tid = (uint32_t)at->tid;
    /* Both written before the child runs, as Linux does; a bad address is
     * ignored there too. */
    if (flags & CLONE_PARENT_SETTID)
        copy_to_user(parent_tid, &tid, sizeof(tid));
    if (flags & CLONE_CHILD_SETTID)
        copy_to_user(child_tid, &tid, sizeof(tid));
    if (flags & CLONE_CHILD_CLEARTID)
        at->clear_child_tid = child_tid;
    app_thread_launch(at);
    return tid;
}

/* The arch's order (arch/linux_abi.h): x86_64 passes child_tid before
 * tls, arm64 tls before child_tid. */
#if LINUX_CLONE_TLS_BEFORE_CHILD_TID
SYSCALL5(clone, uint64_t, flags, uintptr_t, stack, uint32_t *, parent_tid,
         uintptr_t, tls, uint32_t *, child_tid)
#else
SYSCALL5(clone, uint64_t, flags, uintptr_t, stack, uint32_t *, parent_tid,
         uint32_t *, child_tid, uintptr_t, tls)
#endif
{
    return do_clone(flags, stack, parent_tid, child_tid, tls);
}

struct clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
};

SYSCALL2(clone3, const struct clone_args *, uargs, size_t, size)
{
    struct clone_args a;
    if (size < 64 || size > 4096)
        return -EINVAL;
    memset(&a, 0, sizeof(a));
    if (copy_from_user(&a, uargs, MIN(size, sizeof(a))))
        return -EFAULT;
    if (a.set_tid || a.set_tid_size || a.cgroup || (a.exit_signal & ~0xffULL) ||
        (a.flags & CLONE_PIDFD) || (!a.stack) != (!a.stack_size))
        return -EINVAL;
    uintptr_t sp = a.stack ? a.stack + a.stack_size : 0;
    return do_clone(a.flags, sp, (uint32_t *)a.parent_tid, (uint32_t *)a.child_tid, a.tls);
}

LEGACY_SYSCALL0(fork)
{
    return do_clone(0x11, 0, NULL, NULL, 0);
}

LEGACY_SYSCALL0(vfork)
{
    return do_clone(CLONE_VM | CLONE_VFORK | 0x11, 0, NULL, NULL, 0);
}

SYSCALL1(exit, int, status)
{
    app_thread_exit(status & 0xff);
}

SYSCALL1(exit_group, int, status)
{
    app_exit(status & 0xff);
}

SYSCALL1(set_tid_address, uint32_t *, tidptr)
{
    struct app_thread *at = app_current();
    at->clear_child_tid = tidptr;
    return at->tid;
}

SYSCALL2(set_robust_list, uintptr_t, head, size_t, len)
{
    if (len != 24)                      /* sizeof(struct robust_list_head) */
        return -EINVAL;
    struct app_thread *at = app_current();
    at->robust_list = head;
    at->robust_len = len;
    return 0;
}

SYSCALL3(get_robust_list, int, tid, uintptr_t *, head, size_t *, len)
{
    struct app_thread *at = app_current();
    if (tid && tid != at->tid)
        return -ESRCH;                  /* other threads' lists: not kept visible */
    size_t size = 24;                   /* Linux: sizeof(*head), set or not */
    if (copy_to_user(head, &at->robust_list, sizeof(*head)) ||
        copy_to_user(len, &size, sizeof(*len)))
        return -EFAULT;
    return 0;
}

SYSCALL0(getpid)  { return APP_PID; }
SYSCALL0(getppid) { return 0; }             /* started by the kernel */
SYSCALL0(gettid)  { return app_current() ? app_current()->tid : thread_current()->id + 1; }
SYSCALL1(getpgid, int, pid) { return pid == 0 || pid == APP_PID ? APP_PID : -ESRCH; }
LEGACY_SYSCALL0(getpgrp) { return sys_getpgid(0); }
SYSCALL1(getsid, int, pid)  { return pid == 0 || pid == APP_PID ? APP_PID : -ESRCH; }
SYSCALL0(setsid)  { return -EPERM; }        /* already the session leader */
SYSCALL2(setpgid, int, pid, int, pgid) { return pid == 0 || pid == APP_PID ? 0 : -ESRCH; }

SYSCALL0(sched_yield)
{
    thread_yield();
    return 0;
}

/* Affinity masks: one bit per CPU, in longs, as Linux. */
#define MASK_BYTES (((MAX_CPUS + 63) / 64) * 8)

static bool tid_is_us(int tid)
{
    return tid == 0 || (app_current() && tid == app_current()->tid);
}

SYSCALL3(sched_getaffinity, int, tid, size_t, len, uint8_t *, umask)
{
    uint8_t mask[MASK_BYTES];
    if (!tid_is_us(tid))
        return -ESRCH;                  /* other threads: not tracked by tid here */
    if (len < MASK_BYTES || (len & 7))
        return -EINVAL;
    memset(mask, 0, sizeof(mask));
    int pinned = thread_current()->pinned_cpu;
    for (unsigned i = 0; i < nr_cpus; i++)
        if (cpus[i].online && (pinned < 0 || (unsigned)pinned == i))
            mask[i / 8] |= (uint8_t)(1u << (i % 8));
    if (copy_to_user(umask, mask, sizeof(mask)))
        return -EFAULT;
    return MASK_BYTES;
}

/* A mask of one CPU pins the thread there (it moves at once); a mask of
 * every online CPU unpins it. Other masks cannot be kept by the scheduler,
 * which pins to one CPU or none: they pin to the lowest CPU in the mask. */
SYSCALL3(sched_setaffinity, int, tid, size_t, len, const uint8_t *, umask)
{
    uint8_t mask[MASK_BYTES];
    if (!tid_is_us(tid))
        return -ESRCH;
    memset(mask, 0, sizeof(mask));
    if (copy_from_user(mask, umask, MIN(len, sizeof(mask))))
        return -EFAULT;
    int first = -1, count = 0, online = 0;
    for (unsigned i = 0; i < nr_cpus; i++) {
        if (!cpus[i].online)
            continue;
        online++;
        if (mask[i / 8] & (1u << (i % 8))) {
            if (first < 0)
                first = (int)i;
            count++;
        }
    }
    if (first < 0)
        return -EINVAL;
    sched_set_cpu(count == online ? -1 : first);
    return 0;
}

SYSCALL3(getcpu, unsigned *, ucpu, unsigned *, unode, void *, cache)
{
    unsigned cpu = this_cpu()->id, node = 0;
    if (ucpu && copy_to_user(ucpu, &cpu, sizeof(cpu)))
        return -EFAULT;
    if (unode && copy_to_user(unode, &node, sizeof(node)))
        return -EFAULT;
    return 0;
}
