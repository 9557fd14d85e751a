/*
 * Time from the TSC. Its frequency comes from kvmclock when KVM offers it
 * (kvmclock.c), otherwise from timing PIT channel 2 (which needs no
 * interrupt). This timestamps the log, measures boot time and drives the
 * timers (apic.c).
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <kern/arch.h>
#include <kern/printk.h>
#include "x86_64.h"

#define PIT_HZ          1193182
#define CALIBRATE_MS    3

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

/* Count TSC cycles while PIT channel 2 counts down CALIBRATE_MS. */
static uint64_t measure_tsc_hz(void)
{
    uint32_t count = PIT_HZ * CALIBRATE_MS / 1000;

    outb(0x61, (inb(0x61) & ~0x02) | 0x01);    /* gate on, speaker off */
    outb(0x43, 0xb0);                           /* ch 2, lo/hi, mode 0 */
    outb(0x42, count & 0xff);
    outb(0x42, count >> 8);
    uint64_t t0 = rdtsc();
    uint64_t limit = t0 + (1ULL << 36);         /* give up after ~20 s */
    while (!(inb(0x61) & 0x20))
        if (rdtsc() > limit)
            return 0;
    uint64_t t1 = rdtsc();
    return (t1 - t0) * 1000 / CALIBRATE_MS;
}

uint64_t kvmclock_tsc_hz(void);

void arch_time_init(void)
{
    uint64_t kvm_hz = kvmclock_tsc_hz();
    if (kvm_hz) {
        tsc_hz = kvm_hz;
        pr_info("tsc: %llu.%03llu MHz (from kvmclock)\n",
                (unsigned long long)tsc_hz / 1000000,
                (unsigned long long)tsc_hz / 1000 % 1000);
        return;
    }
    /* Take the lower of two: a vCPU preempted by the host during one
     * measurement reads long. */
    uint64_t best = 0;
    for (int i = 0; i < 2; i++) {
        uint64_t hz = measure_tsc_hz();
        if (hz && (!best || hz < best))
            best = hz;
    }
    if (!best) {
        pr_warn("tsc: PIT calibration failed; timestamps disabled\n");
        return;
    }
    tsc_hz = best;
    pr_info("tsc: %llu.%03llu MHz (calibrated against the PIT)\n",
            (unsigned long long)tsc_hz / 1000000,
            (unsigned long long)tsc_hz / 1000 % 1000);
}
