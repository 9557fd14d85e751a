/*
 * The scheduler: per-CPU run queues ordered by virtual runtime (CPU time
 * scaled by the thread's weight), so threads share the CPU in proportion to
 * their weights; nice 0 weighs 1024 and each nice step is a factor 1.25.
 * The running thread keeps the CPU for a time slice; the timer interrupt
 * preempts it when the slice is over and another thread is runnable.
 *
 * Locking: each run queue has a spinlock, held with interrupts off. It is
 * held across arch_switch; the thread switched to drops it
 * (finish_switch), which is why the raw lock calls are used here.
 */
#include <arch/irq.h>
#include <kern/arch.h>
#include <kern/kmalloc.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/thread.h>

struct cpu cpus[MAX_CPUS];
unsigned nr_cpus = 1;

#define NICE_0_WEIGHT 1024
static uint32_t nice_weight[40];
static uint64_t slice_ns = 4000000;         /* 4 ms */

void thread_free(struct thread *t);         /* thread.c */

uint32_t sched_weight(int nice)
{
    if (nice < -20)
        nice = -20;
    if (nice > 19)
        nice = 19;
    return nice_weight[nice + 20];
}

static void init_weights(void)
{
    /* weight(n) = 1024 / 1.25^n, in integers */
    nice_weight[20] = NICE_0_WEIGHT;
    for (int i = 21; i < 40; i++)
        nice_weight[i] = MAX(nice_weight[i - 1] * 4 / 5, 15u);
    for (int i = 19; i >= 0; i--)
        nice_weight[i] = nice_weight[i + 1] * 5 / 4;
}

void sched_set_slice_ns(uint64_t ns) { slice_ns = ns; }
uint64_t sched_slice_ns(void)        { return slice_ns; }

uint64_t thread_cpu_time_ns(const struct thread *t)
{
    uint64_t sum = __atomic_load_n(&t->sum_exec_ns, __ATOMIC_RELAXED);
    /* A thread alone on a tickless CPU is charged only when it stops. */
    if (t->state == THREAD_RUNNING) {
        uint64_t start = __atomic_load_n(&t->run_start_ns, __ATOMIC_RELAXED);
        uint64_t now = arch_time_ns();
        if (now > start)
            sum += now - start;
    }
    return sum;
}

uint64_t cpu_idle_time_ns(const struct cpu *c)
{
    uint64_t ns = __atomic_load_n(&c->idle_ns, __ATOMIC_RELAXED);
    /* Charged, like a thread's time, only when the CPU leaves its idle
     * thread or takes a tick: add the stretch it may be idling now. */
    if (__atomic_load_n(&c->current, __ATOMIC_RELAXED) == c->idle) {
        uint64_t start = __atomic_load_n(&c->idle->run_start_ns, __ATOMIC_RELAXED);
        uint64_t now = arch_time_ns();
        if (now > start)
            ns += now - start;
    }
    return ns;
}

/* The offsets the assembly uses (arch/percpu.h). */
_Static_assert(offsetof(struct cpu, self) == CPU_SELF, "struct cpu layout");
_Static_assert(offsetof(struct cpu, trap_stack_lo) == CPU_TRAP_STACK_LO, "struct cpu layout");
_Static_assert(offsetof(struct cpu, trap_stack_hi) == CPU_TRAP_STACK_HI, "struct cpu layout");
_Static_assert(offsetof(struct cpu, syscall_stack_hi) == CPU_SYSCALL_STACK, "struct cpu layout");
_Static_assert(offsetof(struct cpu, current) == CPU_CURRENT, "struct cpu layout");
_Static_assert(offsetof(struct cpu, arch) == CPU_ARCH, "struct cpu layout");

struct thread *thread_current(void)
{
    return arch_current_thread();
}

/* --- run queue ---------------------------------------------------------- */

static void rq_enqueue(struct cpu *c, struct thread *t)
{
    struct list_head *pos;
    /* Sorted by vruntime; equal ones keep arrival order. */
    list_for_each(pos, &c->rq.threads) {
        struct thread *o = list_entry(pos, struct thread, rq_link);
        if (o->vruntime > t->vruntime)
            break;
    }
    list_insert_before(&t->rq_link, pos);
    c->rq.nr_running++;
}

static void rq_dequeue(struct cpu *c, struct thread *t)
{
    list_del(&t->rq_link);
    c->rq.nr_running--;
}

static void update_min_vruntime(struct cpu *c)
{
    uint64_t v = c->current != c->idle ? c->current->vruntime : UINT64_MAX;
    if (!list_empty(&c->rq.threads))
        v = MIN(v, list_first_entry(&c->rq.threads, struct thread, rq_link)->vruntime);
    if (v != UINT64_MAX && v > c->rq.min_vruntime)
        c->rq.min_vruntime = v;
}

/* Charge the running thread for the time since it last got the CPU. */
static void update_curr(struct cpu *c, uint64_t now)
{
    struct thread *t = c->current;
    uint64_t delta = now - t->run_start_ns;
    t->run_start_ns = now;
    if (t == c->idle) {
        c->idle_ns += delta;
        return;
    }
    t->sum_exec_ns += delta;
    t->vruntime += delta * NICE_0_WEIGHT / t->weight;
    update_min_vruntime(c);
}

static unsigned load_of(const struct cpu *c)
{
    return c->rq.nr_running + (c->current != c->idle);
}

/*
 * A thread was queued on c. A CPU whose queue was empty has no slice
 * timer armed (tickless): without one, its running thread would never be
 * preempted for the newcomer. Here, reprogram the timer; elsewhere, ask
 * the CPU to reschedule.
 */
static void after_enqueue(struct cpu *c, bool kick, bool was_alone)
{
    if (c == this_cpu()) {
        if (was_alone)
            timer_reprogram();
    } else if (kick) {
        unsigned long flags = arch_irq_save();
        this_cpu()->nr_ipis++;
        arch_irq_restore(flags);
        arch_send_resched(c);
    }
}

/* New threads go to the least loaded online CPU. */
void sched_enqueue_new(struct thread *t)
{
    struct cpu *c = this_cpu();
    if (t->pinned_cpu >= 0 && (unsigned)t->pinned_cpu < nr_cpus && cpus[t->pinned_cpu].online)
        c = &cpus[t->pinned_cpu];
    else
        for (unsigned i = 0; i < nr_cpus; i++)
            if (cpus[i].online && load_of(&cpus[i]) < load_of(c))
                c = &cpus[i];
    unsigned long flags = spin_lock_irqsave(&c->rq.lock);
    t->cpu = c;
    t->vruntime = c->rq.min_vruntime;
    t->state = THREAD_RUNNABLE;
    bool was_alone = c->rq.nr_running == 0;
    rq_enqueue(c, t);
    bool kick = c != this_cpu() && (c->current == c->idle || was_alone);
    spin_unlock_irqrestore(&c->rq.lock, flags);
    after_enqueue(c, kick, was_alone);
}

/*
 * The thread of c's queue that would wait longest there (the largest
 * vruntime) and is free to move, taken out of the queue; NULL if none.
 * Called with c's run-queue lock held. Never one whose context is still
 * live on its CPU: a thread woken while it was on its way into schedule()
 * there sits in that queue before its CPU has switched away from it.
 * Moving it would let that CPU, seeing the state the new one sets
 * (RUNNING), queue and run it again: one thread on two CPUs.
 * Its vruntime comes back relative to c's queue (rq_adopt adds the new
 * queue's base), so it keeps its place.
 */
static struct thread *rq_take_movable(struct cpu *c)
{
    struct list_head *pos;
    for (pos = c->rq.threads.prev; pos != &c->rq.threads; pos = pos->prev) {
        struct thread *t = list_entry(pos, struct thread, rq_link);
        if (t->pinned_cpu < 0 && !__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE)) {
            rq_dequeue(c, t);
            t->vruntime -= MIN(t->vruntime, c->rq.min_vruntime);
            return t;
        }
    }
    return NULL;
}

/* Give c a thread taken by rq_take_movable; c's lock is held. */
static void rq_adopt(struct cpu *c, struct thread *t)
{
    t->vruntime += c->rq.min_vruntime;
    t->cpu = c;
    t->nr_migrations++;
}

/*
 * Load balancing by stealing: a CPU about to go idle takes a runnable
 * thread from the busiest other run queue. Called with our run-queue lock
 * held; the other lock is only tried, never waited for, so two CPUs
 * stealing from each other cannot deadlock.
 */
static struct thread *steal(struct cpu *self)
{
    struct cpu *busiest = NULL;
    for (unsigned i = 0; i < nr_cpus; i++) {
        struct cpu *c = &cpus[i];
        if (c != self && c->online && c->rq.nr_running &&
            (!busiest || c->rq.nr_running > busiest->rq.nr_running))
            busiest = c;
    }
    if (!busiest || !spin_trylock_raw(&busiest->rq.lock))
        return NULL;
    struct thread *t = rq_take_movable(busiest);
    spin_unlock_raw(&busiest->rq.lock);
    if (t)
        rq_adopt(self, t);
    return t;
}

/*
 * Load balancing by pushing, for what stealing cannot see: no CPU is idle,
 * but one runs three threads and another one (a 3:1 split of four hogs
 * gives shares of 16% and 50%). At a scheduler tick, a CPU whose load is
 * at least two above the least loaded CPU's moves one queued thread
 * there. A difference of one is left alone: moving would only swap the
 * imbalance. Ticks come only to CPUs with threads waiting (tickless), which
 * are the ones that can push. The two run-queue locks are taken one after
 * the other, never together, so this cannot deadlock with steal() or
 * another push; in between, the thread is in no queue and RUNNABLE, which
 * nothing but a run queue acts on.
 */
#define BALANCE_INTERVAL_NS 20000000ULL   /* 20 ms: five time slices */

static void balance_push(struct cpu *self, uint64_t now)
{
    if (nr_cpus < 2 || now < self->next_balance_ns)
        return;
    self->next_balance_ns = now + BALANCE_INTERVAL_NS;
    struct cpu *target = NULL;
    for (unsigned i = 0; i < nr_cpus; i++) {
        struct cpu *c = &cpus[i];
        if (c != self && c->online && (!target || load_of(c) < load_of(target)))
            target = c;
    }
    if (!target || load_of(target) + 2 > load_of(self))
        return;
    spin_lock_raw(&self->rq.lock);
    struct thread *t = rq_take_movable(self);
    spin_unlock_raw(&self->rq.lock);
    if (!t)
        return;
    spin_lock_raw(&target->rq.lock);
    rq_adopt(target, t);
    bool was_alone = target->rq.nr_running == 0;
    rq_enqueue(target, t);
    bool kick = target->current == target->idle || was_alone;
    spin_unlock_raw(&target->rq.lock);
    after_enqueue(target, kick, was_alone);
}

/* --- switching ------------------------------------------------------------ */

static void set_trap_stack(struct cpu *c, struct thread *t)
{
    c->trap_stack_lo = (uintptr_t)t->trap_stack;
    c->trap_stack_hi = (uintptr_t)t->trap_stack + THREAD_TRAP_STACK_SIZE;
    c->syscall_stack_hi = (uintptr_t)t->syscall_stack + THREAD_SYSCALL_STACK_SIZE;
}

/* Runs on the thread switched to, with the run-queue lock held. */
void finish_switch(struct arch_context *prev_ctx)
{
    struct thread *prev = container_of(prev_ctx, struct thread, ctx);
    struct cpu *c = this_cpu();

    prev->on_cpu = false;
    spin_unlock_raw(&c->rq.lock);
    if (prev->state == THREAD_DEAD && prev->detached)
        thread_free(prev);
    /* A thread moving to another CPU (sched_set_cpu): now that its context
     * is saved, queue it there. No run-queue lock is held here, so taking
     * the other CPU's cannot deadlock. */
    if (prev->migrate_pending) {
        prev->migrate_pending = false;
        sched_enqueue_new(prev);
    }
}

void schedule(void)
{
    unsigned long flags = arch_irq_save();
    struct cpu *c = this_cpu();
    spin_lock_raw(&c->rq.lock);

    struct thread *prev = c->current;
    uint64_t now = arch_time_ns();
    update_curr(c, now);
    c->need_resched = false;
    if (prev->state == THREAD_RUNNING) {
        prev->state = THREAD_RUNNABLE;
        if (prev != c->idle && !prev->migrate_pending)
            rq_enqueue(c, prev);
    }
    struct thread *next = c->idle;
    if (!list_empty(&c->rq.threads)) {
        next = list_first_entry(&c->rq.threads, struct thread, rq_link);
        rq_dequeue(c, next);
    } else {
        struct thread *stolen = steal(c);
        if (stolen)
            next = stolen;
    }
    next->state = THREAD_RUNNING;
    next->run_start_ns = now;
    c->slice_end_ns = now + slice_ns;
    if (next == prev) {
        spin_unlock_raw(&c->rq.lock);
        timer_reprogram();
        arch_irq_restore(flags);
        return;
    }
    c->nr_switches++;
    c->current = next;
    /* A thread woken while still switching out elsewhere: wait until its
     * context is saved. */
    while (__atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE))
        arch_cpu_relax();
    next->on_cpu = true;
    set_trap_stack(c, next);
    struct arch_context *from = arch_switch(&prev->ctx, &next->ctx);
    /* Back on prev, switched to by `from`'s thread. */
    finish_switch(from);
    timer_reprogram();
    arch_irq_restore(flags);
}

void sched_set_cpu(int cpu)
{
    struct thread *t = thread_current();
    unsigned long flags = arch_irq_save();
    t->pinned_cpu = cpu;
    if (cpu >= 0 && (unsigned)cpu != this_cpu()->id) {
        t->migrate_pending = true;
        schedule();                     /* finish_switch queues us there */
    }
    arch_irq_restore(flags);
}

void thread_yield(void)
{
    thread_current()->nr_voluntary++;
    schedule();
}

void sched_wake(struct thread *t)
{
    struct cpu *c = t->cpu;
    bool was_alone = false;
    unsigned long flags = spin_lock_irqsave(&c->rq.lock);
    if (t->state == THREAD_BLOCKED) {
        t->state = THREAD_RUNNABLE;
        /* A sleeper may not bank more than one slice of credit. */
        uint64_t floor = c->rq.min_vruntime > slice_ns ? c->rq.min_vruntime - slice_ns : 0;
        if (t->vruntime < floor)
            t->vruntime = floor;
        was_alone = c->rq.nr_running == 0;
        rq_enqueue(c, t);
        if (c->current == c->idle)
            c->need_resched = true;
    }
    bool kick = c != this_cpu() && (c->need_resched || was_alone);
    spin_unlock_irqrestore(&c->rq.lock, flags);
    /* Counted on the waker's CPU, with interrupts off so that neither an
     * interrupt's wakeup nor a migration splits the increments. */
    flags = arch_irq_save();
    struct cpu *me = this_cpu();
    me->nr_wakeups++;
    if (c != me)
        me->nr_remote_wakeups++;
    arch_irq_restore(flags);
    after_enqueue(c, kick, was_alone);
}

void sched_tick(void)
{
    struct cpu *c = this_cpu();
    spin_lock_raw(&c->rq.lock);
    uint64_t now = arch_time_ns();
    update_curr(c, now);
    if (c->rq.nr_running && (c->current == c->idle || now >= c->slice_end_ns))
        c->need_resched = true;
    bool waiting = c->rq.nr_running > 0;
    spin_unlock_raw(&c->rq.lock);
    if (waiting)
        balance_push(c, now);
    /* Threads wait here while another CPU idles: wake it to steal one. */
    if (waiting)
        for (unsigned i = 0; i < nr_cpus; i++) {
            struct cpu *o = &cpus[i];
            if (o != c && o->online && o->current == o->idle && !o->rq.nr_running) {
                c->nr_ipis++;
                arch_send_resched(o);
                break;
            }
        }
}

void sched_preempt(void)
{
    struct cpu *c = this_cpu();
    if (!c->need_resched)
        return;
    if (c->current != c->idle && c->current->state == THREAD_RUNNING) {
        c->current->nr_preempted++;
        c->nr_preemptions++;
    }
    schedule();
}

/* --- idle and start-up ---------------------------------------------------- */

static void idle_loop(void *arg)
{
    struct cpu *c = this_cpu();
    for (;;) {
        arch_irq_disable();
        if (c->need_resched || c->rq.nr_running) {
            arch_irq_enable();
            schedule();
            continue;
        }
        /* Interrupts go on only as the CPU halts: a wakeup cannot slip in
         * between the check above and the halt. */
        arch_idle_halt();
    }
}

struct thread *thread_alloc(const char *name, thread_fn fn, void *arg, int nice,
                            void *adopt_stack, size_t adopt_size);   /* thread.c */

void sched_init(void)
{
    init_weights();
    futex_init();
    struct cpu *c = this_cpu();
    list_init(&c->rq.threads);
    list_init(&c->timers);
    /* The boot context becomes the "main" thread. */
    struct thread *main = thread_alloc("main", NULL, NULL, 0, boot_stack_bottom,
                                       (size_t)(boot_stack_top - boot_stack_bottom));
    if (!main)
        panic("sched: cannot allocate the main thread");
    main->cpu = c;
    main->state = THREAD_RUNNING;
    main->on_cpu = true;
    main->run_start_ns = arch_time_ns();
    c->current = main;
    set_trap_stack(c, main);

    c->idle = thread_alloc("idle0", idle_loop, NULL, 19, NULL, 0);
    if (!c->idle)
        panic("sched: cannot allocate the idle thread");
    c->idle->cpu = c;
    c->idle->state = THREAD_RUNNABLE;
    c->online = true;
    arch_irq_enable();
    pr_info("sched: running, time slice %llu us\n", (unsigned long long)slice_ns / 1000);
}

/* An application processor's boot context becomes its idle thread. */
void sched_init_ap(void *stack, size_t size) __noreturn;
void sched_init_ap(void *stack, size_t size)
{
    struct cpu *c = this_cpu();
    char name[THREAD_NAME_MAX];
    list_init(&c->rq.threads);
    list_init(&c->timers);
    snprintf(name, sizeof(name), "idle%u", c->id);
    struct thread *idle = thread_alloc(name, NULL, NULL, 19, stack, size);
    if (!idle)
        panic("sched: cannot allocate the idle thread of cpu%u", c->id);
    idle->cpu = c;
    idle->state = THREAD_RUNNING;
    idle->on_cpu = true;
    idle->run_start_ns = arch_time_ns();
    c->idle = c->current = idle;
    set_trap_stack(c, idle);
    __atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
    arch_irq_enable();
    idle_loop(NULL);
    panic("idle loop returned");
}

void sched_print_stats(void)
{
    for (unsigned i = 0; i < nr_cpus; i++) {
        struct cpu *c = &cpus[i];
        pr_info("cpu%u: %llu switches, %llu preemptions, %llu interrupts, idle %llu ms\n",
                i, (unsigned long long)c->nr_switches,
                (unsigned long long)c->nr_preemptions,
                (unsigned long long)c->nr_interrupts,
                (unsigned long long)c->idle_ns / 1000000);
    }
}
