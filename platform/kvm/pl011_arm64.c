/*
 * The PL011 UART of QEMU's virt board, polled, output only: the console.
 * Its address comes from the device tree, so this is also where the
 * board's table is read (dt_parse), the first thing the platform does.
 */
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/boot.h>
#include <kern/console.h>
#include "dt.h"
#include "kvm.h"

#define UARTDR      0x00
#define UARTFR      0x18
#define UARTIBRD    0x24
#define UARTFBRD    0x28
#define UARTLCR_H   0x2c
#define UARTCR      0x30
#define UARTIMSC    0x38
#define FR_TXFF     (1u << 5)       /* transmit FIFO full */
#define LCR_FEN     (1u << 4)
#define LCR_WLEN8   (3u << 5)
#define CR_UARTEN   (1u << 0)
#define CR_TXE      (1u << 8)
#define CR_RXE      (1u << 9)

static volatile uint32_t *uart;

static inline uint32_t rd(unsigned off) { return uart[off / 4]; }
static inline void wr(unsigned off, uint32_t v) { uart[off / 4] = v; }

static void uart_putc(char c)
{
    /* Bounded wait: a wedged UART must not hang the kernel. */
    for (int i = 0; i < 100000 && (rd(UARTFR) & FR_TXFF); i++)
        ;
    wr(UARTDR, (uint8_t)c);
}

static void uart_write(struct console *con, const char *buf, size_t len)
{
    console_put_crlf(buf, len, uart_putc);
}

static struct console uart_console = { .name = "ttyAMA0", .write = uart_write };

void kvm_console_init(void)
{
    /* A tree that does not parse leaves the table empty: no console, and
     * the arch's own check of the tree (arch_early_init) panics later,
     * which still reaches the status line through panic's raw output. */
    if (boot_info.fdt)
        dt_parse(phys_to_virt(boot_info.fdt));
    if (!dt.pl011_base)
        return;
    uart = ioremap(dt.pl011_base, 0x1000);
    /* QEMU's PL011 needs no baud rate; keep what firmware set, but make
     * sure the transmitter runs with FIFOs, 8N1, no interrupts. */
    wr(UARTIMSC, 0);
    wr(UARTLCR_H, LCR_FEN | LCR_WLEN8);
    wr(UARTCR, CR_UARTEN | CR_TXE | CR_RXE);
    console_register(&uart_console);
}
