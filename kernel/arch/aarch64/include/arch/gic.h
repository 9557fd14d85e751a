/*
 * The GIC, the arm interrupt controller, as the rest of the aarch64 code
 * sees it: one small interface over the two versions QEMU virt offers
 * (gic_v2.c: memory-mapped CPU interface, SGIs by target mask; gic_v3.c:
 * system-register CPU interface, redistributors, SGIs by affinity). The
 * version comes from the platform (the device tree: platform_gic).
 *
 * Interrupt ids (GIC architecture): SGIs 0-15 (software, per CPU), PPIs
 * 16-31 (per CPU: the timer), SPIs 32-1019 (devices, routed to one CPU),
 * 1020-1023 special (1023: spurious, nothing pending).
 */
#ifndef ARCH_GIC_H
#define ARCH_GIC_H

#include <kern/types.h>

#define GIC_SGI_RESCHED   0     /* arch_send_resched */
#define GIC_FIRST_PPI     16
#define GIC_FIRST_SPI     32
#define GIC_SPURIOUS      1020  /* ids from here on are not interrupts */

/* Every interrupt gets this priority; the CPU accepts all (PMR 0xff). */
#define GIC_PRIO_DEFAULT  0xa0

struct cpu;

struct gic_ops {
    const char *name;
    /* Boot CPU, once: the distributor (all SPIs off, group 1). */
    void (*init)(void);
    /* Every CPU, the boot CPU too: its CPU interface (and v3's
     * redistributor), SGIs and PPIs configured, interrupts accepted. */
    void (*init_cpu)(void);
    /* Unmask intid: an SPI routed to the boot CPU with its trigger
     * (edge or level), or a PPI/SGI on the calling CPU. */
    void (*enable)(unsigned intid, bool edge);
    /* Raise SGI sgi on CPU c. */
    void (*send_sgi)(unsigned sgi, const struct cpu *c);
    /* Acknowledge the highest pending interrupt: the raw IAR value (its
     * low 10 bits are the id, >= GIC_SPURIOUS for none). */
    uint32_t (*ack)(void);
    /* End of interrupt for an ack's value (priority drop + deactivate). */
    void (*eoi)(uint32_t iar);
};

extern const struct gic_ops gic_v2_ops, gic_v3_ops;

/* Pick and start the GIC the platform describes; panics without one. */
void gic_init(void);
/* This CPU's interface (each CPU, in its bring-up). */
void gic_init_cpu(void);
void gic_enable(unsigned intid, bool edge);
void gic_send_sgi(unsigned sgi, const struct cpu *c);

/* The IRQ exception's handler (from the vector table, on the thread's trap
 * stack, interrupts masked): takes the highest pending interrupt (timer,
 * reschedule SGIs, device interrupts through irq_handle), then
 * gives the scheduler its chance to preempt (sched_preempt). Declared for
 * the vector code in aarch64.h too. */
void arch_irq_dispatch(void);

/* The generic timer's interrupt (timer.c). No TLB SGI: arch_tlb_shootdown
 * broadcasts its TLBI (smp.c). */
void timer_irq(void);
/* Per-CPU timer setup (timer.c): the boot CPU from arch_late_init, the
 * others in their bring-up. */
void timer_init_cpu(void);

#endif
