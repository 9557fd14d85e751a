/*
 * futex(2) over the kernel's futex words (kern/waitq.h): WAIT, WAKE,
 * REQUEUE, CMP_REQUEUE, WAKE_OP, WAIT_BITSET and WAKE_BITSET, private or
 * not (one address space: the same thing). Priority-inheritance futexes
 * are not implemented (-ENOSYS), as musl and glibc only use them for
 * PTHREAD_PRIO_INHERIT mutexes.
 */
#include <kern/errno.h>
#include <kern/syscall.h>
#include <kern/timer.h>
#include <kern/uaccess.h>
#include <kern/waitq.h>
#include "futex.h"
#include "linux_time.h"

#define FUTEX_WAIT            0
#define FUTEX_WAKE            1
#define FUTEX_REQUEUE         3
#define FUTEX_CMP_REQUEUE     4
#define FUTEX_WAKE_OP         5
#define FUTEX_WAIT_BITSET     9
#define FUTEX_WAKE_BITSET     10
#define FUTEX_PRIVATE_FLAG    128
#define FUTEX_CLOCK_REALTIME  256
#define FUTEX_CMD_MASK        (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

#define INT_MAX_ 0x7fffffff

/* The word must be mapped before it is read under the bucket's spinlock:
 * touching it here, with nothing held, faults it in. */
static int prefault(const uint32_t *uaddr, bool write)
{
    uint32_t v;
    if ((uintptr_t)uaddr & 3)
        return -EINVAL;
    if (write ? !user_writable(uaddr, 4) : !user_readable(uaddr, 4))
        return -EFAULT;
    if (write)
        __atomic_fetch_add((uint32_t *)uaddr, 0, __ATOMIC_RELAXED);
    else
        return copy_from_user(&v, uaddr, 4);
    return 0;
}

int futex_wake_addr(uint32_t *uaddr, int n)
{
    int err = prefault(uaddr, false);
    return err ? err : kfutex_wake(uaddr, n);
}

static int64_t futex_wait(uint32_t *uaddr, uint32_t val, const struct linux_timespec *uts,
                          bool absolute, bool realtime, uint32_t bitset)
{
    uint64_t timeout = 0;
    int err = prefault(uaddr, false);
    if (err)
        return err;
    if (!bitset)
        return -EINVAL;
    if (uts) {
        struct linux_timespec ts;
        if (copy_from_user(&ts, uts, sizeof(ts)))
            return -EFAULT;
        if (!timespec_valid(&ts))
            return -EINVAL;
        uint64_t ns = timespec_to_ns(&ts);
        if (absolute) {
            uint64_t now = realtime ? clock_realtime_ns() : clock_monotonic_ns();
            ns = ns > now ? ns - now : 0;
        }
        if (!ns) {
            /* Already expired: Linux still compares the word first. */
            uint32_t cur;
            if (copy_from_user(&cur, uaddr, sizeof(cur)))
                return -EFAULT;
            return cur != val ? -EAGAIN : -ETIMEDOUT;
        }
        timeout = ns;
    }
    switch (kfutex_wait_bitset(uaddr, val, timeout, bitset)) {
    case KFUTEX_CHANGED:  return -EAGAIN;
    case KFUTEX_TIMEDOUT: return -ETIMEDOUT;
    default:              return 0;
    }
}

/* FUTEX_WAKE_OP's operation, encoded in val3 (Linux uapi/linux/futex.h). */
struct wake_op {
    uint32_t encoded;
    bool fault;
};

static bool do_wake_op(volatile uint32_t *uaddr2, void *arg)
{
    struct wake_op *w = arg;
    uint32_t op = (w->encoded >> 28) & 7, cmp = (w->encoded >> 24) & 15;
    /* Both arguments are signed 12-bit fields. */
    int32_t soparg = (int32_t)(w->encoded << 8) >> 20;
    uint32_t oparg = (uint32_t)soparg, cmparg = w->encoded & 0xfff;
    if ((w->encoded >> 31) & 1)                     /* FUTEX_OP_OPARG_SHIFT */
        oparg = 1u << (soparg & 31);                /* Linux masks a bad shift */
    uint32_t old = *uaddr2, new;
    do {
        switch (op) {
        case 0: new = oparg; break;                 /* SET */
        case 1: new = old + oparg; break;           /* ADD */
        case 2: new = old | oparg; break;           /* OR */
        case 3: new = old & ~oparg; break;          /* ANDN */
        case 4: new = old ^ oparg; break;           /* XOR */
        default: w->fault = true; return false;
        }
    } while (!__atomic_compare_exchange_n(uaddr2, &old, new, false, __ATOMIC_SEQ_CST,
                                          __ATOMIC_SEQ_CST));
    int32_t o = (int32_t)old, c = (int32_t)(cmparg << 20) >> 20;   /* sign-extend 12 bits */
    switch (cmp) {
    case 0: return o == c;
    case 1: return o != c;
    case 2: return o < c;
    case 3: return o <= c;
    case 4: return o > c;
    case 5: return o >= c;
    default: w->fault = true; return false;
    }
}

SYSCALL6(futex, uint32_t *, uaddr, int, op, uint32_t, val, const struct linux_timespec *, uts,
         uint32_t *, uaddr2, uint32_t, val3)
{
    int cmd = op & FUTEX_CMD_MASK;
    bool realtime = op & FUTEX_CLOCK_REALTIME;
    /* For (CMP_)REQUEUE and WAKE_OP the timeout argument is a count. */
    uint32_t val2 = (uint32_t)(uintptr_t)uts;
    int err;

    if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT)
        return -ENOSYS;
    switch (cmd) {
    case FUTEX_WAIT:
        return futex_wait(uaddr, val, uts, false, false, KFUTEX_BITSET_ANY);
    case FUTEX_WAIT_BITSET:
        return futex_wait(uaddr, val, uts, true, realtime, val3);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
        if ((err = prefault(uaddr, false)))
            return err;
        if (cmd == FUTEX_WAKE_BITSET && !val3)
            return -EINVAL;
        return kfutex_wake_bitset(uaddr, (int)(val > INT_MAX_ ? INT_MAX_ : val),
                                  cmd == FUTEX_WAKE ? KFUTEX_BITSET_ANY : val3);
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
        if ((err = prefault(uaddr, false)) || (err = prefault(uaddr2, false)))
            return err;
        if ((int32_t)val < 0 || (int32_t)val2 < 0)
            return -EINVAL;
        int n = kfutex_requeue(uaddr, (int)val, uaddr2, (int)val2, cmd == FUTEX_CMP_REQUEUE,
                               val3);
        return n < 0 ? -EAGAIN : n;
    }
    case FUTEX_WAKE_OP: {
        if ((err = prefault(uaddr, false)) || (err = prefault(uaddr2, true)))
            return err;
        struct wake_op w = { val3, false };
        int n = kfutex_wake_op(uaddr, (int)val, uaddr2, (int)val2, do_wake_op, &w);
        return w.fault ? -ENOSYS : n;
    }
    default:
        return -ENOSYS;
    }
}
