/*
 * ECAM, the enhanced configuration access mechanism (PCI Express Base
 * 4.0, 7.2.2): each function's 4 KiB of configuration space is memory at
 * base + (bus << 20 | slot << 15 | func << 12). One access is one load or
 * store, so no lock is needed. Only segment 0 is used; each bus's 1 MiB is
 * mapped when a function on it is first touched.
 */
#include <kern/arch.h>
#include <kern/printk.h>
#include "pci.h"

#define ECAM_BUSES 256

static paddr_t ecam_base;
static unsigned ecam_start, ecam_end;
static volatile uint8_t *ecam_bus[ECAM_BUSES];

static volatile uint8_t *ecam_addr(unsigned bus, unsigned slot, unsigned func, unsigned off)
{
    if (bus < ecam_start || bus > ecam_end)
        return NULL;
    if (!ecam_bus[bus])
        ecam_bus[bus] = ioremap(ecam_base + ((paddr_t)(bus - ecam_start) << 20), 1 * MiB);
    return ecam_bus[bus] + (slot << 15) + (func << 12) + off;
}

static uint32_t ecam_read(unsigned bus, unsigned slot, unsigned func, unsigned off,
                          unsigned width)
{
    volatile uint8_t *p = ecam_addr(bus, slot, func, off);
    if (!p)
        return 0xffffffffu;     /* outside the window: nothing there */
    if (width == 1)
        return *p;
    if (width == 2)
        return *(volatile uint16_t *)p;
    return *(volatile uint32_t *)p;
}

static void ecam_write(unsigned bus, unsigned slot, unsigned func, unsigned off,
                       unsigned width, uint32_t v)
{
    volatile uint8_t *p = ecam_addr(bus, slot, func, off);
    if (!p)
        return;
    if (width == 1)
        *p = (uint8_t)v;
    else if (width == 2)
        *(volatile uint16_t *)p = (uint16_t)v;
    else
        *(volatile uint32_t *)p = v;
}

static const struct pci_config_access ecam_access = {
    .read = ecam_read,
    .write = ecam_write,
};

void pci_ecam_init(paddr_t base, unsigned start_bus, unsigned end_bus)
{
    ecam_base = base;
    ecam_start = start_bus;
    ecam_end = end_bus < ECAM_BUSES ? end_bus : ECAM_BUSES - 1;
    pr_info("pci: ECAM at %#llx, buses %u-%u\n", (unsigned long long)base, ecam_start,
            ecam_end);
    pci_set_config_access(&ecam_access);
}
