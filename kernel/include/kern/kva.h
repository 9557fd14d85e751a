/* Kernel virtual memory for thread stacks: page-backed regions with an
 * unmapped guard page below each, so a stack overflow faults. */
#ifndef KERN_KVA_H
#define KERN_KVA_H

#include <kern/types.h>

/* Returns the lowest usable address of a size-byte (page multiple) region
 * with a guard page below it, or NULL when memory is short. */
void *kva_alloc_guarded(size_t size);
void kva_free_guarded(void *p, size_t size);

#endif
