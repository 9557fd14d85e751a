/* What an architecture (kernel/arch/<arch>) provides to the portable core. */
#ifndef KERN_ARCH_H
#define KERN_ARCH_H

#include <kern/types.h>

extern const char *const arch_name;

/* Descriptor tables, exception vectors, CPU features; before memory setup. */
void arch_early_init(void);

/* CPU parts that need the page allocator (the local APIC). */
void arch_late_init(void);

/* Start the other CPUs (after sched_init); each ends in its idle thread. */
void arch_smp_init(void);
/* Ask another CPU to reschedule (an IPI). */
struct cpu;
void arch_send_resched(struct cpu *c);
/* Flush the other CPUs' TLBs after an unmap. */
void arch_tlb_shootdown(void);

/* Final page tables: kernel image with W^X, direct map of all memory. */
void arch_paging_init(void);

/* Map [va, va+len) to physical pa in the kernel's address space (both
 * page-aligned). Unmapping flushes this CPU's TLB for the range. */
#define MAP_WRITE    0x1
#define MAP_EXEC     0x2
#define MAP_UNCACHED 0x4
void arch_map(uintptr_t va, paddr_t pa, size_t len, unsigned flags);
void arch_unmap(uintptr_t va, size_t len);
/* The 4 KiB mapping at va: false when nothing is mapped there; else its
 * physical page and MAP_WRITE/MAP_EXEC flags. */
bool arch_lookup(uintptr_t va, paddr_t *pa, unsigned *flags);
/* Change the flags of the pages mapped in [va, va+len) (others stay
 * unmapped), on every CPU. */
void arch_protect(uintptr_t va, size_t len, unsigned flags);
/* True when the page at va (page-aligned) is one of the guard pages the
 * arch left unmapped below its own stacks (boot, interrupt stacks), for
 * fault reports. */
bool arch_is_guard_page(uintptr_t va);
/* Seed material for the random generator: a hardware random number when
 * the CPU has one, else whatever varies (cycle counter). */
uint64_t arch_entropy(void);
/* What arch_entropy draws on ("RDRAND", "RNDR"), NULL when the CPU has no
 * random-number instruction and it is the cycle counter alone. */
const char *arch_entropy_source(void);
/* The calling thread's TLS pointer (FS base on x86_64, TPIDR_EL0 on
 * aarch64), as apps set it. */
uintptr_t arch_tls_get(void);
void arch_tls_set(uintptr_t base);
/* AT_HWCAP for apps. */
uint64_t arch_elf_hwcap(void);
/* The physical address behind a mapped kernel virtual address. */
paddr_t arch_virt_to_phys(uintptr_t va);

/* Device registers: an uncached mapping of [pa, pa+len) in the I/O window. */
void *ioremap(paddr_t pa, size_t len);

/* Map physical memory [pa, pa+len) into the direct map if it is not yet
 * (firmware tables in "reserved" regions); returns its address or NULL. */
void *phys_map(paddr_t pa, size_t len);

/* Cycle counter, its frequency (0 until calibrated), and time since
 * kernel entry in nanoseconds (0 until calibrated). */
uint64_t arch_cycles(void);
uint64_t arch_cycles_hz(void);
uint64_t arch_boot_cycles(void);     /* the counter at kernel entry */
uint64_t arch_time_ns(void);
void arch_time_init(void);

/* The one-shot timer interrupt of this CPU (the local APIC timer on
 * x86_64, the generic timer on aarch64, or the hypervisor's when the
 * platform offers one: platform_timer, kern/plat_time.h): raise it at
 * deadline_ns (arch_time_ns), or not at all. Its handler calls
 * timer_interrupt. */
void arch_timer_arm(uint64_t deadline_ns);
void arch_timer_disarm(void);

/* The boot CPU's stack, on which the arch's entry code runs kernel_main;
 * it becomes the main thread's stack (sched_init). */
extern char boot_stack_bottom[], boot_stack_top[];

/* Bytes of a thread's FP/SIMD save area (known after arch_early_init). */
extern size_t fpu_state_size;

/* Enter an app thread with the registers in f (a new app, or a fork
 * child); never returns to the caller. */
struct syscall_frame;
void arch_app_enter(struct syscall_frame *f) __noreturn;
/* Copy the calling thread's live FP/SIMD state into c (fork: the child
 * starts with the parent's vector registers). */
struct arch_context;
void arch_fpu_snapshot(struct arch_context *c);

/* One software interrupt through the whole trap path, for measuring it
 * (ktest=bench_sched). */
void arch_bench_trap(void);

/* Stop this CPU for good (interrupts off). */
void arch_halt(void) __noreturn;

/* Print the CPU state that is not in a trap frame (control registers). */
void arch_dump_cpu_state(void);

/* The caller's frame pointer, for backtrace_here. */
#define arch_frame_address() ((uintptr_t)__builtin_frame_address(0))

#endif
