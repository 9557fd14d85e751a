/*
 * Time a platform provides (kern/platform.h). The architecture owns the
 * cycle counter (arch_cycles: the TSC, the arm generic timer); how fast it
 * runs and what the date is are the machine's and the hypervisor's to say.
 */
#ifndef KERN_PLAT_TIME_H
#define KERN_PLAT_TIME_H

#include <kern/types.h>

/* The cycle counter's frequency in Hz, as the hypervisor states it (KVM's
 * kvmclock, Xen's PV clock) or as timed against a board timer (the PIT);
 * *how says which, for the boot log ("from kvmclock"). 0 when it cannot be
 * known, with *how saying why. Called once at boot (arch_time_init), with
 * interrupts off; architectures whose counter states its own frequency
 * (aarch64's CNTFRQ_EL0) need not ask. */
uint64_t platform_cycles_hz(const char **how);

/* The wall clock now, in ns since 1970-01-01 UTC (the CMOS RTC, Xen's
 * shared_info wall clock, the PL031 on arm virt); *source names it for
 * the boot log ("the RTC"). Called once at boot (clock_init), after
 * arch_time_init; CLOCK_REALTIME runs on from it. */
uint64_t platform_wallclock_ns(const char **source);

#endif
