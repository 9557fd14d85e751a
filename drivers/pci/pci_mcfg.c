/*
 * The ECAM window from ACPI: the MCFG table (PCI Firmware 3.2, 4.1.2)
 * lists one window per segment and bus range. QEMU's q35 has one, for
 * segment 0; its pc machine has none (PCI there is reached through ports).
 */
#include <kern/acpi.h>
#include <kern/string.h>
#include "pci.h"

struct mcfg_entry {
    uint64_t base;
    uint16_t segment;
    uint8_t start_bus, end_bus;
    uint32_t reserved;
} __attribute__((packed));

bool pci_ecam_from_acpi(void)
{
    const struct acpi_header *mcfg = acpi_find_table("MCFG");
    if (!mcfg)
        return false;
    /* The entries follow the header and 8 reserved bytes. */
    const uint8_t *p = (const uint8_t *)mcfg + sizeof(*mcfg) + 8;
    const uint8_t *end = (const uint8_t *)mcfg + mcfg->length;
    for (; p + sizeof(struct mcfg_entry) <= end; p += sizeof(struct mcfg_entry)) {
        struct mcfg_entry e;
        memcpy(&e, p, sizeof(e));
        if (e.segment != 0 || e.end_bus < e.start_bus || !e.base)
            continue;
        pci_ecam_init(e.base, e.start_bus, e.end_bus);
        return true;
    }
    return false;
}
