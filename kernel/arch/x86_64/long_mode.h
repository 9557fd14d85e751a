/*
 * Entering long mode, shared by the boot CPU's entry (boot.S) and the
 * other CPUs' trampoline (ap_boot.S) so the two cannot drift apart. For
 * assembly only.
 */
#ifndef ARCH_X86_64_LONG_MODE_H
#define ARCH_X86_64_LONG_MODE_H

#define CR0_PE          (1 << 0)
#define CR0_WP          (1 << 16)
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define MSR_EFER        0xc0000080
#define EFER_LME        (1 << 8)
#define EFER_NXE        (1 << 11)

/*
 * From 32-bit protected mode: PAE on, CR3 from pml4 (any 32-bit source
 * operand), EFER.LME (long mode) and EFER.NXE (the NX bit in page tables),
 * then paging with CR0.WP, so the kernel too faults on writes to read-only
 * pages. The next instruction must be a far jump to a 64-bit code segment.
 * Clobbers eax, ecx, edx.
 */
#define ENABLE_LONG_MODE(pml4)                                                  \
    movl %cr4, %eax;                                                           \
    orl $CR4_PAE, %eax;                                                        \
    movl %eax, %cr4;                                                           \
    movl pml4, %eax;                                                           \
    movl %eax, %cr3;                                                           \
    movl $MSR_EFER, %ecx;                                                      \
    rdmsr;                                                                     \
    orl $(EFER_LME | EFER_NXE), %eax;                                          \
    wrmsr;                                                                     \
    movl %cr0, %eax;                                                           \
    orl $(CR0_PG | CR0_WP | CR0_PE), %eax;                                     \
    movl %eax, %cr0

#endif
