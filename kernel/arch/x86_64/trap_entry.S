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
 * Extended (FP/SIMD) state is not touched: kernel C is general-regs-only.
 * Saving it for threads that may be switched away is the scheduler's work.
 */
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
    /* The SysV ABI requires DF clear on function entry. The stack is
     * 16-byte aligned here: the IST top is, and the CPU frame (5 words), the
     * stub's 2 words and our 15 add up to 22 words. */
    cld
    movq %rsp, %rdi
    call trap_dispatch
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
