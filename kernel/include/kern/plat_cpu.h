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

/* The state a CPU is started in: the kernel's own address space and
 * privilege, interrupts off, running entry(arg) with the stack pointer sp
 * (already as the entry's calling convention expects it). */
struct cpu_start {
    uintptr_t entry;
    uintptr_t arg;
    uintptr_t sp;
};

/* Start the CPU with this id (one of platform_cpu_ids') in that state,
 * where the hypervisor has its own call for it (Xen: VCPUOP_initialise and
 * VCPUOP_up). Returns 0 once asked (the caller waits for the CPU to come
 * online), -ENOSYS where the architecture's own way applies (x86's
 * INIT-SIPI), another negative errno when the platform refused. aarch64
 * starts CPUs through PSCI, whose conduit the platform names
 * (platform_psci_conduit), and does not ask. */
int platform_cpu_start(uint32_t id, const struct cpu_start *start);

#endif
