/*
 * Powering off a QEMU x86 machine, most precise method first:
 *  1. isa-debug-exit (I/O port 0xf4, when QEMU was given
 *     -device isa-debug-exit,iobase=0xf4,iosize=4): QEMU exits at once with
 *     code (status << 1) | 1. Launchers still take the status from the
 *     console's "tern-exit" line, since this encoding loses the top bit.
 *  2. ACPI S5 (works under libvirt and any QEMU machine with ACPI).
 *  3. A triple fault: with -no-reboot QEMU exits instead of resetting.
 */
#include <arch/io.h>
#include "kvm.h"

#define DEBUG_EXIT_PORT 0xf4

void kvm_machine_exit(int status)
{
    /* Each method is tried once: if one faults, the fault handler exits
     * again and we resume with the next. */
    static int next_method;

    switch (next_method) {
    case 0:
        next_method = 1;
        outl(DEBUG_EXIT_PORT, (uint32_t)status);
        /* fall through */
    case 1:
        next_method = 2;
        acpi_poweroff();
        /* fall through */
    default:
        break;
    }
    /* An empty IDT turns the next exception into a triple fault. */
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) empty = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(empty));
}
