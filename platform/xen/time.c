/*
 * Time on Xen (kern/plat_time.h): the PV clock and the PV timer.
 *
 * Xen keeps, per vCPU in shared_info, a snapshot (TSC, system time) and
 * the TSC-to-ns scale (tsc_to_system_mul, tsc_shift); system time is ns
 * since the domain started. The TSC's rate follows from the scale; the
 * wall clock is shared_info's wc_sec/wc_nsec (the wall time at system time
 * 0) plus system time. All vCPUs read vCPU 0's record: Xen keeps the
 * guest TSC consistent across vCPUs, and this works before per-CPU data.
 *
 * The per-CPU one-shot timer is Xen's (VCPUOP_set_singleshot_timer, for
 * the calling vCPU only); it expires as a VIRQ_TIMER event, bound per vCPU
 * to a port whose handler is the kernel's timer_interrupt. The arch routes
 * arch_timer_arm/disarm here (platform_timer) and keeps the local APIC's
 * timer masked.
 */
#include <arch/barrier.h>
#include <arch/cpu.h>
#include <kern/arch.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include <kern/timer.h>
#include "xen.h"

#define NS_PER_SEC 1000000000ULL

struct pvclock {
    uint64_t tsc, system_ns;
    uint32_t mul;
    int8_t shift;
};

static void pvclock_read(struct pvclock *c)
{
    volatile struct vcpu_time_info *t = &xen_vcpu_info(0)->time;
    uint32_t v;
    do {
        v = t->version;             /* odd while Xen updates it */
        rmb();
        c->tsc = t->tsc_timestamp;
        c->system_ns = t->system_time;
        c->mul = t->tsc_to_system_mul;
        c->shift = t->tsc_shift;
        rmb();
    } while ((v & 1) || v != t->version);
}

uint64_t xen_system_time_ns(void)
{
    struct pvclock c;
    pvclock_read(&c);
    uint64_t d = rdtsc() - c.tsc;
    d = c.shift >= 0 ? d << c.shift : d >> -c.shift;
    return c.system_ns + (uint64_t)(((unsigned __int128)d * c.mul) >> 32);
}

uint64_t platform_cycles_hz(const char **how)
{
    struct pvclock c;
    pvclock_read(&c);
    if (!c.mul) {
        *how = "Xen's PV clock has no TSC scale";
        return 0;
    }
    /* ns = (tsc << shift) * mul / 2^32, so Hz = 10^9 * 2^32 / (mul << shift). */
    unsigned __int128 hz = ((unsigned __int128)NS_PER_SEC << 32) / c.mul;
    hz = c.shift >= 0 ? hz >> c.shift : hz << -c.shift;
    *how = "from Xen's PV clock";
    return (uint64_t)hz;
}

uint64_t platform_wallclock_ns(const char **source)
{
    volatile struct shared_info *s = xen_shared;
    uint32_t v, sec, nsec, sec_hi;
    do {
        v = s->wc_version;
        rmb();
        sec = s->wc_sec;
        nsec = s->wc_nsec;
        sec_hi = s->wc_sec_hi;
        rmb();
    } while ((v & 1) || v != s->wc_version);
    *source = "Xen's shared_info wall clock";
    return (((uint64_t)sec_hi << 32) | sec) * NS_PER_SEC + nsec + xen_system_time_ns();
}

/* --- the PV one-shot timer ------------------------------------------------ */

static void timer_event(void *arg)
{
    timer_interrupt();
}

static void xen_timer_init_cpu(void)
{
    /* The timer is the first event a CPU takes: its upcall vector first. */
    xen_evtchn_init_cpu();
    uint32_t vcpu = xen_vcpu_id_of(this_cpu()->id);
    /* Some Xens give a vCPU a periodic tick by default; ours is tickless. */
    HYPERCALL3(vcpu_op, VCPUOP_stop_periodic_timer, vcpu, 0);
    int port = xen_evtchn_bind_virq(VIRQ_TIMER, timer_event, NULL, "timer");
    if (port < 0)
        panic("xen: binding VIRQ_TIMER on vCPU %u failed (%d)", vcpu, port);
    pr_info("xen: vCPU %u: timer on event channel %d\n", vcpu, port);
}

static void xen_timer_arm(uint64_t deadline_ns)
{
    uint64_t now = arch_time_ns();
    uint64_t delta = deadline_ns > now ? deadline_ns - now : 0;
    /* Flags 0: a time already past fires at once instead of failing. */
    struct vcpu_set_singleshot_timer t = {
        .timeout_abs_ns = xen_system_time_ns() + delta,
        .flags = 0,
    };
    long rc = HYPERCALL3(vcpu_op, VCPUOP_set_singleshot_timer, xen_vcpu_id_of(this_cpu()->id), &t);
    if (rc)
        panic("xen: VCPUOP_set_singleshot_timer failed (%ld)", rc);
}

static void xen_timer_disarm(void)
{
    HYPERCALL3(vcpu_op, VCPUOP_stop_singleshot_timer, xen_vcpu_id_of(this_cpu()->id), 0);
}

static const struct platform_timer xen_timer = {
    .name = "Xen single-shot timer (VIRQ_TIMER events)",
    .init_cpu = xen_timer_init_cpu,
    .arm = xen_timer_arm,
    .disarm = xen_timer_disarm,
};

const struct platform_timer *platform_timer(void)
{
    return &xen_timer;
}
