/*
 * FP/SIMD state management. The kernel itself never uses these registers
 * (it is built general-regs-only); they belong to the app threads, and
 * the switch saves them whole with XSAVE (FXSAVE without it) and restores
 * them when the registers may hold another thread's (switch.S).
 * See docs/abi-contract.md.
 */
#include <arch/cpu.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/string.h>
#include "x86_64.h"

#define CR0_MP        (1u << 1)
#define CR0_EM        (1u << 2)
#define CR0_TS        (1u << 3)
#define CR4_OSFXSR    (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE   (1u << 18)

/* The user state components Linux apps may use: x87, SSE, AVX, and the
 * three AVX-512 components. */
#define XCR0_WANTED   0xe7ULL

bool fpu_has_xsave;
uint64_t fpu_xcr0;
size_t fpu_state_size;          /* bytes of a save area */
/* A save area holding the initial state (FCW 0x37f, MXCSR 0x1f80, all
 * registers zero): new threads start from a copy. */
uint8_t fpu_init_state[FPU_MAX_STATE] __aligned(64);

static inline void xsetbv(uint32_t idx, uint64_t v)
{
    __asm__ volatile("xsetbv" : : "c"(idx), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

void fpu_init_cpu(void)
{
    write_cr0((read_cr0() | CR0_MP) & ~(uint64_t)(CR0_EM | CR0_TS));
    uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (fpu_has_xsave)
        cr4 |= CR4_OSXSAVE;
    write_cr4(cr4);
    if (fpu_has_xsave)
        xsetbv(0, fpu_xcr0);
    /* The boot CPU learns the save area's size here, for the XCR0 just
     * set; every CPU then uses the same format, or a thread switched out
     * on one CPU and resumed on another would restore a foreign image. */
    if (!fpu_state_size) {
        fpu_state_size = fpu_has_xsave ? cpuid(0xd, 0).ebx : 512;
        if (fpu_state_size > FPU_MAX_STATE)
            panic("fpu: state of %zu bytes exceeds %d", fpu_state_size, FPU_MAX_STATE);
    }
    /* A clean x87 and MXCSR for whatever runs first. */
    uint32_t mxcsr = 0x1f80;
    __asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));
}

void fpu_init(void)
{
    struct cpuid_regs r = cpuid(1, 0);
    fpu_has_xsave = r.ecx & (1u << 26);
    if (fpu_has_xsave) {
        struct cpuid_regs d = cpuid(0xd, 0);
        uint64_t supported = ((uint64_t)d.edx << 32) | d.eax;
        fpu_xcr0 = supported & XCR0_WANTED;
        /* AVX-512 needs all three of its components or none. */
        if ((fpu_xcr0 & 0xe0) != 0xe0)
            fpu_xcr0 &= ~0xe0ULL;
    }
    fpu_init_cpu();

    memset(fpu_init_state, 0, sizeof(fpu_init_state));
    if (fpu_has_xsave)
        __asm__ volatile("xsave64 %0" : "=m"(fpu_init_state) : "a"(-1), "d"(-1) : "memory");
    else
        __asm__ volatile("fxsave64 %0" : "=m"(fpu_init_state) : : "memory");
    pr_info("fpu: %s, XCR0 %#llx, %zu-byte save area\n",
            fpu_has_xsave ? "XSAVE" : "FXSAVE", (unsigned long long)fpu_xcr0,
            fpu_state_size);
}
