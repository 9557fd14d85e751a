/*
 * ktest=trap_stale_stack: a trap builds its frame (and, on aarch64, saves
 * the interrupted vector state) on the thread's trap stack, in memory an
 * earlier, deeper trap may have left anything in. This fills the trap
 * stack with ones, then takes timer interrupts on it, twenty times: each
 * must come back through its restore without a fault. (When x86_64's trap
 * path still saved vector state there, before switch.S took that over, an
 * XSAVE header left uncleared made XRSTOR raise #GP on such an area: seen
 * once in CI-like runs at -O0, "KERNEL FAULT: #GP ... trap_common".)
 */
#include <arch/irq.h>
#include <kern/ktest.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>

#define ROUNDS 20

static volatile unsigned fired;

static void tick(struct timer *t)
{
    (void)t;
    fired++;
}

KTEST(trap_stale_stack, "interrupts taken over a trap stack full of stale bytes")
{
    static struct timer t;
    struct thread *self = thread_current();
    for (int i = 0; i < ROUNDS; i++) {
        unsigned before = fired;
        /* Interrupts off: nothing may be using the trap stack meanwhile
         * (this thread runs on its own stack, so no trap is live on it). */
        unsigned long flags = arch_irq_save();
        memset(self->trap_stack, 0xff, THREAD_TRAP_STACK_SIZE);
        timer_add(&t, clock_monotonic_ns() + 1000000, tick);
        arch_irq_restore(flags);
        /* Spin, not sleep: the interrupt must arrive while this thread,
         * and so its trap stack, is the one running. */
        uint64_t end = clock_monotonic_ns() + 2000000000ULL;
        while (fired == before) {
            if (clock_monotonic_ns() > end) {
                pr_err("ktest trap_stale_stack: round %d: no timer interrupt in 2 s\n", i);
                return 1;
            }
            arch_cpu_relax();
        }
    }
    pr_info("ktest trap_stale_stack: %d interrupts over a stale trap stack, all restored\n",
            ROUNDS);
    return 0;
}
