/*
 * Exception handling. A fault in the kernel is fatal: print what happened
 * (vector, error code decoded, faulting address, all registers, backtrace)
 * and exit with EXIT_PANIC. Interrupts are not enabled yet; an unexpected
 * one is reported once per vector.
 */
#include <arch/cpu.h>
#include <arch/mm.h>
#include <arch/trapframe.h>
#include <arch/irq.h>
#include <kern/app.h>
#include <kern/arch.h>
#include <kern/backtrace.h>
#include <kern/errno.h>
#include <kern/irq.h>
#include <kern/ksyms.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/percpu.h>
#include <kern/printk.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <kern/vm.h>
#include "x86_64.h"

static const char *const exception_names[32] = {
    [0] = "#DE divide error",           [1] = "#DB debug",
    [2] = "NMI",                        [3] = "#BP breakpoint",
    [4] = "#OF overflow",               [5] = "#BR bound range exceeded",
    [6] = "#UD invalid opcode",         [7] = "#NM device not available",
    [8] = "#DF double fault",           [9] = "coprocessor segment overrun",
    [10] = "#TS invalid TSS",           [11] = "#NP segment not present",
    [12] = "#SS stack-segment fault",   [13] = "#GP general protection",
    [14] = "#PF page fault",            [16] = "#MF x87 floating-point error",
    [17] = "#AC alignment check",       [18] = "#MC machine check",
    [19] = "#XM SIMD floating-point",   [20] = "#VE virtualization exception",
    [21] = "#CP control protection",
};

static void describe_page_fault(const struct trap_frame *tf)
{
    uint64_t cr2 = read_cr2();
    uint64_t e = tf->error_code;
    char sym[128];

    pr_emerg("page fault: %s of %016lx: %s%s%s\n",
             (e & 0x10) ? "instruction fetch" : (e & 2) ? "write" : "read",
             (unsigned long)cr2,
             (e & 1) ? "protection violation" : "page not present",
             (e & 8) ? ", reserved bit set" : "",
             (e & 4) ? ", user mode" : "");
    /* A jump to a bad address faults before the callee saves a frame, so
     * the caller is only visible as the return address on top of the stack. */
    if ((e & 0x10) && tf->rip == cr2 && stack_contains(tf->rsp, 8)) {
        ksym_format(sym, sizeof(sym), *(const uint64_t *)tf->rsp - 1);
        pr_emerg("page fault: jumped to from %s\n", sym);
    }
    struct thread *owner = sched_guard_owner(cr2);
    if (paging_is_guard(ALIGN_DOWN(cr2, PAGE_SIZE)))
        pr_emerg("page fault: the address is a stack guard page: kernel stack overflow\n");
    else if (owner)
        pr_emerg("page fault: the address is a stack guard page: thread '%s' overflowed its stack\n",
                 owner->name);
    else if (cr2 < PAGE_SIZE)
        pr_emerg("page fault: NULL pointer dereference\n");
}

static void dump_registers(const struct trap_frame *tf)
{
    pr_emerg("RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n",
             tf->rax, tf->rbx, tf->rcx, tf->rdx);
    pr_emerg("RSI=%016lx RDI=%016lx RBP=%016lx RSP=%016lx\n",
             tf->rsi, tf->rdi, tf->rbp, tf->rsp);
    pr_emerg("R8 =%016lx R9 =%016lx R10=%016lx R11=%016lx\n",
             tf->r8, tf->r9, tf->r10, tf->r11);
    pr_emerg("R12=%016lx R13=%016lx R14=%016lx R15=%016lx\n",
             tf->r12, tf->r13, tf->r14, tf->r15);
    pr_emerg("RIP=%016lx RFLAGS=%016lx CS=%04lx SS=%04lx\n",
             tf->rip, tf->rflags, tf->cs, tf->ss);
    arch_dump_cpu_state();
}

static void fatal_exception(const struct trap_frame *tf)
{
    static int depth;
    char sym[128];
    const char *name = exception_names[tf->vector];

    /* A fault while reporting a fault: say so briefly and get out. */
    if (depth++) {
        console_printf("nested exception %lu at %016lx while reporting a fault\n",
                       tf->vector, tf->rip);
        kernel_exit(EXIT_PANIC);
    }
    ksym_format(sym, sizeof(sym), tf->rip);
    pr_emerg("KERNEL FAULT: %s (vector %lu, error code %#lx) at %016lx %s\n",
             name ? name : "reserved exception", tf->vector, tf->error_code,
             tf->rip, sym);
    if (tf->vector == 14)
        describe_page_fault(tf);
    dump_registers(tf);
    backtrace_print(tf->rip, tf->rbp, 32);
    kernel_exit(EXIT_PANIC);
}

#define RFLAGS_IF (1UL << 9)

/* A page fault in the app's half: map the page when the access is allowed
 * (demand paging, copy on write). The fault handler may sleep, so
 * interrupts go back on first, as they were where the fault happened; with
 * them off there, nothing may touch app memory (kern/uaccess.h), so such a
 * fault stays fatal. */
static bool app_page_fault(struct trap_frame *tf, uint64_t cr2)
{
    if (!app_address(cr2) || !(tf->rflags & RFLAGS_IF))
        return false;
    unsigned access = (tf->error_code & 0x10) ? PROT_EXEC
                    : (tf->error_code & 2)    ? PROT_WRITE : PROT_READ;
    arch_irq_enable();
    int err = vm_fault(cr2, access);
    arch_irq_disable();
    if (err == -ENOMEM) {
        /* Linux's OOM killer would send SIGKILL: so does this. */
        char detail[120];
        snprintf(detail, sizeof(detail), "out of memory: no free page for %016lx "
                 "(give the VM more memory: the manifest's memory key)", (unsigned long)cr2);
        app_crash(SIGKILL, tf->rip, detail);
    }
    return err == 0;
}

/* An exception in app code ends the app with the signal Linux would send. */
static void app_exception(struct trap_frame *tf, uint64_t cr2)
{
    char detail[200];
    int sig;
    const char *name = exception_names[tf->vector];
    switch (tf->vector) {
    case 0: case 16: case 19: sig = SIGFPE; break;
    case 1: case 3:           sig = SIGTRAP; break;
    case 6:                   sig = SIGILL; break;
    case 17:                  sig = SIGBUS; break;
    default:                  sig = SIGSEGV; break;
    }
    if (tf->vector == 14) {
        char where[120];
        vm_describe(cr2, where, sizeof(where));
        snprintf(detail, sizeof(detail), "page fault: %s of %016lx, %s",
                 (tf->error_code & 0x10) ? "instruction fetch"
                 : (tf->error_code & 2)  ? "write" : "read",
                 (unsigned long)cr2, where);
    } else {
        snprintf(detail, sizeof(detail), "%s (vector %lu, error code %#lx)",
                 name ? name : "reserved exception", tf->vector, tf->error_code);
    }
    dump_registers(tf);
    app_crash(sig, tf->rip, detail);
}

void trap_dispatch(struct trap_frame *tf)
{
    static bool reported[256];
    struct cpu *c = this_cpu();

    if (tf->vector < 32) {
        uint64_t cr2 = tf->vector == 14 ? read_cr2() : 0;
        if (tf->vector == 14 && app_page_fault(tf, cr2))
            return;
        /* In app code, or in a system call touching app memory that went
         * away under it (another thread unmapped it meanwhile). */
        if (app_address(tf->rip) ||
            (tf->vector == 14 && app_address(cr2) && thread_current()->syscall_frame))
            app_exception(tf, cr2);
        fatal_exception(tf);
        return;
    }
    c->nr_interrupts++;
    switch (tf->vector) {
    case VEC_TIMER:
        apic_eoi();
        c->irq_pc = tf->rip;
        timer_interrupt();
        break;
    case VEC_IPI_RESCHED:
        apic_eoi();
        c->need_resched = true;
        break;
    case VEC_IPI_TLB:
        apic_eoi();
        tlb_ipi();
        break;
    case VEC_SPURIOUS:
        return;                     /* no EOI for spurious interrupts */
    case VEC_BENCH:
        return;                     /* software interrupt: nothing to ack */
    default:
        if (irq_handle((unsigned)tf->vector)) {
            apic_eoi();             /* after the handler: MSIs are edge-triggered */
            break;
        }
        apic_eoi();
        if (!reported[tf->vector]) {
            reported[tf->vector] = true;
            pr_warn("unexpected interrupt, vector %lu (ignored)\n", tf->vector);
        }
    }
    /* Interrupts only arrive where IF was set, so the interrupted code holds
     * no spinlock: this is a safe place to preempt it. */
    sched_preempt();
}

/* One software interrupt through the whole trap path (ktest=bench_sched). */
void arch_bench_trap(void)
{
    __asm__ volatile("int %0" : : "i"(VEC_BENCH) : "memory");
}
