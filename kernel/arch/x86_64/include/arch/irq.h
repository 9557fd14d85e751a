/* Interrupt flag control on x86_64. */
#ifndef ARCH_IRQ_H
#define ARCH_IRQ_H

static inline unsigned long arch_irq_save(void)
{
    unsigned long flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    return flags;
}

static inline void arch_irq_restore(unsigned long flags)
{
    if (flags & (1UL << 9))             /* RFLAGS.IF */
        __asm__ volatile("sti" : : : "memory");
}

static inline void arch_irq_disable(void) { __asm__ volatile("cli" : : : "memory"); }
static inline void arch_irq_enable(void)  { __asm__ volatile("sti" : : : "memory"); }
static inline void arch_cpu_relax(void)   { __asm__ volatile("pause" : : : "memory"); }

/* Called with interrupts off: enable them and wait for one. STI takes
 * effect after the next instruction, so an interrupt pending since the
 * caller's last check ends the HLT instead of slipping in before it. */
static inline void arch_idle_halt(void)   { __asm__ volatile("sti; hlt" : : : "memory"); }

#endif
