/* Interfaces inside platform/xen (Xen PVH on x86_64). The hypervisor's
 * structures and numbers come from Debian's libxen-dev headers, included
 * here at the interface version this code is written against. */
#ifndef PLATFORM_XEN_H
#define PLATFORM_XEN_H

/* Without it the headers fall back to the pre-3.2 hypercall numbers. */
#define __XEN_INTERFACE_VERSION__ 0x00040e00

#include <arch/barrier.h>
#include <kern/types.h>
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

/* The barriers xen/io/ring.h's macros use (the headers leave them to the
 * guest from interface 0x00030208 on). */
#define xen_mb()  mb()
#define xen_rmb() rmb()
#define xen_wmb() wmb()

/* hypercall_x86.S: call hypercall op with up to five arguments; Xen's
 * return value (negative: -errno in Xen's numbering, xen/errno.h). */
long xen_hypercall(unsigned op, unsigned long a1, unsigned long a2,
                   unsigned long a3, unsigned long a4, unsigned long a5);

#define HYPERCALL2(op, a1, a2) \
    xen_hypercall(__HYPERVISOR_##op, (unsigned long)(a1), (unsigned long)(a2), 0, 0, 0)
#define HYPERCALL3(op, a1, a2, a3) \
    xen_hypercall(__HYPERVISOR_##op, (unsigned long)(a1), (unsigned long)(a2), \
                  (unsigned long)(a3), 0, 0)

/* hypervisor_x86.c: find Xen (stops the boot with a clear message when
 * it is not there), install the hypercall page, map shared_info. */
void xen_hypervisor_init(void);
extern struct shared_info *xen_shared;
/* This CPU's vCPU number (CPUID's Xen leaf: a VM exit), and its
 * vcpu_info; xen_vcpu_of[cpu index] remembers it (xen_evtchn_init_cpu). */
uint32_t xen_vcpu_id(void);
extern uint32_t xen_vcpu_of[];
#define xen_vcpu_id_of(cpu) (xen_vcpu_of[(cpu)])
struct vcpu_info *xen_vcpu_info(uint32_t vcpu);
/* An HVM parameter (HVM_PARAM_*), or false when Xen refuses it. */
bool xen_hvm_param(unsigned index, uint64_t *value);
/* The "XenVMMXenVMM" CPUID leaf base, for the leaves after it. */
extern uint32_t xen_cpuid_base;

/* console.c: port 0xe9 (Xen's log) at once, the PV console ring once
 * xen_console_ring_init found it. */
void xen_console_init(void);
void xen_console_ring_init(void);
/* Wait (bounded) until the console daemon has read everything written. */
void xen_console_flush(void);

/* time.c: Xen system time (ns since the domain's start) from the PV clock. */
uint64_t xen_system_time_ns(void);

/* evtchn.c: 2-level event channels. */
void xen_evtchn_init(void);
/* Take this CPU's upcalls on the platform's vector (per vCPU). */
void xen_evtchn_init_cpu(void);
/* Route port's events to handler on this CPU (irq_register) and unmask it. */
int xen_evtchn_bind(uint32_t port, void (*handler)(void *), void *arg, const char *name);
/* Bind virq on this CPU's vCPU to a new port with handler; the port or a
 * negative Xen error. */
int xen_evtchn_bind_virq(uint32_t virq, void (*handler)(void *), void *arg, const char *name);
void xen_evtchn_notify(uint32_t port);
/* A new port for an interdomain channel whose other end domain remote_dom
 * binds (a device's backend): the port or a negative errno. Attach it with
 * xen_evtchn_bind (or irq_register) as the console's is. */
int evtchn_alloc_unbound(uint16_t remote_dom);
/* Signal the other end of port (EVTCHNOP_send). */
void evtchn_notify(int port);
/* Close a port we allocated (its handler must be gone first). */
void evtchn_close(int port);

#endif
