/* The Linux arm64 specifics the generic syscall layer asks the arch for:
 * the TLS register, AT_HWCAP, and per-CPU set-up of the `svc` entry
 * (trap_entry.S). */
#include <arch/syscall.h>
#include <kern/arch.h>
#include "aarch64.h"

extern char vectors[];

/* The vector table holds the svc entry; every CPU points VBAR_EL1 at it. */
void syscall_init_cpu(void)
{
    WRITE_SYSREG(vbar_el1, (uintptr_t)vectors);
    __asm__ volatile("isb" : : : "memory");
}

uintptr_t arch_tls_get(void)
{
    return READ_SYSREG(tpidr_el0);
}

/* TPIDR_EL0 is the thread's: switch.S saves and restores it. */
void arch_tls_set(uintptr_t base)
{
    WRITE_SYSREG(tpidr_el0, base);
}

/* Linux's arm64 HWCAP bits (arch/arm64/include/uapi/asm/hwcap.h) for the
 * features the ID registers report. */
#define HWCAP_FP        (1UL << 0)
#define HWCAP_ASIMD     (1UL << 1)
#define HWCAP_EVTSTRM   (1UL << 2)
#define HWCAP_AES       (1UL << 3)
#define HWCAP_PMULL     (1UL << 4)
#define HWCAP_SHA1      (1UL << 5)
#define HWCAP_SHA2      (1UL << 6)
#define HWCAP_CRC32     (1UL << 7)
#define HWCAP_ATOMICS   (1UL << 8)
#define HWCAP_CPUID     (1UL << 11)

uint64_t arch_elf_hwcap(void)
{
    uint64_t isar0 = READ_SYSREG(id_aa64isar0_el1);
    uint64_t pfr0 = READ_SYSREG(id_aa64pfr0_el1);
    uint64_t hw = 0;
    if (((pfr0 >> 16) & 0xf) != 0xf)
        hw |= HWCAP_FP;
    if (((pfr0 >> 20) & 0xf) != 0xf)
        hw |= HWCAP_ASIMD;
    unsigned aes = (isar0 >> 4) & 0xf;
    if (aes >= 1)
        hw |= HWCAP_AES;
    if (aes >= 2)
        hw |= HWCAP_PMULL;
    if ((isar0 >> 8) & 0xf)
        hw |= HWCAP_SHA1;
    if ((isar0 >> 12) & 0xf)
        hw |= HWCAP_SHA2;
    if ((isar0 >> 16) & 0xf)
        hw |= HWCAP_CRC32;
    if (((isar0 >> 20) & 0xf) >= 2)
        hw |= HWCAP_ATOMICS;
    return hw;
}

/* Seed material: the CPU's RNDR when it has FEAT_RNG
 * (ID_AA64ISAR0_EL1.RNDR), else the counter. */
static bool has_rndr(void)
{
    return (READ_SYSREG(id_aa64isar0_el1) >> 60) & 0xf;
}

const char *arch_entropy_source(void)
{
    return has_rndr() ? "RNDR" : NULL;
}

uint64_t arch_entropy(void)
{
    if (has_rndr()) {
        for (int tries = 0; tries < 10; tries++) {
            uint64_t v, ok;
            /* RNDR sets NZCV to 0100 when it failed */
            __asm__ volatile("mrs %0, s3_3_c2_c4_0\n\tcset %1, ne" : "=r"(v), "=r"(ok) : : "cc");
            if (ok)
                return v ^ read_cntvct();
        }
    }
    return read_cntvct() * 0x9e3779b97f4a7c15ULL;
}
