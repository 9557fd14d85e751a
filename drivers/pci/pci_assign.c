/*
 * BAR assignment, for machines whose firmware leaves it to the OS: QEMU's
 * arm virt booted with -kernel runs no firmware, so every BAR reads 0.
 * The platform gives the host bridge's memory windows (the device tree's
 * `ranges`); each memory BAR the firmware left at 0 gets the next
 * naturally aligned block of a window (PCI Local Bus 3.0, 6.2.5.1: a BAR
 * decodes a power-of-two size aligned to itself). 32-bit BARs must lie
 * below 4 GiB; 64-bit ones take the 64-bit window first, the 32-bit one if
 * that is full. I/O BARs stay unassigned: no driver here uses port I/O.
 *
 * Bridges get bus numbers the same way, depth first (each the next free
 * bus, its subordinate the last bus found below it), and memory windows
 * around what was assigned below them: the 32-bit window for
 * non-prefetchable BARs, the prefetchable one for 64-bit prefetchable
 * BARs (PCI-to-PCI Bridge 1.2, 3.2.5.8-10; 1 MiB granules). libvirt's
 * aarch64 guests put every device behind a PCIe root port.
 */
#include <kern/printk.h>
#include "pci.h"

#define MAX_WINDOWS 4

struct window {
    struct pci_window w;
    uint64_t next;          /* the next free PCI address in it */
};

static struct window windows[MAX_WINDOWS];
static unsigned nr_windows;
static unsigned next_bus = 1;       /* bus 0 is the root */

/* Type 1 header registers (PCI-to-PCI Bridge 1.2, 3.2). */
#define PCI_PRIMARY_BUS      0x18
#define PCI_SUBORDINATE_BUS  0x1a
#define PCI_IO_BASE          0x1c
#define PCI_IO_LIMIT         0x1d
#define PCI_MEMORY_BASE      0x20
#define PCI_MEMORY_LIMIT     0x22
#define PCI_PREF_BASE        0x24
#define PCI_PREF_LIMIT       0x26
#define PCI_PREF_BASE_HI     0x28
#define PCI_PREF_LIMIT_HI    0x2c
#define BRIDGE_GRANULE       (1ull << 20)
#define MAX_DEPTH            16

/* Where each window's allocation stood when a bridge opened (nesting). */
static uint64_t opened_at[MAX_DEPTH][MAX_WINDOWS];
static unsigned depth;

void pci_set_windows(const struct pci_window *w, unsigned n)
{
    nr_windows = 0;
    for (unsigned i = 0; i < n && nr_windows < MAX_WINDOWS; i++) {
        if (!w[i].size)
            continue;
        windows[nr_windows].w = w[i];
        /* PCI address 0 reads as "unassigned": never hand it out. */
        windows[nr_windows].next = w[i].pci_addr ? w[i].pci_addr : 0x1000;
        pr_info("pci: BARs left unassigned go to %#llx-%#llx\n",
                (unsigned long long)w[i].cpu_addr,
                (unsigned long long)(w[i].cpu_addr + w[i].size - 1));
        nr_windows++;
    }
}

/* A block of size (a power of two) in a window of the kind asked for:
 * its PCI address, with its CPU address in *cpu; 0 when none fits. */
static uint64_t take(uint64_t size, bool above_4g, paddr_t *cpu)
{
    for (unsigned i = 0; i < nr_windows; i++) {
        struct window *win = &windows[i];
        uint64_t end = win->w.pci_addr + win->w.size;
        if (above_4g != (end > 0x100000000ull))
            continue;
        uint64_t at = (win->next + size - 1) & ~(size - 1);
        if (at < win->next || at + size > end || at + size < at)
            continue;
        win->next = at + size;
        *cpu = win->w.cpu_addr + (at - win->w.pci_addr);
        return at;
    }
    return 0;
}

void pci_assign_bars(struct pci_dev *d)
{
    if (!nr_windows)
        return;
    char name[16];
    for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
        struct pci_bar *b = &d->bar[i];
        if (b->io || b->base || !b->size)
            continue;
        paddr_t cpu = 0;
        /* Above 4 GiB only what a bridge's prefetchable window can pass. */
        uint64_t at = b->is64 && b->prefetch ? take(b->size, true, &cpu) : 0;
        if (!at)
            at = take(b->size, false, &cpu);
        if (!at) {
            pr_warn("pci %s: no room for bar%u (%llu bytes) in the host bridge's windows\n",
                    pci_name(d, name), i, (unsigned long long)b->size);
            continue;
        }
        unsigned off = PCI_BAR0 + 4 * i;
        pci_write32(d, off, (uint32_t)at | (pci_read32(d, off) & 0xf));
        if (b->is64)
            pci_write32(d, off + 4, (uint32_t)(at >> 32));
        b->base = cpu;
    }
}

bool pci_assigning(void)
{
    return nr_windows > 0;
}

static uint64_t granule_up(uint64_t a)
{
    return (a + BRIDGE_GRANULE - 1) & ~(BRIDGE_GRANULE - 1);
}

unsigned pci_bridge_open(struct pci_dev *br, unsigned bus)
{
    char name[16];
    if (next_bus > 255 || depth == MAX_DEPTH) {
        pr_warn("pci %s: no bus number left for the bridge\n", pci_name(br, name));
        return 0;
    }
    unsigned secondary = next_bus++;
    pci_write8(br, PCI_PRIMARY_BUS, (uint8_t)bus);
    pci_write8(br, PCI_SECONDARY_BUS, (uint8_t)secondary);
    /* Forward every bus number above ours while scanning below. */
    pci_write8(br, PCI_SUBORDINATE_BUS, 0xff);
    /* Each window starts on a granule, so that what is assigned from here
     * until pci_bridge_close falls in the bridge's windows. */
    for (unsigned i = 0; i < nr_windows; i++) {
        windows[i].next = granule_up(windows[i].next);
        opened_at[depth][i] = windows[i].next;
    }
    depth++;
    return secondary;
}

void pci_bridge_close(struct pci_dev *br, unsigned last_bus)
{
    depth--;
    pci_write8(br, PCI_SUBORDINATE_BUS, (uint8_t)last_bus);
    /* No I/O window (base above limit): no driver uses port I/O. */
    pci_write8(br, PCI_IO_BASE, 0xf0);
    pci_write8(br, PCI_IO_LIMIT, 0x00);
    /* Disabled until a window below says otherwise. */
    pci_write16(br, PCI_MEMORY_BASE, 0xfff0);
    pci_write16(br, PCI_MEMORY_LIMIT, 0x0000);
    pci_write16(br, PCI_PREF_BASE, 0xfff0);
    pci_write16(br, PCI_PREF_LIMIT, 0x0000);
    pci_write32(br, PCI_PREF_BASE_HI, 0xffffffffu);
    pci_write32(br, PCI_PREF_LIMIT_HI, 0);
    for (unsigned i = 0; i < nr_windows; i++) {
        uint64_t start = opened_at[depth][i];
        windows[i].next = granule_up(windows[i].next);
        uint64_t end = windows[i].next;
        if (end == start)
            continue;
        uint64_t last = end - 1;
        /* The window above 4 GiB holds only 64-bit prefetchable BARs. */
        if (windows[i].w.pci_addr + windows[i].w.size > 0x100000000ull) {
            pci_write16(br, PCI_PREF_BASE, (uint16_t)((start >> 16) & 0xfff0));
            pci_write16(br, PCI_PREF_LIMIT, (uint16_t)((last >> 16) & 0xfff0));
            pci_write32(br, PCI_PREF_BASE_HI, (uint32_t)(start >> 32));
            pci_write32(br, PCI_PREF_LIMIT_HI, (uint32_t)(last >> 32));
        } else {
            pci_write16(br, PCI_MEMORY_BASE, (uint16_t)((start >> 16) & 0xfff0));
            pci_write16(br, PCI_MEMORY_LIMIT, (uint16_t)((last >> 16) & 0xfff0));
        }
    }
    pci_write16(br, PCI_COMMAND,
                pci_read16(br, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    if (next_bus <= last_bus)
        next_bus = last_bus + 1;
}
