/*
 * What the device tree of QEMU's arm `virt` machine says, as a small table
 * the rest of platform/kvm reads (GIC, generic timer, SMP, virtio-mmio,
 * PCIe from the DT, the PL011, PSCI).
 *
 * Why a table: the DTB is parsed once with Debian's libfdt (libfdt.a for
 * arm64 is built with SIMD and the stack protector), which is only safe at
 * boot before any thread exists, with FP/SIMD enabled (dt_arm64.c says
 * where). Everything later reads this struct, never the DTB.
 *
 * Addresses are physical; 0 / count 0 means "not in the tree".
 */
#ifndef PLATFORM_KVM_DT_H
#define PLATFORM_KVM_DT_H

#include <kern/types.h>

#define DT_MAX_MEM      8
#define DT_MAX_CPUS     16
#define DT_MAX_VIRTIO   32
#define DT_MAX_RANGES   4

struct dt_region {
    paddr_t base;
    uint64_t size;
};

/* A GIC interrupt as the DT writes it (3 cells: type, number, flags):
 * type 0 = SPI (INTID 32 + number), 1 = PPI (INTID 16 + number). intid is
 * already the GIC's interrupt id; flags keeps the trigger bits (1 = edge
 * rising, 4 = level high). */
struct dt_irq {
    uint32_t intid;
    uint32_t flags;
};

/* One entry of a PCI host bridge's `ranges`: a CPU window onto PCI space. */
#define DT_PCI_SPACE_IO     1
#define DT_PCI_SPACE_MEM32  2
#define DT_PCI_SPACE_MEM64  3
struct dt_pci_range {
    uint32_t space;         /* DT_PCI_SPACE_* */
    bool prefetchable;
    uint64_t pci_addr;
    paddr_t cpu_addr;
    uint64_t size;
};

struct dt_info {
    /* Memory (/memory@...: reg), in DT order. */
    struct dt_region mem[DT_MAX_MEM];
    int nmem;

    /* /chosen */
    char bootargs[512];             /* truncated at 511 bytes */
    paddr_t initrd_start, initrd_end;   /* [start, end); 0 = none */

    /* /psci (compatible arm,psci-0.2 or later): how to call it. */
    bool psci_present;
    bool psci_hvc;                  /* method = "hvc" (else "smc") */

    /* The PL011 console (arm,pl011) */
    paddr_t pl011_base;
    struct dt_irq pl011_irq;

    /* The GIC (arm,cortex-a15-gic = v2, arm,gic-v3 = v3) */
    int gic_version;                /* 2 or 3; 0 = none found */
    paddr_t gic_dist_base;
    uint64_t gic_dist_size;
    paddr_t gic_redist_base;        /* v3: first redistributor region */
    uint64_t gic_redist_size;
    paddr_t gic_cpuif_base;         /* v2: the CPU interface */
    uint64_t gic_cpuif_size;
    /* v2m MSI frame (arm,gic-v2m-frame) or v3 ITS (arm,gic-v3-its) */
    paddr_t gic_msi_base;
    uint64_t gic_msi_size;

    /* The generic timer (arm,armv8-timer): PPIs in DT order secure phys,
     * non-secure phys, virtual, hypervisor. */
    struct dt_irq timer_sec_phys, timer_phys, timer_virt, timer_hyp;
    uint32_t timer_freq;            /* clock-frequency if given, else 0 */

    /* CPUs (/cpus/cpu@N: reg = MPIDR affinity bits), DT order. */
    uint64_t cpu_mpidr[DT_MAX_CPUS];
    int ncpus;

    /* virtio,mmio transports (QEMU creates 32, most empty: the driver
     * reads DeviceID 0 for those). */
    struct dt_region virtio_mmio[DT_MAX_VIRTIO];
    struct dt_irq virtio_irq[DT_MAX_VIRTIO];
    int nvirtio;

    /* PCIe host bridge (pci-host-ecam-generic) */
    paddr_t ecam_base;
    uint64_t ecam_size;
    uint32_t pci_bus_first, pci_bus_last;   /* bus-range */
    struct dt_pci_range pci_ranges[DT_MAX_RANGES];
    int npci_ranges;
    /* Legacy INTx: QEMU virt swizzles INTA-D of slot s to SPI
     * pci_intx_spi_base + (s + pin) % 4 (from interrupt-map). */
    uint32_t pci_intx_intid[4];     /* the INTIDs for pins A-D of slot 0 */
    bool pci_intx_valid;

    /* PL031 RTC (arm,pl031) */
    paddr_t rtc_base;

    /* fw_cfg (qemu,fw-cfg-mmio) */
    paddr_t fw_cfg_base;
};

/* The table, filled by dt_parse at boot; read-only afterwards. */
extern struct dt_info dt;

/* Parse the flattened device tree at fdt (a kernel virtual address the
 * direct map reaches); returns 0, or a negative libfdt error after
 * printing what was wrong. Boot CPU only, before threads exist. */
int dt_parse(const void *fdt);

#endif
