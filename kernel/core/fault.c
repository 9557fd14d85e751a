/*
 * The fault policy (kern/fault.h): what a decoded exception means for the
 * app, and what a kernel page fault's address tells. Architectures only
 * decode; every one of them gets the same signals and diagnoses.
 */
#include <arch/irq.h>
#include <arch/mm.h>
#include <kern/app.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/fault.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/thread.h>
#include <kern/vm.h>

bool app_page_fault(const struct fault *f)
{
    if (f->kind != FAULT_PAGE || !app_address(f->addr) || !f->irqs_enabled)
        return false;
    /* vm_fault may sleep: interrupts go back on, as they were where the
     * fault happened. */
    arch_irq_enable();
    int err = vm_fault(f->addr, f->access);
    arch_irq_disable();
    if (err == -ENOMEM) {
        /* Linux's OOM killer would send SIGKILL: so does this. */
        char detail[120];
        snprintf(detail, sizeof(detail), "out of memory: no free page for %016lx "
                 "(give the VM more memory: the manifest's memory key)", (unsigned long)f->addr);
        app_crash(SIGKILL, f->pc, detail);
    }
    return err == 0;
}

bool fault_is_app(const struct fault *f)
{
    if (app_address(f->pc))
        return true;
    return f->kind == FAULT_PAGE && app_address(f->addr) && thread_current()->syscall_frame;
}

static const char *access_name(unsigned access)
{
    return access == PROT_EXEC ? "instruction fetch" : access == PROT_WRITE ? "write" : "read";
}

/* The signal Linux sends for each kind of fault. */
static int fault_signal(enum fault_kind kind)
{
    switch (kind) {
    case FAULT_DIVIDE:
    case FAULT_FP:          return SIGFPE;
    case FAULT_BREAKPOINT:  return SIGTRAP;
    case FAULT_ILLEGAL:     return SIGILL;
    case FAULT_ALIGNMENT:   return SIGBUS;
    case FAULT_PAGE:
    case FAULT_OTHER:
    default:                return SIGSEGV;
    }
}

void app_fault(const struct fault *f)
{
    char detail[200];
    if (f->kind == FAULT_PAGE) {
        char where[120];
        vm_describe(f->addr, where, sizeof(where));
        snprintf(detail, sizeof(detail), "page fault: %s of %016lx, %s",
                 access_name(f->access), (unsigned long)f->addr, where);
    } else {
        snprintf(detail, sizeof(detail), "%s", f->what ? f->what : "fault");
    }
    app_crash(fault_signal(f->kind), f->pc, detail);
}

void fault_explain_kernel_address(uintptr_t addr)
{
    struct thread *owner = sched_guard_owner(addr);
    if (arch_is_guard_page(ALIGN_DOWN(addr, PAGE_SIZE)))
        pr_emerg("page fault: the address is a stack guard page: kernel stack overflow\n");
    else if (owner)
        pr_emerg("page fault: the address is a stack guard page: thread '%s' overflowed its stack\n",
                 owner->name);
    else if (addr < PAGE_SIZE)
        pr_emerg("page fault: NULL pointer dereference\n");
}
