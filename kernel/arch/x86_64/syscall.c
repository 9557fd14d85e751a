/* Enabling the `syscall` instruction on a CPU (entry in syscall_entry.S). */
#include <arch/cpu.h>
#include <arch/syscall.h>
#include <kern/errno.h>
#include <kern/syscall.h>
#include <kern/uaccess.h>
#include "x86_64.h"

#define MSR_STAR   0xc0000081
#define MSR_LSTAR  0xc0000082
#define MSR_FMASK  0xc0000084
#define RFLAGS_IF  (1u << 9)
#define RFLAGS_DF  (1u << 10)
#define RFLAGS_TF  (1u << 8)
#define RFLAGS_AC  (1u << 18)

void syscall_entry(void);

void syscall_init_cpu(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* CS/SS loaded by syscall: our kernel selectors (sysret is not used). */
    wrmsr(MSR_STAR, (uint64_t)GDT_KERNEL_CS << 32);
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    /* Entered with interrupts masked until the stack is switched, and with
     * DF, TF and AC clear, as the C code expects. */
    wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC);
}

/* ---- the Linux x86_64 specifics -------------------------------------------- */

#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE_ 0xc0000101

uintptr_t arch_tls_get(void)
{
    return rdmsr(MSR_FS_BASE);
}

/* The FS base is the thread's: switch.S saves and restores it. */
void arch_tls_set(uintptr_t base)
{
    wrmsr(MSR_FS_BASE, base);
}

/* AT_HWCAP on x86_64 is CPUID.1:EDX, as Linux reports it. */
uint64_t arch_elf_hwcap(void)
{
    return cpuid(1, 0).edx;
}

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004
#define ARCH_GET_CPUID 0x1011
#define ARCH_SET_CPUID 0x1012

/* GS belongs to the kernel (per-CPU data): ARCH_SET_GS is refused. */
SYSCALL2(arch_prctl, int, code, uintptr_t, addr)
{
    switch (code) {
    case ARCH_SET_FS:
        if (addr >= 0x0000800000000000UL)
            return -EPERM;
        arch_tls_set(addr);
        return 0;
    case ARCH_GET_FS: {
        uintptr_t v = arch_tls_get();
        return copy_to_user((void *)addr, &v, sizeof(v));
    }
    case ARCH_GET_GS: {
        uintptr_t zero = 0;
        return copy_to_user((void *)addr, &zero, sizeof(zero));
    }
    case ARCH_SET_GS:
        return -EPERM;
    case ARCH_GET_CPUID:
        return 1;                       /* cpuid is allowed */
    case ARCH_SET_CPUID:
        return addr ? 0 : -ENODEV;
    default:
        return -EINVAL;
    }
}
