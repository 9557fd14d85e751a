/* Formatted output into buffers (kernel/lib/vsnprintf.c). Supports the C
 * conversions d i u o x X c s p %, flags "-+ #0", width and precision (also
 * as '*'), and the length modifiers hh h l ll z t j. %p prints 0x-prefixed
 * hex. Floating point is not supported (kernel C is general-regs-only). */
#ifndef KERN_PRINTF_H
#define KERN_PRINTF_H

#include <kern/types.h>

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) __printf(3, 0);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
