/*
 * aarch64 boot: from boot.S (EL1, MMU on with the early map, boot stack on
 * SP_EL0) to the portable kernel_main. Also the CPU's identity for the
 * banner and the per-CPU pointer.
 */
#include <arch/gic.h>
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/backtrace.h>
#include <kern/boot.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/string.h>
#include "aarch64.h"

const char *const arch_name = "aarch64";

extern char boot_stack_guard[], cpu0_exc_stack_guard[], cpu0_exc_stack_top[];
extern char _kernel_start[], _kernel_end[];

static const char *fdt_error;
size_t fpu_state_size = FPU_STATE_SIZE;

/* TPIDR_EL1 -> this CPU's struct cpu, before anything (the exception
 * entry included) reads per-CPU data. */
void percpu_init(struct cpu *c, unsigned id, uintptr_t exc_stack_top)
{
    c->self = c;
    c->id = id;
    c->trap_stack_lo = c->trap_stack_hi = 0;
    c->arch.exc_stack = exc_stack_top;
    c->arch.mpidr = READ_SYSREG(mpidr_el1) & 0xff00ffffffULL;
    WRITE_SYSREG(tpidr_el1, c);
}

void aarch64_boot(void) __noreturn;
void aarch64_boot(void)
{
    percpu_init(&cpus[0], 0, (uintptr_t)cpu0_exc_stack_top);
    boot_info.kernel_start = arch_kernel_phys_base;
    boot_info.kernel_end = arch_kernel_phys_base + (uintptr_t)(_kernel_end - _kernel_start);
    boot_info.fdt = aarch64_boot_dtb;
    /* Before any thread exists, with FP/SIMD enabled (boot.S): the only
     * place libfdt runs from the arch (fdt_boot.c says why). Errors wait
     * for the console (arch_early_init). */
    fdt_error = fdt_boot_parse(aarch64_boot_dtb);
    stack_register((uintptr_t)boot_stack_bottom, (uintptr_t)boot_stack_top);
    paging_add_guard((uintptr_t)boot_stack_guard);
    paging_add_guard((uintptr_t)cpu0_exc_stack_guard);
    kernel_main();
}

static const char *implementer_name(unsigned impl)
{
    switch (impl) {
    case 0x41: return "Arm";
    case 0x51: return "Qualcomm";
    case 0x61: return "Apple";
    case 0xc0: return "Ampere";
    default:   return "unknown implementer";
    }
}

static void identify_cpu(void)
{
    uint64_t midr = READ_SYSREG(midr_el1);
    pr_info("cpu: %s part %#llx r%llup%llu, entered at EL%llu%s\n",
            implementer_name((unsigned)(midr >> 24) & 0xff),
            (unsigned long long)(midr >> 4) & 0xfff, (unsigned long long)(midr >> 20) & 0xf,
            (unsigned long long)midr & 0xf, (unsigned long long)aarch64_boot_el,
            aarch64_boot_el == 2 ? " (dropped to EL1)" : "");
}

void arch_early_init(void)
{
    identify_cpu();
    if (fdt_error)
        panic("boot: device tree: %s", fdt_error);
}

/* After paging and the page allocator: the interrupt controller (its
 * registers through ioremap) and this CPU's timer. */
void arch_late_init(void)
{
    gic_init();
    gic_init_cpu();
    timer_init_cpu();
}

void arch_halt(void)
{
    for (;;)
        __asm__ volatile("msr daifset, #0xf; wfi");
}

void arch_dump_cpu_state(void)
{
    pr_emerg("SCTLR_EL1=%016llx TCR_EL1=%016llx TTBR0=%016llx TTBR1=%016llx\n",
             (unsigned long long)READ_SYSREG(sctlr_el1), (unsigned long long)READ_SYSREG(tcr_el1),
             (unsigned long long)READ_SYSREG(ttbr0_el1), (unsigned long long)READ_SYSREG(ttbr1_el1));
    pr_emerg("TPIDR_EL0=%016llx TPIDR_EL1=%016llx SP_EL0=%016llx\n",
             (unsigned long long)READ_SYSREG(tpidr_el0), (unsigned long long)READ_SYSREG(tpidr_el1),
             (unsigned long long)READ_SYSREG(sp_el0));
}
