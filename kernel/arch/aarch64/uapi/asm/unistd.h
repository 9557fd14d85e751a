/*
 * arm64's system call numbers, as Linux's arch/arm64/include/uapi/asm/
 * unistd.h states them: the generic table (<asm-generic/unistd.h>, from
 * linux-libc-dev) with the optional calls arm64 enables. Only
 * scripts/gen-syscalls.sh reads this file (through the preprocessor), to
 * make the aarch64 kernel's syscall_nr.h; the kernel never includes it.
 * There are no legacy calls here (no open, stat, fork, poll, ...): apps
 * use their *at and newer forms.
 */
#define __ARCH_WANT_RENAMEAT
#define __ARCH_WANT_NEW_STAT            /* newfstatat and fstat */
#define __ARCH_WANT_SET_GET_RLIMIT
#define __ARCH_WANT_TIME32_SYSCALLS
#define __ARCH_WANT_SYS_CLONE3
#define __ARCH_WANT_MEMFD_SECRET

#include <asm-generic/unistd.h>
