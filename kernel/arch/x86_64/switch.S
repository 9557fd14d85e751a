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
 * vector registers intact.
 *
 * Only contexts marked app (arch_context_set_app: app threads, and kernel
 * threads that use vector registers on purpose) own an FS base and FP/SIMD
 * state. Kernel C is built general-regs-only and never touches either, so
 * a switch leaves them alone for a kernel thread, and the registers still
 * hold the last app context's state when it comes back. That context's
 * state is saved at every switch away from it (so its save area is always
 * current, wherever it runs next), and restored only when this CPU's
 * registers may hold something else: another context was restored here
 * since (CPU_FPU_OWNER), or it was restored on another CPU since
 * (CTX_LOADED_ON). Under TCG an XSAVE/XRSTOR pair costs about as much as
 * the rest of the switch (docs/zcopy.md), and most switches of a network
 * benchmark are to and from the device's kernel thread.
 *
 * Negative controls (make BROKEN=r13|xsave): build a switch that loses r13
 * or the extended state, to show the torture test catches it.
 */
#include <arch/context.h>
#include <arch/percpu.h>

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
    cmpb $0, CTX_APP(%rdi)
    je 1f                               /* a kernel thread: nothing else */
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
    je 2f
    xsave64 (%r8)
    jmp 1f
2:  fxsave64 (%r8)
#endif
1:
    movq %rsp, CTX_RSP(%rdi)
    movq CTX_RSP(%rsi), %rsp            /* now on next's stack */

    cmpb $0, CTX_APP(%rsi)
    je 5f
    movl CTX_FS_BASE(%rsi), %eax
    movl CTX_FS_BASE + 4(%rsi), %edx
    movl $MSR_FS_BASE, %ecx
    wrmsr
    movq %gs:CPU_SELF, %rax
    cmpq %rsi, %gs:CPU_FPU_OWNER
    jne 3f
    cmpq %rax, CTX_LOADED_ON(%rsi)
    je 5f                               /* the registers still hold it */
3:  movq %rsi, %gs:CPU_FPU_OWNER
    movq %rax, CTX_LOADED_ON(%rsi)
#ifndef TERN_BROKEN_SWITCH_XSAVE
    movq CTX_FPU(%rsi), %r8
    movl $-1, %eax
    movl $-1, %edx
    cmpb $0, fpu_has_xsave(%rip)
    je 4f
    xrstor64 (%r8)
    jmp 6f
4:  fxrstor64 (%r8)
6:
#endif
    ldmxcsr CTX_MXCSR(%rsi)
    fldcw CTX_FCW(%rsi)
5:  movq %rdi, %rax                     /* prev, for the resumed side */
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
