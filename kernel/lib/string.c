/*
 * The C string and memory functions the kernel provides (kern/string.h).
 *
 * The mem* functions move a machine word at a time once both pointers are
 * word aligned, and fall back to bytes otherwise: unaligned word accesses
 * would trap on aarch64 before the MMU is on. The str* functions use plain
 * byte loops; they run on short strings, and a word-at-a-time scan would
 * read past the terminator, which the unit tests' AddressSanitizer rejects.
 */
#include <kern/string.h>

/*
 * GCC recognises byte-copy and byte-fill loops and replaces them with calls
 * to memcpy/memset; inside memcpy and memset that is infinite recursion.
 * GCC 12 skips the transformation under -ffreestanding or -fno-builtin, but
 * that is a property of the flags (and of a compiler version), not of this
 * file, so switch it off here for every function. (Clang has no such
 * attribute; Tern is built with GCC.)
 */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NO_LIBCALL
#endif

/* A word that may alias any other type, so that word-sized copies of, say,
 * a struct are valid even where -fstrict-aliasing is on (the host tests). */
typedef unsigned long __attribute__((may_alias)) word_t;
#define WSIZE sizeof(word_t)

static inline bool word_aligned(const void *p)
{
    return ((uintptr_t)p & (WSIZE - 1)) == 0;
}

/* Forward copy, safe for overlap when dst < src (memmove relies on it). */
NO_LIBCALL
static void copy_forward(unsigned char *d, const unsigned char *s, size_t n)
{
    /* Words only pay when both pointers can be aligned together. */
    if ((((uintptr_t)d ^ (uintptr_t)s) & (WSIZE - 1)) == 0) {
        while (n > 0 && !word_aligned(d)) {
            *d++ = *s++;
            n--;
        }
        for (; n >= WSIZE; n -= WSIZE, d += WSIZE, s += WSIZE)
            *(word_t *)d = *(const word_t *)s;
    }
    while (n > 0) {
        *d++ = *s++;
        n--;
    }
}

/* Backward copy from the ends, for memmove when dst > src. */
NO_LIBCALL
static void copy_backward(unsigned char *d, const unsigned char *s, size_t n)
{
    d += n;
    s += n;
    if ((((uintptr_t)d ^ (uintptr_t)s) & (WSIZE - 1)) == 0) {
        while (n > 0 && !word_aligned(d)) {
            *--d = *--s;
            n--;
        }
        for (; n >= WSIZE; n -= WSIZE) {
            d -= WSIZE;
            s -= WSIZE;
            *(word_t *)d = *(const word_t *)s;
        }
    }
    while (n > 0) {
        *--d = *--s;
        n--;
    }
}

NO_LIBCALL
void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    copy_forward(dst, src, n);
    return dst;
}

NO_LIBCALL
void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    /* Compared as integers: the pointers may belong to different objects,
     * where a relational pointer comparison is undefined. */
    if ((uintptr_t)d - (uintptr_t)s >= n)
        copy_forward(d, s, n);      /* dst before src, or no overlap */
    else
        copy_backward(d, s, n);     /* dst inside [src, src+n) */
    return dst;
}

NO_LIBCALL
void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    unsigned char b = (unsigned char)c;

    while (n > 0 && !word_aligned(d)) {
        *d++ = b;
        n--;
    }
    if (n >= WSIZE) {
        /* b in every byte of a word: 0x0101...01 * b. */
        word_t w = (word_t)-1 / 0xff * b;
        for (; n >= WSIZE; n -= WSIZE, d += WSIZE)
            *(word_t *)d = w;
    }
    while (n > 0) {
        *d++ = b;
        n--;
    }
    return dst;
}

NO_LIBCALL
int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;

    for (; n > 0; n--, p++, q++) {
        if (*p != *q)
            return *p - *q;
    }
    return 0;
}

NO_LIBCALL
void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    unsigned char b = (unsigned char)c;

    for (; n > 0; n--, p++) {
        if (*p == b)
            return (void *)p;
    }
    return NULL;
}

NO_LIBCALL
size_t strlen(const char *s)
{
    const char *p = s;

    while (*p != '\0')
        p++;
    return (size_t)(p - s);
}

NO_LIBCALL
size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n] != '\0')
        n++;
    return n;
}

/* C compares strings as unsigned char, so "\xff" sorts after "a". */
NO_LIBCALL
int strcmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    while (*p != '\0' && *p == *q) {
        p++;
        q++;
    }
    return *p - *q;
}

NO_LIBCALL
int strncmp(const char *a, const char *b, size_t n)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    if (n == 0)
        return 0;
    while (--n > 0 && *p != '\0' && *p == *q) {
        p++;
        q++;
    }
    return *p - *q;
}

/* The terminator counts as part of the string: strchr(s, 0) finds it. */
NO_LIBCALL
char *strchr(const char *s, int c)
{
    char ch = (char)c;

    for (;; s++) {
        if (*s == ch)
            return (char *)s;
        if (*s == '\0')
            return NULL;
    }
}

NO_LIBCALL
char *strrchr(const char *s, int c)
{
    char ch = (char)c;
    const char *last = NULL;

    for (;; s++) {
        if (*s == ch)
            last = s;
        if (*s == '\0')
            return (char *)last;
    }
}

NO_LIBCALL
size_t strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);

    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
        dst[n] = '\0';
    }
    return len;
}
