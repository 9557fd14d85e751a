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
 * preempted: vector state is then saved by the switch (switch.S) and the
 * trap path, and kernel C never touches it.
 *
 * Frame (struct syscall_frame, arch/syscall.h), from the lowest address:
 *   r15 r14 r13 r12 r10 r9 r8 rbp rdi rsi rdx rbx rax(nr) | r11 rcx app_rsp
 */
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
    cli
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
