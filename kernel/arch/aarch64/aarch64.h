/* Interfaces between the aarch64 arch files (not for the portable core). */
#ifndef AARCH64_PRIVATE_H
#define AARCH64_PRIVATE_H

#include <kern/types.h>

struct cpu;

/* Set by boot.S before aarch64_boot runs. */
extern uint64_t aarch64_boot_dtb;       /* x0 at entry: the DTB's physical address */
extern uint64_t aarch64_boot_el;        /* 1 or 2: the EL the loader started us at */
extern uint64_t aarch64_boot_cycles;    /* CNTVCT_EL0 at entry */

/* FP/SIMD save area: q0-q31, then FPSR and FPCR (trap_entry.S, switch.S). */
#define FPU_STATE_SIZE  528
#define FPU_FPSR        512
#define FPU_FPCR        520

/* The device tree into boot_info (fdt_boot.c): memory, /chosen's
 * bootargs and initrd. NULL or what is wrong with it. */
const char *fdt_boot_parse(uint64_t fdt_pa);

void percpu_init(struct cpu *c, unsigned id, uintptr_t exc_stack_top);
void paging_add_guard(uintptr_t va);
void tlb_ipi(void);

/* An interrupt (the IRQ vector): the interrupt controller's driver
 * acknowledges it and runs its handler (timer, IPI, device). */
void arch_irq_dispatch(void);

static inline uint64_t read_cntvct(void)
{
    uint64_t v;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v) : : "memory");
    return v;
}

#define READ_SYSREG(name) ({ uint64_t _v; __asm__ volatile("mrs %0, " #name : "=r"(_v)); _v; })
#define WRITE_SYSREG(name, v) __asm__ volatile("msr " #name ", %0" : : "r"((uint64_t)(v)) : "memory")

#endif
