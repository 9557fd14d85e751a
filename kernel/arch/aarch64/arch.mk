# aarch64 kernel sources and flags (included by Makefile).
ARCH_SRCS := \
	kernel/arch/aarch64/boot.S \
	kernel/arch/aarch64/setup.c \
	kernel/arch/aarch64/fdt_boot.c \
	kernel/arch/aarch64/stack_protector.c \
	kernel/arch/aarch64/libgcc_gpr.c \
	kernel/arch/aarch64/paging.c \
	kernel/arch/aarch64/trap_entry.S \
	kernel/arch/aarch64/traps.c \
	kernel/arch/aarch64/switch.S \
	kernel/arch/aarch64/context.c \
	kernel/arch/aarch64/syscall.c \
	kernel/arch/aarch64/torture.S \
	kernel/arch/aarch64/torture_pattern.c \
	kernel/arch/aarch64/gic.c \
	kernel/arch/aarch64/gic_v2.c \
	kernel/arch/aarch64/gic_v3.c \
	kernel/arch/aarch64/timer.c \
	kernel/arch/aarch64/smp.c \
	kernel/arch/aarch64/ap_entry.S

# General-regs-only: FP/SIMD state belongs to threads (the switch and the
# trap entry save it in assembly). x18 is left alone (AAPCS64's platform
# register). The small code model reaches +-4 GiB PC-relative: the image is
# one piece at KERNEL_VBASE. Atomics inline (LL/SC): the out-of-line
# helpers in libgcc ask getauxval which CPU this is.
# No unwind tables: GCC then puts its CFI in .debug_frame (kept, not
# loaded) instead of .eh_frame (discarded by kernel.ld), so gdb can walk
# the kernel's stacks (docs/debugging.md); aarch64 gdb's prologue analysis
# alone stops at the first function whose prologue is interleaved.
ARCH_CFLAGS := -mgeneral-regs-only -mcmodel=small -ffixed-x18 \
	-mno-outline-atomics -fno-unwind-tables
KERNEL_LDS  := kernel/arch/aarch64/kernel.ld
KLDFLAGS    := -nostdlib -static -no-pie -Wl,-T,$(KERNEL_LDS) \
	-Wl,-z,max-page-size=4096 -Wl,--build-id=none -Wl,-z,noexecstack \
	-Wl,--no-warn-rwx-segments
# What QEMU's -kernel and U-Boot's booti load: the arm64 Image (boot.S's
# header), made from kernel.elf by objcopy.
ARCH_IMAGE  := kernel.img

# Debian's libfdt for arm64, unpacked by configure (deps/debian.txt: it
# conflicts with the host's libfdt-dev, so it is not installed). Only the
# two files that parse the device tree at boot see its headers, through
# fdt_env/ (libfdt_env.h wants <string.h> and <stdlib.h>).
ARM64_SYSROOT := $(TERN_CACHE)/arm64
LIBFDT_A      := $(ARM64_SYSROOT)/usr/lib/aarch64-linux-gnu/libfdt.a
ARCH_LIBS     := $(LIBFDT_A)
FDT_CFLAGS    := -isystem kernel/arch/aarch64/fdt_env -isystem $(ARM64_SYSROOT)/usr/include
$(B)/obj/kernel/arch/aarch64/fdt_boot.c.o: KCFLAGS += $(FDT_CFLAGS)
$(B)/obj/platform/kvm/dt_arm64.c.o: KCFLAGS += $(FDT_CFLAGS)

$(LIBFDT_A):
	@echo "$@ is missing: run ./configure --arch=aarch64 --install-deps (docs/aarch64.md)" >&2
	@exit 1

# Linux system call numbers for this architecture (scripts/gen-syscalls.sh).
ARCH_UNISTD := kernel/arch/aarch64/uapi/asm/unistd.h
