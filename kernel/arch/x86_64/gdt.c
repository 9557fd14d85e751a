/*
 * GDT and TSS. Tern runs everything at CPL 0 (apps included), so the GDT
 * holds only kernel code and data and the TSS; the TSS matters for its IST
 * pointers, the stacks the CPU switches to on exceptions and interrupts.
 */
#include <arch/mm.h>
#include <kern/backtrace.h>
#include <kern/percpu.h>
#include <kern/string.h>
#include "x86_64.h"

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];            /* ist[0] is IST1 */
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

/* The boot CPU's IST stacks are static, each with an unmapped guard page
 * below it; the other CPUs' come from kva_alloc_guarded at bring-up. */
struct ist_stack {
    uint8_t guard[PAGE_SIZE];
    uint8_t stack[IST_STACK_SIZE];
} __aligned(PAGE_SIZE);

static struct ist_stack boot_ist_stacks[4] __section(".bss.stack");

struct cpu_tables {
    uint64_t gdt[5] __aligned(16);
    struct tss tss __aligned(16);
};
static struct cpu_tables tables[MAX_CPUS];

static void load_gdt(struct cpu_tables *t)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) ptr = {
        sizeof(t->gdt) - 1, (uint64_t)t->gdt,
    };
    /* Reload CS with a far return (there is no far jump to an immediate in
     * long mode), then the data segments. */
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movl %2, %%eax\n\t"
        "movl %%eax, %%ds\n\t"
        "movl %%eax, %%es\n\t"
        "movl %%eax, %%ss\n\t"
        : : "m"(ptr), "i"(GDT_KERNEL_CS), "i"(GDT_KERNEL_DS) : "rax", "memory");
    __asm__ volatile("ltr %w0" : : "r"(GDT_TSS));
}

/* ist_tops[i] is the top of the stack for IST slot i + 1. */
void gdt_init_cpu(unsigned cpu, const uintptr_t ist_tops[4])
{
    struct cpu_tables *t = &tables[cpu];
    for (int i = 0; i < 4; i++)
        t->tss.ist[i] = ist_tops[i];
    t->tss.iomap_base = sizeof(t->tss);     /* no I/O permission bitmap */

    t->gdt[0] = 0;
    t->gdt[1] = 0x00af9a000000ffffULL;      /* 0x08: 64-bit code, DPL 0 */
    t->gdt[2] = 0x00cf92000000ffffULL;      /* 0x10: data, DPL 0 */
    /* 0x18: 16-byte available 64-bit TSS descriptor. */
    uint64_t base = (uint64_t)&t->tss, limit = sizeof(t->tss) - 1;
    t->gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
                (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    t->gdt[4] = base >> 32;
    load_gdt(t);
}

void gdt_init(void)
{
    uintptr_t tops[4];
    for (int i = 0; i < 4; i++) {
        struct ist_stack *s = &boot_ist_stacks[i];
        tops[i] = (uintptr_t)(s->stack + sizeof(s->stack));
        stack_register((uintptr_t)s->stack, tops[i]);
        paging_add_guard((uintptr_t)s->guard);
    }
    gdt_init_cpu(0, tops);
}
