/*
 * Exception and interrupt entry for all 256 vectors.
 *
 * ABI rule kept here (docs/abi-contract.md, "interrupt / exception"): the
 * interrupted context's registers are all saved before any C runs, and
 * restored exactly on return. The CPU has already switched to an IST stack
 * (idt.c), so nothing is written below the interrupted stack pointer (the
 * app's red zone).
 *
 * Each stub makes the frame uniform (a zero error code where the CPU pushes
 * none), pushes its vector number and jumps to trap_common, which saves the
 * general registers as struct trap_frame (arch/trapframe.h) and calls
 * trap_dispatch(frame).
 *
 * trap_common then moves to the current thread's trap stack before calling
 * C; see the comments there and docs/abi-contract.md for the nesting policy
 * and why the extended (FP/SIMD) state needs no save here.
 */
#include <arch/percpu.h>

    .text

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || \
                           (v) == 21 || (v) == 29 || (v) == 30)

.macro TRAP_STUB vec
    .balign 16
1:
    .if !HAS_ERROR_CODE(\vec)
    pushq $0
    .endif
    pushq $\vec
    jmp trap_common
    .pushsection .rodata.trap_stubs, "a"
    .quad 1b
    .popsection
.endm

    .pushsection .rodata.trap_stubs, "a"
    .balign 8
    .globl trap_stubs
trap_stubs:
    .popsection

    .altmacro
.set vec, 0
.rept 256
    TRAP_STUB %vec
    .set vec, vec + 1
.endr

/* struct trap_frame offsets (arch/trapframe.h). */
#define TF_VECTOR   (15 * 8)
#define TF_RSP      (20 * 8)
#define TF_SIZE     (22 * 8)

trap_common:
    /* Push order is the reverse of struct trap_frame. */
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld                         /* the SysV ABI wants DF clear in C */

    /*
     * Leave the IST stack for the current thread's own trap stack, so the
     * handler may switch threads (preemption) without leaving this frame on
     * a stack the next interrupt reuses. If we interrupted a handler that
     * already runs on that trap stack, continue below its frame (nested).
     * NMI, #DF and #MC stay on their own IST stacks: they may arrive with
     * the thread's stacks broken, and they never switch threads.
     */
    movq %gs:CPU_TRAP_STACK_HI, %rax
    testq %rax, %rax
    jz 2f                       /* no threads yet */
    movq TF_VECTOR(%rsp), %rcx
    cmpq $2, %rcx
    je 2f
    cmpq $8, %rcx
    je 2f
    cmpq $18, %rcx
    je 2f
    movq TF_RSP(%rsp), %rcx
    cmpq %gs:CPU_TRAP_STACK_LO, %rcx
    jb 1f
    cmpq %rax, %rcx
    jae 1f
    movq %rcx, %rax             /* nested: below the interrupted handler */
1:  andq $-16, %rax
    subq $TF_SIZE, %rax
    movq %rsp, %rsi
    movq %rax, %rdi
    movl $(TF_SIZE / 8), %ecx
    rep movsq
    movq %rax, %rsp

2:  /*
     * The interrupted context's extended state (XMM/YMM/ZMM, x87, MXCSR)
     * stays in the registers: kernel C is built general-regs-only and
     * never touches it, and a handler that switches threads (preemption)
     * does so through arch_switch, which saves an app context's state.
     * So the contract "everything" holds without an XSAVE here, which
     * under TCG made the interrupt round trip 3,775 cycles instead of
     * 821 (ktest=bench_sched, docs/abi-contract.md).
     */
    movq %rsp, %rbx             /* the frame; rbx is callee-saved */
    movq %rbx, %rdi
    call trap_dispatch

    movq %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp              /* vector and error code */
    iretq
