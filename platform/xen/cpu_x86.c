/*
 * CPUs on Xen (kern/plat_cpu.h). The hypervisor says which vCPUs the
 * domain has: VCPUOP_is_up answers for every vCPU that exists and -ENOENT
 * past the last. The x86 arch names CPUs by local APIC id (it sends IPIs
 * through the emulated local APIC, which Xen offers PVH guests as it does
 * HVM ones); Xen numbers a vCPU's APIC 2 x its vCPU id, which the boot CPU
 * checks on itself (CPUID leaf 1's initial APIC id) before trusting it for
 * the others.
 *
 * A vCPU is started the hypervisor's way: VCPUOP_initialise with its
 * first registers, straight into long mode on the kernel's page tables
 * (no real-mode trampoline), then VCPUOP_up.
 */
#include <arch/cpu.h>
#include <kern/errno.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include "xen.h"
#include <xen/errno.h>
#include <xen/hvm/hvm_vcpu.h>

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

int platform_cpu_start(uint32_t id, const struct cpu_start *start)
{
    uint32_t vcpu = id / 2;
    /* Xen gives the vCPU flat 64-bit segments with selector 0 and no
     * GDT or IDT: the entry loads its own before anything can trap. The
     * control registers are the boot CPU's, which Xen already accepted
     * (it checks them against the domain's CPUID policy again here). */
    struct vcpu_hvm_context ctx = { .mode = VCPU_HVM_MODE_64B };
    ctx.cpu_regs.x86_64.rip = start->entry;
    ctx.cpu_regs.x86_64.rsp = start->sp;
    ctx.cpu_regs.x86_64.rdi = start->arg;
    ctx.cpu_regs.x86_64.rflags = 0x2;           /* bit 1 is fixed; IF clear */
    ctx.cpu_regs.x86_64.cr0 = read_cr0();
    ctx.cpu_regs.x86_64.cr3 = read_cr3();
    ctx.cpu_regs.x86_64.cr4 = read_cr4();
    ctx.cpu_regs.x86_64.efer = rdmsr(MSR_EFER);
    long rc = HYPERCALL3(vcpu_op, VCPUOP_initialise, vcpu, &ctx);
    if (rc) {
        /* Should Xen refuse the context, the local APIC's INIT and
         * STARTUP, which it emulates for PVH guests too, remain. */
        pr_warn("xen: VCPUOP_initialise(%u) failed (%ld): starting it with INIT-SIPI\n",
                vcpu, rc);
        return -ENOSYS;
    }
    rc = HYPERCALL3(vcpu_op, VCPUOP_up, vcpu, 0);
    if (rc) {
        pr_err("xen: VCPUOP_up(%u) failed (%ld)\n", vcpu, rc);
        return -EINVAL;
    }
    pr_info("xen: vCPU %u started with VCPUOP_initialise and VCPUOP_up\n", vcpu);
    return 0;
}
