/*
 * Xen hypercalls on x86_64 (HVM/PVH): Xen writes, into a page the guest
 * names through an MSR (hypervisor_x86.c), one 32-byte stub per hypercall
 * that loads the number and issues VMCALL or VMMCALL, whichever this CPU
 * has, then returns. Arguments go in rdi, rsi, rdx, r10, r8; the result
 * comes back in rax.
 */
    .section .text.hypercall_page, "ax"
    .balign 4096
    .globl hypercall_page
hypercall_page:
    /* int3 until Xen fills it: a hypercall before the MSR write traps. */
    .fill 4096, 1, 0xcc

    .text
/* long xen_hypercall(unsigned op, a1, a2, a3, a4, a5): the C arguments
 * shift by one register into Xen's; a tail jump lets the stub's ret return
 * to our caller. Every register it touches is caller-saved in SysV. */
    .globl xen_hypercall
xen_hypercall:
    movl %edi, %eax
    shlq $5, %rax
    leaq hypercall_page(%rip), %r11
    addq %r11, %rax
    movq %rsi, %rdi
    movq %rdx, %rsi
    movq %rcx, %rdx
    movq %r8, %r10
    movq %r9, %r8
    jmp *%rax
