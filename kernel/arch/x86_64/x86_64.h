/* Interfaces between the x86_64 arch files (not for the portable core). */
#ifndef X86_64_PRIVATE_H
#define X86_64_PRIVATE_H

#include <kern/types.h>

struct cpu;

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

/* Interrupt vectors (devices get ARCH_FIRST/LAST_DEVICE_VECTOR, arch/irq.h). */
#define VEC_TIMER        0x20
#define VEC_IPI_RESCHED  0xf0
#define VEC_IPI_TLB      0xf1
#define VEC_BENCH        0xf2     /* a no-op, for measuring the trap path */
#define VEC_APIC_ERROR   0xfe
#define VEC_SPURIOUS     0xff

#define FPU_MAX_STATE    4096

extern uint64_t x86_boot_tsc;
extern bool fpu_has_xsave;
extern size_t fpu_state_size;
extern uint8_t fpu_init_state[FPU_MAX_STATE];

const char *pvh_parse(uint64_t start_info_pa);
void gdt_init(void);
void idt_init(void);
void idt_load(void);
void gdt_init_cpu(unsigned cpu, const uintptr_t ist_tops[4]);
void percpu_init(struct cpu *c, unsigned id);
void tlb_ipi(void);
void paging_add_guard(uintptr_t va);
void fpu_init(void);
void fpu_init_cpu(void);
void apic_init(void);
void apic_init_cpu(void);
void apic_eoi(void);
uint32_t apic_id(void);
void apic_send_ipi(uint32_t dest_apic_id, uint32_t icr_lo);

#endif
