/*
 * CPU discovery a platform provides (kern/platform.h): the firmware or the
 * hypervisor says which CPUs the machine has. The ids are the ones the
 * architecture starts CPUs and sends IPIs with: local APIC ids on x86
 * (the ACPI MADT), MPIDR affinities on aarch64 (the device tree's cpu
 * nodes), vCPU numbers on Xen.
 */
#ifndef KERN_PLAT_CPU_H
#define KERN_PLAT_CPU_H

#include <kern/types.h>

/* Store the ids of the enabled CPUs, the boot CPU among them, in ids (at
 * most max); returns how many. 0: nothing describes them, run on the boot
 * CPU alone. */
int platform_cpu_ids(uint32_t *ids, int max);

#endif
