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

/* A per-CPU one-shot timer the hypervisor offers in place of the CPU's own
 * (Xen's VCPUOP_set_singleshot_timer, whose expiry arrives as an event on
 * the platform's interrupt path), or NULL: the architecture then uses its
 * own (the local APIC timer, the arm generic timer). Asked once by the
 * architecture's timer setup (arch_late_init); it then routes
 * arch_timer_arm/disarm here, and calls init_cpu on every CPU (the boot
 * CPU included) before that CPU's first arm. The platform's handler calls
 * timer_interrupt as the architecture's would. */
struct platform_timer {
    const char *name;
    void (*init_cpu)(void);
    void (*arm)(uint64_t deadline_ns);  /* arch_time_ns's clock */
    void (*disarm)(void);
};
const struct platform_timer *platform_timer(void);

#endif
