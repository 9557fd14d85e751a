/*
 * The IDT: 256 interrupt gates to the stubs in trap_entry.S. Every vector
 * runs on an IST stack, never on the interrupted stack: apps use the
 * 128-byte red zone below their stack pointer (docs/abi-contract.md).
 */
#include <kern/types.h>
#include "x86_64.h"

struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;          /* P=1, DPL=0, type 0xe: interrupt gate */
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __attribute__((packed));

extern const uint64_t trap_stubs[256];  /* trap_entry.S */
static struct idt_gate idt[256] __aligned(16);

static void set_gate(int vec, uint64_t handler, int ist)
{
    idt[vec] = (struct idt_gate){
        .offset_lo = handler & 0xffff,
        .selector = GDT_KERNEL_CS,
        .ist = (uint8_t)ist,
        .type_attr = 0x8e,
        .offset_mid = (handler >> 16) & 0xffff,
        .offset_hi = handler >> 32,
    };
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        int ist = v == 8 ? IST_DOUBLE_FAULT :
                  v == 2 ? IST_NMI :
                  v == 18 ? IST_MACHINE_CHK : IST_DEFAULT;
        set_gate(v, trap_stubs[v], ist);
    }
    idt_load();
}

/* Every CPU uses the same IDT. */
void idt_load(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) ptr = {
        sizeof(idt) - 1, (uint64_t)idt,
    };
    __asm__ volatile("lidt %0" : : "m"(ptr));
}
