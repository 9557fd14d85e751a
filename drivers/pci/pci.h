/*
 * PCI: the devices found on the buses at boot, their configuration space,
 * their memory/I/O windows (BARs), capabilities and MSI-X.
 *
 * Configuration space is reached through an access the platform chooses
 * before pci_init: ECAM (pci_ecam.c; the window comes from ACPI's MCFG on
 * x86 or the device tree on arm), or on x86 PCs without it the legacy
 * configuration ports (platform/kvm/pci_x86_64.c). The firmware has
 * numbered the buses; BAR addresses are the firmware's too, except where
 * the platform hands over windows to assign them from (pci_assign.c).
 */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H

#include <kern/irq.h>
#include <kern/types.h>

/* Configuration space registers (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID        0x00
#define PCI_DEVICE_ID        0x02
#define PCI_COMMAND          0x04
#define PCI_STATUS           0x06
#define PCI_REVISION         0x08
#define PCI_PROG_IF          0x09
#define PCI_SUBCLASS         0x0a
#define PCI_CLASS            0x0b
#define PCI_HEADER_TYPE      0x0e
#define PCI_BAR0             0x10
#define PCI_SECONDARY_BUS    0x19    /* type 1 (bridge) headers */
#define PCI_SUBSYS_VENDOR    0x2c
#define PCI_SUBSYS_ID        0x2e
#define PCI_CAP_PTR          0x34
#define PCI_INTERRUPT_LINE   0x3c

#define PCI_COMMAND_IO       0x0001
#define PCI_COMMAND_MEMORY   0x0002
#define PCI_COMMAND_MASTER   0x0004
#define PCI_COMMAND_INTX_OFF 0x0400

#define PCI_STATUS_CAP_LIST  0x0010

/* Capability ids (PCI Code and ID Assignment 1.11, 2). */
#define PCI_CAP_MSI          0x05
#define PCI_CAP_VENDOR       0x09
#define PCI_CAP_PCIE         0x10
#define PCI_CAP_MSIX         0x11

#define PCI_NUM_BARS         6

struct pci_bar {
    paddr_t base;           /* 0: not implemented or not assigned */
    uint64_t size;
    bool io;                /* an I/O port window (x86) */
    bool is64;              /* a 64-bit memory BAR (uses the next slot too) */
    bool prefetch;
    void *va;               /* the uncached mapping, made on first use */
};

struct pci_dev {
    uint8_t bus, slot, func;
    uint16_t vendor, device;
    uint16_t subsys_vendor, subsys_id;
    uint8_t class, subclass, prog_if, revision;
    uint8_t header_type;    /* without the multi-function bit */
    struct pci_bar bar[PCI_NUM_BARS];
    /* MSI-X, when the device has it (msix_cap != 0). */
    uint8_t msix_cap;
    uint16_t msix_entries;
    volatile uint32_t *msix_table;
    bool claimed;           /* a driver owns it */
    struct pci_dev *parent; /* the bridge above it, NULL on the root bus */
    struct pci_dev *next;
};

/* Configuration space access: read or write width (1, 2 or 4) bytes at
 * off, aligned to width, in the function's space. A read of a function
 * that is not there returns all ones. */
struct pci_config_access {
    uint32_t (*read)(unsigned bus, unsigned slot, unsigned func, unsigned off,
                     unsigned width);
    void (*write)(unsigned bus, unsigned slot, unsigned func, unsigned off, unsigned width,
                  uint32_t v);
};

/* The platform picks the access, once, before pci_init; whoever sets it
 * prints which one it is. */
void pci_set_config_access(const struct pci_config_access *access);

/* ECAM (PCI Express Base 4.0, 7.2.2), the common access: segment 0's
 * buses start_bus..end_bus at base, 1 MiB per bus. */
void pci_ecam_init(paddr_t base, unsigned start_bus, unsigned end_bus);

/* ECAM from the ACPI MCFG table (PCI Firmware 3.2, 4.1.2): false when the
 * firmware has none for segment 0. */
bool pci_ecam_from_acpi(void);

/* Scan the buses and print one line per function found; without a
 * configuration access, say so and find nothing. */
void pci_init(void);

/* The functions found, in bus order; pass NULL to start. */
struct pci_dev *pci_next(struct pci_dev *prev);

uint8_t pci_read8(const struct pci_dev *d, unsigned off);
uint16_t pci_read16(const struct pci_dev *d, unsigned off);
uint32_t pci_read32(const struct pci_dev *d, unsigned off);
void pci_write8(const struct pci_dev *d, unsigned off, uint8_t v);
void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v);
void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v);

/* The config-space offset of the next capability with this id after the
 * one at prev (0: from the start), or 0 when there is none. */
unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned prev);

/* Turn on memory and I/O decoding and bus mastering (DMA); INTx off until
 * a driver asks for it (pci_intx_attach). */
void pci_enable(struct pci_dev *d);

/* The BAR's registers mapped uncached, or NULL when it is not a memory
 * BAR or has no address. Mapped once; later calls return the same. */
void *pci_map_bar(struct pci_dev *d, unsigned bar);

/* MSI-X: turn it on with every entry masked; then point entry i at a
 * vector from irq_alloc (delivered to cpu) and unmask it. Returns -ENODEV
 * without MSI-X, -EINVAL for a bad entry. */
int pci_msix_enable(struct pci_dev *d);
int pci_msix_route(struct pci_dev *d, unsigned entry, int vector, unsigned cpu);

/* Memory windows of the host bridge, for assigning BARs the firmware left
 * at 0 (pci_assign.c: arm virt without firmware). Set by the platform
 * before pci_init; without them nothing is assigned. */
struct pci_window {
    uint64_t pci_addr;      /* where the window starts in PCI space */
    paddr_t cpu_addr;       /* and in the CPU's */
    uint64_t size;
};
void pci_set_windows(const struct pci_window *w, unsigned n);
/* For pci.c's enumeration: give d's unassigned memory BARs addresses. */
void pci_assign_bars(struct pci_dev *d);
/* For pci.c's enumeration: true when BARs (and so bus numbers) are the
 * kernel's to assign. A bridge the firmware left unnumbered gets the next
 * bus (pci_bridge_open, before its bus is scanned) and windows around
 * what was assigned below it (pci_bridge_close, after). */
bool pci_assigning(void);
unsigned pci_bridge_open(struct pci_dev *bridge, unsigned bus);
void pci_bridge_close(struct pci_dev *bridge, unsigned last_bus);

/* Legacy INTx (pci_intx.c), where MSI-X is not available. The platform
 * maps a root-bus device's pin (1-4, INTA-D) to an interrupt number for
 * irq_register, or -1; devices behind bridges reach it through the
 * bridges' swizzle (PCI-to-PCI Bridge 1.2, 9.1), done here. */
void pci_set_intx_map(int (*map)(const struct pci_dev *d, unsigned pin));
/* The interrupt d's INTx pin raises, or -1 (no pin, no map). */
int pci_intx_irq(const struct pci_dev *d);
/* Run handler(arg) on every interrupt of d's (shared, level) INTx line,
 * and let d raise it. The handler must check that d raised it and quiet
 * it. Returns the interrupt number or an error. */
int pci_intx_attach(struct pci_dev *d, irq_handler handler, void *arg, const char *name);

/* "bb:ss.f", for messages. */
const char *pci_name(const struct pci_dev *d, char buf[16]);

#endif
