/*
 * Wait queues and the blocking primitives built on them: mutexes,
 * condition variables, counting semaphores, and a futex-like wait on a
 * 32-bit word that the Linux futex syscall reuses.
 */
#ifndef KERN_WAITQ_H
#define KERN_WAITQ_H

#include <kern/list.h>
#include <kern/spinlock.h>
#include <kern/types.h>

struct thread;

struct waitq {
    spinlock_t lock;
    struct list_head waiters;
};

#define WAITQ_INIT(name) { SPINLOCK_INIT, LIST_HEAD_INIT((name).waiters) }
void waitq_init(struct waitq *wq);

/* Block the current thread on wq. Called with wq->lock held and *flags
 * from spin_lock_irqsave; returns with the lock held again. timeout_ns 0
 * means forever; returns false when the timeout ended the wait. */
bool waitq_sleep_locked(struct waitq *wq, unsigned long *flags, uint64_t timeout_ns);
/* Wake up to n waiters (n < 0: all); returns how many. Takes the lock. */
int waitq_wake(struct waitq *wq, int n);

struct mutex {
    struct waitq wq;
    struct thread *owner;
    unsigned owner_cpu;         /* where the owner took it: spin or sleep */
};
#define MUTEX_INIT(name) { WAITQ_INIT((name).wq), NULL, 0 }
void mutex_init(struct mutex *m);
void mutex_lock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);

struct condvar {
    struct waitq wq;
};
void cond_init(struct condvar *c);
/* Atomically release m and wait; m is held again on return. */
void cond_wait(struct condvar *c, struct mutex *m);
bool cond_timedwait(struct condvar *c, struct mutex *m, uint64_t timeout_ns);
void cond_signal(struct condvar *c);
void cond_broadcast(struct condvar *c);

struct semaphore {
    struct waitq wq;
    long count;
};
void sem_init(struct semaphore *s, long count);
void sem_down(struct semaphore *s);
void sem_up(struct semaphore *s);

/* Futex-like: sleep while *addr == expected (checked atomically with
 * respect to kfutex_wake on the same address). Returns 0 when woken,
 * -EAGAIN-style 1 when *addr differed, 2 on timeout. */
#define KFUTEX_WOKEN     0
#define KFUTEX_CHANGED   1
#define KFUTEX_TIMEDOUT  2
/* The futex hash buckets: once, at boot (sched_init). */
void futex_init(void);
int kfutex_wait(const volatile uint32_t *addr, uint32_t expected, uint64_t timeout_ns);
int kfutex_wake(const volatile uint32_t *addr, int n);

/* What Linux's futex needs beyond that. A waiter carries a bitset; a wake
 * with a bitset wakes only waiters whose bitsets intersect it. *addr is
 * read under a spinlock: app memory must be known mapped (prefaulted). */
#define KFUTEX_BITSET_ANY 0xffffffffu
int kfutex_wait_bitset(const volatile uint32_t *addr, uint32_t expected,
                       uint64_t timeout_ns, uint32_t bitset);
int kfutex_wake_bitset(const volatile uint32_t *addr, int n, uint32_t bitset);
/* Wake n_wake waiters on addr and move up to n_requeue others to addr2;
 * with compare, only when *addr == expected (else -1). Returns woken +
 * moved. */
int kfutex_requeue(const volatile uint32_t *addr, int n_wake, const volatile uint32_t *addr2,
                   int n_requeue, bool compare, uint32_t expected);
/* With both words' queues locked, run op on addr2 (FUTEX_WAKE_OP's atomic
 * update; it returns whether to wake addr2's waiters too), then wake n on
 * addr and, if so, n2 on addr2. Returns how many woke. */
int kfutex_wake_op(const volatile uint32_t *addr, int n, volatile uint32_t *addr2, int n2,
                   bool (*op)(volatile uint32_t *addr2, void *arg), void *arg);

#endif
