/*
 * Device interrupts. A driver asks for an interrupt with a handler and gets
 * a number; how the interrupt reaches a CPU is the platform's (plat_irq.h):
 * a vector raised by an MSI/MSI-X message on KVM-x86, a GIC interrupt on
 * aarch64, an event channel on Xen. Handlers run in interrupt context with
 * interrupts off, on the interrupted thread's trap stack: short, no
 * sleeping, no app memory; they wake threads or notify kfiles and the
 * thread does the rest.
 */
#ifndef KERN_IRQ_H
#define KERN_IRQ_H

#include <kern/types.h>

/* Interrupt numbers are below this on every platform. */
#define IRQ_NR 1024

typedef void (*irq_handler)(void *arg);

/* A free interrupt number for handler(arg), or -1 when none is left. */
int irq_alloc(irq_handler handler, void *arg, const char *name);

/* Trigger of a fixed interrupt (irq_register). */
#define IRQ_EDGE  0x1           /* rising edge (virtio-mmio on QEMU virt) */
#define IRQ_LEVEL 0x4           /* level high (PCI INTx) */

/* Interrupt number irq, fixed by the machine rather than chosen by the
 * driver (a GIC SPI the device tree names on aarch64, the event channel port
 * Xen returned for a binding), for handler(arg).
 * The platform turns it on with that trigger (platform_irq_enable).
 * Returns 0; -EBUSY when irq already has a handler; -EINVAL when the
 * platform cannot deliver it (or it is one irq_alloc hands out). */
int irq_register(unsigned irq, unsigned trigger, irq_handler handler, void *arg,
                 const char *name);

/* The CPU that takes device interrupts: PCI MSI-X is routed there (and
 * the GIC's SPIs and Xen's event channels go there by default). A driver
 * thread that its interrupt handler wakes is pinned to it, so that wakeup
 * stays on one CPU: no reschedule IPI, which costs several times a local
 * switch (bench/results sched.csv, docs/zcopy.md). */
#define IRQ_DEVICE_CPU 0

/* The MSI message that raises interrupt irq on cpu (its index in cpus[]).
 * Implemented by platforms whose devices signal by MSI (PCI on KVM-x86:
 * the local APIC's message format, platform/kvm/irq_x86.c). */
void irq_msi_message(int irq, unsigned cpu, uint64_t *address, uint32_t *data);

/* True when irq_alloc can hand out numbers at all (the platform delivers
 * MSIs); false on machines where devices use fixed lines (arm virt's PCI
 * INTx). */
bool irq_msi_available(void);

/* Interrupts taken per number, for statistics. */
uint64_t irq_count(int irq);

/* For the interrupt entry (arch or platform): run irq's handler. False
 * when no handler has it; the caller acknowledges the controller. */
bool irq_handle(unsigned irq);

#endif
