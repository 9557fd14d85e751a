/*
 * The PC's 8254 programmable interval timer, used only to measure the TSC:
 * channel 2 counts down a known time with no interrupt (its output is read
 * back through port 0x61). QEMU emulates it on every x86 machine; Xen PVH
 * has none.
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include "kvm.h"

#define PIT_HZ          1193182
#define CALIBRATE_MS    3

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

uint64_t pit_tsc_hz(void)
{
    /* Take the lower of two: a vCPU preempted by the host during one
     * measurement reads long. */
    uint64_t best = 0;
    for (int i = 0; i < 2; i++) {
        uint64_t hz = measure_tsc_hz();
        if (hz && (!best || hz < best))
            best = hz;
    }
    return best;
}
