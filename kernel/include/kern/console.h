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
/* For a driver whose terminal wants "\r\n" (a UART): buf through put, one
 * character at a time, with a "\r" before each "\n". */
void console_put_crlf(const char *buf, size_t len, void (*put)(char c));
void console_write(const char *buf, size_t len);
/* Program output (the app's stdout/stderr), serialized with printk's
 * lines; buf must be kernel memory. */
void console_output(const char *buf, size_t len);
/* End a line the app left unfinished, before the kernel writes its own. */
void console_end_line(void);
/* A record of the app's output (kern/stdio_frame.h) to every console in
 * one piece, between the kernel's lines: it is not text, so it leaves the
 * line the kernel is on as it was. buf must be kernel memory. */
void console_write_record(const char *buf, size_t len);

#endif
