/*
 * Signals, as far as Tern goes today: handlers, masks and alternate
 * stacks are stored and reported back, but never run; a signal sent to
 * the process (kill, tgkill, tkill, raise, abort) takes its default
 * action. For the signals whose default is to terminate (SIGABRT, SIGSEGV,
 * SIGTERM, ...), that ends the app with status 128 + n and a report; the
 * ignored ones (SIGCHLD, SIGURG, SIGWINCH) do nothing.
 */
#include <arch/syscall.h>
#include <kern/app.h>
#include <kern/errno.h>
#include <kern/printf.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/thread.h>
#include <kern/uaccess.h>
#include "linux.h"

#define SIG_BLOCK   0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SIGSTOP 19
#define SIGCHLD 17
#define SIGCONT 18
#define SIGURG  23
#define SIGWINCH 28

#define SS_ONSTACK 1
#define SS_DISABLE 2
#define SS_AUTODISARM (1u << 31)
#define MINSIGSTKSZ 2048

#define SIG_IGN 1

static bool valid_signal(int sig)
{
    return sig >= 1 && sig <= NSIG;
}

SYSCALL4(rt_sigaction, int, sig, const struct linux_sigaction *, uact,
         struct linux_sigaction *, uold, size_t, setsize)
{
    if (setsize != 8 || !valid_signal(sig))
        return -EINVAL;
    struct linux_sigaction act;
    if (uact && copy_from_user(&act, uact, sizeof(act)))
        return -EFAULT;
    if (uact && (sig == SIGKILL || sig == SIGSTOP))
        return -EINVAL;
    mutex_lock(&proc.lock);
    struct linux_sigaction old = proc.sigactions[sig - 1];
    if (uact)
        proc.sigactions[sig - 1] = act;
    mutex_unlock(&proc.lock);
    if (uold && copy_to_user(uold, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

SYSCALL4(rt_sigprocmask, int, how, const uint64_t *, uset, uint64_t *, uold, size_t, setsize)
{
    struct app_thread *at = app_current();
    uint64_t set, old = at->sigmask;
    if (setsize != 8)
        return -EINVAL;
    if (uset) {
        if (copy_from_user(&set, uset, sizeof(set)))
            return -EFAULT;
        /* SIGKILL and SIGSTOP cannot be blocked. */
        set &= ~((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)));
        switch (how) {
        case SIG_BLOCK:   at->sigmask |= set; break;
        case SIG_UNBLOCK: at->sigmask &= ~set; break;
        case SIG_SETMASK: at->sigmask = set; break;
        default: return -EINVAL;
        }
    }
    if (uold && copy_to_user(uold, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

struct linux_stack {
    uintptr_t sp;
    int32_t flags;
    uint32_t pad;
    size_t size;
};

SYSCALL2(sigaltstack, const struct linux_stack *, uss, struct linux_stack *, uold)
{
    struct app_thread *at = app_current();
    /* Handlers never run, so the thread is never on the stack: the flags
     * read back are SS_DISABLE or 0, and the SS_AUTODISARM it was set with. */
    struct linux_stack old = { at->altstack_sp, 0, 0, at->altstack_size };
    old.flags = (at->altstack_size ? 0 : SS_DISABLE) | (at->altstack_flags & SS_AUTODISARM);
    if (uss) {
        struct linux_stack ss;
        if (copy_from_user(&ss, uss, sizeof(ss)))
            return -EFAULT;
        /* Linux takes SS_ONSTACK as 0 (old programs pass it). */
        unsigned mode = (unsigned)ss.flags & ~SS_AUTODISARM;
        if (mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE)
            return -EINVAL;
        if (mode == SS_DISABLE) {
            at->altstack_sp = 0;
            at->altstack_size = 0;
        } else {
            if (ss.size < MINSIGSTKSZ)
                return -ENOMEM;
            at->altstack_sp = ss.sp;
            at->altstack_size = ss.size;
        }
        at->altstack_flags = ss.flags;
    }
    if (uold && copy_to_user(uold, &old, sizeof(old)))
        return -EFAULT;
    return 0;
}

/* The default action of sig, sent to the app. */
static int64_t deliver(int sig)
{
    if (sig == 0)
        return 0;                       /* only a check that the target exists */
    if (!valid_signal(sig))
        return -EINVAL;
    if (sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT)
        return 0;                       /* ignored by default */
    mutex_lock(&proc.lock);
    uintptr_t handler = proc.sigactions[sig - 1].handler;
    mutex_unlock(&proc.lock);
    if (handler == SIG_IGN && sig != SIGKILL && sig != SIGSTOP)
        return 0;
    char detail[96];
    snprintf(detail, sizeof(detail), "signal %d sent by the app itself (kill/tgkill/raise)%s",
             sig, handler > SIG_IGN ? "; its handler is not run: Tern does not deliver "
                                      "signals to handlers yet" : "");
    struct syscall_frame *f = thread_current()->syscall_frame;
    app_crash(sig, f ? syscall_frame_pc(f) : 0, detail);
}

SYSCALL2(kill, int, pid, int, sig)
{
    if (pid != APP_PID && pid != 0 && pid != -1 && pid != -APP_PID)
        return -ESRCH;
    return deliver(sig);
}

static bool tid_alive(int tid)
{
    /* Thread ids of live app threads are not indexed; the caller's own and
     * the process's are what C libraries send to (raise, abort). */
    return tid > 0 && tid < proc.next_tid;
}

SYSCALL3(tgkill, int, tgid, int, tid, int, sig)
{
    if (tgid <= 0 || tid <= 0)
        return -EINVAL;
    if (tgid != APP_PID || !tid_alive(tid))
        return -ESRCH;
    return deliver(sig);
}

SYSCALL2(tkill, int, tid, int, sig)
{
    if (tid <= 0)
        return -EINVAL;
    if (!tid_alive(tid))
        return -ESRCH;
    return deliver(sig);
}
