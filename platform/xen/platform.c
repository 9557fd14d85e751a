/*
 * The Xen platform (x86_64 PVH domU): the entry the kernel calls
 * (kern/platform.h). Xen is found and the hypercall page installed before
 * anything is printed; the consoles follow at once.
 */
#include <kern/arch.h>
#include <kern/panic.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include "gnttab.h"
#include "xen.h"
#include "xenbus.h"
#include "xenstore.h"

const char *const platform_name = "xen";

void platform_early_init(void)
{
    xen_hypervisor_init();
    xen_console_init();
    xen_evtchn_init();
    xen_console_ring_init();
}

/* Grant tables, then xenstore, then the devices xenbus finds (blkfront
 * registers its disk here, before the VFS looks for the root). */
void platform_late_init(void)
{
    int err = gnttab_init();
    if (err)
        pr_err("xen: no grant table (%d): no PV devices\n", err);
    else if ((err = xs_init()) != 0)
        pr_err("xen: no xenstore (%d): no PV devices\n", err);
    else
        xenbus_probe_all();
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
