/* Interfaces inside platform/kvm; the arch-specific halves implement them. */
#ifndef PLATFORM_KVM_H
#define PLATFORM_KVM_H

#include <kern/types.h>

/* The board's console UART (16550 on x86 PCs, PL011 on arm virt). */
void kvm_console_init(void);

/* Try each way this machine has to power off with a status; returns only
 * if all failed. */
void kvm_machine_exit(int status);

/* Choose how PCI configuration space is reached (pci_set_config_access):
 * ECAM where the firmware describes it; x86 falls back to ports. */
void kvm_pci_config_init(void);

#endif
