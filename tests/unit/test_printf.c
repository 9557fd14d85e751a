/*
 * Unit tests for kernel/lib/vsnprintf.c.
 *
 * The unit-test rule compiles with -Dvsnprintf=tern_vsnprintf
 * -Dsnprintf=tern_snprintf, so the kernel's functions do not replace the C
 * library's; this file names them tern_* explicitly so that it cannot
 * silently test libc instead. Every fixed case is checked for its full
 * output, its return value, and every truncated size (see expect()); the
 * last tests cross-check integer formats against the host libc.
 */
#include "check.h"

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include <kern/printf.h>

/* The host C library's snprintf, which the -D rename hides. */
int libc_snprintf(char *buf, size_t size, const char *fmt, ...) __asm__("snprintf");

#define CANARY 0x5a

/*
 * Format fmt with the kernel's vsnprintf into buffers of every size from 0
 * to strlen(want)+2 and check: the return value is strlen(want), the text
 * is want cut to size-1 bytes and terminated, nothing past size is written.
 * Reports the caller's line on a mismatch.
 */
static void vexpect(int line, const char *want, const char *fmt, va_list ap)
{
    size_t wl = strlen(want);
    char buf[512];

    for (size_t size = 0; size <= wl + 2 && size < sizeof(buf) - 8; size++) {
        va_list aq;
        memset(buf, CANARY, sizeof(buf));
        va_copy(aq, ap);
        int n = tern_vsnprintf(buf, size, fmt, aq);
        va_end(aq);

        if (n != (int)wl) {
            printf("  line %d: \"%s\" size %zu returned %d, want %zu\n",
                   line, fmt, size, n, wl);
            check_failed_current = 1;
            return;
        }
        size_t keep = size == 0 ? 0 : MIN(wl, size - 1);
        if (size > 0 && (memcmp(buf, want, keep) != 0 || buf[keep] != '\0')) {
            printf("  line %d: \"%s\" size %zu gave \"%.*s\", want \"%.*s\"\n",
                   line, fmt, size, (int)size, buf, (int)keep, want);
            check_failed_current = 1;
            return;
        }
        for (size_t i = size; i < size + 8; i++) {
            if (buf[i] != CANARY) {
                printf("  line %d: \"%s\" size %zu wrote byte %zu\n",
                       line, fmt, size, i);
                check_failed_current = 1;
                return;
            }
        }
    }
}

/* Checked by the compiler's format checking, like real kernel callers. */
static void expect_(int line, const char *want, const char *fmt, ...) __printf(3, 4);
static void expect_(int line, const char *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vexpect(line, want, fmt, ap);
    va_end(ap);
}

/* For formats the compiler rejects: unknown conversions, and flag
 * combinations C defines but GCC warns about as probably unintended
 * ("%-05d", "%+ d", "%s" with NULL, ...). */
static void expect_raw_(int line, const char *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vexpect(line, want, fmt, ap);
    va_end(ap);
}

/* tern_snprintf without the compiler's format checking. */
static int raw(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = tern_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

#define EXPECT(want, ...)     expect_(__LINE__, want, __VA_ARGS__)
#define EXPECT_RAW(want, ...) expect_raw_(__LINE__, want, __VA_ARGS__)

TEST(plain_text_and_percent)
{
    EXPECT("", "%s", "");
    EXPECT("hello, world", "hello, world");
    EXPECT("%", "%%");
    EXPECT("100% sure", "100%% %s", "sure");
    EXPECT("a%b%c", "a%%b%%c");
}

TEST(signed_decimal)
{
    EXPECT("0", "%d", 0);
    EXPECT("42", "%d", 42);
    EXPECT("-42", "%i", -42);
    EXPECT("2147483647", "%d", INT_MAX);
    EXPECT("-2147483648", "%d", INT_MIN);
    EXPECT("1 -2 3", "%d %i %d", 1, -2, 3);
}

TEST(unsigned_octal_hex)
{
    EXPECT("0", "%u", 0u);
    EXPECT("4294967295", "%u", UINT_MAX);
    EXPECT("17", "%o", 15u);
    EXPECT("37777777777", "%o", UINT_MAX);
    EXPECT("deadbeef", "%x", 0xdeadbeefu);
    EXPECT("DEADBEEF", "%X", 0xdeadbeefu);
    EXPECT("0", "%x", 0u);
    EXPECT("ffffffff", "%x", -1);          /* int reinterpreted as unsigned */
}

TEST(flags_minus_plus_space)
{
    EXPECT("42   |", "%-5d|", 42);
    EXPECT("-42  |", "%-5d|", -42);
    EXPECT("+42", "%+d", 42);
    EXPECT("-42", "%+d", -42);
    EXPECT("+0", "%+d", 0);
    EXPECT(" 42", "% d", 42);
    EXPECT("-42", "% d", -42);
    EXPECT_RAW("+42", "%+ d", 42);             /* '+' beats ' ' */
    EXPECT("  +42", "%+5d", 42);
    EXPECT("+42  |", "%-+5d|", 42);
    /* '+' and ' ' apply to signed conversions only */
    EXPECT_RAW("42 2a", "%+u % x", 42u, 42u);
}

TEST(flag_zero)
{
    EXPECT("00042", "%05d", 42);
    EXPECT("-0042", "%05d", -42);
    EXPECT("+0042", "%+05d", 42);
    EXPECT(" 0042", "% 05d", 42);
    EXPECT("0002a", "%05x", 42u);
    EXPECT_RAW("42   ", "%-05d", 42);          /* '-' overrides '0' */
    EXPECT_RAW("  007", "%05.3d", 7);          /* a precision overrides '0' */
    EXPECT_RAW("   -7", "%05.1d", -7);
    EXPECT("0x02a", "%#05x", 42u);         /* zeros go after the prefix */
    EXPECT("42", "%01d", 42);              /* width smaller than the value */
}

TEST(flag_alternate)
{
    EXPECT("010", "%#o", 8u);
    EXPECT("0", "%#o", 0u);
    EXPECT("0", "%#.0o", 0u);              /* '#' forces the one 0 digit */
    EXPECT("0377", "%#.3o", 255u);
    EXPECT("00377", "%#.5o", 255u);        /* already starts with 0 */
    EXPECT("0xff", "%#x", 255u);
    EXPECT("0XFF", "%#X", 255u);
    EXPECT("0", "%#x", 0u);                /* no prefix for zero */
    EXPECT("  0x1f", "%#6x", 31u);
    EXPECT("0x1f  |", "%-#6x|", 31u);
    EXPECT("0x001f", "%#.4x", 31u);
}

TEST(integer_precision)
{
    EXPECT("007", "%.3d", 7);
    EXPECT("-007", "%.3d", -7);
    EXPECT("+007", "%+.3d", 7);
    EXPECT("12345", "%.3d", 12345);
    EXPECT("", "%.0d", 0);                 /* zero with precision 0: no digits */
    EXPECT("", "%.d", 0);                  /* "." alone is precision 0 */
    EXPECT("     ", "%5.0d", 0);
    EXPECT("+", "%+.0d", 0);
    EXPECT("", "%.0x", 0u);
    EXPECT("1", "%.0u", 1u);
    EXPECT("  00ab", "%6.4x", 0xabu);
    EXPECT("00ab  |", "%-6.4x|", 0xabu);
}

TEST(star_width_and_precision)
{
    EXPECT("   42", "%*d", 5, 42);
    EXPECT("42   |", "%*d|", -5, 42);      /* negative width: '-' flag */
    EXPECT("007", "%.*d", 3, 7);
    EXPECT("0", "%.*d", -1, 0);            /* negative precision: none */
    EXPECT_RAW("00042", "%05.*d", -1, 42);    /* ...so '0' applies again */
    EXPECT("  007", "%*.*d", 5, 3, 7);
    EXPECT("ab   |", "%-*s|", 5, "ab");
    EXPECT("abc", "%.*s", 3, "abcdef");
    EXPECT("x", "%*c", 0, 'x');
}

TEST(length_modifiers)
{
    EXPECT("44", "%hhd", 300);             /* converted to signed char */
    EXPECT("-56", "%hhd", 200);
    EXPECT("200", "%hhu", 200);
    EXPECT("ff", "%hhx", -1);
    EXPECT("4464", "%hu", 70000);
    EXPECT("-1", "%hd", 65535);
    EXPECT("ffff", "%hx", -1);
    EXPECT("-9223372036854775808", "%ld", LONG_MIN);
    EXPECT("9223372036854775807", "%li", LONG_MAX);
    EXPECT("18446744073709551615", "%lu", ULONG_MAX);
    EXPECT("1777777777777777777777", "%lo", ULONG_MAX);
    EXPECT("-9223372036854775808", "%lld", LLONG_MIN);
    EXPECT("ffffffffffffffff", "%llx", ULLONG_MAX);
    EXPECT("18446744073709551615", "%zu", SIZE_MAX);
    EXPECT("-1", "%zd", (ssize_t)-1);
    EXPECT("ffffffffffffffff", "%zx", SIZE_MAX);
    EXPECT("-5", "%td", (ptrdiff_t)-5);
    EXPECT("7fffffffffffffff", "%tx", PTRDIFF_MAX);
    EXPECT("-9223372036854775808", "%jd", INTMAX_MIN);
    EXPECT("18446744073709551615", "%ju", UINTMAX_MAX);
    /* mixing widths keeps the argument list in step */
    EXPECT("1 2 3 4 5", "%hhd %ld %d %lld %zu", 1, 2L, 3, 4LL, (size_t)5);
}

TEST(chars)
{
    EXPECT("x", "%c", 'x');
    EXPECT("  x", "%3c", 'x');
    EXPECT("x  |", "%-3c|", 'x');
    EXPECT("[\xff]", "[%c]", 0xff);
    /* A NUL character is output and counted; the tail is still written. */
    char buf[8];
    memset(buf, CANARY, sizeof(buf));
    CHECK_EQ_INT(tern_snprintf(buf, sizeof(buf), "a%cb", 0), 3);
    CHECK(buf[0] == 'a' && buf[1] == '\0' && buf[2] == 'b' && buf[3] == '\0');
}

TEST(strings)
{
    EXPECT("abc", "%s", "abc");
    EXPECT("  abc", "%5s", "abc");
    EXPECT("abc  |", "%-5s|", "abc");
    EXPECT("ab", "%.2s", "abc");
    EXPECT("   ab", "%5.2s", "abc");
    EXPECT("abc", "%.10s", "abc");
    EXPECT("", "%.0s", "abc");
    EXPECT_RAW("(null)", "%s", (char *)NULL);
    EXPECT_RAW("  (null)", "%8s", (char *)NULL);
    EXPECT("abc", "%2s", "abc");           /* width never truncates */
    /* With a precision, the string need not be terminated; ASan would
     * catch a read past the array. */
    static const char unterminated[3] = { 'x', 'y', 'z' };
    EXPECT("xyz", "%.3s", unterminated);
    EXPECT("xy", "%.2s", unterminated);
}

TEST(pointers)
{
    EXPECT("0x1234", "%p", (void *)0x1234);
    EXPECT("0xffffffff80000000", "%p", (void *)0xffffffff80000000ul);
    EXPECT("(nil)", "%p", NULL);
    EXPECT("     (nil)", "%10p", NULL);
    EXPECT("(nil)     |", "%-10p|", NULL);
    EXPECT("    0x1234", "%10p", (void *)0x1234);
    EXPECT("0x1234    |", "%-10p|", (void *)0x1234);
    EXPECT_RAW("0x00001234", "%010p", (void *)0x1234);
}

TEST(pointers_match_glibc)
{
    static const char *const fmts[] = { "%p", "%20p", "%-20p|", "%020p", "%.8p" };
    void *ptrs[] = { (void *)1, (void *)0xabcdef, (void *)&ptrs, (void *)-1L };
    char want[64], got[64];

    for (size_t f = 0; f < ARRAY_SIZE(fmts); f++) {
        for (size_t i = 0; i < ARRAY_SIZE(ptrs); i++) {
            int wn = libc_snprintf(want, sizeof(want), fmts[f], ptrs[i]);
            int gn = tern_snprintf(got, sizeof(got), fmts[f], ptrs[i]);
            CHECK_EQ_STR(got, want);
            CHECK_EQ_INT(gn, wn);
        }
    }
}

TEST(unknown_conversions_are_literal)
{
    EXPECT_RAW("%y", "%y");
    EXPECT_RAW("a%yb", "a%yb");
    EXPECT_RAW("%-5y", "%-5y");
    EXPECT_RAW("%lq", "%lq");
    EXPECT_RAW("%f", "%f", 1);             /* no floating point in the kernel */
    EXPECT_RAW("%n", "%n", (int *)NULL);   /* never writes through %n */
    EXPECT_RAW("%ls", "%ls", L"wide");     /* no wide strings */
    EXPECT_RAW("%lc", "%lc", 'x');
    /* an unknown conversion consumes no argument */
    EXPECT_RAW("%y 7", "%y %d", 7);
    /* a format that ends inside a conversion */
    EXPECT_RAW("abc%", "abc%");
    EXPECT_RAW("%-0", "%-0");
    EXPECT_RAW("x%5.2l", "x%5.2l");
}

TEST(return_value_and_truncation)
{
    char buf[16];

    /* size 0: nothing written, even with a NULL buffer */
    CHECK_EQ_INT(tern_snprintf(NULL, 0, "hello %d", 12345), 11);
    memset(buf, CANARY, sizeof(buf));
    CHECK_EQ_INT(tern_snprintf(buf, 0, "hello"), 5);
    CHECK_EQ_INT(buf[0], CANARY);

    /* a NULL buffer with a nonzero size is treated as size 0 */
    CHECK_EQ_INT(tern_snprintf(NULL, 10, "%s", "abc"), 3);

    CHECK_EQ_INT(tern_snprintf(buf, 1, "hello"), 5);
    CHECK_EQ_STR(buf, "");
    CHECK_EQ_INT(tern_snprintf(buf, 5, "hello world"), 11);
    CHECK_EQ_STR(buf, "hell");
    CHECK_EQ_INT(tern_snprintf(buf, 6, "hello"), 5);     /* exact fit */
    CHECK_EQ_STR(buf, "hello");

    /* truncation inside padding, zeros and digits */
    CHECK_EQ_INT(tern_snprintf(buf, 4, "%10d", 1), 10);
    CHECK_EQ_STR(buf, "   ");
    CHECK_EQ_INT(tern_snprintf(buf, 4, "%010d", 1), 10);
    CHECK_EQ_STR(buf, "000");
    CHECK_EQ_INT(tern_snprintf(buf, 4, "%d", -123456), 7);
    CHECK_EQ_STR(buf, "-12");

    /* a huge width is counted, not written */
    CHECK_EQ_INT(tern_snprintf(buf, sizeof(buf), "%100000d", 7), 100000);
    CHECK_EQ_STR(buf, "               ");
}

TEST(huge_results_saturate)
{
    char buf[4];
    /* Two fields of INT_MAX add up past INT_MAX: the count saturates so
     * that "n >= size" still means truncated. (Counting runs through the
     * padding arithmetically, not byte by byte.) */
    CHECK_EQ_INT(raw(buf, sizeof(buf), "%*d%*d", INT_MAX, 1, INT_MAX, 2), INT_MAX);
    CHECK_EQ_STR(buf, "   ");
    /* A width too large for an int saturates instead of wrapping round to
     * a small or negative number. */
    CHECK_EQ_INT(raw(buf, sizeof(buf), "%99999999999d", 5), INT_MAX);
    CHECK_EQ_INT(raw(buf, sizeof(buf), "%.99999999999d", 5), INT_MAX);
    CHECK_EQ_STR(buf, "000");
}

/* The va_list form, called as a kernel wrapper would call it. */
static int wrap(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
static int wrap(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = tern_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

TEST(vsnprintf_through_wrapper)
{
    char buf[64];

    CHECK_EQ_INT(wrap(buf, sizeof(buf), "[%5llu.%06llu] %s", 12ULL, 3456ULL, "boot"),
                 19);
    CHECK_EQ_STR(buf, "[   12.003456] boot");
    CHECK_EQ_INT(wrap(buf, sizeof(buf), "%s+0x%lx", "main", 0x1fUL), 9);
    CHECK_EQ_STR(buf, "main+0x1f");
    /* A negative '*' width, as (int)(14 - strlen(name)) gives for a long
     * name, is the '-' flag and width 7, not "no width". */
    CHECK_EQ_INT(wrap(buf, sizeof(buf), "  %s%-*s %s", "averyveryverylongname",
                      (int)(14 - 21), "=N", "help"), 35);
    CHECK_EQ_STR(buf, "  averyveryverylongname=N      help");
}

/* ---- randomized cross-check of integer formats against the host libc ---- */

/* check.h's fixed-seed PRNG: reproducible. */
#define rng check_rng

/* Values that find edge cases more often than uniform 64-bit numbers do. */
static uint64_t interesting_value(void)
{
    static const uint64_t edges[] = {
        0, 1, 7, 8, 9, 10, 15, 16, 127, 128, 255, 256, 32767, 32768, 65535,
        65536, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
        0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull,
    };
    uint64_t r = rng();
    switch (r % 4) {
    case 0:  return edges[(r >> 8) % ARRAY_SIZE(edges)];
    case 1:  return (r >> 8) % 1000;
    case 2:  return -((r >> 8) % 1000);
    default: return rng() >> (rng() % 64);
    }
}

enum { L_NONE, L_HH, L_H, L_L, L_LL, L_Z, L_T, L_J, L_COUNT };
static const char *const len_str[L_COUNT] = { "", "hh", "h", "l", "ll", "z", "t", "j" };

/*
 * Call fn (libc_snprintf or tern_snprintf) with the '*' arguments the
 * format asks for and the value as the type its length modifier names.
 */
#define CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, T, v)                \
    ((sw) && (sp) ? fn(buf, size, fmt, w, p, (T)(v)) :                   \
     (sw)         ? fn(buf, size, fmt, w, (T)(v)) :                       \
     (sp)         ? fn(buf, size, fmt, p, (T)(v)) :                       \
                    fn(buf, size, fmt, (T)(v)))

#define CALL_LEN(fn, buf, size, fmt, sw, sp, w, p, len, sgn, v)                     \
    ((len) == L_L  ? ((sgn) ? CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, long, v) \
                            : CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, unsigned long, v)) : \
     (len) == L_LL ? ((sgn) ? CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, long long, v) \
                            : CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, unsigned long long, v)) : \
     (len) == L_Z  ? ((sgn) ? CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, ssize_t, v) \
                            : CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, size_t, v)) : \
     (len) == L_T  ? ((sgn) ? CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, ptrdiff_t, v) \
                            : CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, size_t, v)) : \
     (len) == L_J  ? ((sgn) ? CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, intmax_t, v) \
                            : CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, uintmax_t, v)) : \
     /* none, hh and h all pass an int */                                          \
                     ((sgn) ? CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, int, v) \
                            : CALL_TYPED(fn, buf, size, fmt, sw, sp, w, p, unsigned, v)))

/* The formats are built at run time, so the compiler cannot check them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"

TEST(random_integers_match_libc)
{
    static const char convs[] = "diuoxX";
    char fmt[64], want[256], got[256];
    int mismatches = 0;

    for (int iter = 0; iter < 200000 && mismatches < 10; iter++) {
        char conv = convs[rng() % 6];
        bool sgn = conv == 'd' || conv == 'i';
        int len = (int)(rng() % L_COUNT);
        size_t k = 0;

        fmt[k++] = '<';
        fmt[k++] = '%';
        /* Each flag with probability 1/4, in random order; '#' only where
         * C defines it (o, x, X). */
        for (int f = 0; f < 5; f++) {
            static const char flags[] = "-+ 0#";
            char c = flags[rng() % 5];
            if (rng() % 4 == 0 && (c != '#' || (!sgn && conv != 'u')))
                fmt[k++] = c;
        }
        bool star_w = false, star_p = false;
        int w = 0, p = 0;
        switch (rng() % 4) {
        case 0:
            break;
        case 1:
            k += (size_t)libc_snprintf(fmt + k, sizeof(fmt) - k, "%d",
                                       (int)(rng() % 30) + 1);
            break;
        default:
            star_w = true;
            w = (int)(rng() % 61) - 30;
            fmt[k++] = '*';
            break;
        }
        switch (rng() % 5) {
        case 0:
        case 1:
            break;
        case 2:
            fmt[k++] = '.';                 /* precision 0 */
            break;
        case 3:
            k += (size_t)libc_snprintf(fmt + k, sizeof(fmt) - k, ".%d",
                                       (int)(rng() % 25));
            break;
        default:
            star_p = true;
            p = (int)(rng() % 30) - 5;      /* some negative: "no precision" */
            fmt[k++] = '.';
            fmt[k++] = '*';
            break;
        }
        k += (size_t)libc_snprintf(fmt + k, sizeof(fmt) - k, "%s%c>",
                                   len_str[len], conv);

        uint64_t v = interesting_value();
        int wn = CALL_LEN(libc_snprintf, want, sizeof(want), fmt, star_w, star_p,
                          w, p, len, sgn, v);
        /* A random size, often short, also exercises truncation. */
        size_t size = rng() % 2 ? sizeof(got) : rng() % 40;
        int gn = CALL_LEN(tern_snprintf, got, size, fmt, star_w, star_p,
                          w, p, len, sgn, v);

        bool ok = gn == wn;
        if (size > 0) {
            size_t keep = MIN((size_t)wn, size - 1);
            ok = ok && memcmp(got, want, keep) == 0 && got[keep] == '\0';
        }
        if (!ok) {
            printf("  fmt \"%s\" w=%d p=%d v=0x%llx size=%zu: got \"%s\" (%d), "
                   "libc \"%s\" (%d)\n", fmt, w, p, (unsigned long long)v, size,
                   size ? got : "", gn, want, wn);
            check_failed_current = 1;
            mismatches++;
        }
    }
}

#pragma GCC diagnostic pop
