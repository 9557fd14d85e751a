/* x86_64 virtual memory layout.
 *
 *   0x0000000000000000 - 0x00007fffffffffff  lower half: apps (ET_EXEC at
 *                                            0x400000, PIE at a random base)
 *   0xffff800000000000 - ...                 direct map of all physical
 *                                            memory regions (RW, NX)
 *   0xffffffff80000000 + phys                the kernel image (-mcmodel=kernel)
 *
 * The lower half is left to apps so that static ET_EXEC programs linked at
 * 0x400000 load where they were linked. */
#ifndef ARCH_MM_H
#define ARCH_MM_H

#include <stdint.h>

#define PAGE_SHIFT        12
#define PAGE_SIZE         4096UL
#define LARGE_PAGE_SIZE   (2UL << 20)

#define DIRECT_MAP_BASE   0xffff800000000000UL
#define KERNEL_VBASE      0xffffffff80000000UL

static inline void *phys_to_virt(uint64_t pa)
{
    return (void *)(pa + DIRECT_MAP_BASE);
}

/* Valid for direct-map and kernel-image addresses. */
static inline uint64_t virt_to_phys(const void *va)
{
    uintptr_t v = (uintptr_t)va;
    return v >= KERNEL_VBASE ? v - KERNEL_VBASE : v - DIRECT_MAP_BASE;
}

#endif
