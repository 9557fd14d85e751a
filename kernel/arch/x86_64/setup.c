/*
 * x86_64 boot: from boot.S (long mode, boot stack, boot page tables) to the
 * portable kernel_main. Also CPU identification for the banner.
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/backtrace.h>
#include <kern/boot.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <arch/syscall.h>
#include "x86_64.h"

const char *const arch_name = "x86_64";

extern uint64_t boot_entry_tsc, boot_start_info_pa;   /* boot.S, .boot.data */
extern char boot_stack_bottom[], boot_stack_top[], boot_stack_guard[];
extern char _kernel_phys_start[], _kernel_phys_end[];

static const char *pvh_error;
uint64_t x86_boot_tsc;
static char x86_hypervisor[13];

void x86_64_boot(void) __noreturn;
void x86_64_boot(void)
{
    /* .boot.data is only mapped until paging_init; copy what we need. */
    x86_boot_tsc = boot_entry_tsc;
    boot_info.kernel_start = (paddr_t)(uintptr_t)_kernel_phys_start;
    boot_info.kernel_end = (paddr_t)(uintptr_t)_kernel_phys_end;
    pvh_error = pvh_parse(boot_start_info_pa);
    stack_register((uintptr_t)boot_stack_bottom, (uintptr_t)boot_stack_top);
    paging_add_guard((uintptr_t)boot_stack_guard);
    kernel_main();
}

static void identify_cpu(void)
{
    struct cpuid_regs r = cpuid(0, 0);
    char vendor[13];
    memcpy(vendor + 0, &r.ebx, 4);
    memcpy(vendor + 4, &r.edx, 4);
    memcpy(vendor + 8, &r.ecx, 4);
    vendor[12] = 0;

    r = cpuid(1, 0);
    bool hv = r.ecx & (1u << 31);
    if (hv) {
        r = cpuid(0x40000000, 0);
        memcpy(x86_hypervisor + 0, &r.ebx, 4);
        memcpy(x86_hypervisor + 4, &r.ecx, 4);
        memcpy(x86_hypervisor + 8, &r.edx, 4);
        x86_hypervisor[12] = 0;
    }
    pr_info("cpu: %s, hypervisor: %s\n", vendor, hv ? x86_hypervisor : "none");
}

static void mask_legacy_pic(void)
{
    /* The 8259s may have been left unmasked by firmware; the kernel uses
     * the local APIC, so mask every line. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

/* GS base -> this CPU's struct cpu, before anything (trap entry included)
 * reads per-CPU data. */
void percpu_init(struct cpu *c, unsigned id)
{
    c->self = c;
    c->id = id;
    c->trap_stack_lo = c->trap_stack_hi = 0;
    wrmsr(MSR_GS_BASE, (uint64_t)c);
}

void arch_early_init(void)
{
    percpu_init(&cpus[0], 0);
    gdt_init();
    idt_init();
    mask_legacy_pic();
    identify_cpu();
    if (pvh_error)
        panic("boot: %s", pvh_error);
}

/* After paging and the page allocator: device-backed CPU parts. */
void arch_late_init(void)
{
    /* After paging_init: the first SSE/x87 memory accesses must not hit
     * the 2 MiB boot mapping that also holds the boot page tables; a
     * nested shadow-paging KVM emulates such accesses and cannot emulate
     * ldmxcsr/xsave ("KVM internal error"). */
    fpu_init();
    syscall_init_cpu();
    apic_init();
}

void arch_halt(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

void arch_dump_cpu_state(void)
{
    pr_emerg("CR0=%016lx CR2=%016lx CR3=%016lx CR4=%016lx\n",
             (unsigned long)read_cr0(), (unsigned long)read_cr2(),
             (unsigned long)read_cr3(), (unsigned long)read_cr4());
    /* FS.base is the last app thread's TLS pointer: kernel threads leave
     * it as they find it (switch.S). */
    pr_emerg("EFER=%016lx FS.base=%016lx GS.base=%016lx\n",
             (unsigned long)rdmsr(MSR_EFER), (unsigned long)rdmsr(MSR_FS_BASE),
             (unsigned long)rdmsr(MSR_GS_BASE));
}
