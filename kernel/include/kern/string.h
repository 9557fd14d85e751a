/* The C string functions the kernel provides (kernel/lib/string.c). The
 * prototypes match ISO C so that the compiler's builtins and the host libc
 * (in unit tests) agree with them. */
#ifndef KERN_STRING_H
#define KERN_STRING_H

#include <kern/types.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);

/* Copy at most size-1 bytes and always terminate (BSD strlcpy); returns
 * strlen(src) so truncation can be detected. */
size_t strlcpy(char *dst, const char *src, size_t size);

#endif
