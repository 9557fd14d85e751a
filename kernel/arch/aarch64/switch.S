/*
 * The voluntary context switch.
 *
 *   struct arch_context *arch_switch(struct arch_context *prev,
 *                                    struct arch_context *next);
 *
 * ABI rule kept here (docs/abi-contract.md, "voluntary switch"): a switch
 * is a function call, so the caller already assumes x0-x18 clobbered;
 * everything AAPCS64 calls callee-saved must come back exactly: x19-x28,
 * x29 (frame pointer), x30 (link register), sp and d8-d15, plus (Tern's
 * own rules) FPCR, FPSR and TPIDR_EL0, the thread's TLS pointer. Saved
 * here explicitly, in assembly, so that no optimization level can change
 * what is preserved: OSv's aarch64 switch left x19-x28 and d8-d15 to the
 * compiler, and only -O2's inlining hid it. Beyond the ABI the whole
 * vector state (q0-q31) is saved too, as on x86_64: a thread blocked in a
 * system call must find all its vector registers intact.
 *
 * Stack pointers (trap_entry.S): a thread runs on SP_EL0; one preempted
 * in an exception handler runs on SP_EL1 (its trap stack). The switch
 * saves which one (SPSel) and, before resuming next, points SP_EL1 back
 * at this CPU's exception stack, where next's exceptions must enter if it
 * runs on SP_EL0.
 *
 * Negative controls (make BROKEN=x19|d8): a switch that loses x19-x28 or
 * d8-d15 (q8-q15), to show the torture test catches it.
 *
 * Called with interrupts masked.
 */
#include <arch/context.h>
#include <arch/percpu.h>

    .arch armv8-a+fp+simd

#define FRAME 96                        /* x19-x28, x29, x30 */

    .text
    .globl arch_switch
arch_switch:
    sub sp, sp, #FRAME
#ifndef TERN_BROKEN_SWITCH_X19
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
#endif
    stp x29, x30, [sp, #80]
    mrs x9, tpidr_el0
    str x9, [x0, #CTX_TPIDR_EL0]
    mrs x9, spsel
    str x9, [x0, #CTX_SPSEL]
    ldr x9, [x0, #CTX_FPU]
    stp q0, q1, [x9, #0]
    stp q2, q3, [x9, #32]
    stp q4, q5, [x9, #64]
    stp q6, q7, [x9, #96]
#ifndef TERN_BROKEN_SWITCH_D8
    stp q8, q9, [x9, #128]
    stp q10, q11, [x9, #160]
    stp q12, q13, [x9, #192]
    stp q14, q15, [x9, #224]
#endif
    stp q16, q17, [x9, #256]
    stp q18, q19, [x9, #288]
    stp q20, q21, [x9, #320]
    stp q22, q23, [x9, #352]
    stp q24, q25, [x9, #384]
    stp q26, q27, [x9, #416]
    stp q28, q29, [x9, #448]
    stp q30, q31, [x9, #480]
    mrs x10, fpsr
    mrs x11, fpcr
    str x10, [x9, #512]
    str x11, [x9, #520]
    mov x9, sp
    str x9, [x0, #CTX_SP]

    /* SP_EL1 back to this CPU's exception stack; then next's stack. */
    mrs x10, tpidr_el1
    ldr x10, [x10, #CPU_EXC_STACK]
    msr spsel, #1
    mov sp, x10
    ldr x9, [x1, #CTX_SPSEL]
    cbnz x9, 1f
    msr spsel, #0
1:  ldr x9, [x1, #CTX_SP]
    mov sp, x9                          /* now on next's stack */

    ldr x9, [x1, #CTX_FPU]
    ldp q0, q1, [x9, #0]
    ldp q2, q3, [x9, #32]
    ldp q4, q5, [x9, #64]
    ldp q6, q7, [x9, #96]
#ifndef TERN_BROKEN_SWITCH_D8
    ldp q8, q9, [x9, #128]
    ldp q10, q11, [x9, #160]
    ldp q12, q13, [x9, #192]
    ldp q14, q15, [x9, #224]
#endif
    ldp q16, q17, [x9, #256]
    ldp q18, q19, [x9, #288]
    ldp q20, q21, [x9, #320]
    ldp q22, q23, [x9, #352]
    ldp q24, q25, [x9, #384]
    ldp q26, q27, [x9, #416]
    ldp q28, q29, [x9, #448]
    ldp q30, q31, [x9, #480]
    ldr x10, [x9, #512]
    ldr x11, [x9, #520]
    msr fpsr, x10
    msr fpcr, x11
    ldr x9, [x1, #CTX_TPIDR_EL0]
    msr tpidr_el0, x9
#ifndef TERN_BROKEN_SWITCH_X19
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
#endif
    ldp x29, x30, [sp, #80]
    add sp, sp, #FRAME
    ret                                 /* x0: prev, for the resumed side */

/*
 * A new thread's first "return" from arch_switch lands here (see
 * arch_context_init): the entry function and its argument are in the
 * switch frame just popped (its x19 and x20 slots, read from memory so
 * that even the BROKEN=x19 switch starts threads), x0 the context we
 * switched from.
 */
    .globl thread_trampoline
thread_trampoline:
    ldp x1, x2, [sp, #-FRAME]
    mov x29, #0                         /* ends backtraces */
    mov x30, #0
    bl thread_start                     /* kernel/sched/thread.c; no return */
    brk #0
