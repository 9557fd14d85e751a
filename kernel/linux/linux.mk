# The Linux personality: ELF loader, system calls, files (included by
# kernel/kernel.mk). One file per idea; each system call is registered by
# the file that implements it (kern/syscall.h).
LINUX_SRCS := \
	kernel/linux/syscall.c \
	kernel/linux/uaccess.c \
	kernel/linux/pipe.c \
	kernel/linux/eventfd.c \
	kernel/linux/timerfd.c \
	kernel/linux/poll.c \
	kernel/linux/epoll.c \
	kernel/linux/file.c
LINUX_SRCS += \
	kernel/linux/elf_load.c \
	kernel/linux/process.c \
	kernel/linux/futex.c \
	kernel/linux/console_file.c \
	kernel/linux/stdio_framed.c \
	kernel/linux/rofs_file.c \
	kernel/linux/sys_fs.c \
	kernel/linux/sys_stat.c \
	kernel/linux/sys_mm.c \
	kernel/linux/sys_thread.c \
	kernel/linux/sys_time.c \
	kernel/linux/sys_misc.c \
	kernel/linux/sys_signal.c \
	kernel/linux/sys_socket.c \
	kernel/linux/zcopy_file.c \
	kernel/linux/zcopy_txq.c \
	kernel/linux/proc_files.c
