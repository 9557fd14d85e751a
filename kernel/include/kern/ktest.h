/* Built-in kernel self tests, chosen with ktest=NAME on the command line and
 * run once the kernel is ready. The guest tests in tests/guest boot them and
 * check the console and the exit status.
 *
 * A test is registered with KTEST(name, "what it shows") { ... return status; }
 * anywhere in the kernel; the linker collects them (section .ktests). */
#ifndef KERN_KTEST_H
#define KERN_KTEST_H

#include <kern/types.h>

struct ktest {
    const char *name;
    const char *what;
    int (*run)(void);        /* returns an exit status (0 = pass) */
};

#define KTEST(ident, descr) \
    static int ktest_fn_##ident(void); \
    static const struct ktest ktest_##ident __used __section(".ktests") \
        __aligned(8) = { #ident, descr, ktest_fn_##ident }; \
    static int ktest_fn_##ident(void)

/* Spreads a seed over 64 bits (the MurmurHash3/SplitMix64 finalizer): the
 * torture test's register patterns (each arch's torture_pattern_fill), so
 * that every thread and round holds values no other one does. */
static inline uint64_t torture_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* Returns -1 when no test has that name. */
int ktest_run(const char *name);
void ktest_list(void);

#endif
