/*
 * printk: the kernel log. Each line gets a "[seconds.micros]" stamp (time
 * since kernel entry) and goes to every registered console. Lines are
 * formatted into a local buffer first so a line is written in one piece.
 */
#include <kern/arch.h>
#include <kern/console.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/spinlock.h>
#include <kern/string.h>

static struct console *consoles;
static int log_level = LOG_DEFAULT;
static spinlock_t console_lock = SPINLOCK_INIT;
/* False while app output has left a line unfinished: the kernel's next
 * line (and the final tern-exit line) then starts on a new one. */
static bool at_line_start = true;

void console_register(struct console *con)
{
    con->next = consoles;
    consoles = con;
}

void console_write(const char *buf, size_t len)
{
    for (struct console *c = consoles; c; c = c->next)
        c->write(c, buf, len);
}

void console_put_crlf(const char *buf, size_t len, void (*put)(char c))
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n')
            put('\r');
        put(buf[i]);
    }
}

void printk_set_level(int level)
{
    log_level = level;
}

int printk_get_level(void)
{
    return log_level;
}

void vprintk(enum log_level level, const char *fmt, va_list ap)
{
    char line[512];
    int n;

    if ((int)level > log_level)
        return;
    uint64_t ns = arch_time_ns();
    n = snprintf(line, sizeof(line), "[%5llu.%06llu] ",
                 (unsigned long long)(ns / 1000000000),
                 (unsigned long long)(ns / 1000 % 1000000));
    int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    size_t len = (size_t)n + (size_t)m;
    if (len >= sizeof(line)) {          /* truncated: still end the line */
        len = sizeof(line) - 1;
        line[len - 1] = '\n';
    }
    unsigned long flags = spin_lock_irqsave(&console_lock);
    if (!at_line_start)
        console_write("\n", 1);
    at_line_start = true;
    console_write(line, len);
    spin_unlock_irqrestore(&console_lock, flags);
}

void console_output(const char *buf, size_t len)
{
    if (!len)
        return;
    unsigned long flags = spin_lock_irqsave(&console_lock);
    console_write(buf, len);
    at_line_start = buf[len - 1] == '\n';
    spin_unlock_irqrestore(&console_lock, flags);
}

void console_write_record(const char *buf, size_t len)
{
    unsigned long flags = spin_lock_irqsave(&console_lock);
    console_write(buf, len);
    spin_unlock_irqrestore(&console_lock, flags);
}

void console_end_line(void)
{
    unsigned long flags = spin_lock_irqsave(&console_lock);
    if (!at_line_start)
        console_write("\n", 1);
    at_line_start = true;
    spin_unlock_irqrestore(&console_lock, flags);
}

void printk(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(level, fmt, ap);
    va_end(ap);
}

void console_printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(buf))
        n = sizeof(buf) - 1;
    unsigned long flags = spin_lock_irqsave(&console_lock);
    if (!at_line_start)
        console_write("\n", 1);
    console_write(buf, (size_t)n);
    at_line_start = n > 0 && buf[n - 1] == '\n';
    spin_unlock_irqrestore(&console_lock, flags);
}
