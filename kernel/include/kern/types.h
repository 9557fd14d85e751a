/* Basic types and helper macros shared by all kernel code (and by the host
 * unit tests, which compile some kernel files for the host). */
#ifndef KERN_TYPES_H
#define KERN_TYPES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t;   /* a physical address */

#define ARRAY_SIZE(a)      (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)     (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a)   ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a)   (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define MIN(a, b)          ((a) < (b) ? (a) : (b))
#define MAX(a, b)          ((a) > (b) ? (a) : (b))
#define KiB                (1024ULL)
#define MiB                (1024ULL * KiB)
#define GiB                (1024ULL * MiB)

#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

#define likely(x)          __builtin_expect(!!(x), 1)
#define unlikely(x)        __builtin_expect(!!(x), 0)
#define __noreturn         __attribute__((noreturn))
#define __printf(a, b)     __attribute__((format(printf, a, b)))
#define __aligned(n)       __attribute__((aligned(n)))
#define __section(s)       __attribute__((section(s)))
#define __used             __attribute__((used))

#endif
