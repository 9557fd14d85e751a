/*
 * Image directories: tern build (build.c) writes them, tern run (run.c)
 * boots them directly or through libvirt (libvirt.c).
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

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

struct build_opts {
    const char *manifest;
    const char *out_dir;        /* NULL: build/<name> */
    const char *kernel;         /* NULL: $TERN_KERNEL, or found next to tern */
    const char *accel;          /* "kvm" (default) or "tcg": domain type, qemu.args */
    bool quiet;                 /* no summary line */
};

/* Build an image. Returns 0 and the output directory (malloc'd) in
 * *out_dir, or the exit status for tern (errors already reported). */
int build_image(const struct build_opts *o, char **out_dir);
int cmd_build(int argc, char **argv);

/* libvirt.c: the domain XML for m, with paths under abs_dir. */
char *domain_xml(const struct manifest *m, const char *abs_dir, const char *domain_type);

/* libvirt.c: boot image directory dir through virsh (qemu:///system). */
struct virsh_boot {
    const char *dir;
    const char *accel;          /* "kvm" or "tcg" */
    uint64_t timeout_ms;
    volatile sig_atomic_t *stop;        /* set by a signal handler */
    /* Console bytes as they arrive; returns true once the guest's exit
     * line has been seen. */
    bool (*output)(const char *data, size_t n, void *arg);
    void *arg;
};
enum virsh_end { VIRSH_GONE, VIRSH_TIMEOUT, VIRSH_INTERRUPTED, VIRSH_FAILED };
enum virsh_end virsh_boot(const struct virsh_boot *vb, char *err, size_t errlen);

#endif
