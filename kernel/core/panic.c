/*
 * The two ways the kernel ends: kernel_exit (clean, with a status) and
 * panic (a bug: message, backtrace, EXIT_PANIC).
 *
 * The last console line is always "tern-exit: status=N". Launchers (tern
 * run, the tests) read the status from it, because not every hypervisor can
 * pass a full exit status out of the VM.
 */
#include <kern/arch.h>
#include <kern/backtrace.h>
#include <kern/panic.h>
#include <kern/platform.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/profile.h>

void kernel_exit(int status)
{
    static int exiting;

    /* A fault on the way out (in a power-off method) lands here again: the
     * status line is already out, so just go on to the next method. */
    if (exiting++)
        platform_exit(status);
    if (status != EXIT_PANIC)
        profile_report();               /* a panic's state is not to be trusted */
    console_printf("tern-exit: status=%d\n", status);
    platform_exit(status);
}

void panic(const char *fmt, ...)
{
    static int panicking;
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* A panic while panicking (say, the backtrace faults) must not loop. */
    if (panicking++) {
        console_printf("nested panic: %s\n", msg);
        kernel_exit(EXIT_PANIC);
    }
    pr_emerg("KERNEL PANIC: %s\n", msg);
    backtrace_here();
    kernel_exit(EXIT_PANIC);
}
