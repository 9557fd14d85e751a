/*
 * Wait queues, and the mutexes, condition variables, semaphores and futex
 * words built on them.
 *
 * A waiter puts itself on the queue and marks itself blocked while holding
 * the queue's lock with interrupts off, then schedules; a waker takes the
 * same lock, so no wakeup is lost between the check and the sleep.
 */
#include <arch/irq.h>
#include <kern/arch.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/thread.h>
#include <kern/waitq.h>

void waitq_init(struct waitq *wq)
{
    wq->lock = (spinlock_t)SPINLOCK_INIT;
    list_init(&wq->waiters);
}

static void wake_locked(struct thread *t)
{
    list_del(&t->wait_link);
    t->waiting_on = NULL;
    sched_wake(t);
}

static int wake_n_locked(struct waitq *wq, int n)
{
    int woken = 0;
    while ((n < 0 || woken < n) && !list_empty(&wq->waiters)) {
        wake_locked(list_first_entry(&wq->waiters, struct thread, wait_link));
        woken++;
    }
    return woken;
}

static void wait_timed_out(struct timer *tm)
{
    struct thread *t = container_of(tm, struct thread, sleep_timer);
    struct waitq *wq = t->waiting_on;
    if (!wq)
        return;
    spin_lock_raw(&wq->lock);
    if (t->waiting_on == wq) {      /* not woken meanwhile */
        t->timed_out = true;
        wake_locked(t);
    }
    spin_unlock_raw(&wq->lock);
}

bool waitq_sleep_locked(struct waitq *wq, unsigned long *flags, uint64_t timeout_ns)
{
    struct thread *t = thread_current();
    (void)flags;                    /* interrupts stay off throughout */
    list_add_tail(&t->wait_link, &wq->waiters);
    t->waiting_on = wq;
    t->timed_out = false;
    t->state = THREAD_BLOCKED;
    t->nr_voluntary++;
    if (timeout_ns)
        timer_add(&t->sleep_timer, arch_time_ns() + timeout_ns, wait_timed_out);
    spin_unlock_raw(&wq->lock);
    schedule();
    /* Before re-taking the lock (wait_timed_out takes it): once this
     * returns, no callback of this wait is left to time out a later one. */
    if (timeout_ns)
        timer_cancel_sync(&t->sleep_timer);
    spin_lock_raw(&wq->lock);
    return !t->timed_out;
}

int waitq_wake(struct waitq *wq, int n)
{
    unsigned long flags = spin_lock_irqsave(&wq->lock);
    int woken = wake_n_locked(wq, n);
    spin_unlock_irqrestore(&wq->lock, flags);
    return woken;
}

/* --- mutex ------------------------------------------------------------- */

void mutex_init(struct mutex *m)
{
    waitq_init(&m->wq);
    m->owner = NULL;
}

/*
 * A mutex held by a thread that took it on another CPU is usually held
 * for a short section by a thread that is running there. Sleeping on it
 * costs this thread a switch and the owner's unlock a wakeup across CPUs
 * (a reschedule IPI to a halted CPU: several times a local switch,
 * bench/results/sched.csv), so first spin a little, with interrupts on,
 * for it to come free: adaptive, as FreeBSD's and Linux's mutexes are.
 * The owner is never dereferenced (it may exit meanwhile): its CPU is
 * the one it recorded, and the spin is bounded in time and in rounds
 * (the clock reads 0 before it is calibrated). True when it came free.
 */
#define MUTEX_SPIN_NS     20000
#define MUTEX_SPIN_ROUNDS 20000

static bool mutex_spin(struct mutex *m)
{
    if (nr_cpus < 2)
        return false;
    unsigned self = this_cpu()->id;
    uint64_t end = arch_time_ns() + MUTEX_SPIN_NS;
    for (unsigned i = 0; i < MUTEX_SPIN_ROUNDS; i++) {
        if (!__atomic_load_n(&m->owner, __ATOMIC_RELAXED))
            return true;
        /* An owner from this CPU is not running while we are. */
        if (__atomic_load_n(&m->owner_cpu, __ATOMIC_RELAXED) == self ||
            arch_time_ns() >= end)
            return false;
        arch_cpu_relax();
    }
    return false;
}

/* The stores are atomic because mutex_spin reads both without the lock
 * (relaxed: the lock orders everything else). */
static void mutex_take(struct mutex *m)
{
    __atomic_store_n(&m->owner_cpu, this_cpu()->id, __ATOMIC_RELAXED);
    __atomic_store_n(&m->owner, thread_current(), __ATOMIC_RELAXED);
}

void mutex_lock(struct mutex *m)
{
    unsigned long flags = spin_lock_irqsave(&m->wq.lock);
    BUG_ON(m->owner == thread_current());
    while (m->owner) {
        spin_unlock_irqrestore(&m->wq.lock, flags);
        mutex_spin(m);
        flags = spin_lock_irqsave(&m->wq.lock);
        if (m->owner)
            waitq_sleep_locked(&m->wq, &flags, 0);
    }
    mutex_take(m);
    spin_unlock_irqrestore(&m->wq.lock, flags);
}

bool mutex_trylock(struct mutex *m)
{
    unsigned long flags = spin_lock_irqsave(&m->wq.lock);
    bool got = m->owner == NULL;
    if (got)
        mutex_take(m);
    spin_unlock_irqrestore(&m->wq.lock, flags);
    return got;
}

void mutex_unlock(struct mutex *m)
{
    unsigned long flags = spin_lock_irqsave(&m->wq.lock);
    if (m->owner != thread_current())
        panic("mutex_unlock: %p is not held by this thread", (void *)m);
    __atomic_store_n(&m->owner, NULL, __ATOMIC_RELAXED);
    wake_n_locked(&m->wq, 1);
    spin_unlock_irqrestore(&m->wq.lock, flags);
}

/* --- condition variable ------------------------------------------------- */

void cond_init(struct condvar *c)
{
    waitq_init(&c->wq);
}

bool cond_timedwait(struct condvar *c, struct mutex *m, uint64_t timeout_ns)
{
    unsigned long flags = spin_lock_irqsave(&c->wq.lock);
    mutex_unlock(m);                /* a signaller now waits for wq.lock */
    bool woken = waitq_sleep_locked(&c->wq, &flags, timeout_ns);
    spin_unlock_irqrestore(&c->wq.lock, flags);
    mutex_lock(m);
    return woken;
}

void cond_wait(struct condvar *c, struct mutex *m)
{
    cond_timedwait(c, m, 0);
}

void cond_signal(struct condvar *c)    { waitq_wake(&c->wq, 1); }
void cond_broadcast(struct condvar *c) { waitq_wake(&c->wq, -1); }

/* --- semaphore ---------------------------------------------------------- */

void sem_init(struct semaphore *s, long count)
{
    waitq_init(&s->wq);
    s->count = count;
}

void sem_down(struct semaphore *s)
{
    unsigned long flags = spin_lock_irqsave(&s->wq.lock);
    while (s->count <= 0)
        waitq_sleep_locked(&s->wq, &flags, 0);
    s->count--;
    spin_unlock_irqrestore(&s->wq.lock, flags);
}

void sem_up(struct semaphore *s)
{
    unsigned long flags = spin_lock_irqsave(&s->wq.lock);
    s->count++;
    wake_n_locked(&s->wq, 1);
    spin_unlock_irqrestore(&s->wq.lock, flags);
}

/* --- futex words -------------------------------------------------------- */

#define FUTEX_BUCKETS 64
static struct waitq futex_buckets[FUTEX_BUCKETS];

/* At boot, on one CPU. (Initialized on first use instead, two threads
 * starting at once on two CPUs could both initialize, and the second would
 * empty a list the first had just queued a waiter on: a lost wakeup.) */
void futex_init(void)
{
    for (int i = 0; i < FUTEX_BUCKETS; i++)
        waitq_init(&futex_buckets[i]);
}

static struct waitq *bucket(const volatile uint32_t *addr)
{
    uintptr_t a = (uintptr_t)addr >> 2;
    return &futex_buckets[(a ^ (a >> 6) ^ (a >> 12)) % FUTEX_BUCKETS];
}

int kfutex_wait_bitset(const volatile uint32_t *addr, uint32_t expected,
                       uint64_t timeout_ns, uint32_t bitset)
{
    struct waitq *wq = bucket(addr);
    struct thread *self = thread_current();
    unsigned long flags = spin_lock_irqsave(&wq->lock);
    if (*addr != expected) {
        spin_unlock_irqrestore(&wq->lock, flags);
        return KFUTEX_CHANGED;
    }
    self->futex_addr = addr;
    self->futex_bitset = bitset;
    /* A requeue may move us to another bucket's list while we sleep; we
     * still re-take this bucket's lock on the way out, which is harmless:
     * we are on no list by then. */
    bool woken = waitq_sleep_locked(wq, &flags, timeout_ns);
    self->futex_addr = NULL;
    spin_unlock_irqrestore(&wq->lock, flags);
    return woken ? KFUTEX_WOKEN : KFUTEX_TIMEDOUT;
}

int kfutex_wait(const volatile uint32_t *addr, uint32_t expected, uint64_t timeout_ns)
{
    return kfutex_wait_bitset(addr, expected, timeout_ns, KFUTEX_BITSET_ANY);
}

static int wake_matching_locked(struct waitq *wq, const volatile uint32_t *addr, int n,
                                uint32_t bitset)
{
    int woken = 0;
    struct list_head *pos, *tmp;
    list_for_each_safe(pos, tmp, &wq->waiters) {
        if (woken == n)
            break;
        struct thread *t = list_entry(pos, struct thread, wait_link);
        if (t->futex_addr != addr || !(t->futex_bitset & bitset))
            continue;
        wake_locked(t);
        woken++;
    }
    return woken;
}

int kfutex_wake_bitset(const volatile uint32_t *addr, int n, uint32_t bitset)
{
    struct waitq *wq = bucket(addr);
    unsigned long flags = spin_lock_irqsave(&wq->lock);
    int woken = wake_matching_locked(wq, addr, n, bitset);
    spin_unlock_irqrestore(&wq->lock, flags);
    return woken;
}

int kfutex_wake(const volatile uint32_t *addr, int n)
{
    return kfutex_wake_bitset(addr, n, KFUTEX_BITSET_ANY);
}

/* Both buckets locked, in address order (one lock when they are the same). */
static unsigned long lock_two(struct waitq *a, struct waitq *b)
{
    unsigned long flags = arch_irq_save();
    if (a == b) {
        spin_lock_raw(&a->lock);
    } else if (a < b) {
        spin_lock_raw(&a->lock);
        spin_lock_raw(&b->lock);
    } else {
        spin_lock_raw(&b->lock);
        spin_lock_raw(&a->lock);
    }
    return flags;
}

static void unlock_two(struct waitq *a, struct waitq *b, unsigned long flags)
{
    spin_unlock_raw(&a->lock);
    if (a != b)
        spin_unlock_raw(&b->lock);
    arch_irq_restore(flags);
}

int kfutex_requeue(const volatile uint32_t *addr, int n_wake, const volatile uint32_t *addr2,
                   int n_requeue, bool compare, uint32_t expected)
{
    struct waitq *wq = bucket(addr), *wq2 = bucket(addr2);
    unsigned long flags = lock_two(wq, wq2);
    if (compare && *addr != expected) {
        unlock_two(wq, wq2, flags);
        return -1;
    }
    int done = wake_matching_locked(wq, addr, n_wake, KFUTEX_BITSET_ANY);
    int moved = 0;
    struct list_head *pos, *tmp;
    list_for_each_safe(pos, tmp, &wq->waiters) {
        if (moved == n_requeue)
            break;
        struct thread *t = list_entry(pos, struct thread, wait_link);
        if (t->futex_addr != addr)
            continue;
        /* Still asleep, now on addr2: the waiter re-locks the bucket it
         * went to sleep on, so keep that lock order by moving the list
         * entry and waiting_on together under both locks. */
        list_del(&t->wait_link);
        list_add_tail(&t->wait_link, &wq2->waiters);
        t->waiting_on = wq2;
        t->futex_addr = addr2;
        moved++;
    }
    unlock_two(wq, wq2, flags);
    return done + moved;
}

int kfutex_wake_op(const volatile uint32_t *addr, int n, volatile uint32_t *addr2, int n2,
                   bool (*op)(volatile uint32_t *addr2, void *arg), void *arg)
{
    struct waitq *wq = bucket(addr), *wq2 = bucket(addr2);
    unsigned long flags = lock_two(wq, wq2);
    bool wake2 = op(addr2, arg);
    int woken = wake_matching_locked(wq, addr, n, KFUTEX_BITSET_ANY);
    if (wake2)
        woken += wake_matching_locked(wq2, addr2, n2, KFUTEX_BITSET_ANY);
    unlock_two(wq, wq2, flags);
    return woken;
}
