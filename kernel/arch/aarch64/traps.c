/*
 * Exception handling. trap_entry.S saved everything and calls
 * trap_dispatch with the frame and the vector's kind. Interrupts go to
 * the interrupt controller's driver (arch_irq_dispatch). Synchronous
 * exceptions are decoded from ESR_EL1 into a struct fault and judged by
 * the generic policy (kern/fault.h): an app's page fault may be resolved,
 * an app's fault ends it with a signal. A fault in the kernel is fatal:
 * print what happened (the exception class decoded, the faulting
 * address, all registers, a backtrace) and exit with EXIT_PANIC.
 */
#include <arch/irq.h>
#include <arch/mm.h>
#include <arch/trapframe.h>
#include <kern/app.h>
#include <kern/arch.h>
#include <kern/backtrace.h>
#include <kern/fault.h>
#include <kern/ksyms.h>
#include <kern/panic.h>
#include <kern/percpu.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/vm.h>
#include "aarch64.h"

#define EC_UNKNOWN      0x00
#define EC_ILLEGAL      0x0e
#define EC_SVC64        0x15
#define EC_SYSREG       0x18
#define EC_IABT_LOW     0x20
#define EC_IABT_CUR     0x21
#define EC_PC_ALIGN     0x22
#define EC_DABT_LOW     0x24
#define EC_DABT_CUR     0x25
#define EC_SP_ALIGN     0x26
#define EC_FP64         0x2c
#define EC_SERROR       0x2f
#define EC_BRK64        0x3c

#define ESR_EC(esr)     (((esr) >> 26) & 0x3f)
#define ESR_ISS(esr)    ((esr) & 0x1ffffff)
#define ESR_WNR         (1u << 6)       /* data abort: a write */
#define ESR_FNV         (1u << 10)      /* FAR not valid */
#define PSTATE_I        (1u << 7)

/* The BRK immediate arch_bench_trap uses. */
#define BRK_BENCH       0x7e57

static const char *ec_name(unsigned ec)
{
    switch (ec) {
    case EC_UNKNOWN:  return "undefined instruction";
    case 0x01:        return "trapped WFI/WFE";
    case 0x07:        return "FP/SIMD access trapped";
    case EC_ILLEGAL:  return "illegal execution state";
    case EC_SVC64:    return "SVC";
    case EC_SYSREG:   return "trapped system register access";
    case EC_IABT_LOW: case EC_IABT_CUR: return "instruction abort";
    case EC_PC_ALIGN: return "PC alignment fault";
    case EC_DABT_LOW: case EC_DABT_CUR: return "data abort";
    case EC_SP_ALIGN: return "SP alignment fault";
    case EC_FP64:     return "floating-point exception";
    case EC_SERROR:   return "SError";
    case 0x30: case 0x31: return "breakpoint";
    case 0x32: case 0x33: return "software step";
    case 0x34: case 0x35: return "watchpoint";
    case EC_BRK64:    return "BRK instruction";
    default:          return "reserved exception class";
    }
}

/* The fault status code of an abort (ISS DFSC/IFSC), in words. */
static const char *fsc_name(unsigned fsc)
{
    switch (fsc & 0x3c) {
    case 0x04: return "translation fault (not mapped)";
    case 0x08: return "access flag fault";
    case 0x0c: return "permission fault";
    case 0x10: return fsc == 0x10 ? "synchronous external abort" : "external abort on walk";
    case 0x20: return fsc == 0x21 ? "alignment fault" : "other fault";
    case 0x30: return fsc == 0x30 ? "TLB conflict abort" : "other fault";
    default:   return fsc < 4 ? "address size fault" : "other fault";
    }
}

static void dump_registers(const struct trap_frame *tf)
{
    for (int i = 0; i < 30; i += 3)
        pr_emerg("x%-2d=%016llx x%-2d=%016llx x%-2d=%016llx\n",
                 i, (unsigned long long)tf->regs[i], i + 1, (unsigned long long)tf->regs[i + 1],
                 i + 2, (unsigned long long)tf->regs[i + 2]);
    pr_emerg("x30=%016llx SP_EL0=%016llx PC=%016llx\n", (unsigned long long)tf->regs[30],
             (unsigned long long)tf->sp, (unsigned long long)tf->pc);
    pr_emerg("PSTATE=%08llx ESR=%08llx FAR=%016llx\n", (unsigned long long)tf->pstate,
             (unsigned long long)tf->esr, (unsigned long long)tf->far);
    arch_dump_cpu_state();
}

static const char *describe(const struct trap_frame *tf, char *buf, size_t size)
{
    unsigned ec = ESR_EC(tf->esr);
    if (ec == EC_DABT_LOW || ec == EC_DABT_CUR || ec == EC_IABT_LOW || ec == EC_IABT_CUR)
        snprintf(buf, size, "%s: %s (ESR %#llx)", ec_name(ec), fsc_name(tf->esr & 0x3f),
                 (unsigned long long)tf->esr);
    else
        snprintf(buf, size, "%s (ESR %#llx)", ec_name(ec), (unsigned long long)tf->esr);
    return buf;
}

static void fatal(const struct trap_frame *tf, const char *what)
{
    static int depth;
    char sym[128], desc[128];

    if (depth++) {
        console_printf("nested exception (ESR %#llx) at %016llx while reporting a fault\n",
                       (unsigned long long)tf->esr, (unsigned long long)tf->pc);
        kernel_exit(EXIT_PANIC);
    }
    ksym_format(sym, sizeof(sym), tf->pc);
    pr_emerg("KERNEL FAULT: %s at %016llx %s\n", what ? what : describe(tf, desc, sizeof(desc)),
             (unsigned long long)tf->pc, sym);
    unsigned ec = ESR_EC(tf->esr);
    if (!what && (ec == EC_DABT_CUR || ec == EC_IABT_CUR || ec == EC_DABT_LOW ||
                  ec == EC_IABT_LOW)) {
        pr_emerg("page fault: %s of %016llx\n",
                 ec == EC_IABT_CUR || ec == EC_IABT_LOW ? "instruction fetch" :
                 (tf->esr & ESR_WNR) ? "write" : "read", (unsigned long long)tf->far);
        /* A branch to a bad address faults before the callee saves a
         * frame: the caller is the link register. */
        if ((ec == EC_IABT_CUR || ec == EC_IABT_LOW) && tf->pc == tf->far) {
            ksym_format(sym, sizeof(sym), tf->regs[30] - 4);
            pr_emerg("page fault: branched to from %s\n", sym);
        }
        fault_explain_kernel_address(tf->far);
    }
    dump_registers(tf);
    backtrace_print(tf->pc, tf->regs[29], 32);
    kernel_exit(EXIT_PANIC);
}

/* The exception decoded for the generic fault policy; false for classes
 * that are no fault of the code that ran (SError, an unexpected SVC). */
static bool decode_fault(const struct trap_frame *tf, struct fault *f)
{
    unsigned ec = ESR_EC(tf->esr);
    f->pc = tf->pc;
    f->addr = 0;
    f->access = PROT_READ;
    f->irqs_enabled = !(tf->pstate & PSTATE_I);
    f->what = NULL;
    switch (ec) {
    case EC_DABT_LOW: case EC_DABT_CUR:
    case EC_IABT_LOW: case EC_IABT_CUR: {
        unsigned fsc = tf->esr & 0x3f;
        if (fsc == 0x21) {
            f->kind = FAULT_ALIGNMENT;
            f->addr = tf->far;
            return true;
        }
        f->kind = FAULT_PAGE;
        f->addr = tf->far;
        f->access = (ec == EC_IABT_LOW || ec == EC_IABT_CUR) ? PROT_EXEC :
                    (tf->esr & ESR_WNR) ? PROT_WRITE : PROT_READ;
        /* Only translation, access-flag and permission faults are about
         * the mapping; external aborts are not the app's doing. */
        return (fsc & 0x3c) >= 0x04 && (fsc & 0x3c) <= 0x0c && !(tf->esr & ESR_FNV);
    }
    case EC_PC_ALIGN: case EC_SP_ALIGN:
        f->kind = FAULT_ALIGNMENT;
        f->addr = tf->far;
        return true;
    case EC_FP64:
        f->kind = FAULT_FP;
        return true;
    case EC_UNKNOWN: case EC_ILLEGAL: case EC_SYSREG:
        f->kind = FAULT_ILLEGAL;
        return true;
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case EC_BRK64:
        f->kind = FAULT_BREAKPOINT;
        return true;
    default:
        f->kind = FAULT_OTHER;
        return ec != EC_SERROR && ec != EC_SVC64;
    }
}

void trap_dispatch(struct trap_frame *tf, unsigned kind)
{
    switch (kind) {
    case TRAP_IRQ:
        this_cpu()->nr_interrupts++;
        arch_irq_dispatch();            /* acknowledges, handles, may preempt */
        return;
    case TRAP_SYNC:
        break;
    case TRAP_FIQ:
        fatal(tf, "FIQ (Tern routes no interrupt as FIQ)");
        return;
    case TRAP_SERROR:
        fatal(tf, "SError (an asynchronous external abort)");
        return;
    default:
        fatal(tf, "exception from a lower exception level (nothing runs there)");
        return;
    }

    unsigned ec = ESR_EC(tf->esr);
    if (ec == EC_BRK64 && ESR_ISS(tf->esr) == BRK_BENCH) {
        tf->pc += 4;                    /* arch_bench_trap: resume after the BRK */
        return;
    }
    struct fault f;
    bool app_may_cause = decode_fault(tf, &f);
    if (app_may_cause && f.kind == FAULT_PAGE && app_page_fault(&f))
        return;
    if (app_may_cause && fault_is_app(&f)) {
        char what[128];
        f.what = describe(tf, what, sizeof(what));
        dump_registers(tf);
        app_fault(&f);
    }
    fatal(tf, NULL);
}

/* One exception through the whole trap path (ktest=bench_sched). */
void arch_bench_trap(void)
{
    __asm__ volatile("brk %0" : : "i"(BRK_BENCH) : "memory");
}
