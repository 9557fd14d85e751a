/* Interfaces inside platform/kvm; the arch-specific halves (*_x86.c,
 * *_x86_64.c) implement them. */
#ifndef PLATFORM_KVM_H
#define PLATFORM_KVM_H

#include <kern/types.h>

/* The board's console UART (16550 on x86 PCs, PL011 on arm virt). */
void kvm_console_init(void);

/* Try each way this machine has to power off with a status; returns only
 * if all failed. */
void kvm_machine_exit(int status);

/* The TSC's frequency from kvmclock, or 0 when KVM does not offer it
 * (x86; kvmclock_x86.c). */
uint64_t kvmclock_tsc_hz(void);

/* The TSC's frequency timed against PIT channel 2, or 0 when the PIT did
 * not count (x86; pit_x86.c). */
uint64_t pit_tsc_hz(void);

/* The firmware's ACPI power-off (S5); returns when the tables do not say
 * how (x86; acpi_poweroff_x86.c). */
void acpi_poweroff(void);

/* Choose how PCI configuration space is reached (pci_set_config_access):
 * ECAM where the firmware describes it; x86 falls back to ports. */
void kvm_pci_config_init(void);

/* Devices the machine wires at fixed addresses, as its description lists
 * them (arm virt: the device tree's virtio-mmio slots; x86: none). After
 * PCI. */
void kvm_board_devices_init(void);

#endif
