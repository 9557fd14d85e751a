/*
 * A thread's saved context for the voluntary switch on aarch64
 * (switch.S). The AAPCS64 callee-saved registers x19-x28, x29 (frame
 * pointer) and x30 (link register) are pushed on the thread's stack by
 * the switch itself, whatever the compiler did around the call
 * (docs/abi-contract.md); the whole vector state, q0-q31 (d8-d15, the
 * callee-saved ones, among them), FPSR and FPCR, goes to fpu_state, as
 * x86_64's switch saves all of XSAVE: a thread that blocks in a system
 * call must find its vector registers intact. The context keeps the
 * stack pointer, the app's thread pointer and which stack pointer the
 * thread ran on (SPSel: 0 for a thread on SP_EL0, 1 for one preempted in
 * a handler on its trap stack). Offsets are used by the assembly: change
 * both together.
 */
#ifndef ARCH_CONTEXT_H
#define ARCH_CONTEXT_H

#define CTX_SP        0
#define CTX_TPIDR_EL0 8
#define CTX_SPSEL     16
#define CTX_FPU       24

#ifndef __ASSEMBLY__
#include <stdint.h>

struct arch_context {
    uint64_t sp;            /* x19-x30 and d8-d15 are pushed on the stack */
    uint64_t tpidr_el0;     /* the app's TLS pointer */
    uint64_t spsel;         /* PSTATE.SP at the switch: 0 = SP_EL0, 1 = SP_EL1 */
    void *fpu_state;        /* 16-byte aligned: q0-q31, FPSR, FPCR (528 bytes) */
};

_Static_assert(__builtin_offsetof(struct arch_context, fpu_state) == CTX_FPU,
               "arch_context layout");

/* Switch from prev to next; returns (in next's context) the prev that
 * switched to it. */
struct arch_context *arch_switch(struct arch_context *prev, struct arch_context *next);

/* Prepare a new context that starts in thread_start(entry, arg) on the
 * stack ending at stack_top. */
void arch_context_init(struct arch_context *c, uintptr_t stack_top,
                       void (*entry)(void *), void *arg, void *fpu_state);

/* The thread pointer (TLS base) a new context starts with: TPIDR_EL0;
 * the switch loads it. */
static inline void arch_context_set_tls(struct arch_context *c, uintptr_t tls)
{
    c->tpidr_el0 = tls;
}

/* A context not yet started will run app code. On aarch64 the switch
 * saves and restores every thread's whole state, so there is nothing to
 * mark (x86_64 switches FP/SIMD state only for such contexts). */
static inline void arch_context_set_app(struct arch_context *c)
{
    (void)c;
}

/* The context of code already running (a CPU's boot context becoming a
 * thread): only its save area, filled by the first switch away. */
void arch_context_adopt(struct arch_context *c, void *fpu_state);
#endif

#endif
