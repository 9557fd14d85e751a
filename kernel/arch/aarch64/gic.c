/*
 * The GIC version the machine has, and the IRQ exception's dispatch: one
 * acknowledge/handle/EOI loop for both versions (gic.h).
 */
#include <arch/plat_arm.h>
#include <kern/irq.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/thread.h>
#include <arch/gic.h>

static const struct gic_ops *gic;
static unsigned timer_intid;

void gic_init(void)
{
    struct gic_desc d;
    if (!platform_gic(&d))
        panic("gic: the machine describes no interrupt controller");
    if (d.version == 2)
        gic = &gic_v2_ops;
    else if (d.version == 3)
        gic = &gic_v3_ops;
    else
        panic("gic: version %d is not supported (2 or 3)", d.version);
    timer_intid = platform_timer_virt_intid();
    gic->init();
}

void gic_init_cpu(void)
{
    /* SGIs are sent by affinity (v3): the MPIDR less its flag bits. */
    uint64_t m;
    __asm__ volatile("mrs %0, mpidr_el1" : "=r"(m));
    this_cpu()->arch.mpidr = m & 0xff00ffffffULL;
    gic->init_cpu();
}

void gic_enable(unsigned intid, bool edge)
{
    gic->enable(intid, edge);
}

void gic_send_sgi(unsigned sgi, const struct cpu *c)
{
    gic->send_sgi(sgi, c);
}

void arch_irq_dispatch(void)
{
    /* Where the interrupt stopped the CPU (profile=): ELR_EL1 still holds
     * it, no other exception having been taken since (IRQs are masked). */
    uintptr_t pc;
    __asm__ volatile("mrs %0, elr_el1" : "=r"(pc));
    static bool reported[GIC_SPURIOUS];
    struct cpu *c = this_cpu();
    /* One interrupt per exception: another one pending takes the IRQ
     * again right after the return. A loop until the spurious id would
     * never end when a handler re-arms the timer for a deadline already
     * due (a slice that ended while we were here): the timer PPI is
     * pending again at once and sched_preempt below never ran. */
    uint32_t iar = gic->ack();
    unsigned id = iar & 0x3ff;
    if (id >= GIC_SPURIOUS)
        return;
    if (id == timer_intid) {
        c->irq_pc = pc;
        timer_irq();
    } else if (id == GIC_SGI_RESCHED) {
        c->need_resched = true;
    } else if (!irq_handle(id) && !reported[id]) {
        reported[id] = true;
        pr_warn("gic: unexpected interrupt %u (ignored)\n", id);
    }
    /* After the handler: a level-triggered device line must have been
     * quieted (its status read) before it is deactivated, or it fires
     * again at once. */
    gic->eoi(iar);
    /* Interrupts only arrive where they were unmasked, so the interrupted
     * code holds no spinlock: a safe place to preempt it. */
    sched_preempt();
}
