/*
 * Application-processor start-up code. smp.c copies it to the physical
 * page AP_BASE (below 1 MiB, as the SIPI vector requires), fills in the
 * data words at its end, and sends INIT-SIPI-SIPI. The AP starts here in
 * 16-bit real mode at AP_BASE, goes through 32-bit protected mode to long
 * mode with the kernel's own page tables (which map this page 1:1 during
 * bring-up) and jumps to ap_main(cpu) on a stack smp.c allocated.
 *
 * All addresses are AP_BASE + (label - ap_trampoline_start): the code runs
 * where it is copied, not where it was linked.
 */
#include "long_mode.h"

#define AP_BASE         0x8000
#define REL(x)          (AP_BASE + (x) - ap_trampoline_start)

    .section .rodata.ap_trampoline, "a"
    .globl ap_trampoline_start, ap_trampoline_end
    .globl ap_tramp_cr3, ap_tramp_stack, ap_tramp_cpu, ap_tramp_entry
    .code16
ap_trampoline_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl REL(ap_gdt_ptr)
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmpl $0x08, $REL(ap_pm32)

    .code32
ap_pm32:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    ENABLE_LONG_MODE(REL(ap_tramp_cr3))
    ljmpl $0x18, $REL(ap_lm64)

    .code64
ap_lm64:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movq REL(ap_tramp_stack), %rsp
    movq REL(ap_tramp_cpu), %rdi
    movq REL(ap_tramp_entry), %rax
    xorl %ebp, %ebp
    jmp *%rax

    .balign 8
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
    .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
ap_gdt_ptr:
    .word ap_gdt_ptr - ap_gdt - 1
    .long REL(ap_gdt)
    .balign 8
ap_tramp_cr3:   .quad 0
ap_tramp_stack: .quad 0
ap_tramp_cpu:   .quad 0
ap_tramp_entry: .quad 0
ap_trampoline_end:
