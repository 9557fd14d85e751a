/*
 * Device interrupt registry (kern/irq.h): which handler runs for which
 * interrupt number. Numbers come from the range the platform routes
 * (platform_irq_range), or that the platform chose (irq_claim: Xen's
 * event channel ports); its interrupt entry calls irq_handle.
 */
#include <kern/errno.h>
#include <kern/irq.h>
#include <kern/panic.h>
#include <kern/platform.h>
#include <kern/spinlock.h>

struct irq_slot {
    irq_handler handler;
    void *arg;
    const char *name;
    uint64_t count;
};

static struct irq_slot slots[IRQ_NR];
static spinlock_t lock = SPINLOCK_INIT;

int irq_alloc(irq_handler handler, void *arg, const char *name)
{
    unsigned first, last;
    platform_irq_range(&first, &last);
    BUG_ON(last >= IRQ_NR);
    unsigned long flags = spin_lock_irqsave(&lock);
    for (unsigned n = first; n <= last; n++) {
        if (!slots[n].handler) {
            slots[n].arg = arg;
            slots[n].name = name;
            __atomic_store_n(&slots[n].handler, handler, __ATOMIC_RELEASE);
            spin_unlock_irqrestore(&lock, flags);
            return (int)n;
        }
    }
    spin_unlock_irqrestore(&lock, flags);
    return -1;
}

int irq_claim(unsigned irq, irq_handler handler, void *arg, const char *name)
{
    if (irq >= IRQ_NR)
        return -EINVAL;
    unsigned long flags = spin_lock_irqsave(&lock);
    if (slots[irq].handler) {
        spin_unlock_irqrestore(&lock, flags);
        return -EBUSY;
    }
    slots[irq].arg = arg;
    slots[irq].name = name;
    __atomic_store_n(&slots[irq].handler, handler, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&lock, flags);
    return 0;
}

uint64_t irq_count(int irq)
{
    return irq >= 0 && irq < IRQ_NR ? slots[irq].count : 0;
}

bool irq_handle(unsigned irq)
{
    if (irq >= IRQ_NR)
        return false;
    irq_handler h = __atomic_load_n(&slots[irq].handler, __ATOMIC_ACQUIRE);
    if (!h)
        return false;
    slots[irq].count++;
    h(slots[irq].arg);
    return true;
}
