/*
 * The arm generic timer (ARM DDI 0487, D11): CNTVCT_EL0 counts at
 * CNTFRQ_EL0 on every CPU alike (the counter is system-wide), and each CPU
 * has its own EL1 virtual timer that raises a PPI when CNTVCT reaches
 * CNTV_CVAL_EL0. That compare value makes tickless one-shots exact: the
 * deadline in counter ticks, nothing to calibrate (the x86 local APIC
 * needs both).
 */
#include <arch/plat_arm.h>
#include <kern/arch.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include <kern/timer.h>
#include <arch/gic.h>

#define CNTV_CTL_ENABLE  (1u << 0)
#define CNTV_CTL_IMASK   (1u << 1)
#define CNTKCTL_EL0VCTEN (1u << 1)      /* apps may read CNTVCT_EL0 */

/* The counter at kernel entry, stored by boot.S before anything else
 * runs (aarch64.h). */
extern uint64_t aarch64_boot_cycles;
static uint64_t hz;

uint64_t arch_cycles(void)
{
    uint64_t v;
    /* ISB: the read is not hoisted above earlier instructions (D11.2.2). */
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v) : : "memory");
    return v;
}

uint64_t arch_cycles_hz(void)   { return hz; }
uint64_t arch_boot_cycles(void) { return aarch64_boot_cycles; }

uint64_t arch_time_ns(void)
{
    if (!hz)
        return 0;
    uint64_t d = arch_cycles() - aarch64_boot_cycles;
    /* Split so that d * 1e9 cannot overflow: whole seconds, then the rest. */
    return d / hz * 1000000000ULL + d % hz * 1000000000ULL / hz;
}

void arch_time_init(void)
{
    uint64_t f;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
    /* The counter states its own rate; firmware sets it (QEMU: 62.5 MHz
     * under TCG, the host's under KVM). */
    if (!f) {
        pr_warn("timer: CNTFRQ_EL0 is 0; timestamps disabled\n");
        return;
    }
    hz = f;
    pr_info("timer: generic timer at %llu.%03llu MHz (CNTFRQ_EL0)\n",
            (unsigned long long)hz / 1000000, (unsigned long long)hz / 1000 % 1000);
}

/* Every CPU: the virtual timer off, its PPI (level, per CPU) unmasked. */
void timer_init_cpu(void)
{
    __asm__ volatile("msr cntv_ctl_el0, %0; isb" : : "r"(0UL));
    uint64_t k;
    __asm__ volatile("mrs %0, cntkctl_el1" : "=r"(k));
    __asm__ volatile("msr cntkctl_el1, %0" : : "r"(k | CNTKCTL_EL0VCTEN));
    gic_enable(platform_timer_virt_intid(), false);
}

void arch_timer_arm(uint64_t deadline_ns)
{
    uint64_t now = arch_time_ns();
    uint64_t delta = deadline_ns > now ? deadline_ns - now : 0;
    uint64_t ticks = delta / 1000000000ULL * hz + delta % 1000000000ULL * hz / 1000000000ULL;
    /* A compare value already passed fires at once: a deadline in the
     * past needs no special case. */
    uint64_t cval = arch_cycles() + ticks;
    __asm__ volatile("msr cntv_cval_el0, %0; msr cntv_ctl_el0, %1; isb"
                     : : "r"(cval), "r"((uint64_t)CNTV_CTL_ENABLE) : "memory");
}

void arch_timer_disarm(void)
{
    __asm__ volatile("msr cntv_ctl_el0, %0; isb" : : "r"(0UL) : "memory");
}

/* The timer's PPI is level-triggered and stays asserted while CVAL is
 * behind the counter: turn the timer off before the EOI (timer_interrupt
 * re-arms it for the next deadline). */
void timer_irq(void)
{
    __asm__ volatile("msr cntv_ctl_el0, %0; isb" : : "r"(0UL) : "memory");
    timer_interrupt();
}
