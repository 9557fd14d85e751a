/*
 * Unit tests for kernel/core/cmdline.c: the syntax of docs/cmdline.md, each
 * option type, and the exact text of every error message (users read them
 * on a console, and docs/cmdline.md quotes them).
 */
#include "check.h"

#include <kern/cmdline.h>

static const char *const consoles[] = { "serial", "none", NULL };

/* What the options below write to; reset before every parse. */
static struct {
    long loglevel;
    bool quiet;
    const char *ktest;
    int console;
    long big;
    long neg;
    long hex;
    long memsize;
    const char *logfile;
    bool a_b;
    struct cmdline_list env;
} v;

static const struct cmdline_option opts[] = {
    { "loglevel", CMDLINE_INT, &v.loglevel, 0, 7, NULL, "log level" },
    { "quiet", CMDLINE_FLAG, &v.quiet, 0, 0, NULL, "quiet" },
    { "ktest", CMDLINE_STRING, &v.ktest, 0, 0, NULL, "test" },
    { "console", CMDLINE_CHOICE, &v.console, 0, 0, consoles, "console" },
    { "big", CMDLINE_INT, &v.big, -9223372036854775807L - 1, 9223372036854775807L,
      NULL, "any long" },
    { "neg", CMDLINE_INT, &v.neg, -10, -2, NULL, "negative only" },
    { "hex", CMDLINE_INT, &v.hex, 0, 0xffff, NULL, "16 bits" },
    { "mem.size", CMDLINE_INT, &v.memsize, 0, 1000, NULL, "dotted name" },
    { "log-file", CMDLINE_STRING, &v.logfile, 0, 0, NULL, "dashed name" },
    { "a_b", CMDLINE_FLAG, &v.a_b, 0, 0, NULL, "underscored name" },
    { "env", CMDLINE_LIST, &v.env, 0, 0, NULL, "repeatable" },
};

static char buf[4096];
static char err[256];
static struct cmdline_result res;

/* Parse a copy of line (the parser works in place) with fresh state. */
static int parse(const char *line)
{
    memset(&v, 0, sizeof(v));
    v.loglevel = 6;
    v.console = -1;
    memset(&res, 0x5a, sizeof(res));    /* argc must be set by the parser */
    memset(err, 0, sizeof(err));
    snprintf(buf, sizeof(buf), "%s", line);
    return cmdline_parse(buf, opts, ARRAY_SIZE(opts), &res, err, sizeof(err));
}

/* Parse must fail with exactly this message. */
#define CHECK_ERR(line, msg) do { \
        CHECK_EQ_INT(parse(line), -1); \
        CHECK_EQ_STR(err, msg); \
    } while (0)

#define CHECK_OK(line) do { \
        int rc_ = parse(line); \
        CHECK_EQ_INT(rc_, 0); \
        if (rc_ != 0) \
            printf("  (error was: %s)\n", err); \
    } while (0)

TEST(empty_and_blank_lines)
{
    CHECK_OK("");
    CHECK_EQ_INT(res.argc, 0);
    CHECK_EQ_INT(v.loglevel, 6);        /* untouched */
    CHECK_OK("   \t  ");
    CHECK_EQ_INT(res.argc, 0);
    CHECK_EQ_STR(err, "");
}

TEST(flags)
{
    CHECK_OK("quiet");
    CHECK(v.quiet);
    static const char *const yes[] = { "1", "yes", "on", "true" };
    static const char *const no[] = { "0", "no", "off", "false" };
    char line[32];
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        snprintf(line, sizeof(line), "quiet=%s", yes[i]);
        CHECK_OK(line);
        CHECK(v.quiet);
        snprintf(line, sizeof(line), "quiet quiet=%s", no[i]);
        CHECK_OK(line);
        CHECK(!v.quiet);
    }
    CHECK_OK("quiet=\"on\"");
    CHECK(v.quiet);
}

TEST(flag_bad_values)
{
    CHECK_ERR("quiet=maybe", "option 'quiet' takes no value other than "
              "0/1/yes/no/on/off/true/false, got 'maybe'");
    CHECK_ERR("quiet=", "option 'quiet' takes no value other than "
              "0/1/yes/no/on/off/true/false, got ''");
    CHECK_ERR("quiet=YES", "option 'quiet' takes no value other than "
              "0/1/yes/no/on/off/true/false, got 'YES'");
    CHECK_ERR("quiet=2", "option 'quiet' takes no value other than "
              "0/1/yes/no/on/off/true/false, got '2'");
}

TEST(ints_decimal_hex_negative)
{
    CHECK_OK("loglevel=3");
    CHECK_EQ_INT(v.loglevel, 3);
    CHECK_OK("loglevel=0 ");
    CHECK_EQ_INT(v.loglevel, 0);
    CHECK_OK("loglevel=7");             /* bounds are inclusive */
    CHECK_EQ_INT(v.loglevel, 7);
    CHECK_OK("loglevel=07");            /* leading zero: still decimal */
    CHECK_EQ_INT(v.loglevel, 7);
    CHECK_OK("hex=0x1F");
    CHECK_EQ_INT(v.hex, 31);
    CHECK_OK("hex=0Xffff");
    CHECK_EQ_INT(v.hex, 0xffff);
    CHECK_OK("hex=0x0");
    CHECK_EQ_INT(v.hex, 0);
    CHECK_OK("neg=-10");
    CHECK_EQ_INT(v.neg, -10);
    CHECK_OK("neg=-0x2");
    CHECK_EQ_INT(v.neg, -2);
    CHECK_OK("loglevel=\"5\"");
    CHECK_EQ_INT(v.loglevel, 5);
}

TEST(int_errors)
{
    CHECK_ERR("loglevel=9", "option 'loglevel': '9' is out of range 0..7");
    CHECK_ERR("loglevel=-1", "option 'loglevel': '-1' is out of range 0..7");
    CHECK_ERR("neg=-11", "option 'neg': '-11' is out of range -10..-2");
    CHECK_ERR("neg=0", "option 'neg': '0' is out of range -10..-2");
    CHECK_ERR("hex=0x10000", "option 'hex': '0x10000' is out of range 0..65535");
    CHECK_ERR("loglevel=abc", "option 'loglevel': 'abc' is not a number");
    CHECK_ERR("loglevel=12abc", "option 'loglevel': '12abc' is not a number");
    CHECK_ERR("loglevel=0x", "option 'loglevel': '0x' is not a number");
    CHECK_ERR("loglevel=-", "option 'loglevel': '-' is not a number");
    CHECK_ERR("loglevel=+5", "option 'loglevel': '+5' is not a number");
    CHECK_ERR("loglevel=0xg", "option 'loglevel': '0xg' is not a number");
    CHECK_ERR("loglevel=\" 5\"", "option 'loglevel': ' 5' is not a number");
    CHECK_ERR("loglevel=5.0", "option 'loglevel': '5.0' is not a number");
    CHECK_ERR("loglevel", "option 'loglevel' needs a value (loglevel=N)");
    CHECK_ERR("loglevel=", "option 'loglevel' needs a value (loglevel=N)");
    CHECK_ERR("loglevel=\"\"", "option 'loglevel' needs a value (loglevel=N)");
}

TEST(int_overflow)
{
    CHECK_OK("big=9223372036854775807");
    CHECK_EQ_INT(v.big, 9223372036854775807LL);
    CHECK_OK("big=-9223372036854775808");
    CHECK(v.big == -9223372036854775807LL - 1);
    CHECK_OK("big=0x7fffffffffffffff");
    CHECK_EQ_INT(v.big, 9223372036854775807LL);
    CHECK_OK("big=-0x8000000000000000");
    CHECK(v.big == -9223372036854775807LL - 1);
    CHECK_OK("big=-0");
    CHECK_EQ_INT(v.big, 0);
    CHECK_ERR("big=9223372036854775808", "option 'big': '9223372036854775808' "
              "is out of range -9223372036854775808..9223372036854775807");
    CHECK_ERR("big=-9223372036854775809", "option 'big': '-9223372036854775809' "
              "is out of range -9223372036854775808..9223372036854775807");
    CHECK_ERR("big=0x8000000000000000", "option 'big': '0x8000000000000000' "
              "is out of range -9223372036854775808..9223372036854775807");
    CHECK_ERR("big=18446744073709551616", "option 'big': '18446744073709551616' "
              "is out of range -9223372036854775808..9223372036854775807");
    /* would wrap to a small number in 64-bit arithmetic */
    CHECK_ERR("loglevel=18446744073709551617",
              "option 'loglevel': '18446744073709551617' is out of range 0..7");
    /* junk after an overflowing number is junk, not overflow */
    CHECK_ERR("loglevel=99999999999999999999x",
              "option 'loglevel': '99999999999999999999x' is not a number");
}

TEST(strings_and_quoting)
{
    CHECK_OK("ktest=page_alloc");
    CHECK_EQ_STR(v.ktest, "page_alloc");
    CHECK(v.ktest >= buf && v.ktest < buf + sizeof(buf));  /* points into buf */
    CHECK_OK("ktest=");
    CHECK_EQ_STR(v.ktest, "");          /* empty is allowed */
    CHECK_OK("ktest=\"\"");
    CHECK_EQ_STR(v.ktest, "");
    CHECK_OK("ktest=\"two words\" quiet");
    CHECK_EQ_STR(v.ktest, "two words");
    CHECK(v.quiet);
    CHECK_OK("ktest=a\"b c\"d\" \"e");  /* quotes anywhere in the value */
    CHECK_EQ_STR(v.ktest, "ab cd e");
    CHECK_OK("ktest=\"tab\there\"");
    CHECK_EQ_STR(v.ktest, "tab\there");
    CHECK_OK("ktest=a=b");              /* only the first '=' splits */
    CHECK_EQ_STR(v.ktest, "a=b");
    CHECK_OK("\"ktest\"=x");            /* quotes around a name are removed */
    CHECK_EQ_STR(v.ktest, "x");
    CHECK_OK("ktest='single'");         /* single quotes are ordinary */
    CHECK_EQ_STR(v.ktest, "'single'");
    CHECK_OK("ktest=back\\slash");      /* no escapes */
    CHECK_EQ_STR(v.ktest, "back\\slash");
    CHECK_ERR("ktest", "option 'ktest' needs a value (ktest=VALUE)");
}

TEST(lists_append)
{
    /* Each occurrence appends, in order; a quoted value keeps its blanks. */
    CHECK_OK("env=A=1 quiet env=\"B=two words\" env= -- app");
    CHECK_EQ_INT(v.env.n, 3);
    CHECK_EQ_STR(v.env.v[0], "A=1");
    CHECK_EQ_STR(v.env.v[1], "B=two words");
    CHECK_EQ_STR(v.env.v[2], "");
    CHECK_EQ_INT(res.argc, 1);
    CHECK_ERR("env", "option 'env' needs a value (env=VALUE)");
    char line[2048] = "";
    for (int i = 0; i <= CMDLINE_MAX_LIST; i++)
        strcat(line, "env=x ");
    CHECK_ERR(line, "option 'env': more than 64 of them");
}

TEST(choices)
{
    CHECK_OK("console=serial");
    CHECK_EQ_INT(v.console, 0);
    CHECK_OK("console=none");
    CHECK_EQ_INT(v.console, 1);
    CHECK_OK("console=none console=serial");
    CHECK_EQ_INT(v.console, 0);
    CHECK_ERR("console=vga", "option 'console': 'vga' is not one of: serial, none");
    CHECK_ERR("console=Serial", "option 'console': 'Serial' is not one of: serial, none");
    CHECK_ERR("console=", "option 'console': '' is not one of: serial, none");
    CHECK_ERR("console", "option 'console' needs a value (console=serial|none)");
}

TEST(names_match_exactly)
{
    CHECK_ERR("foo", "unknown option 'foo'");
    CHECK_ERR("foo=1", "unknown option 'foo'");
    CHECK_ERR("log=1", "unknown option 'log'");          /* no prefixes */
    CHECK_ERR("loglevelx=1", "unknown option 'loglevelx'");
    CHECK_ERR("Quiet", "unknown option 'Quiet'");        /* case matters */
    CHECK_ERR("--quiet", "unknown option '--quiet'");
    CHECK_OK("mem.size=12 log-file=/x a_b");
    CHECK_EQ_INT(v.memsize, 12);
    CHECK_EQ_STR(v.logfile, "/x");
    CHECK(v.a_b);
    CHECK_ERR("=5", "invalid option name '' (use letters, digits, '_', '-' and '.')");
    CHECK_ERR("foo!", "invalid option name 'foo!' (use letters, digits, '_', '-' and '.')");
    CHECK_ERR("\"a b\"=1", "invalid option name 'a b' (use letters, digits, '_', '-' and '.')");
    CHECK_ERR("\"a=b\"=1", "invalid option name 'a=b' (use letters, digits, '_', '-' and '.')");
}

TEST(later_options_win_in_order)
{
    CHECK_OK("loglevel=1 quiet loglevel=4 quiet=no ktest=a ktest=b");
    CHECK_EQ_INT(v.loglevel, 4);
    CHECK(!v.quiet);
    CHECK_EQ_STR(v.ktest, "b");
    /* options before an error have been applied; the error stops it */
    CHECK_ERR("loglevel=2 foo loglevel=3", "unknown option 'foo'");
    CHECK_EQ_INT(v.loglevel, 2);
}

TEST(blanks_between_tokens)
{
    CHECK_OK("  \tquiet \t\t loglevel=2\t");
    CHECK(v.quiet);
    CHECK_EQ_INT(v.loglevel, 2);
}

TEST(unterminated_quotes)
{
    CHECK_ERR("name=\"abc", "unterminated quote in 'name=\"abc'");
    /* the token is shown as typed, up to the end of the line */
    CHECK_ERR("quiet ktest=\"abc def", "unterminated quote in 'ktest=\"abc def'");
    CHECK_ERR("ktest=\"a\"\"b", "unterminated quote in 'ktest=\"a\"\"b'");
    CHECK_ERR("\"", "unterminated quote in '\"'");
    CHECK_ERR("-- a \"b", "unterminated quote in '\"b'");
}

TEST(app_arguments_after_double_dash)
{
    CHECK_OK("quiet -- /bin/app -v \"two words\" loglevel=9 -- --x \"\"");
    CHECK(v.quiet);
    CHECK_EQ_INT(v.loglevel, 6);        /* after "--": an argument, not an option */
    CHECK_EQ_INT(res.argc, 7);
    CHECK_EQ_STR(res.argv[0], "/bin/app");
    CHECK_EQ_STR(res.argv[1], "-v");
    CHECK_EQ_STR(res.argv[2], "two words");
    CHECK_EQ_STR(res.argv[3], "loglevel=9");
    CHECK_EQ_STR(res.argv[4], "--");    /* only the first "--" separates */
    CHECK_EQ_STR(res.argv[5], "--x");
    CHECK_EQ_STR(res.argv[6], "");      /* "" is an empty argument */

    CHECK_OK("--");
    CHECK_EQ_INT(res.argc, 0);
    CHECK_OK("-- a");
    CHECK_EQ_INT(res.argc, 1);
    CHECK_EQ_STR(res.argv[0], "a");
    CHECK_OK("loglevel=1 --");
    CHECK_EQ_INT(res.argc, 0);
    CHECK_EQ_INT(v.loglevel, 1);
    CHECK_OK("--\ta\t\tb=\"c d\"");
    CHECK_EQ_INT(res.argc, 2);
    CHECK_EQ_STR(res.argv[1], "b=c d");
    CHECK_ERR("--x", "unknown option '--x'");
    /* a quoted "--" is not the separator, just an unknown name */
    CHECK_ERR("\"--\" a", "unknown option '--'");
}

TEST(too_many_app_arguments)
{
    char line[1024];
    size_t k = (size_t)snprintf(line, sizeof(line), "--");
    for (int i = 0; i < CMDLINE_MAX_ARGS; i++)
        k += (size_t)snprintf(line + k, sizeof(line) - k, " a%d", i);
    CHECK_OK(line);
    CHECK_EQ_INT(res.argc, CMDLINE_MAX_ARGS);
    CHECK_EQ_STR(res.argv[CMDLINE_MAX_ARGS - 1], "a63");
    snprintf(line + k, sizeof(line) - k, " one-more");
    CHECK_ERR(line, "too many app arguments (max 64)");
}

TEST(messages_never_overflow_err)
{
    static const char *const bad[] = {
        "foo", "loglevel=9", "loglevel=abc", "loglevel", "quiet=maybe",
        "console=vga", "console", "name=\"abc", "foo!",
    };
    char small[80];

    for (size_t b = 0; b < ARRAY_SIZE(bad); b++) {
        /* the full message, for comparison */
        CHECK_EQ_INT(parse(bad[b]), -1);
        char full[256];
        snprintf(full, sizeof(full), "%s", err);

        for (size_t len = 0; len < sizeof(small) - 8; len++) {
            memset(small, 0x5a, sizeof(small));
            snprintf(buf, sizeof(buf), "%s", bad[b]);
            int rc = cmdline_parse(buf, opts, ARRAY_SIZE(opts), &res, small, len);
            CHECK_EQ_INT(rc, -1);
            for (size_t i = len; i < sizeof(small); i++) {
                if (small[i] != 0x5a) {
                    printf("  '%s' errlen %zu wrote byte %zu\n", bad[b], len, i);
                    check_failed_current = 1;
                    return;
                }
            }
            if (len > 0 && (strlen(small) != MIN(strlen(full), len - 1) ||
                            strncmp(small, full, len - 1) != 0)) {
                printf("  '%s' errlen %zu gave \"%s\"\n", bad[b], len, small);
                check_failed_current = 1;
                return;
            }
        }
    }
    /* no err buffer at all */
    snprintf(buf, sizeof(buf), "foo");
    CHECK_EQ_INT(cmdline_parse(buf, opts, ARRAY_SIZE(opts), &res, NULL, 0), -1);
}

TEST(no_result_struct)
{
    /* Without a result struct, options still parse but "--" arguments are
     * refused rather than dropped. */
    snprintf(buf, sizeof(buf), "quiet --");
    CHECK_EQ_INT(cmdline_parse(buf, opts, ARRAY_SIZE(opts), NULL, err, sizeof(err)), 0);
    snprintf(buf, sizeof(buf), "quiet -- app");
    CHECK_EQ_INT(cmdline_parse(buf, opts, ARRAY_SIZE(opts), NULL, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, "app arguments after '--' are not accepted here");
}

TEST(no_options_table)
{
    snprintf(buf, sizeof(buf), " -- x");
    CHECK_EQ_INT(cmdline_parse(buf, NULL, 0, &res, err, sizeof(err)), 0);
    CHECK_EQ_INT(res.argc, 1);
    snprintf(buf, sizeof(buf), "quiet");
    CHECK_EQ_INT(cmdline_parse(buf, NULL, 0, &res, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, "unknown option 'quiet'");
}
