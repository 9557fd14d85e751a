/*
 * aarch64 entry: the arm64 Image header, then from whatever exception
 * level the loader (QEMU's -kernel, U-Boot's booti) started us at to
 * kernel_main at EL1 with the MMU on.
 *
 * Linux's boot protocol (Documentation/arch/arm64/booting.rst): x0 holds
 * the device tree's physical address, x1-x3 are zero, the MMU is off,
 * we run at EL2 or EL1 at the physical address the loader chose (any
 * 2 MiB-aligned base: header flag bit 3).
 *
 * The early map (why high-half, not identity): the kernel is linked at
 * KERNEL_VBASE in TTBR1's half, the same shape as x86_64 (arch/mm.h), so
 * TTBR0 is free for apps later and a NULL pointer faults. The code runs
 * position-independent until the MMU is on: every address below comes
 * from adr/adrp (PC-relative, so physical), the link-time (virtual)
 * addresses from literal pools. Three tables in TTBR1 and two in TTBR0:
 *   TTBR1 L0[0]   -> L1 of 1 GiB blocks: the direct map, DIRECT_MAP_BASE +
 *                    pa for pa < 64 GiB; the first GiB as Device memory
 *                    (where arm boards put their devices: the PL011 is
 *                    printed to through it), the rest Normal write-back
 *   TTBR1 L0[511] -> L1[510] -> L2 of 2 MiB blocks: the image, RWX until
 *                    paging.c's final W^X tables
 *   TTBR0 L0      -> L1: a 1 GiB identity block holding this code, only
 *                    for the instruction that turns the MMU on; paging.c
 *                    drops it
 * paging.c replaces all of it (arch_paging_init).
 *
 * Threads run on SP_EL0 (EL1t); exceptions enter on the CPU's SP_EL1 stack
 * (trap_entry.S). kernel_main runs on the boot stack through SP_EL0: it
 * becomes the main thread.
 */

#define SCTLR_RES1      0x30d00800      /* ARMv8.0 RES1 bits of SCTLR_EL1 */
#define SCTLR_M         (1 << 0)
#define SCTLR_C         (1 << 2)
#define SCTLR_SA        (1 << 3)
#define SCTLR_I         (1 << 12)

/* MAIR_EL1: attribute 0 Normal write-back, 1 Device-nGnRE, 2 Normal
 * non-cacheable (paging.c uses the same indexes). */
#define MAIR_VALUE      0x4404ff

/* TCR_EL1: 48-bit VAs in both halves (T0SZ = T1SZ = 16), 4 KiB granules,
 * inner-shareable write-back walks; IPS is filled from ID_AA64MMFR0. */
#define TCR_VALUE       (16 | (1 << 8) | (1 << 10) | (3 << 12) | \
                         (16 << 16) | (1 << 24) | (1 << 26) | (3 << 28) | (2 << 30))

/* Block descriptors: valid block, AttrIndx, AF, inner shareable; XN bits. */
#define DESC_TABLE      3
#define BLOCK_NORMAL    (1 | (0 << 2) | (3 << 8) | (1 << 10))
#define BLOCK_DEVICE    (1 | (1 << 2) | (1 << 10))
#define DESC_PXN_UXN    (3 << 53)

#define KERNEL_VBASE    0xffffffff80000000
#define EARLY_IMAGE_BLOCKS 16
#define EARLY_DIRECT_GIB   64

    .section .text.head, "ax"
    .globl _start
_start:
    /* The 64-byte Image header. */
    b primary_entry                     /* code0 */
    .long 0                             /* code1 */
    .quad 0                             /* text_offset: at the 2 MiB-aligned base */
    .quad _kernel_size                  /* image_size: includes .bss */
    .quad 0xa                           /* flags: LE, 4 KiB pages, anywhere */
    .quad 0                             /* res2 */
    .quad 0                             /* res3 */
    .quad 0                             /* res4 */
    .long 0x644d5241                    /* magic "ARM\x64" */
    .long 0                             /* res5: no PE header */

    .section .text.boot, "ax"
primary_entry:
    mov x19, x0                         /* the DTB's physical address */
    adr x20, _start                     /* where we were loaded */
    mrs x21, CurrentEL
    lsr x21, x21, #2                    /* the EL we were entered at */
    mrs x22, cntvct_el0                 /* boot time stamp */
    cmp x21, #2
    b.ne el1_entry

    /*
     * Entered at EL2 (-M virt,virtualization=on, or firmware that keeps
     * EL2): leave it for EL1, which is where Tern runs, with the timer and
     * FP/SIMD open to EL1 and EL1 in AArch64.
     */
    mov x0, #(1 << 31)                  /* HCR_EL2.RW: EL1 is AArch64; no traps */
    msr hcr_el2, x0
    mrs x0, cnthctl_el2
    orr x0, x0, #3                      /* EL1PCTEN, EL1PCEN: EL1 may use the */
    msr cnthctl_el2, x0                 /* physical counter and timer */
    msr cntvoff_el2, xzr                /* virtual counter == physical */
    mov x0, #0x33ff                     /* CPTR_EL2: RES1 bits, TFP clear */
    msr cptr_el2, x0
    msr hstr_el2, xzr
    mrs x0, midr_el1                    /* EL1 reads the real IDs */
    msr vpidr_el2, x0
    mrs x0, mpidr_el1
    msr vmpidr_el2, x0
    /* A GICv3 CPU interface: let EL1 use its system registers
     * (ICC_SRE_EL2.SRE and .Enable). */
    mrs x0, id_aa64pfr0_el1
    ubfx x0, x0, #24, #4
    cbz x0, 1f
    mrs x0, S3_4_C12_C9_5               /* ICC_SRE_EL2 */
    mov x1, #0x9
    orr x0, x0, x1
    msr S3_4_C12_C9_5, x0
    isb
1:  ldr x0, =SCTLR_RES1                 /* EL1 starts with its MMU off */
    msr sctlr_el1, x0
    mov x0, #0x3c5                      /* SPSR: EL1h, D A I F masked */
    msr spsr_el2, x0
    adr x0, el1_entry
    msr elr_el2, x0
    eret

el1_entry:
    msr daifset, #0xf
    ldr x0, =SCTLR_RES1                 /* MMU and caches off, as we set them up */
    msr sctlr_el1, x0
    isb
    /* FP/SIMD on at EL1 and EL0 (CPACR_EL1.FPEN = 3): threads own these
     * registers; the kernel C never touches them (general-regs-only), but
     * libfdt.a, built with SIMD, runs at boot (fdt_boot.c). */
    mov x0, #(3 << 20)
    msr cpacr_el1, x0
    isb

    /* Clear .bss (the early tables and stacks are in it). */
    adrp x0, _bss
    add x0, x0, :lo12:_bss
    adrp x1, _ebss
    add x1, x1, :lo12:_ebss
1:  stp xzr, xzr, [x0], #16
    cmp x0, x1
    b.lo 1b

    /* TTBR1 L0[0] -> the direct map's L1. */
    adrp x0, early_ttbr1_l0
    adrp x1, early_direct_l1
    orr x2, x1, #DESC_TABLE
    str x2, [x0]
    /* its 1 GiB blocks: [0, 1 GiB) Device, the rest Normal */
    mov x3, #0
    ldr x4, =(BLOCK_DEVICE | DESC_PXN_UXN)
    str x4, [x1], #8
    ldr x4, =(BLOCK_NORMAL | DESC_PXN_UXN)
    mov x5, #1
2:  lsl x6, x5, #30
    orr x6, x6, x4
    str x6, [x1], #8
    add x5, x5, #1
    cmp x5, #EARLY_DIRECT_GIB
    b.lo 2b

    /* TTBR1 L0[511] -> L1; L1[510] -> L2; L2[0..15] -> the image. */
    adrp x1, early_image_l1
    orr x2, x1, #DESC_TABLE
    str x2, [x0, #(511 * 8)]
    adrp x3, early_image_l2
    orr x2, x3, #DESC_TABLE
    str x2, [x1, #(510 * 8)]
    ldr x4, =BLOCK_NORMAL
    orr x4, x4, x20                     /* the load base, 2 MiB aligned */
    mov x5, #EARLY_IMAGE_BLOCKS
3:  str x4, [x3], #8
    add x4, x4, #(2 << 20)
    subs x5, x5, #1
    b.ne 3b

    /* TTBR0: identity for the 1 GiB holding this code. */
    adrp x0, early_ttbr0_l0
    adrp x1, early_id_l1
    orr x2, x1, #DESC_TABLE
    lsr x3, x20, #39
    str x2, [x0, x3, lsl #3]
    lsr x3, x20, #30
    and x3, x3, #511
    lsl x4, x3, #30
    ldr x5, =BLOCK_NORMAL
    orr x4, x4, x5
    str x4, [x1, x3, lsl #3]

    /* The tables were written with the caches off: drop any stale lines
     * for them before the walker reads them through the caches. */
    adrp x0, early_tables_start
    adrp x1, early_tables_end
    dsb sy
4:  dc ivac, x0
    add x0, x0, #64
    cmp x0, x1
    b.lo 4b
    dsb sy

    ldr x0, =MAIR_VALUE
    msr mair_el1, x0
    ldr x0, =TCR_VALUE
    mrs x1, id_aa64mmfr0_el1
    and x1, x1, #0xf                    /* PARange */
    cmp x1, #5
    mov x2, #5
    csel x1, x1, x2, ls                 /* at most 48 bits with 4 KiB pages */
    bfi x0, x1, #32, #3                 /* IPS */
    msr tcr_el1, x0
    adrp x0, early_ttbr0_l0
    msr ttbr0_el1, x0
    adrp x0, early_ttbr1_l0
    msr ttbr1_el1, x0
    isb
    tlbi vmalle1
    dsb nsh
    isb
    ldr x0, =(SCTLR_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_I)
    msr sctlr_el1, x0
    isb
    ldr x0, =high_entry                 /* a link-time (virtual) address */
    br x0

high_entry:
    /* Exceptions from here on land in trap_entry.S's table. */
    ldr x0, =vectors
    msr vbar_el1, x0
    isb
    /* SP_EL1: CPU 0's exception stack; SP_EL0: the boot stack, which we
     * run on from now (EL1t). */
    ldr x0, =cpu0_exc_stack_top
    mov sp, x0
    ldr x0, =boot_stack_top
    msr sp_el0, x0
    msr spsel, #0
    mov x29, #0                         /* backtraces end here */
    mov x30, #0
    ldr x0, =aarch64_boot_dtb
    str x19, [x0]
    ldr x0, =arch_kernel_phys_base
    str x20, [x0]
    ldr x0, =aarch64_boot_el
    str x21, [x0]
    ldr x0, =aarch64_boot_cycles
    str x22, [x0]
    bl aarch64_boot                     /* setup.c; never returns */
5:  wfe
    b 5b
    .ltorg

/*
 * The early tables (each one page, cleared with .bss) and the stacks. A
 * guard page lies under each stack: paging.c leaves it out of the final
 * map (the boot stack's) so an overflow faults.
 */
    .section .bss.pgtable, "aw", %nobits
    .balign 4096
early_tables_start:
early_ttbr1_l0:   .skip 4096
early_direct_l1:  .skip 4096
early_image_l1:   .skip 4096
early_image_l2:   .skip 4096
early_ttbr0_l0:   .skip 4096
early_id_l1:      .skip 4096
early_tables_end:

    .section .bss.stack, "aw", %nobits
    .balign 4096
    .globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:
    .skip 4096
boot_stack_bottom:
    .skip 32768
boot_stack_top:
    .globl cpu0_exc_stack_guard, cpu0_exc_stack_top
cpu0_exc_stack_guard:
    .skip 4096
    .skip 8192
cpu0_exc_stack_top:

    .data
    .balign 8
    .globl arch_kernel_phys_base, aarch64_boot_dtb, aarch64_boot_el, aarch64_boot_cycles
arch_kernel_phys_base:  .quad 0
aarch64_boot_dtb:       .quad 0
aarch64_boot_el:        .quad 0
aarch64_boot_cycles:    .quad 0
