/*
 * Unit tests for kernel/lib/string.c.
 *
 * unit.mk builds this test with UNIT_string_CFLAGS, which renames every
 * function of kern/string.h to tern_* (-Dmemcpy=tern_memcpy ...) in this
 * file, in check.h and in string.c alike, and adds -fno-builtin so that the
 * compiler neither folds the calls nor swaps in its own inline versions.
 * The tests therefore run the kernel's code while the host libc keeps its
 * own functions. The names are written tern_* below so that the test fails
 * to build, rather than quietly testing libc, if the renaming is lost.
 *
 * Results are compared with simple byte-by-byte reference loops written
 * here, over every small length and alignment, with guard bytes around the
 * destination to catch writes out of bounds.
 */
#include "check.h"

#include <kern/string.h>

#define GUARD 0xa5

/* Setup and comparison loops of the test's own, so that a broken memset or
 * memcmp cannot hide a broken memcpy (the names memset/memcmp here would be
 * the kernel's too). */
static void fill(void *p, unsigned char c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ((unsigned char *)p)[i] = c;
}

static bool same(const void *a, const void *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((const unsigned char *)a)[i] != ((const unsigned char *)b)[i])
            return false;
    return true;
}

static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 7 + 3);
}

TEST(memcpy_all_lengths_and_alignments)
{
    unsigned char src[96], dst[96], want[96];

    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = pattern(i);
    for (size_t so = 0; so < 9; so++) {
        for (size_t dof = 0; dof < 9; dof++) {
            for (size_t n = 0; n <= 64; n++) {
                fill(dst, GUARD, sizeof(dst));
                fill(want, GUARD, sizeof(want));
                for (size_t i = 0; i < n; i++)
                    want[dof + i] = src[so + i];
                void *r = tern_memcpy(dst + dof, src + so, n);
                CHECK(r == dst + dof);
                if (!same(dst, want, sizeof(dst))) {
                    printf("  memcpy src+%zu dst+%zu n=%zu wrong\n", so, dof, n);
                    check_failed_current = 1;
                    return;
                }
            }
        }
    }
}

TEST(memcpy_struct_copy)
{
    /* Word copies of a struct's bytes must give an equal struct. */
    struct s { long a; short b; char c[13]; void *p; } x = { 1, 2, "twelve chars", &x }, y;
    tern_memset(&y, 0, sizeof(y));
    tern_memcpy(&y, &x, sizeof(x));
    CHECK(y.a == 1 && y.b == 2 && y.p == &x);
    CHECK_EQ_STR(y.c, "twelve chars");
}

TEST(memmove_overlapping_both_ways)
{
    unsigned char buf[80], want[80], tmp[80];

    for (size_t s = 0; s < 24; s++) {
        for (size_t d = 0; d < 24; d++) {
            for (size_t n = 0; n <= 48; n++) {
                for (size_t i = 0; i < sizeof(buf); i++)
                    buf[i] = want[i] = pattern(i);
                /* reference: through a separate buffer */
                for (size_t i = 0; i < n; i++)
                    tmp[i] = want[s + i];
                for (size_t i = 0; i < n; i++)
                    want[d + i] = tmp[i];
                void *r = tern_memmove(buf + d, buf + s, n);
                CHECK(r == buf + d);
                if (!same(buf, want, sizeof(buf))) {
                    printf("  memmove src+%zu dst+%zu n=%zu wrong\n", s, d, n);
                    check_failed_current = 1;
                    return;
                }
            }
        }
    }
}

TEST(memset_all_lengths_and_alignments)
{
    unsigned char buf[96];

    for (size_t off = 0; off < 9; off++) {
        for (size_t n = 0; n <= 70; n++) {
            fill(buf, GUARD, sizeof(buf));
            /* c is converted to unsigned char: 0x1ff fills with 0xff */
            void *r = tern_memset(buf + off, 0x1ff, n);
            CHECK(r == buf + off);
            for (size_t i = 0; i < sizeof(buf); i++) {
                unsigned char want = i >= off && i < off + n ? 0xff : GUARD;
                if (buf[i] != want) {
                    printf("  memset off=%zu n=%zu: byte %zu is 0x%x\n",
                           off, n, i, buf[i]);
                    check_failed_current = 1;
                    return;
                }
            }
        }
    }
    tern_memset(buf, 0, sizeof(buf));
    for (size_t i = 0; i < sizeof(buf); i++)
        CHECK(buf[i] == 0);
}

TEST(memcmp_order_and_bounds)
{
    CHECK_EQ_INT(tern_memcmp("abc", "abd", 0), 0);
    CHECK_EQ_INT(tern_memcmp("abc", "abc", 3), 0);
    CHECK_EQ_INT(tern_memcmp("abc", "abd", 2), 0);
    CHECK(tern_memcmp("abc", "abd", 3) < 0);
    CHECK(tern_memcmp("abd", "abc", 3) > 0);
    /* bytes compare as unsigned char: 0x80 > 0x01 */
    CHECK(tern_memcmp("\x80", "\x01", 1) > 0);
    CHECK(tern_memcmp("\x01", "\x80", 1) < 0);
    /* it does not stop at NUL */
    CHECK(tern_memcmp("a\0b", "a\0c", 3) < 0);
}

TEST(memchr_finds_first_within_n)
{
    const char s[] = "hello, world";

    CHECK(tern_memchr(s, 'o', sizeof(s)) == s + 4);
    CHECK(tern_memchr(s, 'o', 4) == NULL);         /* stops at n */
    CHECK(tern_memchr(s, 'o', 5) == s + 4);
    CHECK(tern_memchr(s, 'z', sizeof(s)) == NULL);
    CHECK(tern_memchr(s, '\0', sizeof(s)) == s + 12);
    CHECK(tern_memchr(s, 0x100 + 'w', sizeof(s)) == s + 7);  /* as unsigned char */
    CHECK(tern_memchr(s, 'h', 0) == NULL);
    const unsigned char hi[] = { 1, 0xfe, 0xff };
    CHECK(tern_memchr(hi, 0xff, 3) == hi + 2);
    CHECK(tern_memchr(hi, -1, 3) == hi + 2);
}

TEST(strlen_and_strnlen)
{
    CHECK_EQ_INT(tern_strlen(""), 0);
    CHECK_EQ_INT(tern_strlen("a"), 1);
    CHECK_EQ_INT(tern_strlen("hello, world"), 12);
    CHECK_EQ_INT(tern_strnlen("hello", 0), 0);
    CHECK_EQ_INT(tern_strnlen("hello", 3), 3);
    CHECK_EQ_INT(tern_strnlen("hello", 5), 5);
    CHECK_EQ_INT(tern_strnlen("hello", 100), 5);
    /* strnlen reads no further than max: ASan checks this array */
    static const char unterminated[4] = { 'a', 'b', 'c', 'd' };
    CHECK_EQ_INT(tern_strnlen(unterminated, 4), 4);
}

TEST(strcmp_and_strncmp)
{
    CHECK_EQ_INT(tern_strcmp("", ""), 0);
    CHECK_EQ_INT(tern_strcmp("abc", "abc"), 0);
    CHECK(tern_strcmp("abc", "abd") < 0);
    CHECK(tern_strcmp("abd", "abc") > 0);
    CHECK(tern_strcmp("ab", "abc") < 0);           /* prefix sorts first */
    CHECK(tern_strcmp("abc", "ab") > 0);
    CHECK(tern_strcmp("\xff", "a") > 0);           /* unsigned char order */
    CHECK_EQ_INT(tern_strncmp("abc", "abd", 2), 0);
    CHECK(tern_strncmp("abc", "abd", 3) < 0);
    CHECK_EQ_INT(tern_strncmp("abc", "xyz", 0), 0);
    CHECK_EQ_INT(tern_strncmp("abc", "abc", 100), 0);
    CHECK(tern_strncmp("ab", "abc", 3) < 0);
    CHECK(tern_strncmp("\x80", "\x7f", 1) > 0);
    CHECK_EQ_INT(tern_strncmp("loglevel", "loglevelx", 8), 0);
}

TEST(strchr_and_strrchr)
{
    const char *s = "a/b/c";

    CHECK(tern_strchr(s, '/') == s + 1);
    CHECK(tern_strrchr(s, '/') == s + 3);
    CHECK(tern_strchr(s, 'a') == s);
    CHECK(tern_strrchr(s, 'a') == s);
    CHECK(tern_strchr(s, 'x') == NULL);
    CHECK(tern_strrchr(s, 'x') == NULL);
    /* the terminator is part of the string */
    CHECK(tern_strchr(s, '\0') == s + 5);
    CHECK(tern_strrchr(s, '\0') == s + 5);
    CHECK(tern_strchr("", 'a') == NULL);
    CHECK(tern_strchr("x\xe9y", 0xe9) != NULL);    /* c converted to char */
}

TEST(strlcpy_truncates_and_terminates)
{
    char buf[8];

    fill(buf, GUARD, sizeof(buf));
    CHECK_EQ_INT(tern_strlcpy(buf, "abc", sizeof(buf)), 3);
    CHECK_EQ_STR(buf, "abc");

    fill(buf, GUARD, sizeof(buf));
    CHECK_EQ_INT(tern_strlcpy(buf, "abcdefghij", sizeof(buf)), 10);
    CHECK_EQ_STR(buf, "abcdefg");

    fill(buf, GUARD, sizeof(buf));
    CHECK_EQ_INT(tern_strlcpy(buf, "abcdefg", sizeof(buf)), 7);   /* exact fit */
    CHECK_EQ_STR(buf, "abcdefg");

    fill(buf, GUARD, sizeof(buf));
    CHECK_EQ_INT(tern_strlcpy(buf, "abc", 1), 3);
    CHECK_EQ_STR(buf, "");
    CHECK_EQ_INT((unsigned char)buf[1], GUARD);

    fill(buf, GUARD, sizeof(buf));
    CHECK_EQ_INT(tern_strlcpy(buf, "abc", 0), 3);     /* size 0: no write */
    CHECK_EQ_INT((unsigned char)buf[0], GUARD);

    CHECK_EQ_INT(tern_strlcpy(buf, "", sizeof(buf)), 0);
    CHECK_EQ_STR(buf, "");
}
