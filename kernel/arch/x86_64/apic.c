/*
 * The local APIC (xAPIC, memory-mapped): interrupt acknowledgement and the
 * per-CPU one-shot timer that drives tickless timers and preemption. The
 * timer uses TSC-deadline mode when the CPU has it (one MSR write per
 * event), otherwise one-shot count mode calibrated against the TSC.
 * A platform whose hypervisor offers its own per-CPU timer (Xen's
 * single-shot timer event, kern/plat_time.h) takes arch_timer_arm/disarm
 * over; the LVT timer then stays masked.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <kern/arch.h>
#include <kern/panic.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include "x86_64.h"

#define MSR_APIC_BASE       0x1b
#define APIC_BASE_ENABLE    (1u << 11)
#define MSR_TSC_DEADLINE    0x6e0

#define APIC_ID             0x020
#define APIC_TPR            0x080
#define APIC_EOI            0x0b0
#define APIC_SVR            0x0f0
#define APIC_ICR_LO         0x300
#define APIC_ICR_HI         0x310
#define APIC_LVT_TIMER      0x320
#define APIC_LVT_LINT0      0x350
#define APIC_LVT_LINT1      0x360
#define APIC_LVT_ERROR      0x370
#define APIC_TIMER_INIT     0x380
#define APIC_TIMER_CUR      0x390
#define APIC_TIMER_DIV      0x3e0

#define LVT_MASKED          (1u << 16)
#define LVT_TSC_DEADLINE    (2u << 17)
#define SVR_ENABLE          (1u << 8)

static volatile uint32_t *lapic;
static bool tsc_deadline;
static uint64_t apic_ticks_per_ms;      /* count mode, divide by 16 */
static const struct platform_timer *plat_timer;

static inline uint32_t apic_read(unsigned reg)
{
    return lapic[reg / 4];
}

static inline void apic_write(unsigned reg, uint32_t v)
{
    lapic[reg / 4] = v;
}

void apic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

uint32_t apic_id(void)
{
    return apic_read(APIC_ID) >> 24;
}

static void calibrate_count_mode(void)
{
    uint64_t hz = arch_cycles_hz();
    apic_write(APIC_TIMER_DIV, 0x3);            /* divide by 16 */
    apic_write(APIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
    apic_write(APIC_TIMER_INIT, 0xffffffff);
    uint64_t t0 = arch_cycles();
    /* 1 ms is enough: the timer counts at tens of MHz (QEMU: 1 GHz / 16),
     * so one tick is well under 0.1% of it, and each ms here delays boot. */
    while (arch_cycles() - t0 < hz / 1000)
        ;
    uint32_t elapsed = 0xffffffff - apic_read(APIC_TIMER_CUR);
    apic_write(APIC_TIMER_INIT, 0);
    apic_ticks_per_ms = (uint64_t)elapsed;
    if (!apic_ticks_per_ms)
        panic("apic: the timer does not count");
}

void apic_init_cpu(void)
{
    apic_write(APIC_TPR, 0);
    apic_write(APIC_LVT_LINT0, LVT_MASKED);
    apic_write(APIC_LVT_LINT1, LVT_MASKED);
    apic_write(APIC_LVT_ERROR, VEC_APIC_ERROR);
    apic_write(APIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
    if (plat_timer) {
        apic_write(APIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
        plat_timer->init_cpu();
    } else if (tsc_deadline)
        apic_write(APIC_LVT_TIMER, LVT_TSC_DEADLINE | VEC_TIMER);
    else
        apic_write(APIC_LVT_TIMER, VEC_TIMER);  /* one-shot */
    apic_eoi();
}

void apic_init(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE))
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    lapic = ioremap(base & ~0xfffULL, 4096);
    plat_timer = platform_timer();
    tsc_deadline = !plat_timer && (cpuid(1, 0).ecx & (1u << 24)) && arch_cycles_hz();
    if (!plat_timer && !tsc_deadline)
        calibrate_count_mode();
    apic_init_cpu();
    pr_info("apic: local APIC id %u at %#llx, timer: %s\n", apic_id(),
            (unsigned long long)(base & ~0xfffULL),
            plat_timer ? plat_timer->name :
            tsc_deadline ? "TSC-deadline mode" : "one-shot count mode");
}

/* Fire the timer interrupt at (or soon after) the absolute time ns. */
void arch_timer_arm(uint64_t deadline_ns)
{
    if (plat_timer) {
        plat_timer->arm(deadline_ns);
        return;
    }
    uint64_t now = arch_time_ns();
    uint64_t hz = arch_cycles_hz();
    if (tsc_deadline) {
        uint64_t delta = deadline_ns > now ? deadline_ns - now : 0;
        uint64_t cycles = delta / 1000 * hz / 1000000 + delta % 1000 * hz / 1000000000;
        wrmsr(MSR_TSC_DEADLINE, arch_cycles() + (cycles ? cycles : 1));
        return;
    }
    uint64_t delta_us = deadline_ns > now ? (deadline_ns - now) / 1000 : 0;
    uint64_t ticks = delta_us * apic_ticks_per_ms / 1000;
    if (ticks == 0)
        ticks = 1;
    if (ticks > 0xffffffff)
        ticks = 0xffffffff;
    apic_write(APIC_TIMER_INIT, (uint32_t)ticks);
}

void arch_timer_disarm(void)
{
    if (plat_timer)
        plat_timer->disarm();
    else if (tsc_deadline)
        wrmsr(MSR_TSC_DEADLINE, 0);
    else
        apic_write(APIC_TIMER_INIT, 0);
}

void apic_send_ipi(uint32_t dest_apic_id, uint32_t icr_lo)
{
    /* Two register writes make one IPI: an interrupt in between whose
     * handler sends its own IPI would redirect ours. */
    unsigned long flags = arch_irq_save();
    apic_write(APIC_ICR_HI, dest_apic_id << 24);
    apic_write(APIC_ICR_LO, icr_lo);
    while (apic_read(APIC_ICR_LO) & (1u << 12))     /* delivery pending */
        arch_cpu_relax();
    arch_irq_restore(flags);
}
