/*
 * The KVM platform: QEMU (with KVM or TCG) emulating a standard machine.
 * Consoles and power-off differ by architecture; this file is the common
 * entry the kernel calls.
 */
#include <kern/arch.h>
#include <kern/platform.h>
#include "kvm.h"
#include <pci/pci.h>
#include <virtio/virtio.h>

const char *const platform_name = "kvm";

void platform_early_init(void)
{
    kvm_console_init();
}

void platform_late_init(void)
{
    kvm_pci_config_init();
    pci_init();
    virtio_pci_init();
    kvm_board_devices_init();
}

void platform_exit(int status)
{
    kvm_machine_exit(status);
    arch_halt();
}
