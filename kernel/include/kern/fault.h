/*
 * Faults in the CPU's exception path. The architecture decodes an exception
 * (what kind, where, which address and access) into a struct fault; what it
 * means is decided here, once for every architecture: a page fault in the
 * app's half may be resolved (demand paging, copy on write), otherwise the
 * app ends with the signal Linux would send; a kernel page fault is
 * explained (stack overflow, NULL pointer) before the arch's panic report.
 */
#ifndef KERN_FAULT_H
#define KERN_FAULT_H

#include <kern/types.h>

enum fault_kind {
    FAULT_PAGE,         /* the page tables refused an access: addr, access */
    FAULT_DIVIDE,       /* integer division by zero or overflow */
    FAULT_FP,           /* a floating-point or SIMD exception */
    FAULT_BREAKPOINT,   /* a breakpoint or single-step trap */
    FAULT_ILLEGAL,      /* an undefined instruction */
    FAULT_ALIGNMENT,    /* a misaligned access the CPU refused */
    FAULT_OTHER,        /* anything else (x86 #GP, #SS, ...) */
};

struct fault {
    enum fault_kind kind;
    uintptr_t pc;           /* the faulting instruction */
    uintptr_t addr;         /* FAULT_PAGE: the address accessed */
    unsigned access;        /* FAULT_PAGE: PROT_READ, PROT_WRITE or PROT_EXEC */
    bool irqs_enabled;      /* interrupts were on where it happened */
    const char *what;       /* not FAULT_PAGE: the arch's description for the
                             * report, e.g. "#GP general protection (vector
                             * 13, error code 0)" */
};

/* A page fault in the app's half: map the page when the access is allowed.
 * True when it was resolved (retry the access). With interrupts off where
 * it happened nothing may touch app memory (kern/uaccess.h), so such a
 * fault is never resolved. No free page: the app ends with SIGKILL, as
 * Linux's OOM killer would. Called with interrupts off; may sleep. */
bool app_page_fault(const struct fault *f);

/* True when the fault is the app's: in app code, or in a system call that
 * touched app memory which went away under it (another thread unmapped
 * it meanwhile). */
bool fault_is_app(const struct fault *f);

/* End the app for a fault it cannot continue from: report it and exit
 * with 128 + the signal Linux would send (SIGSEGV, SIGFPE, SIGILL,
 * SIGTRAP, SIGBUS). The arch prints the registers first. */
void app_fault(const struct fault *f) __noreturn;

/* For a kernel page fault's report: say what the address is when we know
 * (a stack guard page, so which stack overflowed; the NULL page). */
void fault_explain_kernel_address(uintptr_t addr);

#endif
