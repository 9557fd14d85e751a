/*
 * Event channels, 2-level ABI (kern/plat_irq.h): a port is the platform's
 * interrupt number. Xen sets the port's bit in shared_info's
 * evtchn_pending, its word's bit in the bound vCPU's evtchn_pending_sel,
 * and that vCPU's evtchn_upcall_pending; on the last one's 0 -> 1 step it
 * raises the vCPU's upcall vector (HVMOP_set_evtchn_upcall_vector) through
 * the emulated local APIC. The vector enters through the arch's common
 * trap entry like any device interrupt (all registers and the vector
 * state saved: docs/abi-contract.md), which calls platform_irq_dispatch
 * and acknowledges the APIC after.
 *
 * Ports are bound by the hypervisor's choice (bind_virq, bind_ipi,
 * interdomain), so handlers take the port Xen returned (irq_register), and
 * irq_alloc has nothing to hand out here. Every port is masked at boot and
 * unmasked when bound; each vCPU serves only the ports bound to it.
 */
#include <arch/irq.h>
#include <kern/errno.h>
#include <kern/irq.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include "xen.h"
#include <xen/errno.h>

/* The vector Xen raises for events: the first the arch leaves to devices
 * (nothing else on Xen uses that range). */
#define UPCALL_VECTOR ARCH_FIRST_DEVICE_VECTOR

#define BITS_PER_WORD (8 * sizeof(xen_ulong_t))
#define NO_CPU 0xff

static uint8_t port_cpu[IRQ_NR];        /* the CPU a port is bound to */
uint32_t xen_vcpu_of[MAX_CPUS];

void platform_irq_range(unsigned *first, unsigned *last)
{
    /* Empty: ports come from binding (xen_evtchn_bind), not irq_alloc. */
    *first = 1;
    *last = 0;
}

void irq_msi_message(int irq, unsigned cpu, uint64_t *address, uint32_t *data)
{
    panic("xen: no MSI devices on this platform (interrupt %d)", irq);
}

void xen_evtchn_init(void)
{
    for (unsigned w = 0; w < ARRAY_SIZE(xen_shared->evtchn_mask); w++)
        __atomic_store_n(&xen_shared->evtchn_mask[w], ~(xen_ulong_t)0, __ATOMIC_RELAXED);
    for (unsigned p = 0; p < IRQ_NR; p++)
        port_cpu[p] = NO_CPU;
}

void xen_evtchn_init_cpu(void)
{
    uint32_t vcpu = xen_vcpu_id();
    xen_vcpu_of[this_cpu()->id] = vcpu;
    struct xen_hvm_evtchn_upcall_vector uv = { .vcpu = vcpu, .vector = UPCALL_VECTOR };
    long rc = HYPERCALL2(hvm_op, HVMOP_set_evtchn_upcall_vector, &uv);
    if (rc)
        panic("xen: HVMOP_set_evtchn_upcall_vector(vCPU %u, vector %#x) failed (%ld)",
              vcpu, UPCALL_VECTOR, rc);
    __atomic_store_n(&xen_vcpu_info(vcpu)->evtchn_upcall_mask, 0, __ATOMIC_RELEASE);
}

int xen_evtchn_bind(uint32_t port, void (*handler)(void *), void *arg, const char *name)
{
    if (port >= IRQ_NR)
        return -1;
    port_cpu[port] = (uint8_t)this_cpu()->id;
    return irq_register(port, IRQ_EDGE, handler, arg, name) < 0 ? -1 : 0;
}

/* irq_register's last step: the port's handler is in place, so its
 * events may come (an event is an edge: trigger does not apply). */
int platform_irq_enable(unsigned irq, unsigned trigger)
{
    (void)trigger;
    struct evtchn_unmask u = { .port = irq };
    return HYPERCALL2(event_channel_op, EVTCHNOP_unmask, &u) ? -EINVAL : 0;
}

int xen_evtchn_bind_virq(uint32_t virq, void (*handler)(void *), void *arg, const char *name)
{
    struct evtchn_bind_virq b = { .virq = virq, .vcpu = xen_vcpu_id_of(this_cpu()->id) };
    long rc = HYPERCALL2(event_channel_op, EVTCHNOP_bind_virq, &b);
    if (rc)
        return (int)rc;
    if (xen_evtchn_bind(b.port, handler, arg, name) < 0)
        return -1;
    return (int)b.port;
}

void xen_evtchn_notify(uint32_t port)
{
    struct evtchn_send s = { .port = port };
    HYPERCALL2(event_channel_op, EVTCHNOP_send, &s);
}

/* The upcall: clear the vCPU's flag first (an event after that raises the
 * vector again), take the words its selector names, and run each pending,
 * unmasked port of ours, clearing its bit before the handler so an event
 * during the handler is not lost. One pass only: an event raised meanwhile
 * comes back as a new upcall after this one's EOI and return, so the
 * scheduler gets its turn in between (a timer armed in the past by the
 * handler itself fires at once; looping here on it would never let the
 * preemption it asks for happen). */
bool platform_irq_dispatch(unsigned n)
{
    static bool reported[IRQ_NR];

    if (n != UPCALL_VECTOR)
        return false;
    unsigned cpu = this_cpu()->id;
    struct vcpu_info *vi = xen_vcpu_info(xen_vcpu_id_of(cpu));
    struct shared_info *s = xen_shared;
    __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    xen_ulong_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_ACQ_REL);
    while (sel) {
        unsigned w = (unsigned)__builtin_ctzl(sel);
        sel &= sel - 1;
        xen_ulong_t pend = __atomic_load_n(&s->evtchn_pending[w], __ATOMIC_ACQUIRE) &
                           ~__atomic_load_n(&s->evtchn_mask[w], __ATOMIC_ACQUIRE);
        while (pend) {
            unsigned b = (unsigned)__builtin_ctzl(pend);
            pend &= pend - 1;
            unsigned port = w * BITS_PER_WORD + b;
            if (port < IRQ_NR && port_cpu[port] != cpu)
                continue;       /* another vCPU's: its own upcall runs it */
            __atomic_fetch_and(&s->evtchn_pending[w], ~((xen_ulong_t)1 << b),
                               __ATOMIC_ACQ_REL);
            if (port < IRQ_NR && irq_handle(port))
                continue;
            if (port >= IRQ_NR || !reported[port]) {
                if (port < IRQ_NR)
                    reported[port] = true;
                pr_warn("xen: event on unbound port %u (ignored)\n", port);
            }
        }
    }
    return true;
}

int evtchn_alloc_unbound(uint16_t remote_dom)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = remote_dom };
    long rc = HYPERCALL2(event_channel_op, EVTCHNOP_alloc_unbound, &a);
    if (rc)
        return rc == -XEN_ENOSPC ? -ENOSPC : -EINVAL;
    return (int)a.port;
}

void evtchn_notify(int port)
{
    xen_evtchn_notify((uint32_t)port);
}

void evtchn_close(int port)
{
    struct evtchn_close c = { .port = (uint32_t)port };
    HYPERCALL2(event_channel_op, EVTCHNOP_close, &c);
}
