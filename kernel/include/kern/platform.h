/*
 * What a platform (platform/kvm, platform/xen) provides to the kernel: the
 * machine and the hypervisor, as opposed to the CPU (kern/arch.h). One
 * small header per concern: time (plat_time.h), interrupt routing
 * (plat_irq.h), CPU discovery (plat_cpu.h); consoles, devices and power
 * here. docs/porting.md says who calls what.
 */
#ifndef KERN_PLATFORM_H
#define KERN_PLATFORM_H

#include <kern/types.h>
#include <kern/plat_cpu.h>
#include <kern/plat_irq.h>
#include <kern/plat_time.h>

extern const char *const platform_name;

/* Register consoles; runs before anything is printed. */
void platform_early_init(void);

/* Find and start the devices (buses, NICs); threads and interrupts work. */
void platform_late_init(void);

/* Power the machine off, making status the VM's exit status where the
 * hypervisor can carry one. Tries every method the platform has. */
void platform_exit(int status) __noreturn;

#endif
