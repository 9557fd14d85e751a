/*
 * Image directories: build_image() (image.c) writes them, for tern build
 * (build.c) and for tern run of a manifest (run.c); tern run boots them
 * directly or through libvirt (libvirt.h).
 *
 * An image directory holds
 *   kernel.elf   the kernel for the manifest's arch/platform
 *   rofs.img     the ROFS image (docs/rofs.md) with the manifest's files
 *   domain.xml   a libvirt domain (absolute paths into the directory)
 *   qemu.args    the QEMU command line, one argument per line, run from
 *                inside the directory
 * and, once booted through libvirt, console.log.
 */
#ifndef TERN_IMAGE_H
#define TERN_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

struct build_opts {
    const char *manifest;
    const char *out_dir;        /* NULL: build/<name> */
    const char *kernel;         /* NULL: $TERN_KERNEL, or found next to tern */
    /* "kvm" or "tcg": domain type, qemu.args. NULL: kvm, unless KVM cannot
     * run the machine's guests on this host (an aarch64 image on x86). */
    const char *accel;
    const char *platform;       /* NULL: the manifest's (--platform) */
    bool quiet;                 /* no summary line */
    bool force;                 /* build-time checks warn instead (check.h) */
};

/* Build an image. Returns 0 and the output directory (malloc'd) in
 * *out_dir, or the exit status for tern (errors already reported). */
int build_image(const struct build_opts *o, char **out_dir);

#endif
