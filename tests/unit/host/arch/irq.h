/* Host stand-in for the arch interrupt flag: unit tests are single-threaded. */
#ifndef ARCH_IRQ_H
#define ARCH_IRQ_H
static inline unsigned long arch_irq_save(void) { return 0; }
static inline void arch_irq_restore(unsigned long flags) { (void)flags; }
static inline void arch_cpu_relax(void) { }
#endif
