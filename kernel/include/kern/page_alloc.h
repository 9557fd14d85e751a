/* Physical page allocator: a binary buddy system over all usable RAM.
 * Blocks are 2^order pages, naturally aligned. Its per-page state (one byte
 * a page) lets page_free catch double frees and wrong orders. */
#ifndef KERN_PAGE_ALLOC_H
#define KERN_PAGE_ALLOC_H

#include <kern/types.h>
#include <kern/boot.h>

#define PAGE_ALLOC_MAX_ORDER 18     /* largest block: 2^18 pages = 1 GiB */

struct page_stats {
    uint64_t total_pages;           /* managed pages */
    uint64_t free_pages;
    uint64_t free_blocks[PAGE_ALLOC_MAX_ORDER + 1];
    uint64_t allocs, frees, failures;
    uint64_t metadata_bytes;        /* the per-page state array */
};

/* Manage the given free ranges (page-aligned inward). The state array is
 * carved from the first range large enough. Returns the managed pages. */
uint64_t page_alloc_init(const struct mem_region *free, unsigned n);

/* True once page_alloc_init has run. */
bool page_alloc_ready(void);

/* Allocate 2^order contiguous pages; returns 0 when none is available
 * (physical page 0 is never managed). */
paddr_t page_alloc(unsigned order);
void page_free(paddr_t pa, unsigned order);

/* Keep the first pages pages (1 .. 2^order) of the block allocated at pa
 * and give the rest back, for memory that need not be a power of two
 * (the root file system's image read from a disk). What is kept becomes
 * the blocks of pages' binary decomposition, largest first from pa; free
 * those one by one with their own orders, never pa with order. */
void page_alloc_trim(paddr_t pa, unsigned order, uint64_t pages);

/* The smallest order whose block holds bytes. */
unsigned page_order_for(size_t bytes);

void page_alloc_stats(struct page_stats *st);
void page_alloc_print_stats(void);

#endif
