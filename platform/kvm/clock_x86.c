/*
 * The TSC's frequency on the QEMU x86 machine (kern/plat_time.h): from
 * kvmclock when KVM offers it (exact, and 10 ms faster at boot), otherwise
 * timed against the PIT.
 */
#include <kern/platform.h>
#include "kvm.h"

uint64_t platform_cycles_hz(const char **how)
{
    uint64_t hz = kvmclock_tsc_hz();
    if (hz) {
        *how = "from kvmclock";
        return hz;
    }
    hz = pit_tsc_hz();
    *how = hz ? "calibrated against the PIT" : "PIT calibration failed";
    return hz;
}

/* The local APIC timer QEMU emulates is the arch's own. */
const struct platform_timer *platform_timer(void)
{
    return NULL;
}
