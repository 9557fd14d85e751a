# Portable kernel sources (included by Makefile). Architecture and platform
# files come from kernel/arch/$(ARCH)/arch.mk and platform/$(PLATFORM)/platform.mk.
KERNEL_SRCS := \
	kernel/core/main.c \
	kernel/core/options.c \
	kernel/core/cmdline.c \
	kernel/core/printk.c \
	kernel/core/panic.c \
	kernel/core/ksyms.c \
	kernel/core/backtrace.c \
	kernel/lib/vsnprintf.c \
	kernel/lib/string.c \
	kernel/lib/sha256.c \
	kernel/lib/siphash.c \
	kernel/lib/stdio_frame.c \
	kernel/fs/vfs.c \
	kernel/fs/rofs/rofs_reader.c \
	kernel/core/netdev.c \
	kernel/core/profile.c \
	kernel/core/blkdev.c \
	kernel/core/irq.c \
	kernel/core/fault.c \
	kernel/mm/memmap.c \
	kernel/mm/page_alloc.c \
	kernel/mm/kmalloc.c \
	kernel/mm/kva.c \
	kernel/sched/sched.c \
	kernel/sched/thread.c \
	kernel/sched/timer.c \
	kernel/sched/waitq.c \
	kernel/lib/random.c \
	kernel/mm/vm.c
include kernel/linux/linux.mk
include kernel/net/net.mk
include kernel/ktest/ktest.mk
include drivers/drivers.mk
KERNEL_SRCS += $(NET_SRCS)
KERNEL_SRCS += $(LINUX_SRCS)
KERNEL_SRCS += $(KTEST_SRCS)
KERNEL_SRCS += $(DRIVERS_SRCS)
