/*
 * tern: the Tern host tool. One binary, one subcommand per job.
 */
#include <stdio.h>
#include <string.h>

#include "instances.h"
#include "tern.h"
#include "util.h"

static void usage(FILE *f)
{
    fputs("usage: tern COMMAND [ARGS]\n"
          "\n"
          "Build and run Tern unikernel images.\n"
          "\n"
          "commands:\n"
          "  build    build an image directory from a manifest: tern build hello.yaml\n"
          "  run      boot an image or a kernel and exit with the guest's status\n"
          "  probe    say which accelerator `run` would pick (KVM or TCG) and why\n"
          "  ps       list the instances started with run -d\n"
          "  stop     stop an instance cleanly (then by force): tern stop NAME\n"
          "  logs     an instance's app output (-f to follow, --kernel for its log)\n"
          "  console  attach to an instance's (or a libvirt domain's) serial console\n"
          "  rm       remove an ended instance and its logs\n"
          "  ls       list files in a ROFS image: tern ls -l IMAGE [PATH]\n"
          "  cat      print files from a ROFS image: tern cat IMAGE PATH...\n"
          "  check    validate a ROFS image (fsck): tern check IMAGE\n"
          "  mkrofs   pack a host directory into a ROFS image: tern mkrofs IMAGE DIR\n"
          "  cc       compile a static program for Tern: tern cc -o hello hello.c\n"
          "  help     show help for a command: tern help run\n"
          "  version  print the version (also --version)\n"
          "\n"
          "options:\n"
          "  -h, --help     this help\n"
          "  --version      print the version\n"
          "\n"
          "examples:\n"
          "  tern build manifests/hello.yaml\n"
          "  tern run manifests/hello.yaml\n"
          "  tern run build/hello -e GREETING=hi -- more args\n"
          "  tern run -d manifests/echo-server.yaml; tern ps; tern stop echo-server\n"
          "  tern run --kernel out/x86_64-kvm-O2/kernel.elf\n"
          "\n"
          "tern help COMMAND (or tern COMMAND --help) lists a command's options;\n"
          "man tern describes them all.\n", f);
}

/* Detached runs (instances.c). */
static const struct {
    const char *name;
    int (*fn)(int, char **);
} inst_cmds[] = {
    { "ps", cmd_ps }, { "stop", cmd_stop }, { "logs", cmd_logs },
    { "console", cmd_console }, { "rm", cmd_rm },
};

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
        if (!strcmp(argv[2], "build"))
            return cmd_build(2, hargv);
        if (!strcmp(argv[2], "ls"))
            return cmd_ls(2, hargv);
        if (!strcmp(argv[2], "cat"))
            return cmd_cat(2, hargv);
        if (!strcmp(argv[2], "check"))
            return cmd_check(2, hargv);
        if (!strcmp(argv[2], "mkrofs"))
            return cmd_mkrofs(2, hargv);
        if (!strcmp(argv[2], "cc"))
            return cmd_cc(2, hargv);
        for (size_t i = 0; i < sizeof(inst_cmds) / sizeof(inst_cmds[0]); i++)
            if (!strcmp(argv[2], inst_cmds[i].name))
                return inst_cmds[i].fn(2, hargv);
        die("help: unknown command '%s' (see tern --help)", argv[2]);
    }
    if (!strcmp(cmd, "build"))
        return cmd_build(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1, false);
    if (!strcmp(cmd, "probe"))
        return cmd_run(argc - 1, argv + 1, true);
    if (!strcmp(cmd, "ls"))
        return cmd_ls(argc - 1, argv + 1);
    if (!strcmp(cmd, "cat"))
        return cmd_cat(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return cmd_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "mkrofs"))
        return cmd_mkrofs(argc - 1, argv + 1);
    if (!strcmp(cmd, "cc"))
        return cmd_cc(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(inst_cmds) / sizeof(inst_cmds[0]); i++)
        if (!strcmp(cmd, inst_cmds[i].name))
            return inst_cmds[i].fn(argc - 1, argv + 1);
    die("unknown command '%s' (see tern --help)", cmd);
}
