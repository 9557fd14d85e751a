/* Symbol lookup (kernel/core/ksyms.c) over a hand-made table, and the
 * generator script's output format. */
#include "check.h"
#include <kern/ksyms.h>

static const uint64_t addrs[] = { 0x1000, 0x1010, 0x1040, 0x2000 };
static const uint32_t offs[] = { 0, 4, 8, 14 };
static const char names[] = "one\0two\0three\0four";
static const struct ksym_table table = {
    .count = 4, .addrs = addrs, .name_offsets = offs, .names = names,
    .text_end = 0x2100,
};

TEST(lookup_exact_start)
{
    uintptr_t off = 99;
    CHECK_EQ_STR(ksym_table_lookup(&table, 0x1010, &off), "two");
    CHECK_EQ_INT(off, 0);
}

TEST(lookup_inside_function)
{
    uintptr_t off;
    CHECK_EQ_STR(ksym_table_lookup(&table, 0x103f, &off), "two");
    CHECK_EQ_INT(off, 0x2f);
    CHECK_EQ_STR(ksym_table_lookup(&table, 0x1fff, &off), "three");
    CHECK_EQ_INT(off, 0xfbf);
}

TEST(lookup_last_symbol_until_text_end)
{
    uintptr_t off;
    CHECK_EQ_STR(ksym_table_lookup(&table, 0x20ff, &off), "four");
    CHECK_EQ_INT(off, 0xff);
    CHECK(ksym_table_lookup(&table, 0x2100, &off) == NULL);
}

TEST(lookup_below_first_symbol)
{
    CHECK(ksym_table_lookup(&table, 0xfff, NULL) == NULL);
    CHECK(ksym_table_lookup(&table, 0, NULL) == NULL);
}

TEST(lookup_empty_table)
{
    struct ksym_table empty = { .count = 0, .text_end = ~(uintptr_t)0 };
    CHECK(ksym_table_lookup(&empty, 0x1000, NULL) == NULL);
}

TEST(lookup_every_address_matches_linear_scan)
{
    for (uintptr_t a = 0x0f00; a < 0x2200; a++) {
        const char *want = NULL;
        for (int i = 3; i >= 0; i--)
            if (a >= addrs[i] && a < table.text_end) {
                want = names + offs[i];
                break;
            }
        const char *got = ksym_table_lookup(&table, a, NULL);
        if (want != got) {
            printf("  address %#lx: got %s, want %s\n", (unsigned long)a,
                   got ? got : "NULL", want ? want : "NULL");
            check_failed_current = 1;
            return;
        }
    }
}

/* scripts/gen-ksyms.sh keeps only text symbols, in nm -n order, and skips
 * its own table's symbols. */
TEST(generator_keeps_text_symbols_only)
{
    FILE *p = popen("printf '%s\\n' "
                    "'0000000000000100 a absolute' "
                    "'ffffffff80100000 T first' "
                    "'ffffffff80100010 t second' "
                    "'ffffffff80100020 W weak' "
                    "'ffffffff80200000 D data' "
                    "'ffffffff80200010 R ksyms_names' "
                    "'ffffffff80100030 T ksyms_helper' "
                    "'                 U undefined' "
                    "| scripts/gen-ksyms.sh -", "r");
    CHECK(p != NULL);
    if (!p)
        return;
    char out[4096];
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = 0;
    CHECK_EQ_INT(pclose(p), 0);
    CHECK(strstr(out, "ksyms_count:\n\t.quad 3\n") != NULL);
    CHECK(strstr(out, "\t.quad 0xffffffff80100000\n\t.quad 0xffffffff80100010\n"
                      "\t.quad 0xffffffff80100020\n") != NULL);
    CHECK(strstr(out, "\t.asciz \"first\"\n\t.asciz \"second\"\n\t.asciz \"weak\"\n") != NULL);
    CHECK(strstr(out, "\t.long 0\n\t.long 6\n\t.long 13\n") != NULL);
    CHECK(strstr(out, "data") == NULL);
    CHECK(strstr(out, "undefined") == NULL);
    CHECK(strstr(out, "ksyms_helper") == NULL);
}
