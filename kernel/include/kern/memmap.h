/* The physical memory map as the kernel uses it: the loader's regions, minus
 * what is reserved (kernel image, boot data, modules), plus an early
 * allocator for page tables before the page allocator exists. */
#ifndef KERN_MEMMAP_H
#define KERN_MEMMAP_H

#include <kern/boot.h>

void memmap_init(void);
void memmap_reserve(paddr_t start, paddr_t end, const char *why);

/* Allocate zeroed pages below limit before page_alloc_init. Panics when
 * none is left. */
paddr_t memmap_alloc_early(size_t bytes, paddr_t limit);

/* The free RAM left over, for page_alloc_init. */
unsigned memmap_free_regions(struct mem_region *out, unsigned max);

void memmap_print(void);

#endif
