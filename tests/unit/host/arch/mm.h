/* Host stand-in for the arch memory layout: "physical" addresses in unit
 * tests are host pointers into a buffer the test allocates. */
#ifndef ARCH_MM_H
#define ARCH_MM_H
#include <stdint.h>
#define PAGE_SHIFT      12
#define PAGE_SIZE       4096UL
static inline void *phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)pa; }
static inline uint64_t virt_to_phys(const void *va) { return (uint64_t)(uintptr_t)va; }
#endif
