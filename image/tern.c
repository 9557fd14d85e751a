/*
 * tern: the Tern host tool. One binary, one subcommand per job.
 */
#include <stdio.h>
#include <string.h>

#include "tern.h"
#include "util.h"

static void usage(FILE *f)
{
    fputs("usage: tern COMMAND [ARGS]\n"
          "\n"
          "Build and run Tern unikernel images.\n"
          "\n"
          "commands:\n"
          "  run      boot a kernel under QEMU and exit with the guest's status\n"
          "  probe    say which accelerator `run` would pick (KVM or TCG) and why\n"
          "  help     show help for a command: tern help run\n"
          "\n"
          "options:\n"
          "  -h, --help     this help\n"
          "  --version      print the version\n"
          "\n"
          "example:\n"
          "  tern run --kernel out/x86_64-kvm-O2/kernel.elf\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("tern %s\n", TERN_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help")) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        char *hargv[] = { argv[2], "--help", NULL };
        if (!strcmp(argv[2], "run") || !strcmp(argv[2], "probe"))
            return cmd_run(2, hargv, false);
        die("help: unknown command '%s' (see tern --help)", argv[2]);
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1, false);
    if (!strcmp(cmd, "probe"))
        return cmd_run(argc - 1, argv + 1, true);
    die("unknown command '%s' (see tern --help)", cmd);
}
