/*
 * A small unit-test harness for kernel code compiled on the host.
 *
 * A test file includes this header once, defines tests with TEST(name) and
 * gets a main() that runs them all, printing one line per test:
 *   PASS: <file>: <name>
 *   FAIL: <file>: <name>
 * tests/run-tests.sh counts those lines. CHECK failures print the file,
 * line and expression and mark the test failed; the test goes on.
 *
 * The kernel functions that report (printk, panic, ...) are provided here:
 * printk goes to stdout (shown only with CHECK_VERBOSE=1), and panic
 * longjmps back into EXPECT_PANIC so tests can assert that bad input is
 * caught.
 */
#ifndef CHECK_H
#define CHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kern/types.h>
#include <kern/printk.h>
#include <kern/panic.h>

typedef void (*check_fn)(void);
struct check_test { const char *name; check_fn fn; };

static struct check_test check_tests[256];
static int check_ntests;
static int check_failed_current;
static int check_expecting_panic;
static jmp_buf check_panic_jmp;
static char check_panic_msg[1024];

static void check_register(const char *name, check_fn fn)
{
    if (check_ntests == (int)(sizeof(check_tests) / sizeof(check_tests[0]))) {
        fprintf(stderr, "check.h: too many tests\n");
        exit(2);
    }
    check_tests[check_ntests].name = name;
    check_tests[check_ntests].fn = fn;
    check_ntests++;
}

#define TEST(name) \
    static void name(void); \
    __attribute__((constructor)) static void check_reg_##name(void) \
    { check_register(#name, name); } \
    static void name(void)

#define CHECK(cond) do { \
        if (!(cond)) { \
            printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            check_failed_current = 1; \
        } \
    } while (0)

#define CHECK_EQ_INT(a, b) do { \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
        if (check_a_ != check_b_) { \
            printf("  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, \
                   __LINE__, #a, #b, check_a_, check_b_); \
            check_failed_current = 1; \
        } \
    } while (0)

#define CHECK_EQ_STR(a, b) do { \
        const char *check_a_ = (a), *check_b_ = (b); \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) { \
            printf("  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, \
                   __LINE__, #a, #b, check_a_ ? check_a_ : "(null)", \
                   check_b_ ? check_b_ : "(null)"); \
            check_failed_current = 1; \
        } \
    } while (0)

/* Run stmt, which must panic with a message containing substr. */
#define EXPECT_PANIC(stmt, substr) do { \
        check_expecting_panic = 1; \
        check_panic_msg[0] = 0; \
        if (setjmp(check_panic_jmp) == 0) { \
            stmt; \
            check_expecting_panic = 0; \
            printf("  %s:%d: expected a panic from %s\n", __FILE__, __LINE__, #stmt); \
            check_failed_current = 1; \
        } else { \
            check_expecting_panic = 0; \
            if (!strstr(check_panic_msg, (substr))) { \
                printf("  %s:%d: panic message \"%s\" lacks \"%s\"\n", __FILE__, \
                       __LINE__, check_panic_msg, (substr)); \
                check_failed_current = 1; \
            } \
        } \
    } while (0)

/* Deterministic PRNG (xorshift64*) for stress tests, so that failures
 * reproduce: seed with check_rng_seed, draw with check_rng. */
static uint64_t check_rng_state = 0x9e3779b97f4a7c15ULL;

static inline void check_rng_seed(uint64_t seed)
{
    check_rng_state = seed ? seed : 1;
}

static inline uint64_t check_rng(void)
{
    check_rng_state ^= check_rng_state >> 12;
    check_rng_state ^= check_rng_state << 25;
    check_rng_state ^= check_rng_state >> 27;
    return check_rng_state * 0x2545f4914f6cdd1dULL;
}

/* --- kernel services, host versions ------------------------------------ */
static int check_verbose(void)
{
    const char *v = getenv("CHECK_VERBOSE");
    return v && *v == '1';
}

void vprintk(enum log_level level, const char *fmt, va_list ap)
{
    if (check_verbose()) {
        printf("  [printk %d] ", (int)level);
        vprintf(fmt, ap);
    }
}

void printk(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(level, fmt, ap);
    va_end(ap);
}

void console_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (check_verbose())
        vprintf(fmt, ap);
    va_end(ap);
}

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(check_panic_msg, sizeof(check_panic_msg), fmt, ap);
    va_end(ap);
    if (check_expecting_panic)
        longjmp(check_panic_jmp, 1);
    printf("  unexpected panic: %s\n", check_panic_msg);
    printf("FAIL: (a test panicked; remaining tests not run)\n");
    exit(1);
}

void kernel_exit(int status)
{
    printf("  unexpected kernel_exit(%d)\n", status);
    exit(1);
}

int main(int argc, char **argv)
{
    const char *file = strrchr(argv[0], '/');
    file = file ? file + 1 : argv[0];
    int failed = 0;
    for (int i = 0; i < check_ntests; i++) {
        /* argv[1], when given, runs only the tests whose name contains it */
        if (argc > 1 && !strstr(check_tests[i].name, argv[1]))
            continue;
        check_failed_current = 0;
        check_tests[i].fn();
        printf("%s: %s: %s\n", check_failed_current ? "FAIL" : "PASS", file,
               check_tests[i].name);
        fflush(stdout);
        failed += check_failed_current;
    }
    return failed ? 1 : 0;
}

#endif
