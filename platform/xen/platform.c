/*
 * The Xen platform (x86_64 PVH domU): the entry the kernel calls
 * (kern/platform.h). Xen is found and the hypercall page installed before
 * anything is printed; the consoles follow at once.
 */
#include <kern/arch.h>
#include <kern/panic.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include "xen.h"

const char *const platform_name = "xen";

void platform_early_init(void)
{
    xen_hypervisor_init();
    xen_console_init();
    xen_evtchn_init();
    xen_console_ring_init();
}

void platform_late_init(void)
{
    /* xenbus, netfront and blkfront are next; the root comes from the PVH
     * module (initrd) until then. */
}

/* The status travels on the console's tern-exit line (kernel_exit): xl's
 * shutdown reasons cannot carry it. A panic is a crash (xl's on_crash
 * applies), every status an app or ktest returns a power-off. */
void platform_exit(int status)
{
    xen_console_flush();
    struct sched_shutdown s = {
        .reason = status == EXIT_PANIC ? SHUTDOWN_crash : SHUTDOWN_poweroff,
    };
    HYPERCALL2(sched_op, SCHEDOP_shutdown, &s);
    arch_halt();
}
