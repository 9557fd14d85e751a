/*
 * PCI configuration access on QEMU's x86 machines: ECAM when ACPI
 * describes it (q35), else configuration mechanism #1 through the ports
 * 0xcf8/0xcfc (the pc machine), which only x86 has.
 */
#include <arch/io.h>
#include <kern/printk.h>
#include <kern/spinlock.h>
#include <pci/pci.h>
#include "kvm.h"

/* Mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2): an address in 0xcf8, the
 * data at 0xcfc..0xcff. Two accesses, so one lock. */
static spinlock_t port_lock = SPINLOCK_INIT;

static uint32_t port_addr(unsigned bus, unsigned slot, unsigned func, unsigned off)
{
    return 0x80000000u | bus << 16 | slot << 11 | func << 8 | (off & 0xfc);
}

static uint32_t port_read(unsigned bus, unsigned slot, unsigned func, unsigned off,
                          unsigned width)
{
    unsigned long flags = spin_lock_irqsave(&port_lock);
    outl(0xcf8, port_addr(bus, slot, func, off));
    uint32_t v = width == 1 ? inb(0xcfc + (off & 3)) :
                 width == 2 ? inw(0xcfc + (off & 2)) : inl(0xcfc);
    spin_unlock_irqrestore(&port_lock, flags);
    return v;
}

static void port_write(unsigned bus, unsigned slot, unsigned func, unsigned off,
                       unsigned width, uint32_t v)
{
    unsigned long flags = spin_lock_irqsave(&port_lock);
    outl(0xcf8, port_addr(bus, slot, func, off));
    if (width == 1)
        outb(0xcfc + (off & 3), (uint8_t)v);
    else if (width == 2)
        outw(0xcfc + (off & 2), (uint16_t)v);
    else
        outl(0xcfc, v);
    spin_unlock_irqrestore(&port_lock, flags);
}

static const struct pci_config_access port_access = {
    .read = port_read,
    .write = port_write,
};

void kvm_pci_config_init(void)
{
    if (pci_ecam_from_acpi())
        return;
    pr_info("pci: configuration through ports 0xcf8/0xcfc\n");
    pci_set_config_access(&port_access);
}
