/*
 * torture_round: the register half of the ABI torture test
 * (kernel/ktest/torture.c).
 *
 *   uint64_t torture_round(const struct torture_pattern *p,
 *                          void (*op)(void *), void *arg, uint64_t flags);
 *
 * Loads distinct values into every register the contract covers, keeps
 * them live across op(arg) (a yield, a blocking lock, a sleep) or across
 * a spin that only ends when the thread has been preempted, then compares
 * each register with the pattern. Only the stack (our own frame) is used
 * as memory meanwhile, so nothing but the switch and trap paths can damage
 * the values. In spin mode the caller-saved GPRs are checked too, since an
 * interrupt must preserve everything.
 */
#include <arch/torture.h>

/* Our frame, above the saved callee-saved registers. */
#define F_P       0
#define F_OP      8
#define F_ARG     16
#define F_FLAGS   24
#define F_MASK    32
#define F_START   40
#define F_BOUND   48
#define F_TMP     56
#define F_MXCSR0  64
#define F_FCW0    72
#define F_SIZE    88        /* keeps rsp 16-byte aligned for the call */

#define SPIN_BOUND 100000000

.macro CHECK_GPR reg, idx
    cmpq (TP_GPR + \idx * 8)(%rax), \reg
    je 1f
    btsq $\idx, F_MASK(%rsp)
1:
.endm

    .text
    .globl torture_round
torture_round:
    pushq %rbp
    movq %rsp, %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $F_SIZE, %rsp
    movq %rdi, F_P(%rsp)
    movq %rsi, F_OP(%rsp)
    movq %rdx, F_ARG(%rsp)
    movq %rcx, F_FLAGS(%rsp)
    movq $0, F_MASK(%rsp)
    movq $SPIN_BOUND, F_BOUND(%rsp)
    stmxcsr F_MXCSR0(%rsp)
    fnstcw F_FCW0(%rsp)

    /* Vector registers. */
    testq $TORTURE_VEC, %rcx
    jz 3f
    testq $TORTURE_AVX, %rcx
    jz 2f
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    vmovdqu (TP_VEC + \i * 32)(%rdi), %ymm\i
    .endr
    jmp 3f
2:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movdqu (TP_VEC + \i * 32)(%rdi), %xmm\i
    .endr
3:  ldmxcsr TP_MXCSR(%rdi)
    fldcw TP_FCW(%rdi)

    /* Callee-saved GPRs. */
    movq (TP_GPR + 0 * 8)(%rdi), %rbx
    movq (TP_GPR + 1 * 8)(%rdi), %rbp
    movq (TP_GPR + 2 * 8)(%rdi), %r12
    movq (TP_GPR + 3 * 8)(%rdi), %r13
    movq (TP_GPR + 4 * 8)(%rdi), %r14
    movq (TP_GPR + 5 * 8)(%rdi), %r15

    testq $TORTURE_SYSCALL, %rcx
    jnz 10f
    testq $TORTURE_SPIN, %rcx
    jnz 5f
    movq F_ARG(%rsp), %rdi
    call *F_OP(%rsp)
    jmp 7f

10: /* A system call: the syscall ABI keeps every GPR but rax, rcx and r11,
     * so the argument registers carry patterns too (the kernel checks
     * them against the pattern as well: SYS_tern_test_args). */
    movq F_ARG(%rsp), %rax
    movq (TP_GPR + 7 * 8)(%rdi), %rdx
    movq (TP_GPR + 8 * 8)(%rdi), %rsi
    movq (TP_GPR + 10 * 8)(%rdi), %r8
    movq (TP_GPR + 11 * 8)(%rdi), %r9
    movq (TP_GPR + 12 * 8)(%rdi), %r10
    movq (TP_GPR + 9 * 8)(%rdi), %rdi       /* last: it held p */
    syscall
    movq F_P(%rsp), %rax
    CHECK_GPR %rdx, 7
    CHECK_GPR %rsi, 8
    CHECK_GPR %rdi, 9
    CHECK_GPR %r8, 10
    CHECK_GPR %r9, 11
    CHECK_GPR %r10, 12
    jmp 7f

5:  /* Spin until the counter at arg moves (we were preempted), with every
     * GPR but rax, r11 (the loop's own) and rsp holding a pattern. */
    movq F_ARG(%rsp), %r11
    movq (%r11), %rax
    movq %rax, F_START(%rsp)
    movq (TP_GPR + 6 * 8)(%rdi), %rcx
    movq (TP_GPR + 7 * 8)(%rdi), %rdx
    movq (TP_GPR + 8 * 8)(%rdi), %rsi
    movq (TP_GPR + 10 * 8)(%rdi), %r8
    movq (TP_GPR + 11 * 8)(%rdi), %r9
    movq (TP_GPR + 12 * 8)(%rdi), %r10
    movq (TP_GPR + 9 * 8)(%rdi), %rdi       /* last: it held p */
6:  pause
    movq (%r11), %rax
    cmpq F_START(%rsp), %rax
    jne 8f
    decq F_BOUND(%rsp)
    jnz 6b
    btsq $63, F_MASK(%rsp)
8:  movq F_P(%rsp), %rax
    CHECK_GPR %rcx, 6
    CHECK_GPR %rdx, 7
    CHECK_GPR %rsi, 8
    CHECK_GPR %rdi, 9
    CHECK_GPR %r8, 10
    CHECK_GPR %r9, 11
    CHECK_GPR %r10, 12

7:  movq F_P(%rsp), %rax
    CHECK_GPR %rbx, 0
    CHECK_GPR %rbp, 1
    CHECK_GPR %r12, 2
    CHECK_GPR %r13, 3
    CHECK_GPR %r14, 4
    CHECK_GPR %r15, 5

    /* MXCSR and the x87 control word. */
    stmxcsr F_TMP(%rsp)
    movl F_TMP(%rsp), %ecx
    cmpl TP_MXCSR(%rax), %ecx
    je 1f
    btsq $48, F_MASK(%rsp)
1:  fnstcw F_TMP(%rsp)
    movzwl F_TMP(%rsp), %ecx
    cmpw TP_FCW(%rax), %cx
    je 1f
    btsq $49, F_MASK(%rsp)
1:
    /* Vector registers: compare in place (the values are done with). */
    movq F_FLAGS(%rsp), %rdx
    testq $TORTURE_VEC, %rdx
    jz 9f
    testq $TORTURE_AVX, %rdx
    jz 4f
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    vpcmpeqb (TP_VEC + \i * 32)(%rax), %ymm\i, %ymm\i
    vpmovmskb %ymm\i, %ecx
    cmpw $0xffff, %cx
    je 1f
    btsq $(16 + \i), F_MASK(%rsp)
1:  shrl $16, %ecx
    cmpw $0xffff, %cx
    je 1f
    btsq $(32 + \i), F_MASK(%rsp)
1:
    .endr
    vzeroupper
    jmp 9f
4:  /* (the pattern is 32-byte aligned, as pcmpeqb's memory operand must be) */
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    pcmpeqb (TP_VEC + \i * 32)(%rax), %xmm\i
    pmovmskb %xmm\i, %ecx
    cmpl $0xffff, %ecx
    je 1f
    btsq $(16 + \i), F_MASK(%rsp)
1:
    .endr
9:
    ldmxcsr F_MXCSR0(%rsp)
    fldcw F_FCW0(%rsp)
    movq F_MASK(%rsp), %rax
    addq $F_SIZE, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
