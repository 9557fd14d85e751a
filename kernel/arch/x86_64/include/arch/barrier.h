/*
 * Memory barriers for memory shared with other CPUs and with devices that
 * access it by DMA (virtio rings). Device registers are mapped uncached,
 * and uncached accesses are never reordered with anything on x86, so these
 * are only about ordinary write-back memory.
 *
 * x86 is TSO (Intel SDM vol. 3, 9.2.2): loads are not reordered with other
 * loads, stores not with other stores, and a store is not reordered with an
 * earlier load. What remains is a later load passing an earlier store to a
 * different address, which only a fence (or a locked instruction) stops.
 * So rmb() and wmb() need only keep the compiler in order; mb() needs
 * MFENCE. An aarch64 port will want dmb ishld / ishst / ish here.
 */
#ifndef ARCH_BARRIER_H
#define ARCH_BARRIER_H

/* The compiler may not move memory accesses across this. */
#define barrier() __asm__ volatile("" : : : "memory")

/* Loads before rmb() complete before loads after it. */
#define rmb() barrier()

/* Stores before wmb() become visible before stores after it. */
#define wmb() barrier()

/* Every access before mb() completes before any access after it; needed
 * where a store must be visible before a following load (publish an index,
 * then read whether the other side wants to be notified). */
#define mb() __asm__ volatile("mfence" : : : "memory")

#endif
