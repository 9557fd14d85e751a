/*
 * A secondary CPU's first instructions, where PSCI CPU_ON starts it (smp.c):
 * at the physical address of ap_entry, MMU and caches off, x0 = the
 * context id smp.c passed (unused: everything is in ap_params). PSCI
 * starts it at the EL the caller runs at (EL1) on QEMU; at EL2 it leaves
 * for EL1 the way boot.S does.
 *
 * ap_params (filled and cleaned to memory by smp.c before each CPU_ON; one
 * CPU starts at a time) holds the boot CPU's MMU settings and a TTBR0 with
 * an identity block over this code, live only for the instruction that
 * turns the MMU on; then the CPU jumps to its link-time address, switches
 * to the final TTBR0/TCR, sets its stacks (SP_EL1: its exception stack,
 * SP_EL0: its idle thread's) and calls ap_main(cpu).
 */
#include <arch/percpu.h>

#define SCTLR_RES1      0x30d00800

/* Offsets in ap_params (smp.c's struct ap_params). */
#define AP_TTBR0_ID     0
#define AP_TTBR1        8
#define AP_TCR_ID       16
#define AP_TCR          24
#define AP_MAIR         32
#define AP_SCTLR        40
#define AP_TTBR0        48
#define AP_STACK        56
#define AP_CPU          64

    .section .text.boot, "ax"
    .globl ap_entry
ap_entry:
    msr daifset, #0xf
    mrs x1, CurrentEL
    lsr x1, x1, #2
    cmp x1, #2
    b.ne 1f
    /* EL2: EL1 in AArch64, the counters and FP/SIMD open to it, GICv3's
     * system registers allowed (boot.S does the same on the boot CPU). */
    mov x1, #(1 << 31)
    msr hcr_el2, x1
    mrs x1, cnthctl_el2
    orr x1, x1, #3
    msr cnthctl_el2, x1
    msr cntvoff_el2, xzr
    mov x1, #0x33ff
    msr cptr_el2, x1
    msr hstr_el2, xzr
    mrs x1, midr_el1
    msr vpidr_el2, x1
    mrs x1, mpidr_el1
    msr vmpidr_el2, x1
    mrs x1, id_aa64pfr0_el1
    ubfx x1, x1, #24, #4
    cbz x1, 2f
    mrs x1, S3_4_C12_C9_5               /* ICC_SRE_EL2: SRE | Enable */
    mov x2, #0x9
    orr x1, x1, x2
    msr S3_4_C12_C9_5, x1
    isb
2:  ldr x1, =SCTLR_RES1
    msr sctlr_el1, x1
    mov x1, #0x3c5                      /* EL1h, DAIF masked */
    msr spsr_el2, x1
    adr x1, 1f
    msr elr_el2, x1
    eret

1:  ldr x1, =SCTLR_RES1
    msr sctlr_el1, x1
    isb
    mov x1, #(3 << 20)                  /* CPACR_EL1.FPEN: threads own FP/SIMD */
    msr cpacr_el1, x1
    isb

    adr x9, ap_params                   /* PC-relative: its physical address */
    ldr x1, [x9, #AP_MAIR]
    msr mair_el1, x1
    ldr x1, [x9, #AP_TCR_ID]
    msr tcr_el1, x1
    ldr x1, [x9, #AP_TTBR0_ID]
    msr ttbr0_el1, x1
    ldr x1, [x9, #AP_TTBR1]
    msr ttbr1_el1, x1
    isb
    tlbi vmalle1
    dsb nsh
    isb
    ldr x1, [x9, #AP_SCTLR]
    msr sctlr_el1, x1
    isb
    ldr x1, =ap_high                    /* link-time (virtual) address */
    br x1

ap_high:
    /* Through the kernel's own mapping now: the identity block goes. */
    ldr x9, =ap_params
    ldr x1, [x9, #AP_TCR]
    msr tcr_el1, x1
    ldr x1, [x9, #AP_TTBR0]
    msr ttbr0_el1, x1
    isb
    tlbi vmalle1
    dsb nsh
    isb
    ldr x1, =vectors
    msr vbar_el1, x1
    ldr x0, [x9, #AP_CPU]               /* struct cpu *, ap_main's argument */
    ldr x1, [x0, #CPU_EXC_STACK]
    mov sp, x1                          /* SP_EL1: the exception stack */
    ldr x1, [x9, #AP_STACK]
    msr sp_el0, x1
    msr spsel, #0                       /* run on SP_EL0 (EL1t), as threads do */
    isb
    mov x29, #0                         /* backtraces end here */
    mov x30, #0
    bl ap_main                          /* smp.c; never returns */
3:  wfe
    b 3b
    .ltorg

    .data
    .balign 64
    .globl ap_params
ap_params:
    .skip 128
