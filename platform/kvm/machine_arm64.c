/*
 * QEMU virt described to the aarch64 arch (arch/plat_arm.h) and device
 * interrupts routed (kern/plat_irq.h), from the device tree table (dt.h):
 * the GIC, the virtual timer's PPI, the PSCI conduit, the CPUs' MPIDRs.
 */
#include <arch/gic.h>
#include <arch/plat_arm.h>
#include <kern/errno.h>
#include <kern/irq.h>
#include <kern/panic.h>
#include <kern/platform.h>
#include "dt.h"

/* The architecture's fixed timer PPI (Server Base System Architecture:
 * EL1 virtual timer = INTID 27), for a tree that does not name it. */
#define TIMER_VIRT_DEFAULT 27

bool platform_gic(struct gic_desc *d)
{
    if (dt.gic_version != 2 && dt.gic_version != 3)
        return false;
    d->version = dt.gic_version;
    d->dist = dt.gic_dist_base;
    d->redist = dt.gic_redist_base;
    d->redist_size = dt.gic_redist_size;
    d->cpuif = dt.gic_cpuif_base;
    return d->dist && (d->version == 3 ? d->redist && d->redist_size : d->cpuif);
}

unsigned platform_timer_virt_intid(void)
{
    return dt.timer_virt.intid ? dt.timer_virt.intid : TIMER_VIRT_DEFAULT;
}

int platform_psci_conduit(void)
{
    if (!dt.psci_present)
        return PSCI_NONE;
    return dt.psci_hvc ? PSCI_HVC : PSCI_SMC;
}

int platform_cpu_ids(uint32_t *ids, int max)
{
    int n = 0;
    for (int i = 0; i < dt.ncpus && n < max; i++)
        ids[n++] = (uint32_t)dt.cpu_mpidr[i];
    return n;
}

/* Device interrupts are GIC SPIs the device tree names (irq_register);
 * none is handed out by irq_alloc: PCI uses INTx here (pci_intx.c), since
 * MSI would need GICv2m on v2 and the ITS on v3. An empty range. */
void platform_irq_range(unsigned *first, unsigned *last)
{
    *first = 1;
    *last = 0;
}

int platform_irq_enable(unsigned irq, unsigned trigger)
{
    if (irq < GIC_FIRST_SPI || irq >= GIC_SPURIOUS)
        return -EINVAL;
    gic_enable(irq, trigger == IRQ_EDGE);
    return 0;
}

/* Never reached: irq_alloc hands out no number here (the range above is
 * empty), and pci_msix_route refuses a negative one. */
void irq_msi_message(int irq, unsigned cpu, uint64_t *address, uint32_t *data)
{
    (void)cpu;
    (void)address;
    (void)data;
    panic("irq: MSI asked for interrupt %d, but this machine routes PCI by INTx", irq);
}
