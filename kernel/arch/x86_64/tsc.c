/*
 * Time from the TSC. Its frequency is the platform's to say
 * (platform_cycles_hz: kvmclock or the PIT on KVM, the PV clock on Xen).
 * This timestamps the log, measures boot time and drives the timers
 * (apic.c).
 */
#include <arch/cpu.h>
#include <kern/arch.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include "x86_64.h"

static uint64_t tsc_hz;

uint64_t arch_cycles(void)       { return rdtsc(); }
uint64_t arch_cycles_hz(void)    { return tsc_hz; }
uint64_t arch_boot_cycles(void)  { return x86_boot_tsc; }

uint64_t arch_time_ns(void)
{
    if (!tsc_hz)
        return 0;
    uint64_t d = rdtsc() - x86_boot_tsc;
    /* Split to avoid overflow: seconds part, then the remainder. */
    return d / tsc_hz * 1000000000ULL + d % tsc_hz * 1000000000ULL / tsc_hz;
}

void arch_time_init(void)
{
    const char *how = "";
    tsc_hz = platform_cycles_hz(&how);
    if (!tsc_hz) {
        pr_warn("tsc: %s; timestamps disabled\n", how);
        return;
    }
    pr_info("tsc: %llu.%03llu MHz (%s)\n", (unsigned long long)tsc_hz / 1000000,
            (unsigned long long)tsc_hz / 1000 % 1000, how);
}
