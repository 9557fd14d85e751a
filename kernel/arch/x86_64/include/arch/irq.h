/* Interrupt flag control on x86_64. */
#ifndef ARCH_IRQ_H
#define ARCH_IRQ_H

/* Vectors left to device interrupts: below are the exceptions and the
 * timer, above the IPIs (x86_64.h). Platforms that deliver device
 * interrupts as vectors (MSI on KVM) hand these out (kern/plat_irq.h). */
#define ARCH_FIRST_DEVICE_VECTOR 0x30
#define ARCH_LAST_DEVICE_VECTOR  0xdf

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
