/*
 * Device interrupts. A driver asks for a vector with a handler; the
 * architecture routes the interrupt (an MSI/MSI-X message on x86_64) to a
 * CPU. Handlers run in interrupt context with interrupts off, on the
 * interrupted thread's trap stack: short, no sleeping, no app memory; they
 * wake threads or notify kfiles and the thread does the rest.
 */
#ifndef KERN_IRQ_H
#define KERN_IRQ_H

#include <kern/types.h>

typedef void (*irq_handler)(void *arg);

/* A free vector for handler(arg), or -1 when none is left. */
int irq_alloc(irq_handler handler, void *arg, const char *name);

/* The MSI message that raises vector on cpu (its index in cpus[]). */
void irq_msi_message(int vector, unsigned cpu, uint64_t *address, uint32_t *data);

/* Interrupts taken per vector, for statistics. */
uint64_t irq_count(int vector);

#endif
