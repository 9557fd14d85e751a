/*
 * Interrupt routing on the QEMU x86 machine (kern/plat_irq.h): every device
 * interrupt is an edge-triggered MSI/MSI-X message naming a vector, so an
 * interrupt number is a vector from the range the x86_64 IDT leaves to
 * devices (arch/irq.h); the arch's trap entry calls irq_handle with it and
 * acknowledges the local APIC after.
 */
#include <arch/irq.h>
#include <kern/platform.h>

void platform_irq_range(unsigned *first, unsigned *last)
{
    *first = ARCH_FIRST_DEVICE_VECTOR;
    *last = ARCH_LAST_DEVICE_VECTOR;
}
