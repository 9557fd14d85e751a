/* Kernel heap: power-of-two size classes carved from page-sized slabs, and
 * whole buddy blocks for large requests. Every object carries a header with
 * a magic word, so kfree of a non-heap pointer or a freed one is caught.
 * Debug builds (TERN_DEBUG) also keep a red zone after each object (checked
 * on free: overflow detection) and poison freed memory. */
#ifndef KERN_KMALLOC_H
#define KERN_KMALLOC_H

#include <kern/types.h>

#define KMALLOC_ALIGN 16

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void *krealloc(void *p, size_t size);
void kfree(void *p);
/* The usable size of an allocation (>= the size asked for). */
size_t kmalloc_usable_size(const void *p);

struct kmalloc_stats {
    uint64_t allocs, frees, failures;
    uint64_t bytes_in_use;          /* sizes asked for, live objects */
    uint64_t slab_pages;            /* pages held by slabs */
    uint64_t large_pages;           /* pages held by large objects */
};
void kmalloc_stats(struct kmalloc_stats *st);
void kmalloc_print_stats(void);

/* Check every live object's header and (debug) red zone; panics on the
 * first damage found. Returns the number of live objects checked. */
size_t kmalloc_check_all(void);

#endif
