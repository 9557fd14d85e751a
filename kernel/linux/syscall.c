/*
 * System call dispatch: the frame from the architecture's entry code, the
 * Linux number in frame->nr, the result (or -errno) returned. Unknown
 * numbers return -ENOSYS and are logged once each.
 */
#include <arch/syscall.h>
#include <kern/errno.h>
#include <kern/printk.h>
#include <kern/syscall.h>
#include <kern/thread.h>
#include <kern/waitq.h>

#define MAX_LOGGED 1024

static struct mutex test_mutex = MUTEX_INIT(test_mutex);

static int64_t sys_tern_test_args(const struct syscall_frame *f)
{
    struct thread *t = thread_current();
    const uint64_t *want = t->syscall_test_expect;
    uint64_t args[6] = SYSCALL_ARGS(f);
    if (!want)
        return -EINVAL;
    for (int i = 0; i < 6; i++)
        if (args[i] != want[i])
            t->syscall_test_bad++;
    switch (t->syscall_test_action) {
    case SYSCALL_TEST_SLEEP:
        thread_sleep_ns(30000);
        break;
    case SYSCALL_TEST_MUTEX:
        mutex_lock(&test_mutex);
        thread_yield();
        mutex_unlock(&test_mutex);
        break;
    default:
        thread_yield();
        break;
    }
    /* The same values after blocking: what the OSv zcopy_tx bug broke. */
    uint64_t after[6] = SYSCALL_ARGS(f);
    for (int i = 0; i < 6; i++)
        if (after[i] != want[i])
            t->syscall_test_bad++;
    return 0;
}

static void log_unknown(uint64_t nr)
{
    static uint8_t logged[MAX_LOGGED / 8];
    if (nr < MAX_LOGGED) {
        if (__atomic_fetch_or(&logged[nr / 8], (uint8_t)(1u << (nr % 8)), __ATOMIC_RELAXED) &
            (1u << (nr % 8)))
            return;
    }
    pr_warn("syscall %llu is not implemented (ENOSYS)\n", (unsigned long long)nr);
}

int64_t syscall_dispatch(struct syscall_frame *f);
int64_t syscall_dispatch(struct syscall_frame *f)
{
    switch (f->nr) {
    case SYS_sched_yield:
        thread_yield();
        return 0;
    case SYS_getpid:
        return 1;                       /* one process per unikernel */
    case SYS_gettid:
        return thread_current()->id + 1;
    case SYS_tern_test_args:
        return sys_tern_test_args(f);
    default:
        log_unknown(f->nr);
        return -ENOSYS;
    }
}
