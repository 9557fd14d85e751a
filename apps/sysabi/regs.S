/*
 * The register half of the syscall ABI torture app (x86_64: sysabi_x86_64.c).
 *
 *   uint64_t sysabi_round(const struct sysabi_regs *in,
 *                         struct sysabi_regs *out, uint64_t nr,
 *                         uint64_t mode, const struct sysabi_spin *spin);
 *
 * Loads every register the x86_64 syscall contract preserves from *in:
 *   rbx rbp rsi rdi rdx r8 r9 r10 r12 r13 r14 r15 (and rsp, which we keep
 *   but check), the rflags bits CF PF AF ZF SF OF DF, xmm0-15 / ymm0-15 /
 *   zmm0-31 and k0-7 (as the mode says), the x87 registers st0-st7, the
 *   x87 control word and MXCSR, and the 128-byte red zone below rsp;
 * then either executes `syscall` with rax = nr, or (M_SPIN) spins with all
 * of them live, rcx and r11 included, until the TSC jumps (the thread was
 * interrupted or preempted) or a deadline passes; then stores what every
 * one of those registers holds into *out, plus %fs:0 (and rdfsbase) for
 * the FS base. sysabi_x86_64.c compares *out with *in.
 *
 * Between the loads and the stores only this file's own frame (above rsp)
 * is touched, and nothing at all is written below rsp, so only the kernel
 * can change what is compared. This is an assembly file on purpose: with
 * inline asm and clobber lists the compiler would choose which registers
 * hold what, and could hide exactly the bugs this looks for.
 *
 * Returns rax after the syscall, or 1 if the spin saw a gap (0 if not).
 */
#include "sysabi_x86_64.h"

/* Our frame, above the six saved callee-saved registers. */
#define F_IN        0
#define F_OUT       8
#define F_NR        16
#define F_MODE      24
#define F_RSP       32      /* rsp as it must come back */
#define F_MXCSR0    40      /* the caller's MXCSR and x87 control word */
#define F_FCW0      48
#define F_TMP       56
#define F_LAST      64      /* spin: the previous TSC read */
#define F_NOW       72
#define F_DEADLINE  80
#define F_GAP       88
#define F_RESULT    96
#define F_FLAGS     104     /* rflags right after the syscall / spin */
#define F_RCX       112     /* spin: rcx and r11 at the end */
#define F_R11       120
#define F_OBSRSP    128     /* rsp as it came back */
#define F_RZ0       136     /* the red zone's top word, saved before pushfq overwrites it */
#define F_SIZE      152     /* keeps rsp 16-byte aligned */

#define GPR(n)      (R_GPR + (n) * 8)

/* Where rsp belongs, should the kernel lose it: the only way back to our
 * frame that does not go through rsp. */
    .section .tbss,"awT",@nobits
    .balign 8
sysabi_tls_rsp:
    .zero 8

/* Set the rflags pattern, fill the red zone, load the GPRs but rax, rcx,
 * rdi, r11 (rdi holds *in). Flags are set first: after the popfq only mov
 * instructions run, which leave them alone. */
.macro LOAD_COMMON
    pushfq
    popq %rax
    andq $~FLAGS_MASK, %rax
    movq R_RFLAGS(%rdi), %rdx
    andq $FLAGS_MASK, %rdx
    orq %rdx, %rax
    pushq %rax
    popfq
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movq (R_REDZONE + \i * 8)(%rdi), %rax
    movq %rax, -(\i + 1) * 8(%rsp)
    .endr
    movq GPR(G_RBX)(%rdi), %rbx
    movq GPR(G_RBP)(%rdi), %rbp
    movq GPR(G_RDX)(%rdi), %rdx
    movq GPR(G_RSI)(%rdi), %rsi
    movq GPR(8)(%rdi), %r8
    movq GPR(9)(%rdi), %r9
    movq GPR(10)(%rdi), %r10
    movq GPR(12)(%rdi), %r12
    movq GPR(13)(%rdi), %r13
    movq GPR(14)(%rdi), %r14
    movq GPR(15)(%rdi), %r15
.endm

/* rdx:eax = TSC, as one number in rax; rdx keeps its pattern (saved in
 * our frame for the three instructions in between). */
.macro READ_TSC
    movq %rdx, F_TMP(%rsp)
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    movq F_TMP(%rsp), %rdx
.endm

    .text
    .globl sysabi_round
    .type sysabi_round, @function
sysabi_round:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $F_SIZE, %rsp
    movq %rdi, F_IN(%rsp)
    movq %rsi, F_OUT(%rsp)
    movq %rdx, F_NR(%rsp)
    movq %rcx, F_MODE(%rsp)
    movq %rsp, F_RSP(%rsp)
    movq %rsp, %fs:sysabi_tls_rsp@tpoff
    stmxcsr F_MXCSR0(%rsp)
    fnstcw F_FCW0(%rsp)
    xorl %eax, %eax
    movq %rax, F_RESULT(%rsp)
    movq %rax, F_RCX(%rsp)
    movq %rax, F_R11(%rsp)

    testq $M_SPIN, %rcx
    jz 1f
    movq S_GAP(%r8), %rax
    movq %rax, F_GAP(%rsp)
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    addq S_MAX(%r8), %rax
    movq %rax, F_DEADLINE(%rsp)
1:
    movq F_IN(%rsp), %rdi
    movq F_MODE(%rsp), %rcx

    /* Vector registers: zmm0-31 and k0-7, or ymm0-15, or xmm0-15. */
    testq $M_AVX512, %rcx
    jz 2f
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    vmovdqu64 (R_VEC + \i * VEC_BYTES)(%rdi), %zmm\i
    .endr
    testq $M_AVX512BW, %rcx
    jz 3f
    .irp i, 0,1,2,3,4,5,6,7
    kmovq (R_K + \i * 8)(%rdi), %k\i
    .endr
    jmp 5f
3:
    .irp i, 0,1,2,3,4,5,6,7
    kmovw (R_K + \i * 8)(%rdi), %k\i
    .endr
    jmp 5f
2:  testq $M_AVX, %rcx
    jz 4f
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    vmovdqu (R_VEC + \i * VEC_BYTES)(%rdi), %ymm\i
    .endr
    jmp 5f
4:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movdqu (R_VEC + \i * VEC_BYTES)(%rdi), %xmm\i
    .endr
5:
    /* x87: the stack is empty (SysV ABI); push st7's value first so that
     * st(i) ends up holding in->st[i]. Then the control words. */
    .irp i, 7,6,5,4,3,2,1,0
    fldt (R_ST + \i * 16)(%rdi)
    .endr
    fldcw R_FCW(%rdi)
    ldmxcsr R_MXCSR(%rdi)

    testq $M_SPIN, %rcx
    jnz 40f

    /* ---- the system call ---- */
    LOAD_COMMON
    movq F_NR(%rsp), %rax
    movq GPR(G_RDI)(%rdi), %rdi             /* last: it held in */
    syscall
    movq %rax, %rcx                         /* the result (rcx is free now) */
    movq -8(%rsp), %r11                     /* the red zone's top word ... */
    pushfq                                  /* ... which this overwrites */
    popq %rax
    cmpq %rsp, F_RSP(%rsp)
    jne 90f
    movq %rsp, F_OBSRSP(%rsp)
    movq %rcx, F_RESULT(%rsp)
    movq %rax, F_FLAGS(%rsp)
    movq %r11, F_RZ0(%rsp)
    /* --self-test-broken: what a kernel that loses a register would do. */
    testq $M_BROKEN_R10, F_MODE(%rsp)
    jz 6f
    notq %r10
6:  testq $M_BROKEN_XMM15, F_MODE(%rsp)
    jz 50f
    pxor %xmm15, %xmm15
    jmp 50f

90: /* rsp came back wrong: note it and take ours back from TLS. The
     * pushfq above wrote below the wrong rsp, so our red zone is intact. */
    movq %rsp, %r11
    movq %fs:sysabi_tls_rsp@tpoff, %rsp
    movq %r11, F_OBSRSP(%rsp)
    movq %rcx, F_RESULT(%rsp)
    movq %rax, F_FLAGS(%rsp)
    movq -8(%rsp), %rax
    movq %rax, F_RZ0(%rsp)
    jmp 50f

    /* ---- the spin: preemption and interrupts must keep everything ---- */
40: LOAD_COMMON
    movq GPR(G_RCX)(%rdi), %rcx
    movq GPR(11)(%rdi), %r11
    movq GPR(G_RDI)(%rdi), %rdi             /* last: it held in */
    READ_TSC
    movq %rax, F_LAST(%rsp)
41: pause
    READ_TSC
    movq %rax, F_NOW(%rsp)
    subq F_LAST(%rsp), %rax
    cmpq F_GAP(%rsp), %rax
    jae 42f
    movq F_NOW(%rsp), %rax
    movq %rax, F_LAST(%rsp)
    cmpq F_DEADLINE(%rsp), %rax
    jb 41b
    movl $0, %eax                           /* no gap before the deadline */
    jmp 43f
42: movl $1, %eax                           /* interrupted */
43: cmpq %rsp, F_RSP(%rsp)
    jne 91f
    movq %rsp, F_OBSRSP(%rsp)
    movq %rax, F_RESULT(%rsp)
    movq %rcx, F_RCX(%rsp)
    movq %r11, F_R11(%rsp)
    movq -8(%rsp), %rax
    movq %rax, F_RZ0(%rsp)
    pushfq                                  /* (DF is what counts here) */
    popq %rax
    movq %rax, F_FLAGS(%rsp)
    jmp 50f

91: movq %rsp, %rax
    movq %fs:sysabi_tls_rsp@tpoff, %rsp
    movq %rax, F_OBSRSP(%rsp)
    movq %rcx, F_RCX(%rsp)
    movq %r11, F_R11(%rsp)
    movq -8(%rsp), %rax
    movq %rax, F_RZ0(%rsp)
    pushfq
    popq %rax
    movq %rax, F_FLAGS(%rsp)

    /* ---- store everything into *out (rax, rcx, r11 are free) ---- */
50: movq F_OUT(%rsp), %r11
    movq %rbx, GPR(G_RBX)(%r11)
    movq %rdx, GPR(G_RDX)(%r11)
    movq %rsi, GPR(G_RSI)(%r11)
    movq %rdi, GPR(G_RDI)(%r11)
    movq %rbp, GPR(G_RBP)(%r11)
    movq %r8, GPR(8)(%r11)
    movq %r9, GPR(9)(%r11)
    movq %r10, GPR(10)(%r11)
    movq %r12, GPR(12)(%r11)
    movq %r13, GPR(13)(%r11)
    movq %r14, GPR(14)(%r11)
    movq %r15, GPR(15)(%r11)
    movq F_OBSRSP(%rsp), %rax
    movq %rax, GPR(G_RSP)(%r11)
    movq F_RSP(%rsp), %rax
    movq %rax, R_RSP0(%r11)
    movq F_RCX(%rsp), %rax
    movq %rax, GPR(G_RCX)(%r11)
    movq F_R11(%rsp), %rax
    movq %rax, GPR(11)(%r11)
    movq F_RESULT(%rsp), %rax
    movq %rax, GPR(G_RAX)(%r11)
    movq %rax, R_RESULT(%r11)
    movq F_FLAGS(%rsp), %rax
    movq %rax, R_RFLAGS(%r11)
    movq F_RZ0(%rsp), %rax
    movq %rax, R_REDZONE(%r11)
    .irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movq -(\i + 1) * 8(%rsp), %rax
    movq %rax, (R_REDZONE + \i * 8)(%r11)
    .endr
    movq %fs:0, %rax
    movq %rax, R_FS0(%r11)
    movq $0, R_FSBASE(%r11)
    movq F_MODE(%rsp), %rcx
    testq $M_FSGSBASE, %rcx
    jz 7f
    rdfsbase %rax
    movq %rax, R_FSBASE(%r11)
7:  stmxcsr R_MXCSR(%r11)
    fnstcw R_FCW(%r11)
    .irp i, 0,1,2,3,4,5,6,7
    fstpt (R_ST + \i * 16)(%r11)            /* pops: the x87 stack ends empty */
    .endr

    testq $M_AVX512, %rcx
    jz 2f
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    vmovdqu64 %zmm\i, (R_VEC + \i * VEC_BYTES)(%r11)
    .endr
    testq $M_AVX512BW, %rcx
    jz 3f
    .irp i, 0,1,2,3,4,5,6,7
    kmovq %k\i, (R_K + \i * 8)(%r11)
    .endr
    jmp 8f
3:
    .irp i, 0,1,2,3,4,5,6,7
    kmovw %k\i, (R_K + \i * 8)(%r11)
    .endr
    jmp 8f
2:  testq $M_AVX, %rcx
    jz 4f
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    vmovdqu %ymm\i, (R_VEC + \i * VEC_BYTES)(%r11)
    .endr
8:  vzeroupper
    jmp 9f
4:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movdqu %xmm\i, (R_VEC + \i * VEC_BYTES)(%r11)
    .endr
9:
    /* Back to what the C caller may assume. */
    ldmxcsr F_MXCSR0(%rsp)
    fldcw F_FCW0(%rsp)
    cld
    movq F_RESULT(%rsp), %rax
    addq $F_SIZE, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size sysabi_round, . - sysabi_round

/* Small helpers for sysabi.c (kept here so that C has no inline asm). */

    .globl sysabi_xgetbv0               /* uint64_t sysabi_xgetbv0(void): XCR0 */
    .type sysabi_xgetbv0, @function
sysabi_xgetbv0:
    xorl %ecx, %ecx
    xgetbv
    shlq $32, %rdx
    orq %rdx, %rax
    ret
    .size sysabi_xgetbv0, . - sysabi_xgetbv0

    .globl sysabi_mxcsr_mask            /* uint32_t sysabi_mxcsr_mask(void) */
    .type sysabi_mxcsr_mask, @function
sysabi_mxcsr_mask:
    pushq %rbp
    movq %rsp, %rbp
    subq $512, %rsp
    andq $-64, %rsp
    fxsave64 (%rsp)
    movl 28(%rsp), %eax                 /* MXCSR_MASK; 0 means 0xffbf */
    testl %eax, %eax
    jnz 1f
    movl $0xffbf, %eax
1:  leave
    ret
    .size sysabi_mxcsr_mask, . - sysabi_mxcsr_mask

    .globl sysabi_fs0                   /* uint64_t sysabi_fs0(void): %fs:0 */
    .type sysabi_fs0, @function
sysabi_fs0:
    movq %fs:0, %rax
    ret
    .size sysabi_fs0, . - sysabi_fs0

    .globl sysabi_rdtsc                 /* uint64_t sysabi_rdtsc(void) */
    .type sysabi_rdtsc, @function
sysabi_rdtsc:
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    ret
    .size sysabi_rdtsc, . - sysabi_rdtsc

    .section .note.GNU-stack,"",@progbits
