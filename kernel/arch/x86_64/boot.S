/*
 * PVH entry: from 32-bit protected mode to long mode at the kernel's high
 * virtual address.
 *
 * The PVH boot ABI (Xen docs/misc/pvh.pandoc), used by both QEMU -kernel and
 * Xen: the loader reads XEN_ELFNOTE_PHYS32_ENTRY and jumps there with
 *   paging off, protected mode, flat 32-bit CS/DS/ES/SS, interrupts off,
 *   %ebx = physical address of struct hvm_start_info, no usable stack.
 * This code runs at its physical (load) address, so it lives in the .boot
 * sections that the linker script places with VMA == LMA.
 */
#include <xen/elfnote.h>
#include "long_mode.h"

#define KERNEL_VBASE    0xffffffff80000000
#define PTE_P           0x1
#define PTE_W           0x2
#define PTE_PS          0x80

/* The note the loader looks for; it holds the physical entry point. */
    .section .note.Xen, "a", @note
    .balign 4
    .long 2f - 1f               /* namesz */
    .long 4f - 3f               /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
1:  .asciz "Xen"
2:  .balign 4
3:  .long pvh_start32
4:  .balign 4

    .section .boot.text, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    /* The cycle counter first, so boot time can be measured from here. */
    rdtsc
    movl %eax, boot_entry_tsc
    movl %edx, boot_entry_tsc + 4
    movl %ebx, boot_start_info_pa

    /*
     * Boot page tables, enough to reach C:
     *   identity 0-4 GiB      (this code, until we jump high)
     *   direct map 0-4 GiB    at 0xffff800000000000 (start_info, memory map)
     *   kernel image          0xffffffff80000000 -> physical 0-1 GiB
     * all with 2 MiB pages. C code replaces them (paging.c).
     */
    movl $boot_pd, %edi
    movl $(PTE_P | PTE_W | PTE_PS), %eax
    xorl %edx, %edx
    movl $2048, %ecx            /* 4 page directories x 512 entries */
1:  movl %eax, (%edi)
    movl %edx, 4(%edi)
    addl $0x200000, %eax
    adcl $0, %edx
    addl $8, %edi
    loop 1b

    movl $boot_pdpt_low, %edi   /* pdpt_low[0..3] -> the 4 page directories */
    movl $(boot_pd + (PTE_P | PTE_W)), %eax
    movl $4, %ecx
2:  movl %eax, (%edi)
    addl $4096, %eax
    addl $8, %edi
    loop 2b

    movl $(boot_pd + (PTE_P | PTE_W)), boot_pdpt_high + 510 * 8

    movl $(boot_pdpt_low + (PTE_P | PTE_W)), boot_pml4            /* [0] identity */
    movl $(boot_pdpt_low + (PTE_P | PTE_W)), boot_pml4 + 256 * 8  /* direct map */
    movl $(boot_pdpt_high + (PTE_P | PTE_W)), boot_pml4 + 511 * 8 /* kernel */

    ENABLE_LONG_MODE($boot_pml4)

    lgdt boot_gdt_ptr
    ljmp $0x08, $1f

    .code64
1:  movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    xorl %eax, %eax
    movl %eax, %fs
    movl %eax, %gs
    movabsq $long_mode_high, %rax
    jmp *%rax

    .section .boot.data, "aw"
    .balign 8
    .globl boot_entry_tsc, boot_start_info_pa
boot_entry_tsc:     .quad 0
boot_start_info_pa: .quad 0
boot_gdt:
    .quad 0                     /* null */
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code, DPL 0 */
    .quad 0x00cf92000000ffff    /* 0x10: data, DPL 0 */
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt
    /* Page tables are data, filled in above. */
    .balign 4096
boot_pml4:      .fill 512, 8, 0
boot_pdpt_low:  .fill 512, 8, 0
boot_pdpt_high: .fill 512, 8, 0
boot_pd:        .fill 4 * 512, 8, 0

/* --- high half --------------------------------------------------------- */
    .text
long_mode_high:
    leaq boot_stack_top(%rip), %rsp
    xorl %ebp, %ebp             /* terminates backtraces */
    call x86_64_boot            /* setup.c; never returns */
1:  cli
    hlt
    jmp 1b

/*
 * The boot stack, with an unmapped guard page below it (paging.c leaves
 * boot_stack_guard out of the final page tables), so an overflow faults
 * instead of silently corrupting .bss.
 */
    .section .bss.stack, "aw", @nobits
    .balign 4096
    .globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:
    .skip 4096
boot_stack_bottom:
    .skip 32768
boot_stack_top:
