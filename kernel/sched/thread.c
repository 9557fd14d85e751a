/*
 * Thread life cycle: creation (stacks with guard pages, FP/SIMD area),
 * start, exit, join, and the stack registry used by backtraces and fault
 * reports.
 */
#include <arch/irq.h>
#include <kern/arch.h>
#include <kern/kmalloc.h>
#include <kern/kva.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/profile.h>
#include <kern/string.h>
#include <kern/thread.h>

uint32_t sched_weight(int nice);    /* sched.c */
void sched_enqueue_new(struct thread *t);
void finish_switch(struct arch_context *prev_ctx);

static spinlock_t all_lock = SPINLOCK_INIT;
static struct list_head all_threads = LIST_HEAD_INIT(all_threads);
static int next_id;

/* Allocate a thread. A CPU's boot context adopts the stack it runs on
 * (adopt_stack); every thread gets its own trap stack. */
struct thread *thread_alloc(const char *name, thread_fn fn, void *arg, int nice,
                            void *adopt_stack, size_t adopt_size)
{
    bool adopt_current_stack = adopt_stack != NULL;
    struct thread *t = kzalloc(sizeof(*t));
    if (!t)
        return NULL;
    strlcpy(t->name, name, sizeof(t->name));
    t->nice = nice;
    t->weight = sched_weight(nice);
    t->pinned_cpu = -1;
    list_init(&t->rq_link);
    list_init(&t->wait_link);
    waitq_init(&t->joiners);
    t->fpu_alloc = kmalloc(fpu_state_size + 64);
    t->trap_stack = kva_alloc_guarded(THREAD_TRAP_STACK_SIZE);
    t->syscall_stack = kva_alloc_guarded(THREAD_SYSCALL_STACK_SIZE);
    t->stack_size = adopt_current_stack ? adopt_size : THREAD_STACK_SIZE;
    t->stack = adopt_current_stack ? adopt_stack : kva_alloc_guarded(THREAD_STACK_SIZE);
    if (!t->fpu_alloc || !t->trap_stack || !t->syscall_stack || !t->stack) {
        if (t->trap_stack)
            kva_free_guarded(t->trap_stack, THREAD_TRAP_STACK_SIZE);
        if (t->syscall_stack)
            kva_free_guarded(t->syscall_stack, THREAD_SYSCALL_STACK_SIZE);
        if (t->stack && !adopt_current_stack)
            kva_free_guarded(t->stack, THREAD_STACK_SIZE);
        kfree(t->fpu_alloc);
        kfree(t);
        return NULL;
    }
    void *fpu = (void *)ALIGN_UP((uintptr_t)t->fpu_alloc, 64);
    if (adopt_current_stack)
        arch_context_adopt(&t->ctx, fpu);
    else
        arch_context_init(&t->ctx, (uintptr_t)t->stack + THREAD_STACK_SIZE, fn, arg, fpu);

    unsigned long flags = spin_lock_irqsave(&all_lock);
    t->id = next_id++;
    list_add_tail(&t->all_link, &all_threads);
    spin_unlock_irqrestore(&all_lock, flags);
    return t;
}

void thread_free(struct thread *t)
{
    profile_thread_gone(t);
    unsigned long flags = spin_lock_irqsave(&all_lock);
    list_del(&t->all_link);
    spin_unlock_irqrestore(&all_lock, flags);
    kva_free_guarded(t->trap_stack, THREAD_TRAP_STACK_SIZE);
    kva_free_guarded(t->syscall_stack, THREAD_SYSCALL_STACK_SIZE);
    if (t->stack_size == THREAD_STACK_SIZE && t->stack != (void *)boot_stack_bottom)
        kva_free_guarded(t->stack, THREAD_STACK_SIZE);
    kfree(t->fpu_alloc);
    kfree(t);
}

struct thread *thread_create(const char *name, thread_fn fn, void *arg, int nice)
{
    struct thread *t = thread_alloc(name, fn, arg, nice, NULL, 0);
    if (t)
        sched_enqueue_new(t);
    return t;
}

struct thread *thread_prepare(const char *name, thread_fn fn, void *arg, int nice)
{
    return thread_alloc(name, fn, arg, nice, NULL, 0);
}

void thread_launch(struct thread *t)
{
    sched_enqueue_new(t);
}

struct thread *thread_create_on(unsigned cpu, const char *name, thread_fn fn, void *arg,
                                int nice)
{
    struct thread *t = thread_alloc(name, fn, arg, nice, NULL, 0);
    if (t) {
        t->pinned_cpu = (int)cpu;
        sched_enqueue_new(t);
    }
    return t;
}

/* The first code a new thread runs (from thread_trampoline, switch.S). */
void thread_start(struct arch_context *prev, thread_fn fn, void *arg) __noreturn;
void thread_start(struct arch_context *prev, thread_fn fn, void *arg)
{
    finish_switch(prev);
    timer_reprogram();
    arch_irq_enable();
    fn(arg);
    thread_exit(0);
}

void thread_exit(int status)
{
    struct thread *t = thread_current();
    /* Interrupts stay off from here: a dead thread must not be preempted
     * (it would never be scheduled again to finish exiting). */
    arch_irq_disable();
    spin_lock_raw(&t->joiners.lock);
    t->exit_status = status;
    t->state = THREAD_DEAD;
    spin_unlock_raw(&t->joiners.lock);
    waitq_wake(&t->joiners, -1);
    schedule();
    panic("thread_exit: a dead thread was scheduled");
}

int thread_join(struct thread *t)
{
    unsigned long flags = spin_lock_irqsave(&t->joiners.lock);
    while (t->state != THREAD_DEAD)
        waitq_sleep_locked(&t->joiners, &flags, 0);
    spin_unlock_irqrestore(&t->joiners.lock, flags);
    /* It may still be switching away on another CPU. */
    while (t->on_cpu)
        arch_cpu_relax();
    int status = t->exit_status;
    thread_free(t);
    return status;
}

void thread_detach(struct thread *t)
{
    unsigned long flags = spin_lock_irqsave(&t->joiners.lock);
    t->detached = true;
    bool dead = t->state == THREAD_DEAD;
    spin_unlock_irqrestore(&t->joiners.lock, flags);
    if (dead) {
        while (t->on_cpu)
            arch_cpu_relax();
        thread_free(t);
    }
}

void thread_set_nice(struct thread *t, int nice)
{
    t->nice = nice;
    t->weight = sched_weight(nice);
}

static void sleep_expired(struct timer *tm)
{
    sched_wake(container_of(tm, struct thread, sleep_timer));
}

void thread_sleep_ns(uint64_t ns)
{
    struct thread *t = thread_current();
    unsigned long flags = arch_irq_save();
    t->state = THREAD_BLOCKED;
    t->nr_voluntary++;
    timer_add(&t->sleep_timer, arch_time_ns() + ns, sleep_expired);
    schedule();
    /* sleep_expired may still be returning on another CPU: let it finish
     * before this thread arms the same timer for its next sleep. */
    timer_cancel_sync(&t->sleep_timer);
    arch_irq_restore(flags);
}

bool sched_stack_contains(uintptr_t addr, size_t len)
{
    struct cpu *c = this_cpu();
    struct thread *t = c ? c->current : NULL;
    if (!t || addr + len < addr)
        return false;
    uintptr_t s = (uintptr_t)t->stack;
    size_t ssize = t->stack_size;
    uintptr_t ts = (uintptr_t)t->trap_stack, ss = (uintptr_t)t->syscall_stack;
    return (addr >= s && addr + len <= s + ssize) ||
           (addr >= ts && addr + len <= ts + THREAD_TRAP_STACK_SIZE) ||
           (addr >= ss && addr + len <= ss + THREAD_SYSCALL_STACK_SIZE);
}

void thread_for_each(void (*fn)(struct thread *t, void *arg), void *arg)
{
    unsigned long flags = spin_lock_irqsave(&all_lock);
    struct list_head *pos;
    list_for_each(pos, &all_threads)
        fn(list_entry(pos, struct thread, all_link), arg);
    spin_unlock_irqrestore(&all_lock, flags);
}

struct thread *sched_guard_owner(uintptr_t addr)
{
    struct list_head *pos;
    list_for_each(pos, &all_threads) {
        struct thread *t = list_entry(pos, struct thread, all_link);
        uintptr_t s = (uintptr_t)t->stack, ts = (uintptr_t)t->trap_stack;
        uintptr_t ss = (uintptr_t)t->syscall_stack;
        if ((addr < s && addr >= s - 4096) || (addr < ts && addr >= ts - 4096) ||
            (addr < ss && addr >= ss - 4096))
            return t;
    }
    return NULL;
}
