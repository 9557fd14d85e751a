/*
 * torture_round: the register half of the ABI torture test
 * (kernel/ktest/torture.c), for AAPCS64.
 *
 *   uint64_t torture_round(const struct torture_pattern *p,
 *                          void (*op)(void *), void *arg, uint64_t flags);
 *
 * Loads distinct values into x1-x28, v0-v31, FPCR and FPSR, keeps them
 * live across op(arg) (a yield, a blocking lock, a sleep), across
 * `svc #0` with x8 = arg, or across a spin that only ends when the
 * thread has been preempted, then compares each register with the
 * pattern. Only our own frame is used as memory meanwhile, so nothing but
 * the switch, trap and syscall paths can damage the values. What is
 * checked: after a call the callee-saved x19-x28 (x29/x30 are the frame's
 * own: a broken one crashes the return), and all of v0-v31 (the switch
 * saves them all); after svc every register but x0; after a preemption
 * every register. FPCR and FPSR always.
 */
#include <arch/torture.h>

    .arch armv8-a+fp+simd

#define F_FP        0
#define F_X19       16
#define F_D8        96
#define F_P         160
#define F_OP        168
#define F_ARG       176
#define F_FLAGS     184
#define F_MASK      192
#define F_BOUND     208
#define F_FPCR0     216
#define F_FPSR0     224
#define F_VSAVE     240
#define F_SIZE      752

#define SPIN_BOUND  100000000

.macro SETBIT bit
    ldr x30, [sp, #F_MASK]
    orr x30, x30, #(1 << (\bit))
    str x30, [sp, #F_MASK]
.endm

/* x(idx+1) against p->gpr[idx]; p in x0. */
.macro CHECK_GPR reg, idx
    ldr x30, [x0, #(TP_GPR + \idx * 8)]
    cmp \reg, x30
    b.eq 1f
    SETBIT \idx
1:
.endm

.macro LOAD_GPRS                        /* from p in x0 */
    ldp x1, x2, [x0, #(TP_GPR + 0)]
    ldp x3, x4, [x0, #(TP_GPR + 16)]
    ldp x5, x6, [x0, #(TP_GPR + 32)]
    ldp x7, x8, [x0, #(TP_GPR + 48)]
    ldp x9, x10, [x0, #(TP_GPR + 64)]
    ldp x11, x12, [x0, #(TP_GPR + 80)]
    ldp x13, x14, [x0, #(TP_GPR + 96)]
    ldp x15, x16, [x0, #(TP_GPR + 112)]
    ldp x17, x18, [x0, #(TP_GPR + 128)]
    ldp x19, x20, [x0, #(TP_GPR + 144)]
    ldp x21, x22, [x0, #(TP_GPR + 160)]
    ldp x23, x24, [x0, #(TP_GPR + 176)]
    ldp x25, x26, [x0, #(TP_GPR + 192)]
    ldp x27, x28, [x0, #(TP_GPR + 208)]
.endm

.macro CHECK_CALLER_SAVED               /* x1-x7, x9-x18 */
    CHECK_GPR x1, 0
    CHECK_GPR x2, 1
    CHECK_GPR x3, 2
    CHECK_GPR x4, 3
    CHECK_GPR x5, 4
    CHECK_GPR x6, 5
    CHECK_GPR x7, 6
    CHECK_GPR x9, 8
    CHECK_GPR x10, 9
    CHECK_GPR x11, 10
    CHECK_GPR x12, 11
    CHECK_GPR x13, 12
    CHECK_GPR x14, 13
    CHECK_GPR x15, 14
    CHECK_GPR x16, 15
    CHECK_GPR x17, 16
    CHECK_GPR x18, 17
.endm

    .text
    .globl torture_round
torture_round:
    sub sp, sp, #F_SIZE
    stp x29, x30, [sp, #F_FP]
    mov x29, sp
    stp x19, x20, [sp, #(F_X19 + 0)]
    stp x21, x22, [sp, #(F_X19 + 16)]
    stp x23, x24, [sp, #(F_X19 + 32)]
    stp x25, x26, [sp, #(F_X19 + 48)]
    stp x27, x28, [sp, #(F_X19 + 64)]
    stp d8, d9, [sp, #(F_D8 + 0)]
    stp d10, d11, [sp, #(F_D8 + 16)]
    stp d12, d13, [sp, #(F_D8 + 32)]
    stp d14, d15, [sp, #(F_D8 + 48)]
    stp x0, x1, [sp, #F_P]
    stp x2, x3, [sp, #F_ARG]
    str xzr, [sp, #F_MASK]
    ldr x9, =SPIN_BOUND
    str x9, [sp, #F_BOUND]
    mrs x9, fpcr
    str x9, [sp, #F_FPCR0]
    mrs x9, fpsr
    str x9, [sp, #F_FPSR0]

    /* Vector registers, FPCR, FPSR. */
    tst x3, #TORTURE_VEC
    b.eq 2f
    add x9, x0, #TP_VEC
    ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x9], #64
    ld1 {v4.16b, v5.16b, v6.16b, v7.16b}, [x9], #64
    ld1 {v8.16b, v9.16b, v10.16b, v11.16b}, [x9], #64
    ld1 {v12.16b, v13.16b, v14.16b, v15.16b}, [x9], #64
    ld1 {v16.16b, v17.16b, v18.16b, v19.16b}, [x9], #64
    ld1 {v20.16b, v21.16b, v22.16b, v23.16b}, [x9], #64
    ld1 {v24.16b, v25.16b, v26.16b, v27.16b}, [x9], #64
    ld1 {v28.16b, v29.16b, v30.16b, v31.16b}, [x9], #64
2:  ldr w9, [x0, #TP_FPCR]
    msr fpcr, x9
    ldr w9, [x0, #TP_FPSR]
    msr fpsr, x9

    tst x3, #TORTURE_SYSCALL
    b.ne 10f
    tst x3, #TORTURE_SPIN
    b.ne 5f

    /* A call: op(arg). */
    LOAD_GPRS
    ldr x30, [sp, #F_OP]
    ldr x0, [sp, #F_ARG]
    blr x30
    ldr x0, [sp, #F_P]
    b 7f

10: /* A system call: x8 = the number, x0 = p->gpr[28]; every register
     * but x0 must come back (SYS_tern_test_args also checks x0-x5 inside
     * the kernel, torture_syscall_args). */
    LOAD_GPRS
    ldr x8, [sp, #F_ARG]
    ldr x0, [x0, #(TP_GPR + 28 * 8)]
    svc #0
    ldr x0, [sp, #F_P]
    CHECK_CALLER_SAVED
    ldr x30, [sp, #F_ARG]
    cmp x8, x30
    b.eq 7f
    SETBIT 7
    b 7f

5:  /* Spin until the counter at arg moves (we were preempted), with every
     * register but x0 (the counter's address), x29 (its first value) and
     * x30 holding a pattern. */
    LOAD_GPRS
    ldr x0, [sp, #F_ARG]
    ldr x29, [x0]
6:  yield
    ldr x30, [x0]
    cmp x30, x29
    b.ne 8f
    ldr x30, [sp, #F_BOUND]
    subs x30, x30, #1
    str x30, [sp, #F_BOUND]
    b.ne 6b
    SETBIT 63
8:  mov x29, sp
    ldr x0, [sp, #F_P]
    CHECK_CALLER_SAVED
    CHECK_GPR x8, 7

7:  /* Callee-saved GPRs (p in x0). */
    CHECK_GPR x19, 18
    CHECK_GPR x20, 19
    CHECK_GPR x21, 20
    CHECK_GPR x22, 21
    CHECK_GPR x23, 22
    CHECK_GPR x24, 23
    CHECK_GPR x25, 24
    CHECK_GPR x26, 25
    CHECK_GPR x27, 26
    CHECK_GPR x28, 27

    /* FPCR and FPSR. */
    mrs x1, fpcr
    ldr w2, [x0, #TP_FPCR]
    cmp w1, w2
    b.eq 1f
    SETBIT 60
1:  mrs x1, fpsr
    ldr w2, [x0, #TP_FPSR]
    cmp w1, w2
    b.eq 1f
    SETBIT 61
1:
    /* Vector registers: stored to our frame, compared as pairs of u64. */
    ldr x3, [sp, #F_FLAGS]
    tst x3, #TORTURE_VEC
    b.eq 9f
    add x9, sp, #F_VSAVE
    st1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x9], #64
    st1 {v4.16b, v5.16b, v6.16b, v7.16b}, [x9], #64
    st1 {v8.16b, v9.16b, v10.16b, v11.16b}, [x9], #64
    st1 {v12.16b, v13.16b, v14.16b, v15.16b}, [x9], #64
    st1 {v16.16b, v17.16b, v18.16b, v19.16b}, [x9], #64
    st1 {v20.16b, v21.16b, v22.16b, v23.16b}, [x9], #64
    st1 {v24.16b, v25.16b, v26.16b, v27.16b}, [x9], #64
    st1 {v28.16b, v29.16b, v30.16b, v31.16b}, [x9], #64
    add x9, sp, #F_VSAVE
    add x10, x0, #TP_VEC
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ldp x1, x2, [x9], #16
    ldp x3, x4, [x10], #16
    cmp x1, x3
    ccmp x2, x4, #0, eq
    b.eq 1f
    SETBIT (28 + \i)
1:
    .endr
9:
    ldr x9, [sp, #F_FPCR0]
    msr fpcr, x9
    ldr x9, [sp, #F_FPSR0]
    msr fpsr, x9
    ldr x0, [sp, #F_MASK]
    ldp x19, x20, [sp, #(F_X19 + 0)]
    ldp x21, x22, [sp, #(F_X19 + 16)]
    ldp x23, x24, [sp, #(F_X19 + 32)]
    ldp x25, x26, [sp, #(F_X19 + 48)]
    ldp x27, x28, [sp, #(F_X19 + 64)]
    ldp d8, d9, [sp, #(F_D8 + 0)]
    ldp d10, d11, [sp, #(F_D8 + 16)]
    ldp d12, d13, [sp, #(F_D8 + 32)]
    ldp d14, d15, [sp, #(F_D8 + 48)]
    ldp x29, x30, [sp, #F_FP]
    add sp, sp, #F_SIZE
    ret
    .ltorg
