/*
 * The kernel's command-line options: one table, used for parsing, for
 * `help` output, and mirrored in docs/cmdline.md.
 */
#include <kern/boot.h>
#include <kern/options.h>
#include <kern/panic.h>
#include <kern/printk.h>
#include <kern/string.h>

struct kernel_options kopt = {
    .loglevel = LOG_DEFAULT,
    .exit_status = 0,
    .torture_switches = 100000,
    .torture_preemptions = 10000,
    .torture_seconds = 300,
    .zcopy_copy_max = 4096,
};

static const char *const stdio_choices[] = { "console", "framed", NULL };

static const struct cmdline_option options[] = {
    { "loglevel", CMDLINE_INT, &kopt.loglevel, 0, 7, NULL,
      "console log level: 0 emergencies only .. 7 debug (default 6)" },
    { "quiet", CMDLINE_FLAG, &kopt.quiet, 0, 0, NULL,
      "print warnings and errors only (loglevel=4)" },
    { "help", CMDLINE_FLAG, &kopt.help, 0, 0, NULL,
      "list the options and built-in tests, then exit" },
    { "ktest", CMDLINE_STRING, &kopt.ktest, 0, 0, NULL,
      "run a built-in kernel test once ready (see `help`)" },
    { "exit", CMDLINE_INT, &kopt.exit_status, 0, 255, NULL,
      "exit status when no app is run (default 0)" },
    { "torture_switches", CMDLINE_INT, &kopt.torture_switches, 0, 1000000000, NULL,
      "ktest=torture: context switches to reach (default 100000)" },
    { "torture_preemptions", CMDLINE_INT, &kopt.torture_preemptions, 0, 1000000000, NULL,
      "ktest=torture: preemptions to reach (default 10000)" },
    { "torture_seconds", CMDLINE_INT, &kopt.torture_seconds, 1, 3600, NULL,
      "ktest=torture: give up after this long (default 300)" },
    { "profile", CMDLINE_INT, &kopt.profile_hz, 0, 10000, NULL,
      "sample every CPU's program counter this many times a second; print the busiest functions at exit" },
    { "netstat", CMDLINE_FLAG, &kopt.netstat, 0, 0, NULL,
      "print the network counters (snmp, interfaces, devices) when the app exits" },
    { "env", CMDLINE_LIST, &kopt.env, 0, 0, NULL,
      "an app environment variable, env=NAME=value (repeatable; overrides the image's)" },
    { "net_lose_kicks", CMDLINE_INT, &kopt.net_lose_kicks, 0, 1000000, NULL,
      "tests: drop every Nth transmit notification the device asked for (0: none)" },
    { "zcopy_copy_max", CMDLINE_INT, &kopt.zcopy_copy_max, 0, 1 << 30, NULL,
      "zero-copy sends (zcopy_tx, MSG_ZEROCOPY) of at most this many bytes are copied and complete at once (default 4096)" },
    { "stdio", CMDLINE_CHOICE, &kopt.stdio, 0, 0, stdio_choices,
      "the app's stdout and stderr without a channel of their own: console (as text, default) or framed (records tern run reads apart from the kernel's lines)" },
};

/* The parser works in place; keep the original for messages. */
static char parse_buf[BOOT_CMDLINE_MAX];

void options_parse(void)
{
    char err[160];

    strlcpy(parse_buf, boot_info.cmdline, sizeof(parse_buf));
    if (boot_info.cmdline_truncated) {
        pr_err("command line: longer than %d bytes\n", BOOT_CMDLINE_MAX - 1);
        kernel_exit(EXIT_USAGE);
    }
    if (cmdline_parse(parse_buf, options, ARRAY_SIZE(options), &kopt.app,
                      err, sizeof(err)) < 0) {
        pr_err("command line: %s\n", err);
        pr_err("command line was: \"%s\" (boot with `help` for the options)\n",
               boot_info.cmdline);
        kernel_exit(EXIT_USAGE);
    }
    if (kopt.quiet && kopt.loglevel == LOG_DEFAULT)
        kopt.loglevel = LOG_WARNING;
    printk_set_level((int)kopt.loglevel);
}

void options_print_help(void);
void options_print_help(void)
{
    console_printf("kernel command line: option... [-- app arguments]\n");
    for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
        const struct cmdline_option *o = &options[i];
        const char *form = o->type == CMDLINE_FLAG ? "" :
                           o->type == CMDLINE_INT ? "=N" : "=VALUE";
        console_printf("  %s%-*s %s\n", o->name, (int)(14 - strlen(o->name)),
                       form, o->help);
    }
}
