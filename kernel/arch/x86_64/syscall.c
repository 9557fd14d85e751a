/* Enabling the `syscall` instruction on a CPU (entry in syscall_entry.S). */
#include <arch/cpu.h>
#include <arch/syscall.h>
#include "x86_64.h"

#define MSR_STAR   0xc0000081
#define MSR_LSTAR  0xc0000082
#define MSR_FMASK  0xc0000084
#define RFLAGS_IF  (1u << 9)
#define RFLAGS_DF  (1u << 10)
#define RFLAGS_TF  (1u << 8)
#define RFLAGS_AC  (1u << 18)

void syscall_entry(void);

void syscall_init_cpu(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* CS/SS loaded by syscall: our kernel selectors (sysret is not used). */
    wrmsr(MSR_STAR, (uint64_t)GDT_KERNEL_CS << 32);
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    /* Entered with interrupts masked until the stack is switched, and with
     * DF, TF and AC clear, as the C code expects. */
    wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC);
}
