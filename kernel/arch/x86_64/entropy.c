/* Seed material for kernel/lib/random.c: RDRAND when the CPU has it. */
#include <arch/cpu.h>
#include <kern/arch.h>
#include "x86_64.h"

static bool has_rdrand(void)
{
    return cpuid(1, 0).ecx & (1u << 30);                      /* CPUID.1:ECX.RDRAND */
}

const char *arch_entropy_source(void)
{
    return has_rdrand() ? "RDRAND" : NULL;
}

uint64_t arch_entropy(void)
{
    if (has_rdrand()) {
        for (int tries = 0; tries < 10; tries++) {
            uint64_t v;
            uint8_t ok;
            __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
            if (ok)
                return v ^ arch_cycles();
        }
    }
    return arch_cycles() * 0x9e3779b97f4a7c15ULL;
}
