/*
 * Exception handling. Faults are decoded here and judged by the generic
 * policy (kern/fault.h): an app's page fault may be resolved, an app's
 * fault ends it with a signal. A fault in the kernel is fatal: print what
 * happened (vector, error code decoded, faulting address, all registers,
 * backtrace) and exit with EXIT_PANIC. Interrupts are not enabled yet; an unexpected
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
#include <kern/fault.h>
#include <kern/irq.h>
#include <kern/ksyms.h>
#include <kern/panic.h>
#include <kern/platform.h>
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
    fault_explain_kernel_address(cr2);
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

/* The exception decoded for the generic fault policy (kern/fault.h). */
static void decode_fault(const struct trap_frame *tf, uint64_t cr2, struct fault *f)
{
    switch (tf->vector) {
    case 0:             f->kind = FAULT_DIVIDE; break;
    case 16: case 19:   f->kind = FAULT_FP; break;
    case 1: case 3:     f->kind = FAULT_BREAKPOINT; break;
    case 6:             f->kind = FAULT_ILLEGAL; break;
    case 14:            f->kind = FAULT_PAGE; break;
    case 17:            f->kind = FAULT_ALIGNMENT; break;
    default:            f->kind = FAULT_OTHER; break;
    }
    f->pc = tf->rip;
    f->addr = cr2;
    f->access = (tf->error_code & 0x10) ? PROT_EXEC
              : (tf->error_code & 2)    ? PROT_WRITE : PROT_READ;
    f->irqs_enabled = tf->rflags & RFLAGS_IF;
    f->what = NULL;
}

/* The exception named for an app's fault report (not on the page-fault
 * path: demand paging must stay cheap). */
static const char *describe_exception(const struct trap_frame *tf, char *buf, size_t size)
{
    const char *name = exception_names[tf->vector];
    snprintf(buf, size, "%s (vector %lu, error code %#lx)",
             name ? name : "reserved exception", tf->vector, tf->error_code);
    return buf;
}

void trap_dispatch(struct trap_frame *tf)
{
    static bool reported[256];
    struct cpu *c = this_cpu();

    if (tf->vector < 32) {
        uint64_t cr2 = tf->vector == 14 ? read_cr2() : 0;
        struct fault f;
        decode_fault(tf, cr2, &f);
        if (app_page_fault(&f))
            return;
        if (fault_is_app(&f)) {
            char what[100];
            f.what = describe_exception(tf, what, sizeof(what));
            dump_registers(tf);
            app_fault(&f);
        }
        fatal_exception(tf);
        return;
    }
    c->nr_interrupts++;
    /* For profile=: the timer may be the platform's (an event on Xen),
     * reached through the device path below. */
    c->irq_pc = tf->rip;
    switch (tf->vector) {
    case VEC_TIMER:
        apic_eoi();
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
        if (platform_irq_dispatch((unsigned)tf->vector)) {
            /* After the handler: MSIs are edge-triggered, and Xen raises
             * its upcall vector again only once this one is done. */
            apic_eoi();
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
