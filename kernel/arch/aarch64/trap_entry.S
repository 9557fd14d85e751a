/*
 * The EL1 exception vectors and the system call entry.
 *
 * ABI rule kept here (docs/abi-contract.md, "interrupt / exception"): the
 * interrupted context's registers are all saved before any C runs, and
 * restored exactly on return: x0-x30, SP_EL0, ELR, SPSR, and the vector
 * state q0-q31, FPSR, FPCR.
 *
 * Threads (and apps) run at EL1 on SP_EL0 (EL1t). An exception from them
 * enters on SP_EL1, which then holds the top of this CPU's exception stack
 * (struct arch_cpu's exc_stack): the frame is built there and moved to the
 * current thread's own trap stack (as x86_64 moves off its IST stack), so
 * the handler may switch threads (preemption) without leaving its frame
 * on a stack the next exception reuses. Handlers run in EL1h on that trap
 * stack; an exception taken there (EL1h) nests below it. The return to a
 * thread puts SP_EL1 back at the exception stack's top; so does the
 * switch (switch.S) when it resumes a thread that runs on SP_EL0.
 *
 * `svc #0` from a thread is the Linux system call (arm64 numbers in x8,
 * arguments in x0-x5, the result in x0): its frame (struct syscall_frame)
 * goes to the top of the thread's syscall stack, interrupts come back on
 * (the handler may block or be preempted), and every register but x0
 * comes back unchanged. The syscall path does not touch the vector
 * registers (kernel C is general-regs-only; the switch saves them).
 */
#include <arch/percpu.h>
#include <arch/trapframe.h>

    .arch armv8-a+fp+simd

/* Save x2-x30 and the system registers into the frame at sp; x0 and x1
 * are already at [sp]. */
.macro SAVE_REST
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x19, [sp, #144]
    stp x20, x21, [sp, #160]
    stp x22, x23, [sp, #176]
    stp x24, x25, [sp, #192]
    stp x26, x27, [sp, #208]
    stp x28, x29, [sp, #224]
    str x30, [sp, #240]
    mrs x2, sp_el0
    mrs x3, elr_el1
    stp x2, x3, [sp, #TF_SP]
    mrs x2, spsr_el1
    mrs x3, esr_el1
    stp x2, x3, [sp, #TF_PSTATE]
    mrs x2, far_el1
    str x2, [sp, #TF_FAR]
.endm

/* The vector state below the frame (sp 16-byte aligned before and after). */
#define FPU_AREA 544
.macro SAVE_FPU
    sub sp, sp, #FPU_AREA
    stp q0, q1, [sp, #0]
    stp q2, q3, [sp, #32]
    stp q4, q5, [sp, #64]
    stp q6, q7, [sp, #96]
    stp q8, q9, [sp, #128]
    stp q10, q11, [sp, #160]
    stp q12, q13, [sp, #192]
    stp q14, q15, [sp, #224]
    stp q16, q17, [sp, #256]
    stp q18, q19, [sp, #288]
    stp q20, q21, [sp, #320]
    stp q22, q23, [sp, #352]
    stp q24, q25, [sp, #384]
    stp q26, q27, [sp, #416]
    stp q28, q29, [sp, #448]
    stp q30, q31, [sp, #480]
    mrs x2, fpsr
    mrs x3, fpcr
    str x2, [sp, #512]
    str x3, [sp, #520]
.endm

.macro RESTORE_FPU
    ldp q0, q1, [sp, #0]
    ldp q2, q3, [sp, #32]
    ldp q4, q5, [sp, #64]
    ldp q6, q7, [sp, #96]
    ldp q8, q9, [sp, #128]
    ldp q10, q11, [sp, #160]
    ldp q12, q13, [sp, #192]
    ldp q14, q15, [sp, #224]
    ldp q16, q17, [sp, #256]
    ldp q18, q19, [sp, #288]
    ldp q20, q21, [sp, #320]
    ldp q22, q23, [sp, #352]
    ldp q24, q25, [sp, #384]
    ldp q26, q27, [sp, #416]
    ldp q28, q29, [sp, #448]
    ldp q30, q31, [sp, #480]
    ldr x2, [sp, #512]
    ldr x3, [sp, #520]
    msr fpsr, x2
    msr fpcr, x3
    add sp, sp, #FPU_AREA
.endm

/* Copy \bytes (a multiple of 16) from [\src] to [\dst]; uses x4-x8. */
.macro COPY_FRAME dst, src, bytes
    mov x7, \dst
    mov x8, \src
    mov x6, #(\bytes / 16)
9:  ldp x4, x5, [x8], #16
    stp x4, x5, [x7], #16
    subs x6, x6, #1
    b.ne 9b
.endm

.macro VECTOR kind, target
    .balign 0x80
    sub sp, sp, #TF_SIZE
    stp x0, x1, [sp]
    mov x0, #\kind
    b \target
.endm

    .text
    .balign 2048
    .globl vectors
vectors:
    /* Current EL with SP_EL0: threads and apps. */
    VECTOR TRAP_SYNC, entry_el1t
    VECTOR TRAP_IRQ, entry_el1t
    VECTOR TRAP_FIQ, entry_el1t
    VECTOR TRAP_SERROR, entry_el1t
    /* Current EL with SP_EL1: handlers (nested exceptions). */
    VECTOR TRAP_SYNC, entry_el1h
    VECTOR TRAP_IRQ, entry_el1h
    VECTOR TRAP_FIQ, entry_el1h
    VECTOR TRAP_SERROR, entry_el1h
    /* Lower EL, AArch64 and AArch32: nothing runs there in Tern. */
    VECTOR TRAP_LOWER_EL, entry_el1h
    VECTOR TRAP_LOWER_EL, entry_el1h
    VECTOR TRAP_LOWER_EL, entry_el1h
    VECTOR TRAP_LOWER_EL, entry_el1h
    VECTOR TRAP_LOWER_EL, entry_el1h
    VECTOR TRAP_LOWER_EL, entry_el1h
    VECTOR TRAP_LOWER_EL, entry_el1h
    VECTOR TRAP_LOWER_EL, entry_el1h

/*
 * From a thread (EL1t), on the CPU's exception stack; x0 = the kind.
 */
entry_el1t:
    SAVE_REST
    mov x19, x0                         /* the kind (x19 is saved, callee-saved) */
    mrs x21, tpidr_el1                  /* this CPU's struct cpu */
    cmp x19, #TRAP_SYNC
    b.ne 1f
    ldr x2, [sp, #TF_ESR]
    lsr x2, x2, #26                     /* ESR_EL1.EC */
    cmp x2, #0x15                       /* SVC from AArch64 */
    b.eq el1t_svc
1:  ldr x2, [x21, #CPU_TRAP_STACK_HI]
    cbz x2, 2f                          /* no threads yet: stay here */
    and x2, x2, #~15
    sub x2, x2, #TF_SIZE
    mov x3, sp
    COPY_FRAME x2, x3, TF_SIZE
    mov sp, x2
2:  mov x20, sp                         /* the frame (x20 is callee-saved) */
    SAVE_FPU
    mov x0, x20
    mov x1, x19
    bl trap_dispatch
    RESTORE_FPU
    mov sp, x20
    b exit_to_el1t

/*
 * Return to a thread (EL1t) from the frame at sp, wherever it is, leaving
 * SP_EL1 at the top of this CPU's exception stack: the frame's x0 and x1
 * go there last, as scratch for the final loads.
 */
exit_to_el1t:
    msr daifset, #0xf
    mov x9, sp
    ldp x2, x3, [x9, #TF_SP]
    msr sp_el0, x2
    msr elr_el1, x3
    ldr x2, [x9, #TF_PSTATE]
    msr spsr_el1, x2
    mrs x10, tpidr_el1
    ldr x10, [x10, #CPU_EXC_STACK]
    ldp x11, x12, [x9]
    stp x11, x12, [x10, #-16]!
    mov sp, x10
    ldp x2, x3, [x9, #16]
    ldp x4, x5, [x9, #32]
    ldp x6, x7, [x9, #48]
    ldr x8, [x9, #64]
    ldp x12, x13, [x9, #96]
    ldp x14, x15, [x9, #112]
    ldp x16, x17, [x9, #128]
    ldp x18, x19, [x9, #144]
    ldp x20, x21, [x9, #160]
    ldp x22, x23, [x9, #176]
    ldp x24, x25, [x9, #192]
    ldp x26, x27, [x9, #208]
    ldp x28, x29, [x9, #224]
    ldr x30, [x9, #240]
    ldp x10, x11, [x9, #80]
    ldr x9, [x9, #72]
    ldp x0, x1, [sp], #16
    eret

/*
 * The system call: the frame's first SF_SIZE bytes move to the top of the
 * thread's syscall stack, where the handler runs (EL1h). An exception
 * taken during the call (an interrupt, a fault on app memory) nests below
 * it on that stack, as any exception in a handler does (entry_el1h).
 */
el1t_svc:
    ldr x2, [x21, #CPU_SYSCALL_STACK]
    cbz x2, 1b                          /* no thread: report it as a trap */
    sub x2, x2, #SF_SIZE
    mov x3, sp
    COPY_FRAME x2, x3, SF_SIZE
    mov sp, x2
    msr daifclr, #2                     /* may block and be preempted */
    mov x0, sp
    bl syscall_dispatch                 /* the result in x0 */
    msr daifset, #2
    str x0, [sp]
#ifdef TERN_BROKEN_SYSCALL_X9
    /* Negative control (make BROKEN=syscall): lose x9 on the way back, as
     * a path trusting the compiler might; apps/sysabi must catch it. */
    mov x1, #0x5a5a
    movk x1, #0x5a5a, lsl #16
    movk x1, #0x5a5a, lsl #32
    movk x1, #0x5a5a, lsl #48
    str x1, [sp, #72]                   /* the frame's x9 */
#endif
    b exit_to_el1t

/*
 * void arch_app_enter(struct syscall_frame *f) __noreturn
 *
 * Start app code as if returning from a system call, with every register
 * from f (at the top of this thread's syscall stack, where the svc path
 * builds it).
 */
    .globl arch_app_enter
arch_app_enter:
    msr daifset, #0xf
    msr spsel, #1                       /* the thread ran on SP_EL0, which the */
    mov sp, x0                          /* return path loads: leave it first */
    b exit_to_el1t

/*
 * From a handler (EL1h) or the boot code before threads: nest below the
 * interrupted code on the same stack, return there.
 */
entry_el1h:
    SAVE_REST
    mov x19, x0
    mov x20, sp
    SAVE_FPU
    mov x0, x20
    mov x1, x19
    bl trap_dispatch
    RESTORE_FPU
    mov sp, x20
    msr daifset, #0xf
    ldp x2, x3, [sp, #TF_SP]
    msr sp_el0, x2
    msr elr_el1, x3
    ldr x2, [sp, #TF_PSTATE]
    msr spsr_el1, x2
    ldp x0, x1, [sp, #0]
    ldp x2, x3, [sp, #16]
    ldp x4, x5, [sp, #32]
    ldp x6, x7, [sp, #48]
    ldp x8, x9, [sp, #64]
    ldp x10, x11, [sp, #80]
    ldp x12, x13, [sp, #96]
    ldp x14, x15, [sp, #112]
    ldp x16, x17, [sp, #128]
    ldp x18, x19, [sp, #144]
    ldp x20, x21, [sp, #160]
    ldp x22, x23, [sp, #176]
    ldp x24, x25, [sp, #192]
    ldp x26, x27, [sp, #208]
    ldp x28, x29, [sp, #224]
    ldr x30, [sp, #240]
    add sp, sp, #TF_SIZE
    eret

/*
 * void arch_fpu_snapshot(struct arch_context *c)
 *
 * The calling thread's live vector state into c's save area (what
 * switch.S would save), for a clone child that starts with its parent's.
 */
#include <arch/context.h>
    .globl arch_fpu_snapshot
arch_fpu_snapshot:
    ldr x1, [x0, #CTX_FPU]
    stp q0, q1, [x1, #0]
    stp q2, q3, [x1, #32]
    stp q4, q5, [x1, #64]
    stp q6, q7, [x1, #96]
    stp q8, q9, [x1, #128]
    stp q10, q11, [x1, #160]
    stp q12, q13, [x1, #192]
    stp q14, q15, [x1, #224]
    stp q16, q17, [x1, #256]
    stp q18, q19, [x1, #288]
    stp q20, q21, [x1, #320]
    stp q22, q23, [x1, #352]
    stp q24, q25, [x1, #384]
    stp q26, q27, [x1, #416]
    stp q28, q29, [x1, #448]
    stp q30, q31, [x1, #480]
    mrs x2, fpsr
    mrs x3, fpcr
    str x2, [x1, #512]
    str x3, [x1, #520]
    ret
