/* Ending the kernel: a clean exit with a status, or a panic. */
#ifndef KERN_PANIC_H
#define KERN_PANIC_H

#include <kern/types.h>

/* Exit statuses the kernel itself produces (apps produce their own). */
#define EXIT_OK          0
#define EXIT_USAGE      64   /* bad kernel command line (sysexits EX_USAGE) */
#define EXIT_PANIC      70   /* kernel panic or fatal exception (EX_SOFTWARE) */

/* Print the final machine-readable line "tern-exit: status=N" and power the
 * machine off through the platform. Never returns. */
void kernel_exit(int status) __noreturn;

/* Print the message, a backtrace of the caller, and exit with EXIT_PANIC. */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;

#define BUG_ON(cond) do { \
        if (unlikely(cond)) \
            panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__); \
    } while (0)

#endif
