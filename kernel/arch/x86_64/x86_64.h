/* Interfaces between the x86_64 arch files (not for the portable core). */
#ifndef X86_64_PRIVATE_H
#define X86_64_PRIVATE_H

#include <kern/types.h>

/* IST slots in the TSS: faults that must not run on a possibly broken stack
 * get their own. See docs/abi-contract.md. */
#define IST_DOUBLE_FAULT 1
#define IST_NMI          2
#define IST_MACHINE_CHK  3
#define IST_DEFAULT      4      /* every other exception and interrupt */
#define IST_STACK_SIZE   (16 * 1024)

#define GDT_KERNEL_CS    0x08
#define GDT_KERNEL_DS    0x10
#define GDT_TSS          0x18

extern uint64_t x86_boot_tsc;
extern char x86_hypervisor[13];

const char *pvh_parse(uint64_t start_info_pa);
void gdt_init(void);
void idt_init(void);
void paging_add_guard(uintptr_t va);
bool paging_is_guard(uintptr_t va);

#endif
