/* Kernel log: printk with syslog-style levels, each line stamped with the
 * time since kernel entry. Lines above the current level (cmdline
 * loglevel=N) are not printed. */
#ifndef KERN_PRINTK_H
#define KERN_PRINTK_H

#include <kern/types.h>

enum log_level {
    LOG_EMERG = 0, LOG_ALERT, LOG_CRIT, LOG_ERR,
    LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG,
};

#define LOG_DEFAULT LOG_INFO

void printk(enum log_level level, const char *fmt, ...) __printf(2, 3);
void vprintk(enum log_level level, const char *fmt, va_list ap) __printf(2, 0);

/* Write text to the consoles as is: no timestamp, no level filter. Used for
 * the machine-readable exit line and for multi-part dumps. */
void console_printf(const char *fmt, ...) __printf(1, 2);

void printk_set_level(int level);
int printk_get_level(void);

#define pr_emerg(...)  printk(LOG_EMERG, __VA_ARGS__)
#define pr_err(...)    printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)   printk(LOG_WARNING, __VA_ARGS__)
#define pr_notice(...) printk(LOG_NOTICE, __VA_ARGS__)
#define pr_info(...)   printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)  printk(LOG_DEBUG, __VA_ARGS__)

#endif
