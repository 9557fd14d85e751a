/* aarch64 virtual memory layout (4 KiB granule, 48-bit addresses):
 *
 *   0x0000000000000000 - 0x0000ffffffffffff  TTBR0: apps (ET_EXEC where
 *                                            linked, PIE at a random base)
 *   0xffff000000000000 - ...                 TTBR1: direct map of all
 *                                            physical memory regions (RW, XN)
 *   0xffffffff80000000 + (phys - load)       the kernel image
 *
 * The same shape as x86_64's, so that generic code's assumptions (apps
 * low, kernel high, one direct map) hold on both. */
#ifndef ARCH_MM_H
#define ARCH_MM_H

#include <stdint.h>

#define PAGE_SHIFT        12
#define PAGE_SIZE         4096UL
#define LARGE_PAGE_SIZE   (2UL << 20)

#define DIRECT_MAP_BASE   0xffff000000000000UL
#define KERNEL_VBASE      0xffffffff80000000UL

/* Where the boot code found the kernel image in physical memory (the
 * Image is loaded wherever the firmware chose, 2 MiB aligned). */
extern uint64_t arch_kernel_phys_base;

static inline void *phys_to_virt(uint64_t pa)
{
    return (void *)(pa + DIRECT_MAP_BASE);
}

/* Valid for direct-map and kernel-image addresses. */
static inline uint64_t virt_to_phys(const void *va)
{
    uintptr_t v = (uintptr_t)va;
    return v >= KERNEL_VBASE ? v - KERNEL_VBASE + arch_kernel_phys_base : v - DIRECT_MAP_BASE;
}

#endif
