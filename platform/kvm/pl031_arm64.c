/*
 * The wall clock on QEMU virt: the PL031 real-time clock (ARM DDI 0224),
 * whose data register counts seconds since 1970 (QEMU sets it from the
 * host's clock, -rtc base=). Read once at boot; CLOCK_REALTIME runs on
 * from it with the generic timer.
 */
#include <kern/arch.h>
#include <kern/plat_time.h>
#include "dt.h"

#define RTCDR 0x000     /* data register: the current time in seconds */

uint64_t platform_wallclock_ns(const char **source)
{
    if (!dt.rtc_base) {
        *source = "none (no arm,pl031 in the device tree)";
        return 0;
    }
    volatile uint32_t *rtc = ioremap(dt.rtc_base, 0x1000);
    *source = "the PL031 RTC";
    return (uint64_t)rtc[RTCDR / 4] * 1000000000ULL;
}
