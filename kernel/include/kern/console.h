/* Console drivers: where kernel text goes. A platform registers one or more
 * (16550 UART under QEMU, the Xen PV console under Xen); printk writes every
 * line to all of them. */
#ifndef KERN_CONSOLE_H
#define KERN_CONSOLE_H

#include <kern/types.h>

struct console {
    const char *name;
    /* Write len bytes; "\n" is passed as is, drivers add "\r" if needed. */
    void (*write)(struct console *con, const char *buf, size_t len);
    struct console *next;
};

void console_register(struct console *con);
void console_write(const char *buf, size_t len);

#endif
