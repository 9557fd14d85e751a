/* Interrupt masking on aarch64: PSTATE.I (DAIF bit 7); device interrupts
 * come from the GIC, numbered by the platform (kern/plat_irq.h). */
#ifndef ARCH_IRQ_H
#define ARCH_IRQ_H

#define ARCH_DAIF_I (1UL << 7)

static inline unsigned long arch_irq_save(void)
{
    unsigned long flags;
    __asm__ volatile("mrs %0, daif; msr daifset, #2" : "=r"(flags) : : "memory");
    return flags;
}

static inline void arch_irq_restore(unsigned long flags)
{
    if (!(flags & ARCH_DAIF_I))
        __asm__ volatile("msr daifclr, #2" : : : "memory");
}

static inline void arch_irq_disable(void) { __asm__ volatile("msr daifset, #2" : : : "memory"); }
static inline void arch_irq_enable(void)  { __asm__ volatile("msr daifclr, #2" : : : "memory"); }
static inline void arch_cpu_relax(void)   { __asm__ volatile("yield" : : : "memory"); }

/* Called with interrupts masked: WFI wakes on a pending interrupt even
 * while it is masked, so one that arrived since the caller's last check
 * ends the wait; unmasking then takes it. */
static inline void arch_idle_halt(void)
{
    __asm__ volatile("wfi; msr daifclr, #2" : : : "memory");
}

#endif
