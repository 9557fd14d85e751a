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
 * Bus numbers are not assigned: devices behind bridges the firmware did
 * not number are not found (QEMU virt puts -device ... on bus 0).
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
        uint64_t at = b->is64 ? take(b->size, true, &cpu) : 0;
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
