/*
 * Device interrupt vectors (kern/irq.h): 0x30..0xdf are handed out to
 * drivers; below are the exceptions and the timer, above the IPIs. Every
 * device interrupt is an edge-triggered MSI, so the handler runs once per
 * message and the local APIC is acknowledged after it.
 */
#include <kern/irq.h>
#include <kern/percpu.h>
#include <kern/spinlock.h>
#include "x86_64.h"

#define FIRST_DEVICE_VECTOR 0x30
#define LAST_DEVICE_VECTOR  0xdf

struct irq_slot {
    irq_handler handler;
    void *arg;
    const char *name;
    uint64_t count;
};

static struct irq_slot slots[256];
static spinlock_t lock = SPINLOCK_INIT;

int irq_alloc(irq_handler handler, void *arg, const char *name)
{
    unsigned long flags = spin_lock_irqsave(&lock);
    for (int v = FIRST_DEVICE_VECTOR; v <= LAST_DEVICE_VECTOR; v++) {
        if (!slots[v].handler) {
            slots[v].arg = arg;
            slots[v].name = name;
            __atomic_store_n(&slots[v].handler, handler, __ATOMIC_RELEASE);
            spin_unlock_irqrestore(&lock, flags);
            return v;
        }
    }
    spin_unlock_irqrestore(&lock, flags);
    return -1;
}

void irq_msi_message(int vector, unsigned cpu, uint64_t *address, uint32_t *data)
{
    /* Intel SDM 11.11: destination APIC id in bits 19:12, physical mode,
     * fixed delivery, edge triggered. */
    *address = 0xfee00000u | ((uint64_t)cpus[cpu].arch.apic_id << 12);
    *data = (uint32_t)vector;
}

uint64_t irq_count(int vector)
{
    return vector >= 0 && vector < 256 ? slots[vector].count : 0;
}

bool irq_dispatch_device(unsigned vector)
{
    if (vector < FIRST_DEVICE_VECTOR || vector > LAST_DEVICE_VECTOR)
        return false;
    irq_handler h = __atomic_load_n(&slots[vector].handler, __ATOMIC_ACQUIRE);
    if (!h)
        return false;
    slots[vector].count++;
    h(slots[vector].arg);
    apic_eoi();
    return true;
}
