/*
 * Finding Xen and talking to it, x86 PVH side: the CPUID leaves
 * "XenVMMXenVMM" opens, the hypercall page (its MSR from leaf base+2), and
 * shared_info placed into our physical address space (XENMAPSPACE_
 * shared_info), which holds the vCPUs' clocks and event channel bitmaps.
 *
 * A kernel built for Xen that boots anywhere else (QEMU/KVM: CPUID names
 * another hypervisor or none) has no hypercalls, no console and no way to
 * power off: it says so on every port a PC console might be (Xen's 0xe9,
 * QEMU's isa-debugcon, COM1) and stops the machine with a triple fault,
 * which QEMU with -no-reboot turns into an exit.
 */
#include <arch/cpu.h>
#include <arch/io.h>
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/panic.h>
#include <kern/string.h>
#include "xen.h"
#include <xen/arch-x86/cpuid.h>

extern char hypercall_page[];           /* hypercall_x86.S */

struct shared_info *xen_shared;
uint32_t xen_cpuid_base;

/* The page Xen's shared_info replaces in our physical address space. */
static uint8_t shared_info_page[PAGE_SIZE] __aligned(PAGE_SIZE);

static void raw_puts(const char *s)
{
    for (; *s; s++) {
        outb(0xe9, (uint8_t)*s);
        if (*s == '\n')
            outb(0x3f8, '\r');
        outb(0x3f8, (uint8_t)*s);
    }
}

static void not_on_xen(const char *found) __noreturn;
static void not_on_xen(const char *found)
{
    raw_puts("\nxen: this kernel is built for Xen (configure --platform=xen), but CPUID "
             "names the hypervisor '");
    raw_puts(found);
    raw_puts("', not 'XenVMMXenVMM'; boot the kvm build instead\n"
             "tern-exit: status=70\n");
    /* An empty IDT turns the next exception into a triple fault. */
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) empty = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(empty));
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* Xen's leaves start at 0x40000000, or 0x100 further up per interface
 * it emulates before its own (Viridian for Windows guests). */
static uint32_t find_xen(char found[13])
{
    memcpy(found, "none", 5);
    if (!(cpuid(1, 0).ecx & (1u << 31)))
        return 0;
    for (uint32_t base = XEN_CPUID_FIRST_LEAF; base < XEN_CPUID_FIRST_LEAF + 0x10000;
         base += 0x100) {
        struct cpuid_regs r = cpuid(base, 0);
        if (r.ebx == XEN_CPUID_SIGNATURE_EBX && r.ecx == XEN_CPUID_SIGNATURE_ECX &&
            r.edx == XEN_CPUID_SIGNATURE_EDX && r.eax >= base + 2)
            return base;
        if (base == XEN_CPUID_FIRST_LEAF) {
            memcpy(found + 0, &r.ebx, 4);
            memcpy(found + 4, &r.ecx, 4);
            memcpy(found + 8, &r.edx, 4);
            found[12] = 0;
        }
    }
    return 0;
}

void xen_hypervisor_init(void)
{
    char found[13];
    xen_cpuid_base = find_xen(found);
    if (!xen_cpuid_base)
        not_on_xen(found);

    /* Leaf base+2: EBX is the MSR that takes the hypercall page's
     * physical address (page 0 of EAX pages; one is all we call). */
    struct cpuid_regs r = cpuid(xen_cpuid_base + 2, 0);
    wrmsr(r.ebx, virt_to_phys(hypercall_page));

    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = virt_to_phys(shared_info_page) >> PAGE_SHIFT,
    };
    long rc = HYPERCALL2(memory_op, XENMEM_add_to_physmap, &xatp);
    if (rc) {
        raw_puts("xen: XENMEM_add_to_physmap(shared_info) failed\ntern-exit: status=70\n");
        struct sched_shutdown s = { .reason = SHUTDOWN_crash };
        HYPERCALL2(sched_op, SCHEDOP_shutdown, &s);
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    xen_shared = (struct shared_info *)shared_info_page;
}

/* Leaf base+4 gives the calling vCPU's number where Xen says so (every
 * Xen with PVH does); else the boot CPU's. */
uint32_t xen_vcpu_id(void)
{
    struct cpuid_regs r = cpuid(xen_cpuid_base + 4, 0);
    return (r.eax & XEN_HVM_CPUID_VCPU_ID_PRESENT) ? r.ebx : 0;
}

struct vcpu_info *xen_vcpu_info(uint32_t vcpu)
{
    BUG_ON(vcpu >= XEN_LEGACY_MAX_VCPUS);
    return &xen_shared->vcpu_info[vcpu];
}

bool xen_hvm_param(unsigned index, uint64_t *value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
    if (HYPERCALL2(hvm_op, HVMOP_get_param, &p))
        return false;
    *value = p.value;
    return true;
}
