/*
 * Bringing up the other CPUs on aarch64: the platform lists their MPIDRs
 * (platform_cpu_ids: the device tree's cpu nodes), PSCI CPU_ON (Arm DEN
 * 0022, 5.6) starts each at ap_entry (ap_entry.S) with the boot CPU's MMU
 * settings, its own exception stack and idle stack, and it ends in its
 * idle thread. Also the IPIs: reschedule by GIC SGI, and TLB shootdown,
 * which needs none: a broadcast TLBI (the inner-shareable "is" forms)
 * reaches every CPU in hardware, and completes at the DSB that follows it.
 */
#include <arch/gic.h>
#include <arch/irq.h>
#include <arch/mm.h>
#include <arch/plat_arm.h>
#include <kern/arch.h>
#include <kern/backtrace.h>
#include <kern/kva.h>
#include <kern/page_alloc.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>

#define PSCI_CPU_ON_64      0xc4000003u
#define PSCI_SUCCESS        0
#define PSCI_ALREADY_ON     (-4)
#define AP_WAIT_MS          2000            /* TCG on a loaded host is slow */
#define EXC_STACK_SIZE      (16 * 1024)

/* Page table bits for the identity block (ARM DDI 0487, D8.3). */
#define DESC_TABLE          3
#define BLOCK_NORMAL        (1 | (0 << 2) | (3 << 8) | (1 << 10))
#define TCR_EPD0            (1ULL << 7)

/* ap_entry.S reads these at fixed offsets (AP_*). */
struct ap_params {
    uint64_t ttbr0_id;      /* identity block over ap_entry */
    uint64_t ttbr1;         /* the kernel's tables */
    uint64_t tcr_id;        /* TCR with TTBR0 walks on */
    uint64_t tcr;           /* the boot CPU's */
    uint64_t mair;
    uint64_t sctlr;
    uint64_t ttbr0;         /* the boot CPU's TTBR0 after the jump */
    uint64_t stack;         /* SP_EL0: the idle thread's stack top */
    uint64_t cpu;           /* struct cpu * */
};
_Static_assert(sizeof(struct ap_params) <= 128, "ap_params size");

extern struct ap_params ap_params;
extern const char ap_entry[];

void sched_init_ap(void *stack, size_t size);     /* sched.c */
void percpu_init(struct cpu *c, unsigned id, uintptr_t exc_stack_top);   /* setup.c */

#define READ_SYSREG(name) ({ uint64_t _v; __asm__ volatile("mrs %0, " #name : "=r"(_v)); _v; })

/* SMC Calling Convention: function id in x0, arguments in x1-x3, the
 * result in x0; x0-x17 may be clobbered by the callee. */
static int64_t psci_call(int conduit, uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
    register uint64_t x0 __asm__("x0") = fn;
    register uint64_t x1 __asm__("x1") = a1;
    register uint64_t x2 __asm__("x2") = a2;
    register uint64_t x3 __asm__("x3") = a3;
    if (conduit == PSCI_HVC)
        __asm__ volatile("hvc #0"
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                         :
                         : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
                           "x14", "x15", "x16", "x17", "memory");
    else
        __asm__ volatile("smc #0"
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                         :
                         : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
                           "x14", "x15", "x16", "x17", "memory");
    return (int64_t)x0;
}

/* The new CPU reads with its caches off: what it reads must be in memory
 * (clean to the point of coherency), not only in our caches. */
static void clean_to_poc(const void *p, size_t len)
{
    uintptr_t a = (uintptr_t)p & ~63UL, end = (uintptr_t)p + len;
    for (; a < end; a += 64)
        __asm__ volatile("dc cvac, %0" : : "r"(a) : "memory");
    __asm__ volatile("dsb sy" : : : "memory");
}

void ap_main(struct cpu *c) __noreturn;
void ap_main(struct cpu *c)
{
    percpu_init(c, c->id, c->arch.exc_stack);
    gic_init_cpu();
    timer_init_cpu();
    sched_init_ap((void *)c->arch.boot_stack, THREAD_STACK_SIZE);   /* never returns */
    for (;;)
        arch_halt();
}

static bool start_ap(int conduit, unsigned id, uint64_t mpidr)
{
    struct cpu *c = &cpus[id];
    c->id = id;
    c->arch.mpidr = mpidr;
    void *stack = kva_alloc_guarded(THREAD_STACK_SIZE);
    void *exc = kva_alloc_guarded(EXC_STACK_SIZE);
    if (!stack || !exc)
        return false;
    c->arch.boot_stack = (uintptr_t)stack;
    c->arch.exc_stack = (uintptr_t)exc + EXC_STACK_SIZE;
    stack_register((uintptr_t)exc, c->arch.exc_stack);
    ap_params.stack = (uintptr_t)stack + THREAD_STACK_SIZE;
    ap_params.cpu = (uintptr_t)c;
    clean_to_poc(&ap_params, sizeof(ap_params));

    int64_t r = psci_call(conduit, PSCI_CPU_ON_64, mpidr, virt_to_phys(ap_entry), 0);
    if (r != PSCI_SUCCESS) {
        pr_err("smp: PSCI CPU_ON for MPIDR %#llx failed (%lld)\n", (unsigned long long)mpidr,
               (long long)r);
        return false;
    }
    uint64_t deadline = arch_time_ns() + AP_WAIT_MS * 1000000ULL;
    while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && arch_time_ns() < deadline)
        arch_cpu_relax();
    return c->online;
}

/* Two fresh pages: an L0 and an L1 table mapping the 1 GiB around
 * ap_entry to itself. Kept: CPUs start once, but a later CPU_ON would
 * need them again. */
static uint64_t identity_tables(void)
{
    paddr_t l0 = page_alloc(0), l1 = page_alloc(0);
    if (!l0 || !l1)
        return 0;
    uint64_t *t0 = phys_to_virt(l0), *t1 = phys_to_virt(l1);
    memset(t0, 0, PAGE_SIZE);
    memset(t1, 0, PAGE_SIZE);
    uint64_t pa = virt_to_phys(ap_entry);
    t0[(pa >> 39) & 511] = l1 | DESC_TABLE;
    t1[(pa >> 30) & 511] = (pa & ~((1ULL << 30) - 1)) | BLOCK_NORMAL;
    clean_to_poc(t0, PAGE_SIZE);
    clean_to_poc(t1, PAGE_SIZE);
    return l0;
}

void arch_smp_init(void)
{
    uint32_t ids[MAX_CPUS];
    int n = platform_cpu_ids(ids, MAX_CPUS);
    uint64_t self = cpus[0].arch.mpidr;
    if (n <= 1)
        return;
    int conduit = platform_psci_conduit();
    if (conduit == PSCI_NONE) {
        pr_warn("smp: %d CPUs but no PSCI to start them; running on one\n", n);
        return;
    }
    uint64_t ttbr0_id = identity_tables();
    if (!ttbr0_id) {
        pr_err("smp: out of memory for the bring-up tables\n");
        return;
    }
    ap_params.ttbr0_id = ttbr0_id;
    ap_params.ttbr1 = READ_SYSREG(ttbr1_el1);
    ap_params.tcr = READ_SYSREG(tcr_el1);
    ap_params.tcr_id = ap_params.tcr & ~TCR_EPD0;
    ap_params.mair = READ_SYSREG(mair_el1);
    ap_params.sctlr = READ_SYSREG(sctlr_el1);
    ap_params.ttbr0 = READ_SYSREG(ttbr0_el1);

    unsigned started = 1;
    for (int i = 0; i < n; i++) {
        if (ids[i] == self)
            continue;
        if (started == MAX_CPUS)
            break;
        if (start_ap(conduit, started, ids[i]))
            nr_cpus = ++started;
        else
            pr_err("smp: the CPU with MPIDR %#x did not start\n", ids[i]);
    }
    pr_info("smp: %u of %d CPUs online\n", nr_cpus, n);
}

/* --- IPIs ---------------------------------------------------------------- */

void arch_send_resched(struct cpu *c)
{
    gic_send_sgi(GIC_SGI_RESCHED, c);
}

/* Every CPU's TLB, by one broadcast invalidation (TLBI ...IS reaches all
 * CPUs of the inner-shareable domain, and the DSB waits until it has):
 * the page-table writes first, then the invalidation, then the wait. */
void arch_tlb_shootdown(void)
{
    __asm__ volatile("dsb ishst\n\t"
                     "tlbi vmalle1is\n\t"
                     "dsb ish\n\t"
                     "isb" : : : "memory");
}
