/*
 * PCI enumeration and configuration (see pci.h), on whichever
 * configuration access the platform chose (pci_ecam.c, or the x86 ports).
 *
 * The firmware (SeaBIOS on QEMU's PC machines, before the kernel starts;
 * on arm virt the machine itself) numbers the buses and assigns every BAR, so
 * enumeration only reads what is there: bus 0, and the secondary bus
 * behind each PCI-to-PCI bridge. Nothing is ever reassigned; a BAR left
 * at 0 by the firmware is given an address only where the platform named
 * the host bridge's windows (pci_assign.c: arm virt without firmware),
 * else reported and left unused.
 */
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/irq.h>
#include <kern/kmalloc.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include "pci.h"

#define PCI_MAX_BUS    256
#define PCI_MAX_SLOT   32
#define PCI_MAX_FUNC   8

static struct pci_dev *devices, **devices_tail = &devices;

/* ------------------------------------------------------ config access ---- */

/* How configuration space is reached, chosen by the platform (pci.h). */
static const struct pci_config_access *config;

void pci_set_config_access(const struct pci_config_access *access)
{
    config = access;
}

static uint32_t cfg_read(unsigned bus, unsigned slot, unsigned func, unsigned off,
                         unsigned width)
{
    return config->read(bus, slot, func, off, width);
}

static void cfg_write(unsigned bus, unsigned slot, unsigned func, unsigned off,
                      unsigned width, uint32_t v)
{
    config->write(bus, slot, func, off, width, v);
}

uint8_t pci_read8(const struct pci_dev *d, unsigned off)
{
    return (uint8_t)cfg_read(d->bus, d->slot, d->func, off, 1);
}

uint16_t pci_read16(const struct pci_dev *d, unsigned off)
{
    return (uint16_t)cfg_read(d->bus, d->slot, d->func, off, 2);
}

uint32_t pci_read32(const struct pci_dev *d, unsigned off)
{
    return cfg_read(d->bus, d->slot, d->func, off, 4);
}

void pci_write8(const struct pci_dev *d, unsigned off, uint8_t v)
{
    cfg_write(d->bus, d->slot, d->func, off, 1, v);
}

void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v)
{
    cfg_write(d->bus, d->slot, d->func, off, 2, v);
}

void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v)
{
    cfg_write(d->bus, d->slot, d->func, off, 4, v);
}

/* ------------------------------------------------------- capabilities ---- */

unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned prev)
{
    if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    unsigned off = prev ? pci_read8(d, prev + 1) : pci_read8(d, PCI_CAP_PTR);
    /* 48 capabilities fit in the 192 bytes after the header; a longer
     * walk means a loop in a broken list. */
    for (int n = 0; n < 48 && off >= 0x40; n++) {
        off &= 0xfc;
        if (pci_read8(d, off) == id)
            return off;
        off = pci_read8(d, off + 1);
    }
    return 0;
}

/* --------------------------------------------------------------- BARs ---- */

/* The BAR's size: write all ones, read back which address bits stick
 * (PCI Local Bus 3.0, 6.2.5.1). Decoding is off meanwhile, so the device
 * never answers at the all-ones address. */
static void size_bars(struct pci_dev *d, unsigned nbars)
{
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    pci_write16(d, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));

    for (unsigned i = 0; i < nbars; i++) {
        struct pci_bar *b = &d->bar[i];
        unsigned off = PCI_BAR0 + 4 * i;
        uint32_t lo = pci_read32(d, off);
        pci_write32(d, off, 0xffffffffu);
        uint32_t mask_lo = pci_read32(d, off);
        pci_write32(d, off, lo);
        if (mask_lo == 0)
            continue;                       /* not implemented */
        if (lo & 1) {                       /* I/O space */
            uint32_t mask = mask_lo & ~3u;
            if (!(mask & 0xffff0000u))
                mask |= 0xffff0000u;        /* 16-bit decoders */
            b->io = true;
            b->base = lo & ~3u;
            b->size = (uint32_t)(~mask + 1);
            continue;
        }
        uint64_t base = lo & ~0xfu, mask = (mask_lo & ~0xfu) | 0xffffffff00000000ull;
        b->prefetch = lo & 8;
        if (((lo >> 1) & 3) == 2 && i + 1 < nbars) {    /* 64-bit */
            uint32_t hi = pci_read32(d, off + 4);
            pci_write32(d, off + 4, 0xffffffffu);
            uint32_t mask_hi = pci_read32(d, off + 4);
            pci_write32(d, off + 4, hi);
            base |= (uint64_t)hi << 32;
            mask = (mask & 0xffffffffull) | (uint64_t)mask_hi << 32;
            b->is64 = true;
        }
        b->base = base;
        b->size = ~mask + 1;
        if (b->is64)
            i++;                            /* the upper half is not a BAR */
    }
    pci_write16(d, PCI_COMMAND, cmd);
}

void *pci_map_bar(struct pci_dev *d, unsigned bar)
{
    if (bar >= PCI_NUM_BARS)
        return NULL;
    struct pci_bar *b = &d->bar[bar];
    if (b->io || !b->base || !b->size)
        return NULL;
    if (!b->va)
        b->va = ioremap(b->base, b->size);
    return b->va;
}

void pci_enable(struct pci_dev *d)
{
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_OFF;
    pci_write16(d, PCI_COMMAND, cmd);
}

/* -------------------------------------------------------------- MSI-X ---- */

/* MSI-X capability (PCI Local Bus 3.0, 6.8.2): message control at +2
 * (table size - 1 in bits 10:0, function mask bit 14, enable bit 15),
 * table BIR and offset at +4. Each table entry is 16 bytes: address low,
 * address high, data, vector control (bit 0: masked). */
#define MSIX_CTRL_ENABLE   0x8000
#define MSIX_CTRL_MASKALL  0x4000
#define MSIX_ENTRY_WORDS   4
#define MSIX_VECTOR_MASKED 1

static void msix_probe(struct pci_dev *d)
{
    unsigned cap = pci_find_cap(d, PCI_CAP_MSIX, 0);
    if (!cap)
        return;
    d->msix_cap = (uint8_t)cap;
    d->msix_entries = (pci_read16(d, cap + 2) & 0x7ff) + 1;
}

int pci_msix_enable(struct pci_dev *d)
{
    if (!d->msix_cap)
        return -ENODEV;
    if (!d->msix_table) {
        uint32_t t = pci_read32(d, d->msix_cap + 4);
        unsigned bir = t & 7;
        uint32_t off = t & ~7u;
        uint8_t *bar = bir < PCI_NUM_BARS ? pci_map_bar(d, bir) : NULL;
        if (!bar || off + d->msix_entries * 16ull > d->bar[bir].size)
            return -ENODEV;
        d->msix_table = (volatile uint32_t *)(bar + off);
    }
    unsigned cap = d->msix_cap;
    uint16_t ctrl = pci_read16(d, cap + 2);
    /* Enable with the whole function masked, mask each entry, then lift
     * the function mask: no entry can fire before it is programmed. */
    pci_write16(d, cap + 2, ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
    for (unsigned i = 0; i < d->msix_entries; i++)
        d->msix_table[i * MSIX_ENTRY_WORDS + 3] = MSIX_VECTOR_MASKED;
    pci_write16(d, cap + 2, (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASKALL);
    return 0;
}

int pci_msix_route(struct pci_dev *d, unsigned entry, int vector, unsigned cpu)
{
    if (!d->msix_table || entry >= d->msix_entries || vector < 0)
        return -EINVAL;
    uint64_t addr;
    uint32_t data;
    irq_msi_message(vector, cpu, &addr, &data);
    volatile uint32_t *e = d->msix_table + entry * MSIX_ENTRY_WORDS;
    e[3] = MSIX_VECTOR_MASKED;
    e[0] = (uint32_t)addr;
    e[1] = (uint32_t)(addr >> 32);
    e[2] = data;
    e[3] = 0;
    return 0;
}

/* ------------------------------------------------------- enumeration ---- */

struct pci_class_name {
    uint8_t class, subclass;
    const char *name;
};

static const struct pci_class_name class_names[] = {
    { 0x01, 0x00, "SCSI controller" },  { 0x01, 0x01, "IDE controller" },
    { 0x01, 0x06, "SATA controller" },  { 0x01, 0x08, "NVMe controller" },
    { 0x01, 0xff, "storage" },
    { 0x02, 0x00, "Ethernet controller" }, { 0x02, 0xff, "network controller" },
    { 0x03, 0x00, "VGA controller" },   { 0x03, 0xff, "display controller" },
    { 0x06, 0x00, "host bridge" },      { 0x06, 0x01, "ISA bridge" },
    { 0x06, 0x04, "PCI bridge" },       { 0x06, 0xff, "bridge" },
    { 0x07, 0x00, "serial controller" },
    { 0x0c, 0x03, "USB controller" },   { 0x0c, 0x05, "SMBus controller" },
    { 0x00, 0xff, "unclassified device" },
};

static const char *class_name(const struct pci_dev *d)
{
    const char *fallback = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(class_names); i++) {
        const struct pci_class_name *c = &class_names[i];
        if (c->class == d->class && c->subclass == d->subclass)
            return c->name;
        if (c->class == d->class && c->subclass == 0xff)
            fallback = c->name;
    }
    return fallback ? fallback : "device";
}

const char *pci_name(const struct pci_dev *d, char buf[16])
{
    snprintf(buf, 16, "%02x:%02x.%u", d->bus, d->slot, d->func);
    return buf;
}

static void print_size(char *buf, size_t n, uint64_t size)
{
    if (size >= MiB && size % MiB == 0)
        snprintf(buf, n, "%lluM", (unsigned long long)(size / MiB));
    else if (size >= KiB && size % KiB == 0)
        snprintf(buf, n, "%lluK", (unsigned long long)(size / KiB));
    else
        snprintf(buf, n, "%llu", (unsigned long long)size);
}

static void print_device(const struct pci_dev *d)
{
    char name[16], line[256];
    size_t len = (size_t)snprintf(line, sizeof(line), "pci %s: %04x:%04x %s%s",
                                  pci_name(d, name), d->vendor, d->device, class_name(d),
                                  d->vendor == 0x1af4 ? " (virtio)" : "");
    for (unsigned i = 0; i < PCI_NUM_BARS && len < sizeof(line); i++) {
        const struct pci_bar *b = &d->bar[i];
        if (!b->size)
            continue;
        char sz[16];
        print_size(sz, sizeof(sz), b->size);
        len += (size_t)snprintf(line + len, sizeof(line) - len, ", bar%u %s %#llx/%s", i,
                                b->io ? "io" : b->is64 ? "mem64" : "mem",
                                (unsigned long long)b->base, sz);
    }
    if (d->msix_cap && len < sizeof(line))
        snprintf(line + len, sizeof(line) - len, ", MSI-X %u", d->msix_entries);
    pr_info("%s\n", line);
}

static void scan_bus(unsigned bus, uint8_t *seen, struct pci_dev *parent);
/* The highest bus number scanned so far (a bridge's subordinate bus). */
static unsigned last_bus_seen;

static void add_function(unsigned bus, unsigned slot, unsigned func, uint8_t *seen,
                         struct pci_dev *parent)
{
    struct pci_dev *d = kzalloc(sizeof(*d));
    if (!d) {
        pr_err("pci: out of memory; devices from %02x:%02x.%u on are ignored\n", bus, slot,
               func);
        return;
    }
    d->bus = (uint8_t)bus;
    d->slot = (uint8_t)slot;
    d->func = (uint8_t)func;
    d->parent = parent;
    d->vendor = pci_read16(d, PCI_VENDOR_ID);
    d->device = pci_read16(d, PCI_DEVICE_ID);
    d->revision = pci_read8(d, PCI_REVISION);
    d->prog_if = pci_read8(d, PCI_PROG_IF);
    d->subclass = pci_read8(d, PCI_SUBCLASS);
    d->class = pci_read8(d, PCI_CLASS);
    d->header_type = pci_read8(d, PCI_HEADER_TYPE) & 0x7f;
    if (d->header_type == 0) {
        d->subsys_vendor = pci_read16(d, PCI_SUBSYS_VENDOR);
        d->subsys_id = pci_read16(d, PCI_SUBSYS_ID);
        size_bars(d, 6);
        pci_assign_bars(d);
    } else if (d->header_type == 1) {
        size_bars(d, 2);
        pci_assign_bars(d);
    }
    msix_probe(d);
    *devices_tail = d;
    devices_tail = &d->next;
    print_device(d);

    if (d->header_type == 1) {
        unsigned secondary = pci_read8(d, PCI_SECONDARY_BUS);
        if (secondary == 0 && pci_assigning()) {
            /* No firmware numbered it: the next bus, and the windows
             * around what is found below once it is scanned. */
            secondary = pci_bridge_open(d, bus);
            if (secondary) {
                scan_bus(secondary, seen, d);
                pci_bridge_close(d, last_bus_seen);
            }
        } else if (secondary != 0 && secondary != bus) {
            scan_bus(secondary, seen, d);
        }
    }
}

static void scan_bus(unsigned bus, uint8_t *seen, struct pci_dev *parent)
{
    if (seen[bus / 8] & (1 << (bus % 8)))
        return;                 /* a bridge loop in broken firmware */
    seen[bus / 8] |= (uint8_t)(1 << (bus % 8));
    if (bus > last_bus_seen)
        last_bus_seen = bus;
    for (unsigned slot = 0; slot < PCI_MAX_SLOT; slot++) {
        if ((cfg_read(bus, slot, 0, PCI_VENDOR_ID, 2) & 0xffff) == 0xffff)
            continue;
        bool multi = cfg_read(bus, slot, 0, PCI_HEADER_TYPE, 1) & 0x80;
        for (unsigned func = 0; func < (multi ? PCI_MAX_FUNC : 1u); func++) {
            if ((cfg_read(bus, slot, func, PCI_VENDOR_ID, 2) & 0xffff) != 0xffff)
                add_function(bus, slot, func, seen, parent);
        }
    }
}

void pci_init(void)
{
    uint8_t seen[PCI_MAX_BUS / 8] = { 0 };

    if (!config) {
        pr_info("pci: no configuration access; no PCI devices\n");
        return;
    }
    /* Bus 0 is the only root bus on QEMU's pc, q35 and virt machines; the
     * rest hang off bridges. */
    scan_bus(0, seen, NULL);
}

struct pci_dev *pci_next(struct pci_dev *prev)
{
    return prev ? prev->next : devices;
}
