/*
 * Interrupt routing on the QEMU x86 machine (kern/plat_irq.h): every device
 * interrupt is an edge-triggered MSI/MSI-X message naming a vector, so an
 * interrupt number is a vector from the range the x86_64 IDT leaves to
 * devices (arch/irq.h); the arch's trap entry hands it to
 * platform_irq_dispatch, which runs irq_handle with it, and acknowledges
 * the local APIC after. (Xen routes MSIs through event
 * channels instead, hence this is the platform's, not the arch's.)
 */
#include <arch/irq.h>
#include <kern/errno.h>
#include <kern/irq.h>
#include <kern/percpu.h>
#include <kern/platform.h>

void platform_irq_range(unsigned *first, unsigned *last)
{
    *first = ARCH_FIRST_DEVICE_VECTOR;
    *last = ARCH_LAST_DEVICE_VECTOR;
}

/* Every device interrupt here is an MSI vector from irq_alloc; nothing
 * has a fixed number a driver could register. */
int platform_irq_enable(unsigned irq, unsigned trigger)
{
    (void)irq;
    (void)trigger;
    return -EINVAL;
}

bool platform_irq_dispatch(unsigned n)
{
    return irq_handle(n);
}

void irq_msi_message(int irq, unsigned cpu, uint64_t *address, uint32_t *data)
{
    /* Intel SDM 11.11: the local APIC's message format: destination APIC
     * id in bits 19:12, physical mode, fixed delivery, edge triggered; the
     * interrupt number is the vector. */
    *address = 0xfee00000u | ((uint64_t)cpus[cpu].arch.apic_id << 12);
    *data = (uint32_t)irq;
}
