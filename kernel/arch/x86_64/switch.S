/*
 * The voluntary context switch.
 *
 *   struct arch_context *arch_switch(struct arch_context *prev,
 *                                    struct arch_context *next);
 *
 * ABI rule kept here (docs/abi-contract.md, "voluntary switch"): a switch
 * is a function call, so the caller already assumes rax rcx rdx rsi rdi
 * r8-r11 clobbered; everything the SysV ABI calls callee-saved must come
 * back exactly: rbx rbp r12-r15 rsp rip, the MXCSR control bits and the x87
 * control word, and (Tern's own rule) the FS base, which is the thread's
 * TLS pointer. These are saved here explicitly, in assembly, so that no
 * compiler optimization level can change what is preserved (the OSv
 * aarch64 -O0 bug). Beyond the ABI, the whole extended state (XMM/YMM/ZMM,
 * x87) is saved too: a thread that blocks inside a syscall must find its
 * vector registers intact, and the kernel never touches them.
 *
 * Negative controls (make BROKEN=r13|xsave): build a switch that loses r13
 * or the extended state, to show the torture test catches it.
 */
#include <arch/context.h>

#define MSR_FS_BASE 0xc0000100

    .text
    .globl arch_switch
arch_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
#ifndef TERN_BROKEN_SWITCH_R13
    pushq %r13
#endif
    pushq %r14
    pushq %r15
    stmxcsr CTX_MXCSR(%rdi)
    fnstcw CTX_FCW(%rdi)
    movl $MSR_FS_BASE, %ecx
    rdmsr
    movl %eax, CTX_FS_BASE(%rdi)
    movl %edx, CTX_FS_BASE + 4(%rdi)
#ifndef TERN_BROKEN_SWITCH_XSAVE
    movq CTX_FPU(%rdi), %r8
    movl $-1, %eax
    movl $-1, %edx
    cmpb $0, fpu_has_xsave(%rip)
    je 1f
    xsave64 (%r8)
    jmp 2f
1:  fxsave64 (%r8)
2:
#endif

    movq %rsp, CTX_RSP(%rdi)
    movq CTX_RSP(%rsi), %rsp            /* now on next's stack */

#ifndef TERN_BROKEN_SWITCH_XSAVE
    movq CTX_FPU(%rsi), %r8
    movl $-1, %eax
    movl $-1, %edx
    cmpb $0, fpu_has_xsave(%rip)
    je 3f
    xrstor64 (%r8)
    jmp 4f
3:  fxrstor64 (%r8)
4:
#endif
    ldmxcsr CTX_MXCSR(%rsi)
    fldcw CTX_FCW(%rsi)
    movl CTX_FS_BASE(%rsi), %eax
    movl CTX_FS_BASE + 4(%rsi), %edx
    movl $MSR_FS_BASE, %ecx
    wrmsr
    movq %rdi, %rax                     /* prev, for the resumed side */
    popq %r15
    popq %r14
#ifndef TERN_BROKEN_SWITCH_R13
    popq %r13
#endif
    popq %r12
    popq %rbx
    popq %rbp
    ret

/*
 * A new thread's first "return" from arch_switch lands here (see
 * arch_context_init): r14 holds the entry function, r15 its argument, rax
 * the context we switched from.
 */
    .globl thread_trampoline
thread_trampoline:
    movq %rax, %rdi                     /* prev */
    movq %r14, %rsi                     /* entry */
    movq %r15, %rdx                     /* arg */
    xorl %ebp, %ebp                     /* ends backtraces */
    call thread_start                   /* kernel/sched/thread.c; no return */
    ud2
