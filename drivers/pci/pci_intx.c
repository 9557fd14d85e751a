/*
 * Legacy INTx interrupts (PCI Local Bus 3.0, 2.2.6), for machines where
 * devices cannot use MSI-X: on arm virt an MSI needs the GICv3 ITS or
 * GICv2m, while INTx needs only the device tree's interrupt-map, the same
 * on both GIC versions. The platform says which interrupt number a
 * device's pin raises (pci_set_intx_map); the four lines are level
 * triggered and shared by many devices, so each line runs every handler
 * attached to it and each handler checks its own device (virtio: the ISR
 * register, whose read also lowers the line).
 */
#include <kern/errno.h>
#include <kern/irq.h>
#include <kern/kmalloc.h>
#include <kern/printk.h>
#include <kern/spinlock.h>
#include "pci.h"

#define PCI_INTERRUPT_PIN 0x3d
#define MAX_LINES         8

struct intx_handler {
    irq_handler handler;
    void *arg;
    struct intx_handler *next;
};

struct intx_line {
    int irq;                            /* -1: slot unused */
    struct intx_handler *handlers;      /* pushed at the head, never removed */
};

static int (*intx_map)(const struct pci_dev *d, unsigned pin);
static struct intx_line lines[MAX_LINES];
static spinlock_t lock = SPINLOCK_INIT;

void pci_set_intx_map(int (*map)(const struct pci_dev *d, unsigned pin))
{
    intx_map = map;
}

int pci_intx_irq(const struct pci_dev *d)
{
    unsigned pin = pci_read8(d, PCI_INTERRUPT_PIN);
    if (!intx_map || pin < 1 || pin > 4)
        return -1;
    /* PCI-to-PCI Bridge 1.2, 9.1: below a bridge, INTx of device s on
     * pin p arrives at the bridge on pin (p - 1 + s) % 4 + 1; up to the
     * root bus, where the machine's map takes over. */
    while (d->parent) {
        pin = (pin - 1 + d->slot) % 4 + 1;
        d = d->parent;
    }
    return intx_map(d, pin);
}

static void line_interrupt(void *arg)
{
    struct intx_line *l = arg;
    for (struct intx_handler *h = __atomic_load_n(&l->handlers, __ATOMIC_ACQUIRE); h;
         h = h->next)
        h->handler(h->arg);
}

int pci_intx_attach(struct pci_dev *d, irq_handler handler, void *arg, const char *name)
{
    int irq = pci_intx_irq(d);
    if (irq < 0)
        return -ENODEV;
    struct intx_handler *h = kzalloc(sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->handler = handler;
    h->arg = arg;
    unsigned long flags = spin_lock_irqsave(&lock);
    struct intx_line *l = NULL;
    for (unsigned i = 0; i < MAX_LINES && !l; i++)
        if (lines[i].handlers && lines[i].irq == irq)
            l = &lines[i];
    bool first = !l;
    for (unsigned i = 0; i < MAX_LINES && !l; i++)
        if (!lines[i].handlers)
            l = &lines[i];
    if (!l) {
        spin_unlock_irqrestore(&lock, flags);
        kfree(h);
        return -EBUSY;
    }
    l->irq = irq;
    h->next = l->handlers;
    __atomic_store_n(&l->handlers, h, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&lock, flags);
    if (first) {
        int r = irq_register((unsigned)irq, IRQ_LEVEL, line_interrupt, l, "pci intx");
        if (r < 0) {
            char buf[16];
            pr_err("pci %s: INTx line %d: %d\n", pci_name(d, buf), irq, r);
            return r;
        }
    }
    /* The device may raise it now (pci_enable turned INTx off). */
    pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & ~PCI_COMMAND_INTX_OFF);
    (void)name;
    return irq;
}
