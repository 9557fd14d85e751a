/*
 * Bringing up the other CPUs: the platform lists their APIC ids
 * (platform_cpu_ids: the MADT on KVM) and may start them itself
 * (platform_cpu_start: VCPUOP_up on Xen); else each gets INIT-SIPI-SIPI
 * with the trampoline (ap_boot.S) at AP_BASE. Each gets its own stacks,
 * GDT/TSS and per-CPU data, and ends in its idle thread. Also the IPIs:
 * reschedule and TLB shootdown.
 */
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/backtrace.h>
#include <kern/errno.h>
#include <kern/kva.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/platform.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <arch/syscall.h>
#include "x86_64.h"

#define AP_BASE          0x8000
#define ICR_INIT         0x00004500
#define ICR_STARTUP      0x00004600
#define ICR_FIXED        0x00004000     /* fixed delivery, assert */
#define AP_WAIT_MS       1000

extern const char ap_trampoline_start[], ap_trampoline_end[];
extern const char ap_tramp_cr3[], ap_tramp_stack[], ap_tramp_cpu[], ap_tramp_entry[];

void sched_init_ap(void *stack, size_t size);     /* sched.c */

static void delay_us(uint64_t us)
{
    uint64_t end = arch_cycles() + us * arch_cycles_hz() / 1000000;
    while (arch_cycles() < end)
        arch_cpu_relax();
}

/* Where a trampoline data word lives once the trampoline is copied. */
static uint64_t *tramp_word(const char *sym)
{
    return phys_to_virt(AP_BASE + (uint64_t)(sym - ap_trampoline_start));
}

static void ap_main(struct cpu *c) __noreturn;
static void ap_main(struct cpu *c)
{
    percpu_init(c, c->id);
    uintptr_t *tops = (uintptr_t *)c->arch.ist_tops;
    gdt_init_cpu(c->id, tops);
    idt_load();
    write_cr4(read_cr4() | CR4_PGE);
    fpu_init_cpu();
    syscall_init_cpu();
    apic_init_cpu();
    c->arch.apic_id = apic_id();
    sched_init_ap((void *)c->arch.boot_stack, THREAD_STACK_SIZE);   /* never returns */
    for (;;)
        arch_halt();
}

/* The trampoline page, mapped 1:1 for the switch to long mode: set up
 * when the first CPU needs it (a platform that starts CPUs itself never
 * does), unmapped when all have started. */
static bool trampoline_ready;

static void trampoline_setup(void)
{
    size_t len = (size_t)(ap_trampoline_end - ap_trampoline_start);
    BUG_ON(len > PAGE_SIZE);
    memcpy(phys_to_virt(AP_BASE), ap_trampoline_start, len);
    *tramp_word(ap_tramp_cr3) = read_cr3();
    arch_map(AP_BASE, AP_BASE, PAGE_SIZE, MAP_EXEC | MAP_WRITE);
    trampoline_ready = true;
}

/* INIT, then two STARTUPs (the second for CPUs that miss the first), as
 * the MP specification prescribes. Its 10 ms wait after INIT is for real
 * hardware's reset; a virtual CPU (CPUID.1:ECX bit 31) resets at once, so
 * Linux and Tern skip it there: it was a fifth of the boot. */
static void init_sipi(struct cpu *c, const struct cpu_start *start)
{
    if (!trampoline_ready)
        trampoline_setup();
    *tramp_word(ap_tramp_entry) = start->entry;
    *tramp_word(ap_tramp_stack) = start->sp;
    *tramp_word(ap_tramp_cpu) = start->arg;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    apic_send_ipi(c->arch.apic_id, ICR_INIT);
    if (!(cpuid(1, 0).ecx & (1u << 31)))
        delay_us(10000);
    for (int i = 0; i < 2 && !c->online; i++) {
        apic_send_ipi(c->arch.apic_id, ICR_STARTUP | (AP_BASE >> 12));
        delay_us(200);
    }
}

static bool start_ap(unsigned id, uint32_t apic)
{
    struct cpu *c = &cpus[id];
    c->id = id;
    c->arch.apic_id = apic;
    void *stack = kva_alloc_guarded(THREAD_STACK_SIZE);
    if (!stack)
        return false;
    c->arch.boot_stack = (uintptr_t)stack;
    for (int i = 0; i < 4; i++) {
        void *ist = kva_alloc_guarded(IST_STACK_SIZE);
        if (!ist)
            return false;
        c->arch.ist_tops[i] = (uintptr_t)ist + IST_STACK_SIZE;
        stack_register((uintptr_t)ist, c->arch.ist_tops[i]);
    }
    /* ap_main(c) entered as if called: the SysV ABI wants rsp + 8 a
     * multiple of 16 at a function's first instruction. */
    struct cpu_start start = {
        .entry = (uintptr_t)ap_main,
        .arg = (uintptr_t)c,
        .sp = (uintptr_t)stack + THREAD_STACK_SIZE - 8,
    };
    int rc = platform_cpu_start(apic, &start);
    if (rc == -ENOSYS) {
        init_sipi(c, &start);
    } else if (rc < 0) {
        pr_err("smp: the platform could not start the CPU with APIC id %u (%d)\n", apic, rc);
        return false;
    }
    uint64_t deadline = arch_time_ns() + AP_WAIT_MS * 1000000ULL;
    while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && arch_time_ns() < deadline)
        arch_cpu_relax();
    return c->online;
}

void arch_smp_init(void)
{
    uint32_t ids[MAX_CPUS];
    int n = platform_cpu_ids(ids, MAX_CPUS);
    uint32_t self = apic_id();
    cpus[0].arch.apic_id = self;
    if (n <= 1)
        return;

    unsigned started = 1;
    for (int i = 0; i < n; i++) {
        if (ids[i] == self)
            continue;
        if (started == MAX_CPUS)
            break;
        if (start_ap(started, ids[i]))
            nr_cpus = ++started;
        else
            pr_err("smp: the CPU with APIC id %u did not start\n", ids[i]);
    }
    if (trampoline_ready)
        arch_unmap(AP_BASE, PAGE_SIZE);
    pr_info("smp: %u of %d CPUs online\n", nr_cpus, n);
}

/* --- IPIs ---------------------------------------------------------------- */

void arch_send_resched(struct cpu *c)
{
    apic_send_ipi(c->arch.apic_id, ICR_FIXED | VEC_IPI_RESCHED);
}

static spinlock_t tlb_lock = SPINLOCK_INIT;
static volatile uint32_t tlb_pending;

void tlb_ipi(void)
{
    struct cpu *c = this_cpu();
    if (__atomic_exchange_n(&c->arch.tlb_flush_req, 0, __ATOMIC_ACQ_REL)) {
        write_cr3(read_cr3());
        __atomic_fetch_sub(&tlb_pending, 1, __ATOMIC_RELEASE);
    }
}

/* Flush every other online CPU's TLB and wait until they have. While
 * waiting, serve requests aimed at us, so two CPUs shooting at once (or
 * one waiting with interrupts off) cannot deadlock. Must not be called
 * with a spinlock held that a CPU might spin on with interrupts off. */
void arch_tlb_shootdown(void)
{
    if (nr_cpus <= 1)
        return;
    unsigned long flags = arch_irq_save();
    while (!spin_trylock_raw(&tlb_lock)) {
        tlb_ipi();
        arch_cpu_relax();
    }
    struct cpu *self = this_cpu();
    uint32_t n = 0;
    for (unsigned i = 0; i < nr_cpus; i++)
        if (&cpus[i] != self && cpus[i].online)
            n++;
    tlb_pending = n;
    for (unsigned i = 0; i < nr_cpus; i++) {
        struct cpu *c = &cpus[i];
        if (c == self || !c->online)
            continue;
        __atomic_store_n(&c->arch.tlb_flush_req, 1, __ATOMIC_RELEASE);
        apic_send_ipi(c->arch.apic_id, ICR_FIXED | VEC_IPI_TLB);
    }
    while (__atomic_load_n(&tlb_pending, __ATOMIC_ACQUIRE)) {
        tlb_ipi();
        arch_cpu_relax();
    }
    spin_unlock_raw(&tlb_lock);
    arch_irq_restore(flags);
}
