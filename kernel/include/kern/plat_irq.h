/*
 * Interrupt routing a platform provides (kern/platform.h). Drivers see only
 * kern/irq.h: they ask for an interrupt number with a handler. What the
 * numbers are is the platform's: device vectors delivered by MSI on
 * KVM-x86, GIC interrupt ids on aarch64, event channel ports on Xen. Its
 * interrupt entry calls irq_handle(n) for a device interrupt.
 */
#ifndef KERN_PLAT_IRQ_H
#define KERN_PLAT_IRQ_H

#include <kern/types.h>

/* The interrupt numbers irq_alloc may hand out, [*first, *last] (below
 * IRQ_NR). */
void platform_irq_range(unsigned *first, unsigned *last);

/* Route the fixed interrupt irq (irq_register: IRQ_EDGE or IRQ_LEVEL) to a
 * CPU and unmask it: 0, or -EINVAL when the machine has no such interrupt
 * (x86's are all MSI vectors: irq_alloc). */
int platform_irq_enable(unsigned irq, unsigned trigger);

/* The architecture's interrupt entry took device interrupt n (an x86
 * vector outside the arch's own, a GIC id): run what it means. KVM-x86:
 * n is the interrupt number, irq_handle(n). Xen: n is the event channel
 * upcall vector; the pending ports are the interrupt numbers. False when
 * nothing handled it (the entry reports it once); the entry acknowledges
 * its controller either way. */
bool platform_irq_dispatch(unsigned n);

#endif
