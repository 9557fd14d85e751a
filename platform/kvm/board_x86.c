/*
 * Fixed devices on QEMU's x86 machines: none beyond PCI's (the board's
 * UART, RTC and power-off have their own files); arm virt's virtio-mmio
 * slots are its counterpart (pci_arm64.c).
 */
#include "kvm.h"

void kvm_board_devices_init(void)
{
}
