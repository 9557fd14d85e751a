/*
 * CPU discovery on Xen (kern/plat_cpu.h). The hypervisor says which vCPUs
 * the domain has: VCPUOP_is_up answers for every vCPU that exists and
 * -ENOENT past the last. The x86 arch starts CPUs by local APIC id
 * (INIT/SIPI through the emulated local APIC, which Xen offers PVH guests
 * as it does HVM ones); Xen numbers a vCPU's APIC 2 x its vCPU id, which
 * the boot CPU checks on itself (CPUID leaf 1's initial APIC id) before
 * trusting it for the others.
 */
#include <arch/cpu.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include "xen.h"
#include <xen/errno.h>

int platform_cpu_ids(uint32_t *ids, int max)
{
    uint32_t self = xen_vcpu_id();
    uint32_t apic = cpuid(1, 0).ebx >> 24;
    if (apic != 2 * self) {
        pr_warn("xen: vCPU %u has APIC id %u, not %u: running on it alone\n",
                self, apic, 2 * self);
        return 0;
    }
    int n = 0;
    for (uint32_t v = 0; v < XEN_LEGACY_MAX_VCPUS && n < max; v++) {
        long rc = HYPERCALL3(vcpu_op, VCPUOP_is_up, v, 0);
        if (rc == -XEN_ENOENT || rc == -XEN_EINVAL)
            break;
        if (rc < 0) {
            pr_warn("xen: VCPUOP_is_up(%u) failed (%ld): running on the boot vCPU alone\n",
                    v, rc);
            return 0;
        }
        ids[n++] = 2 * v;
    }
    return n;
}
