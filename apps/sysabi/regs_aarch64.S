/*
 * The register half of the arm64 syscall ABI torture app (sysabi_aarch64.c).
 *
 *   uint64_t sysabi_round(const struct sysabi_regs *in,
 *                         struct sysabi_regs *out, uint64_t mode,
 *                         const struct sysabi_spin *spin);
 *
 * Loads every register the arm64 Linux syscall contract preserves from
 * *in: x1-x30 (x8 = the system call number, x0-x5 the arguments), NZCV,
 * q0-q31, FPCR and FPSR (sp is kept, and checked); then executes `svc #0`,
 * or (M_SPIN) spins with all of them live until the counter jumps (the
 * thread was interrupted or preempted) or a deadline passes; then stores
 * what every one of those registers holds into *out, plus sp and
 * TPIDR_EL0. sysabi_aarch64.c compares *out with *in.
 *
 * Between the loads and the stores only this function's own frame (at and
 * above sp) is touched. This is an assembly file on purpose: with inline
 * asm and clobber lists the compiler would choose which registers hold
 * what, and could hide exactly the bugs this looks for.
 *
 * Returns x0 after the svc, or 1 if the spin saw a gap (0 if not).
 */
#include "sysabi_aarch64.h"

    .arch armv8-a+fp+simd

/* Our frame; the callee-saved registers above it. */
#define F_IN        0
#define F_OUT       8
#define F_MODE      16
#define F_SP        24      /* sp as it must come back */
#define F_RESULT    32
#define F_X1        40      /* x1, parked while it is the scratch */
#define F_NZCV      48
#define F_OBSSP     56      /* sp as it came back */
#define F_FPCR0     64      /* the caller's FPCR */
#define F_NEXT      72      /* spin: the counter value that means a gap */
#define F_GAP       80
#define F_DEADLINE  88
#define F_SAVE_X    96      /* x19-x30 */
#define F_SAVE_D    192     /* d8-d15 (AAPCS64 callee-saved) */
#define F_SIZE      256

/* x1-x30 from in (x0); x0 is the caller's (loaded last before the svc,
 * the spin's scratch). */
.macro load_x1_x30
    ldp x1, x2, [x0, #A_X + 8]
    ldp x3, x4, [x0, #A_X + 24]
    ldp x5, x6, [x0, #A_X + 40]
    ldp x7, x8, [x0, #A_X + 56]
    ldp x9, x10, [x0, #A_X + 72]
    ldp x11, x12, [x0, #A_X + 88]
    ldp x13, x14, [x0, #A_X + 104]
    ldp x15, x16, [x0, #A_X + 120]
    ldp x17, x18, [x0, #A_X + 136]
    ldp x19, x20, [x0, #A_X + 152]
    ldp x21, x22, [x0, #A_X + 168]
    ldp x23, x24, [x0, #A_X + 184]
    ldp x25, x26, [x0, #A_X + 200]
    ldp x27, x28, [x0, #A_X + 216]
    ldp x29, x30, [x0, #A_X + 232]
.endm

/* Right after the svc or the spin: x1 parked in the frame, then NZCV and
 * sp as they came back, recorded through x1. */
.macro record_x1_nzcv_sp
    str x1, [sp, #F_X1]
    mrs x1, nzcv
    str x1, [sp, #F_NZCV]
    mov x1, sp
    str x1, [sp, #F_OBSSP]
.endm

    .text
    .globl sysabi_round
    .type sysabi_round, %function
sysabi_round:
    sub sp, sp, #F_SIZE
    stp x19, x20, [sp, #F_SAVE_X]
    stp x21, x22, [sp, #F_SAVE_X + 16]
    stp x23, x24, [sp, #F_SAVE_X + 32]
    stp x25, x26, [sp, #F_SAVE_X + 48]
    stp x27, x28, [sp, #F_SAVE_X + 64]
    stp x29, x30, [sp, #F_SAVE_X + 80]
    stp d8, d9, [sp, #F_SAVE_D]
    stp d10, d11, [sp, #F_SAVE_D + 16]
    stp d12, d13, [sp, #F_SAVE_D + 32]
    stp d14, d15, [sp, #F_SAVE_D + 48]
    str x0, [sp, #F_IN]
    str x1, [sp, #F_OUT]
    str x2, [sp, #F_MODE]
    mov x9, sp
    str x9, [sp, #F_SP]
    mrs x9, fpcr
    str x9, [sp, #F_FPCR0]
    str xzr, [sp, #F_RESULT]

    tbz x2, #0, 1f                      /* M_SPIN: the gap and the deadline */
    ldr x9, [x3, #S_GAP]
    str x9, [sp, #F_GAP]
    isb
    mrs x10, cntvct_el0
    add x11, x10, x9
    str x11, [sp, #F_NEXT]
    ldr x11, [x3, #S_MAX]
    add x11, x10, x11
    str x11, [sp, #F_DEADLINE]
1:
    /* Vector state, FPCR, FPSR, then NZCV: after the msr only loads run,
     * which leave the flags alone. */
    add x9, x0, #A_VEC
    ldp q0, q1, [x9], #32
    ldp q2, q3, [x9], #32
    ldp q4, q5, [x9], #32
    ldp q6, q7, [x9], #32
    ldp q8, q9, [x9], #32
    ldp q10, q11, [x9], #32
    ldp q12, q13, [x9], #32
    ldp q14, q15, [x9], #32
    ldp q16, q17, [x9], #32
    ldp q18, q19, [x9], #32
    ldp q20, q21, [x9], #32
    ldp q22, q23, [x9], #32
    ldp q24, q25, [x9], #32
    ldp q26, q27, [x9], #32
    ldp q28, q29, [x9], #32
    ldp q30, q31, [x9], #32
    ldr x9, [x0, #A_FPCR]
    msr fpcr, x9
    ldr x9, [x0, #A_FPSR]
    msr fpsr, x9
    ldr x9, [x0, #A_NZCV]
    msr nzcv, x9
    ldr x9, [sp, #F_MODE]
    tbnz x9, #0, 40f                    /* (tbnz leaves the flags alone) */

    /* ---- the system call ---- */
    load_x1_x30
    ldr x0, [x0, #A_X]                  /* last: it held in */
    svc #0
    str x0, [sp, #F_RESULT]
    record_x1_nzcv_sp
    /* --self-test-broken: what a kernel that loses a register would do. */
    ldr x1, [sp, #F_MODE]
    tbz x1, #1, 2f
    mvn x9, x9
2:  tbz x1, #2, 50f
    movi v15.16b, #0
    b 50f

    /* ---- the spin: preemption and interrupts must keep everything but
     * x0 (the loop's scratch) and NZCV (its comparisons); x1 is parked in
     * the frame for the few instructions it helps. ---- */
40: load_x1_x30
41: str x1, [sp, #F_X1]
    isb
    mrs x0, cntvct_el0
    ldr x1, [sp, #F_NEXT]
    cmp x0, x1
    b.hs 42f
    ldr x1, [sp, #F_GAP]
    add x1, x0, x1
    str x1, [sp, #F_NEXT]
    ldr x1, [sp, #F_DEADLINE]
    cmp x0, x1
    ldr x1, [sp, #F_X1]
    b.lo 41b
    mov x0, #0                          /* no gap before the deadline */
    b 43f
42: ldr x1, [sp, #F_X1]
    mov x0, #1                          /* interrupted */
43: str x0, [sp, #F_RESULT]
    record_x1_nzcv_sp

    /* ---- store everything into *out (x0 and x1 are free) ---- */
50: ldr x0, [sp, #F_OUT]
    stp x2, x3, [x0, #A_X + 16]
    stp x4, x5, [x0, #A_X + 32]
    stp x6, x7, [x0, #A_X + 48]
    stp x8, x9, [x0, #A_X + 64]
    stp x10, x11, [x0, #A_X + 80]
    stp x12, x13, [x0, #A_X + 96]
    stp x14, x15, [x0, #A_X + 112]
    stp x16, x17, [x0, #A_X + 128]
    stp x18, x19, [x0, #A_X + 144]
    stp x20, x21, [x0, #A_X + 160]
    stp x22, x23, [x0, #A_X + 176]
    stp x24, x25, [x0, #A_X + 192]
    stp x26, x27, [x0, #A_X + 208]
    stp x28, x29, [x0, #A_X + 224]
    str x30, [x0, #A_X + 240]
    ldr x1, [sp, #F_X1]
    str x1, [x0, #A_X + 8]
    ldr x1, [sp, #F_RESULT]
    str x1, [x0, #A_X]
    str x1, [x0, #A_RESULT]
    ldr x1, [sp, #F_OBSSP]
    str x1, [x0, #A_SP]
    ldr x1, [sp, #F_SP]
    str x1, [x0, #A_SP0]
    ldr x1, [sp, #F_NZCV]
    str x1, [x0, #A_NZCV]
    mrs x1, fpcr
    str x1, [x0, #A_FPCR]
    mrs x1, fpsr
    str x1, [x0, #A_FPSR]
    mrs x1, tpidr_el0
    str x1, [x0, #A_TPIDR]
    add x1, x0, #A_VEC
    stp q0, q1, [x1], #32
    stp q2, q3, [x1], #32
    stp q4, q5, [x1], #32
    stp q6, q7, [x1], #32
    stp q8, q9, [x1], #32
    stp q10, q11, [x1], #32
    stp q12, q13, [x1], #32
    stp q14, q15, [x1], #32
    stp q16, q17, [x1], #32
    stp q18, q19, [x1], #32
    stp q20, q21, [x1], #32
    stp q22, q23, [x1], #32
    stp q24, q25, [x1], #32
    stp q26, q27, [x1], #32
    stp q28, q29, [x1], #32
    stp q30, q31, [x1], #32

    /* Back to what the C caller may assume. */
    ldr x1, [sp, #F_FPCR0]
    msr fpcr, x1
    msr fpsr, xzr
    ldr x0, [sp, #F_RESULT]
    ldp d8, d9, [sp, #F_SAVE_D]
    ldp d10, d11, [sp, #F_SAVE_D + 16]
    ldp d12, d13, [sp, #F_SAVE_D + 32]
    ldp d14, d15, [sp, #F_SAVE_D + 48]
    ldp x19, x20, [sp, #F_SAVE_X]
    ldp x21, x22, [sp, #F_SAVE_X + 16]
    ldp x23, x24, [sp, #F_SAVE_X + 32]
    ldp x25, x26, [sp, #F_SAVE_X + 48]
    ldp x27, x28, [sp, #F_SAVE_X + 64]
    ldp x29, x30, [sp, #F_SAVE_X + 80]
    add sp, sp, #F_SIZE
    ret
    .size sysabi_round, . - sysabi_round

/* Small helpers for sysabi_aarch64.c (kept here so that C has no inline asm). */

    .globl sysabi_counter               /* uint64_t sysabi_counter(void): CNTVCT_EL0 */
    .type sysabi_counter, %function
sysabi_counter:
    isb
    mrs x0, cntvct_el0
    ret
    .size sysabi_counter, . - sysabi_counter

    .globl sysabi_counter_hz            /* uint64_t sysabi_counter_hz(void): CNTFRQ_EL0 */
    .type sysabi_counter_hz, %function
sysabi_counter_hz:
    mrs x0, cntfrq_el0
    ret
    .size sysabi_counter_hz, . - sysabi_counter_hz

    .globl sysabi_tpidr                 /* uint64_t sysabi_tpidr(void): TPIDR_EL0 */
    .type sysabi_tpidr, %function
sysabi_tpidr:
    mrs x0, tpidr_el0
    ret
    .size sysabi_tpidr, . - sysabi_tpidr

    .section .note.GNU-stack,"",%progbits
