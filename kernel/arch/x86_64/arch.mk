# x86_64 kernel sources and flags (included by Makefile).
ARCH_SRCS := \
	kernel/arch/x86_64/boot.S \
	kernel/arch/x86_64/setup.c \
	kernel/arch/x86_64/pvh.c \
	kernel/arch/x86_64/gdt.c \
	kernel/arch/x86_64/idt.c \
	kernel/arch/x86_64/trap_entry.S \
	kernel/arch/x86_64/traps.c \
	kernel/arch/x86_64/paging.c \
	kernel/arch/x86_64/tsc.c \
	kernel/arch/x86_64/fpu.c \
	kernel/arch/x86_64/apic.c \
	kernel/arch/x86_64/switch.S \
	kernel/arch/x86_64/context.c \
	kernel/arch/x86_64/torture.S \
	kernel/arch/x86_64/torture_pattern.c \
	kernel/arch/x86_64/ap_boot.S \
	kernel/arch/x86_64/smp.c \
	kernel/arch/x86_64/syscall.c \
	kernel/arch/x86_64/syscall_entry.S \
	kernel/arch/x86_64/entropy.c

# -mcmodel=kernel: the image lives in the top 2 GiB. No red zone in kernel
# code. General-regs-only: FP/SIMD state belongs to threads.
ARCH_CFLAGS := -m64 -mcmodel=kernel -mno-red-zone -mgeneral-regs-only
KERNEL_LDS  := kernel/arch/x86_64/kernel.ld
KLDFLAGS    := -nostdlib -static -no-pie -Wl,-T,$(KERNEL_LDS) \
	-Wl,-z,max-page-size=4096 -Wl,--build-id=none -Wl,-z,noexecstack \
	-Wl,--no-warn-rwx-segments

# Linux system call numbers for this architecture (scripts/gen-syscalls.sh).
ARCH_UNISTD := /usr/include/x86_64-linux-gnu/asm/unistd_64.h
