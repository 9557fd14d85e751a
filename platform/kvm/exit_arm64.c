/*
 * Powering off a QEMU arm virt machine: PSCI SYSTEM_OFF through the
 * conduit the device tree names (hvc under QEMU's -kernel boot and KVM;
 * smc when firmware runs at EL3). QEMU then exits with code 0 whatever
 * the status: the status reaches `tern run` through the console's
 * "tern-exit: status=N" line, printed before this (kernel_exit). That line
 * works everywhere the console goes (QEMU, libvirt's log); semihosting's
 * SYS_EXIT_EXTENDED would carry the status as QEMU's exit code too, but
 * needs -semihosting, which also gives the guest the host's files.
 */
#include "dt.h"
#include "kvm.h"

#define PSCI_SYSTEM_OFF 0x84000008u

void kvm_machine_exit(int status)
{
    (void)status;
    register uint64_t x0 __asm__("x0") = PSCI_SYSTEM_OFF;
    if (!dt.psci_present)
        return;
    if (dt.psci_hvc)
        __asm__ volatile("hvc #0" : "+r"(x0) : : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
                         "x12", "x13", "x14", "x15", "x16", "x17", "memory");
    else
        __asm__ volatile("smc #0" : "+r"(x0) : : "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
                         "x12", "x13", "x14", "x15", "x16", "x17", "memory");
    /* Returns only when PSCI refused: platform_exit halts. (SMCCC: the
     * call may clobber x0-x17.) */
}
