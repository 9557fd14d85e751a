/*
 * tern build: the command line. The work is build_image() (image.c), which
 * tern run shares for a manifest.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "tern.h"
#include "util.h"

static void build_usage(FILE *f)
{
    fputs("usage: tern build MANIFEST [-o DIR] [options]\n"
          "\n"
          "Build an image directory from a manifest (docs/manifest.md): kernel.elf,\n"
          "rofs.img, domain.xml (libvirt) and qemu.args (platform: xen: xl.cfg\n"
          "instead; boot: u-boot adds boot.img, U-Boot's disk with the FIT). MANIFEST\n"
          "- is read from standard input (host paths then relative to the current\n"
          "directory). The directory is replaced atomically: a failed build leaves no\n"
          "partial output and an older image untouched. Same inputs give\n"
          "byte-identical files; set SOURCE_DATE_EPOCH to clamp file times. An image\n"
          "that could not boot (the program dynamic, a script, 32-bit, another arch\n"
          "or truncated; no cmdline; memory: too small or more than the host has) is\n"
          "refused with the reason and the fix (--force: build it anyway).\n"
          "\n"
          "options:\n"
          "  -o, --out DIR       output directory (default build/NAME)\n"
          "  --kernel FILE       the kernel to pack (default $TERN_KERNEL, else the\n"
          "                      kernel built beside this tern for the manifest's\n"
          "                      arch and platform: out/x86_64-kvm-O2/kernel.elf)\n"
          "  --accel kvm|tcg     the domain type in domain.xml and the accelerator in\n"
          "                      qemu.args (default kvm, or tcg where KVM cannot run\n"
          "                      the manifest's arch, as aarch64 on x86; tern run\n"
          "                      picks its own)\n"
          "  --platform kvm|xen  build for this platform instead of the manifest's\n"
          "                      (platform: xen writes xl.cfg and a Xen domain.xml)\n"
          "  --force             build even when a check says the image cannot boot\n"
          "                      (the program's format, memory: too small or too large,\n"
          "                      no cmdline): warn instead\n"
          "  -q, --quiet         no summary line\n"
          "\n"
          "examples:\n"
          "  tern build manifests/hello.yaml\n"
          "  tern build manifests/hello.yaml -o /tmp/hello && virsh create /tmp/hello/domain.xml\n"
          "  generate-yaml | tern build - -o /tmp/app\n",
          f);
}

int cmd_build(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "out", required_argument, NULL, 'o' },
        { "kernel", required_argument, NULL, 'k' },
        { "accel", required_argument, NULL, 'A' },
        { "platform", required_argument, NULL, 'P' },
        { "quiet", no_argument, NULL, 'q' },
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    struct build_opts o = { .accel = NULL };
    int c;
    optind = 1;
    opterr = 0;
    /* Options may follow the manifest (GNU getopt permutes). */
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out_dir = optarg; break;
        case 'k': o.kernel = optarg; break;
        case 'A':
            if (strcmp(optarg, "kvm") && strcmp(optarg, "tcg"))
                die("--accel %s: choose kvm or tcg", optarg);
            o.accel = optarg;
            break;
        case 'P': o.platform = optarg; break;
        case 'q': o.quiet = true; break;
        case 'f': o.force = true; break;
        case 'h': build_usage(stdout); return 0;
        default:
            if (optopt)
                die("build: option -%c is unknown or needs a value (see tern build --help)",
                    optopt);
            die("build: option '%s' is unknown or needs a value (see tern build --help)",
                argv[optind - 1]);
        }
    }
    if (optind >= argc)
        die("build: name a manifest (see tern build --help)");
    if (optind + 1 < argc)
        die("build: unexpected argument '%s' (one manifest at a time)", argv[optind + 1]);
    o.manifest = argv[optind];
    char *dir = NULL;
    int rc = build_image(&o, &dir);
    free(dir);
    return rc;
}
