/*
 * PCI and the fixed devices on QEMU's arm virt, from the device tree
 * (dt.h): ECAM over the pci-host-ecam-generic window, the host bridge's
 * memory windows for BAR assignment (booted with -kernel nothing else
 * assigns them), INTx through the interrupt-map (no MSI: that would take
 * the GICv3 ITS or GICv2m; INTx works the same on both GICs), and the
 * virtio-mmio slots.
 */
#include <kern/irq.h>
#include <kern/printk.h>
#include <pci/pci.h>
#include <virtio/virtio.h>
#include "dt.h"
#include "kvm.h"

/* QEMU virt's interrupt-map (hw/arm/virt.c, create_pcie_irq_map): INTx
 * pins rotate by slot, INTA of slot s on the line of pin (s % 4); the
 * device tree table holds slot 0's four. Devices behind bridges are
 * swizzled by each bridge (PCI-to-PCI Bridge 1.2, 9.1) and are not
 * numbered here, so only bus 0's are mapped. */
static int virt_intx_map(const struct pci_dev *d, unsigned pin)
{
    if (d->bus != 0 || !dt.pci_intx_valid)
        return -1;
    return (int)dt.pci_intx_intid[(d->slot + pin - 1) % 4];
}

void kvm_pci_config_init(void)
{
    if (!dt.ecam_base) {
        pr_info("pci: no pci-host-ecam-generic in the device tree\n");
        return;
    }
    unsigned last = dt.pci_bus_last;
    uint64_t buses = dt.ecam_size >> 20;
    if (buses && dt.pci_bus_first + buses - 1 < last)
        last = (unsigned)(dt.pci_bus_first + buses - 1);
    pci_ecam_init(dt.ecam_base, dt.pci_bus_first, last);

    struct pci_window w[DT_MAX_RANGES];
    unsigned n = 0;
    for (int i = 0; i < dt.npci_ranges; i++) {
        const struct dt_pci_range *r = &dt.pci_ranges[i];
        if (r->space != DT_PCI_SPACE_MEM32 && r->space != DT_PCI_SPACE_MEM64)
            continue;
        w[n].pci_addr = r->pci_addr;
        w[n].cpu_addr = r->cpu_addr;
        w[n].size = r->size;
        n++;
    }
    pci_set_windows(w, n);
    pci_set_intx_map(virt_intx_map);
}

void kvm_board_devices_init(void)
{
    for (int i = 0; i < dt.nvirtio; i++)
        virtio_mmio_probe(dt.virtio_mmio[i].base, dt.virtio_mmio[i].size,
                          dt.virtio_irq[i].intid, dt.virtio_irq[i].flags & 1);
}
