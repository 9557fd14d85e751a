/* Spinlocks that also keep interrupts off while held, so a lock taken in
 * thread context cannot deadlock against an interrupt handler on the same
 * CPU. */
#ifndef KERN_SPINLOCK_H
#define KERN_SPINLOCK_H

#include <kern/types.h>
#include <arch/irq.h>

typedef struct {
    volatile uint32_t locked;
} spinlock_t;

#define SPINLOCK_INIT { 0 }

static inline unsigned long spin_lock_irqsave(spinlock_t *l)
{
    unsigned long flags = arch_irq_save();
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            arch_cpu_relax();
    }
    return flags;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
    arch_irq_restore(flags);
}

/* For code that already runs with interrupts off (the scheduler holds the
 * run-queue lock across a context switch and the next thread drops it). */
static inline void spin_lock_raw(spinlock_t *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            arch_cpu_relax();
    }
}

static inline bool spin_trylock_raw(spinlock_t *l)
{
    return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_unlock_raw(spinlock_t *l)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
