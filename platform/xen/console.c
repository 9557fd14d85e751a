/*
 * Consoles under Xen:
 *  - port 0xe9, which Xen's HVM emulation prints in its own log as
 *    "(dN) ..." (with guest_loglvl=all): synchronous, works from the first
 *    instruction, so it carries the boot until the ring exists and any
 *    panic after;
 *  - the PV console ring (HVM_PARAM_CONSOLE_PFN/EVTCHN, io/console.h),
 *    which xenconsoled copies to `xl console` and its logs: the console a
 *    user and `tern run` read.
 * The ring's page lies outside RAM in the PVH memory map, so it is reached
 * through phys_map (the boot direct map before paging, a mapping made on
 * demand after). The ring never blocks the kernel for long: when the
 * daemon does not drain it, output to the ring is dropped after a bounded
 * wait (0xe9 still has it) and resumes once the daemon catches up.
 */
#include <arch/barrier.h>
#include <arch/io.h>
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/console.h>
#include "xen.h"
#include <xen/io/console.h>

#define DEBUGCON_PORT 0xe9
#define RING_WAIT_NS  (1000ULL * 1000 * 1000)

static paddr_t ring_pa;
static uint32_t ring_port;
static bool ring_stalled;

static void debugcon_write(struct console *con, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        outb(DEBUGCON_PORT, (uint8_t)buf[i]);
}

static struct console debugcon = { .name = "xen-0xe9", .write = debugcon_write };

static struct xencons_interface *ring(void)
{
    return ring_pa ? phys_map(ring_pa, PAGE_SIZE) : NULL;
}

/* Wait until the daemon has room for one more byte (or has read
 * everything, if all), at most RING_WAIT_NS; false on timeout. */
static bool ring_wait(struct xencons_interface *r, XENCONS_RING_IDX prod, bool all)
{
    uint64_t start = xen_system_time_ns();
    for (;;) {
        XENCONS_RING_IDX cons = __atomic_load_n(&r->out_cons, __ATOMIC_ACQUIRE);
        if (all ? cons == prod : prod - cons < sizeof(r->out))
            return true;
        if (xen_system_time_ns() - start > RING_WAIT_NS)
            return false;
        HYPERCALL2(sched_op, SCHEDOP_yield, 0);
    }
}

static void ring_publish(struct xencons_interface *r, XENCONS_RING_IDX prod)
{
    wmb();                      /* the bytes before the index */
    __atomic_store_n(&r->out_prod, prod, __ATOMIC_RELEASE);
    xen_evtchn_notify(ring_port);
}

static void ring_write(struct console *con, const char *buf, size_t len)
{
    struct xencons_interface *r = ring();
    if (!r)
        return;
    XENCONS_RING_IDX prod = r->out_prod;
    if (ring_stalled) {
        if (prod - __atomic_load_n(&r->out_cons, __ATOMIC_ACQUIRE) >= sizeof(r->out))
            return;
        ring_stalled = false;
    }
    for (size_t i = 0; i < len; i++) {
        /* A terminal (xl console) wants CR LF, like the UART gets. */
        for (int k = buf[i] == '\n' ? 0 : 1; k < 2; k++) {
            if (prod - __atomic_load_n(&r->out_cons, __ATOMIC_ACQUIRE) >= sizeof(r->out)) {
                ring_publish(r, prod);
                if (!ring_wait(r, prod, false)) {
                    ring_stalled = true;
                    return;
                }
            }
            r->out[MASK_XENCONS_IDX(prod++, r->out)] = k == 0 ? '\r' : buf[i];
        }
    }
    ring_publish(r, prod);
}

static struct console ring_console = { .name = "xen-pv-console", .write = ring_write };

void xen_console_init(void)
{
    console_register(&debugcon);
}

void xen_console_ring_init(void)
{
    uint64_t pfn, port;
    if (!xen_hvm_param(HVM_PARAM_CONSOLE_PFN, &pfn) || !pfn ||
        !xen_hvm_param(HVM_PARAM_CONSOLE_EVTCHN, &port))
        return;             /* no console daemon for this domain: 0xe9 only */
    ring_pa = pfn << PAGE_SHIFT;
    ring_port = (uint32_t)port;
    if (ring())
        console_register(&ring_console);
    else
        ring_pa = 0;
}

void xen_console_flush(void)
{
    struct xencons_interface *r = ring();
    if (r && !ring_stalled)
        ring_wait(r, r->out_prod, true);
}
