/* libfdt_env.h's <stdlib.h>: libfdt's overlay code calls strtoul; the
 * kernel links only fdt.o and fdt_ro.o, which do not. Nothing else. */
