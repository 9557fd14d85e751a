/*
 * 16550 UART console on COM1 (I/O port 0x3f8), polled. QEMU connects it to
 * -serial; libvirt to <serial>. Output only for now.
 */
#include <arch/io.h>
#include <kern/console.h>
#include "kvm.h"

#define COM1      0x3f8
#define THR       0     /* transmit holding (DLAB=0) */
#define DLL       0     /* divisor low (DLAB=1) */
#define IER       1
#define DLM       1
#define FCR       2
#define LCR       3
#define MCR       4
#define LSR       5
#define SCR       7
#define LSR_THRE  0x20

static bool uart_present(void)
{
    /* The scratch register reads back what was written only if a UART is
     * there; on Xen PVH (no emulated devices) it reads 0xff. */
    outb(COM1 + SCR, 0x5a);
    if (inb(COM1 + SCR) != 0x5a)
        return false;
    outb(COM1 + SCR, 0xa5);
    return inb(COM1 + SCR) == 0xa5;
}

static void uart_putc(char c)
{
    /* Bounded wait: a wedged UART must not hang the kernel. */
    for (int i = 0; i < 100000 && !(inb(COM1 + LSR) & LSR_THRE); i++)
        ;
    outb(COM1 + THR, (uint8_t)c);
}

static void uart_write(struct console *con, const char *buf, size_t len)
{
    console_put_crlf(buf, len, uart_putc);
}

static struct console uart_console = { .name = "ttyS0", .write = uart_write };

void kvm_console_init(void)
{
    if (!uart_present())
        return;
    outb(COM1 + IER, 0x00);     /* no interrupts */
    outb(COM1 + LCR, 0x80);     /* DLAB on */
    outb(COM1 + DLL, 0x01);     /* 115200 baud */
    outb(COM1 + DLM, 0x00);
    outb(COM1 + LCR, 0x03);     /* 8N1, DLAB off */
    outb(COM1 + FCR, 0xc7);     /* FIFOs on and cleared */
    outb(COM1 + MCR, 0x03);     /* DTR, RTS */
    console_register(&uart_console);
}
