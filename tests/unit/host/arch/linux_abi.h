/* Host stand-in for the arch's Linux ABI header: only what the kernel
 * headers the unit tests and fuzzers include need (kern/file.h, kern/vfs.h),
 * with x86_64's values. */
#ifndef ARCH_LINUX_ABI_H
#define ARCH_LINUX_ABI_H
#define O_DIRECT        040000
#define O_LARGEFILE     0100000
#define O_DIRECTORY     0200000
#define O_NOFOLLOW      0400000
#endif
