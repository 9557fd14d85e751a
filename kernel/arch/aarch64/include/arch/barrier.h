/* Memory barriers on aarch64. Devices (virtio rings) sit in normal
 * memory shared with the hypervisor, so the inner-shareable forms order
 * what the device sees; the full-system forms are for MMIO. */
#ifndef ARCH_BARRIER_H
#define ARCH_BARRIER_H

#define barrier() __asm__ volatile("" : : : "memory")

#define rmb() __asm__ volatile("dmb ishld" : : : "memory")

#define wmb() __asm__ volatile("dmb ishst" : : : "memory")

#define mb() __asm__ volatile("dmb ish" : : : "memory")

#endif
