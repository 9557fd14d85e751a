/*
 * What the aarch64 architecture code asks the platform about the machine
 * it runs in: where the interrupt controller is, which interrupt the
 * generic timer raises, how to call PSCI firmware. On KVM/QEMU virt the
 * platform answers from the device tree (platform/kvm/machine_arm64.c); a
 * Xen port answers from its own. The arch owns the CPU-side drivers (GIC,
 * timer, PSCI calls); the platform only describes.
 */
#ifndef ARCH_PLAT_ARM_H
#define ARCH_PLAT_ARM_H

#include <kern/types.h>

struct gic_desc {
    int version;                /* 2 or 3 */
    paddr_t dist;               /* distributor */
    paddr_t redist;             /* v3: the first redistributor region */
    uint64_t redist_size;
    paddr_t cpuif;              /* v2: the memory-mapped CPU interface */
};

/* The GIC: false when the machine has none Tern drives (then no
 * interrupts: panic). */
bool platform_gic(struct gic_desc *d);

/* The GIC interrupt id (a PPI, 16-31) of the EL1 virtual timer. */
unsigned platform_timer_virt_intid(void);

/* How PSCI is called. */
#define PSCI_NONE 0
#define PSCI_HVC  1
#define PSCI_SMC  2
int platform_psci_conduit(void);

#endif
