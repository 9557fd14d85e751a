/*
 * Device interrupt registry (kern/irq.h): which handler runs for which
 * interrupt number. Numbers come from the range the platform routes
 * (platform_irq_range), or that the machine fixed (irq_register: a GIC
 * SPI, Xen's event channel ports); its interrupt entry calls irq_handle.
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

int irq_register(unsigned irq, unsigned trigger, irq_handler handler, void *arg,
                 const char *name)
{
    unsigned first, last;
    platform_irq_range(&first, &last);
    /* The allocatable range is irq_alloc's: a fixed number inside it could
     * later be handed out twice. */
    if (irq >= IRQ_NR || (irq >= first && irq <= last))
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
    /* Unmasked only once the handler is in place: a level interrupt
     * already asserted fires at once. */
    int r = platform_irq_enable(irq, trigger);
    if (r < 0) {
        flags = spin_lock_irqsave(&lock);
        __atomic_store_n(&slots[irq].handler, (irq_handler)NULL, __ATOMIC_RELEASE);
        spin_unlock_irqrestore(&lock, flags);
    }
    return r;
}

bool irq_msi_available(void)
{
    unsigned first, last;
    platform_irq_range(&first, &last);
    return first <= last;
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
