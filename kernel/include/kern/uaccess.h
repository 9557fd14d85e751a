/*
 * Access to app memory from system calls. Apps share the kernel's address
 * space, so app pointers are dereferenced directly, but only after checking
 * that the whole range lies in the app's areas with the needed permission
 * (kern/vm.h); pages not yet touched are mapped by the page fault handler
 * on the way. A bad pointer gets -EFAULT, never a kernel fault.
 *
 * Rule: never touch app memory while holding a spinlock or with interrupts
 * off (the fault handler may sleep).
 */
#ifndef KERN_UACCESS_H
#define KERN_UACCESS_H

#include <kern/types.h>

/* 0 or -EFAULT. */
int copy_from_user(void *dst, const void *usrc, size_t n);
int copy_to_user(void *udst, const void *src, size_t n);
/* Copy a NUL-terminated string of at most max-1 chars; its length, or
 * -EFAULT, or -ENAMETOOLONG when no NUL came within max bytes. */
int64_t strncpy_from_user(char *dst, const char *usrc, size_t max);
/* True when [p, p+n) may be read (or written) by a system call. */
bool user_readable(const void *p, size_t n);
bool user_writable(const void *p, size_t n);

#endif
