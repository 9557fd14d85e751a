/* What a platform (platform/kvm, platform/xen) provides to the kernel. */
#ifndef KERN_PLATFORM_H
#define KERN_PLATFORM_H

#include <kern/types.h>

extern const char *const platform_name;

/* Register consoles; runs before anything is printed. */
void platform_early_init(void);

/* Find and start the devices (buses, NICs); threads and interrupts work. */
void platform_late_init(void);

/* Power the machine off, making status the VM's exit status where the
 * hypervisor can carry one. Tries every method the platform has. */
void platform_exit(int status) __noreturn;

#endif
