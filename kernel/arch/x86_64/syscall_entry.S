/*
 * The Linux system call entry: `syscall` from app code, which runs at
 * CPL 0 in Tern, so the return cannot be `sysret` (that always goes to
 * CPL 3); it is popfq + jmp instead.
 *
 * ABI rule kept here (docs/abi-contract.md, "syscall"): every register but
 * rax (the result), rcx and r11 (which the instruction itself clobbers: the
 * return address and RFLAGS, as on Linux) comes back unchanged, and all
 * vector state. Nothing is written below the app's stack pointer (its
 * 128-byte red zone): the first instructions switch to the thread's own
 * syscall stack (not the trap stack: a trap taken in a system call then
 * starts at the trap stack's top as from any other code) through a per-CPU
 * scratch slot,
 * with interrupts still masked by IA32_FMASK. The handler may block or be
 * preempted: vector state is then saved by the switch (switch.S), and
 * kernel C never touches it.
 *
 * Frame (struct syscall_frame, arch/syscall.h), from the lowest address:
 *   r15 r14 r13 r12 r10 r9 r8 rbp rdi rsi rdx rbx rax(nr) | r11 rcx app_rsp
 */
#include <arch/context.h>
#include <arch/percpu.h>

#define F_RAX      (12 * 8)
#define F_R11      (13 * 8)
#define F_RCX      (14 * 8)
#define F_RSP      (15 * 8)
#define F_SIZE     (16 * 8)

    .text
    .globl syscall_entry
syscall_entry:
    movq %rsp, %gs:CPU_SYSCALL_RSP
    movq %gs:CPU_SYSCALL_STACK, %rsp
    pushq %gs:CPU_SYSCALL_RSP           /* app rsp */
    pushq %rcx                          /* return address */
    pushq %r11                          /* app rflags */
    pushq %rax
    pushq %rbx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    sti                                 /* may block and be preempted */
    movq %rsp, %rdi
    xorl %ebp, %ebp                     /* backtraces stop here */
    call syscall_dispatch               /* returns the result in rax */
.Lreturn:
    cli
#ifdef TERN_BROKEN_SYSCALL_R10
    /* Negative control (make BROKEN=syscall): lose r10 on the way back,
     * as a path trusting the compiler might; apps/sysabi must catch it. */
    movq $0x5a5a5a5a5a5a5a5a, %r10
    movq %r10, (4 * 8)(%rsp)
#endif
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rbx
    addq $8, %rsp                       /* the number; rax has the result */
    popq %r11                           /* app rflags */
    popq %rcx                           /* return address */
    /* Restore the flags (IF comes back on) while still on our stack, then
     * return to the app's stack and code. An interrupt in between lands
     * on an IST stack, not on the app's red zone. */
    pushq %r11
    popfq
    popq %rsp
    jmpq *%rcx

/*
 * void arch_app_enter(struct syscall_frame *f) __noreturn
 *
 * Start app code as if returning from a system call: a new app thread's
 * first instruction (its entry point, or the instruction after clone's
 * `syscall` in the child) with every register from f and rax = f->nr.
 * f must lie at the top of this thread's syscall stack, where the syscall
 * path would have built it.
 */
    .globl arch_app_enter
arch_app_enter:
    movq %rdi, %rsp
    movq F_RAX(%rsp), %rax
    jmp .Lreturn

/*
 * void arch_fpu_snapshot(struct arch_context *c)
 *
 * The calling thread's live vector state, MXCSR and x87 control word into
 * c (what switch.S would save), for a clone child that starts with its
 * parent's state as on Linux. Kernel C never touches vector registers, so
 * in a system call they still hold the app's values.
 */
    .globl arch_fpu_snapshot
arch_fpu_snapshot:
    stmxcsr CTX_MXCSR(%rdi)
    fnstcw CTX_FCW(%rdi)
    movq CTX_FPU(%rdi), %r8
    movl $-1, %eax
    movl $-1, %edx
    cmpb $0, fpu_has_xsave(%rip)
    je 1f
    xsave64 (%r8)
    ret
1:  fxsave64 (%r8)
    ret
