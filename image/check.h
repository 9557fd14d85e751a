/*
 * Build-time checks (check.c): an image that cannot boot is refused by
 * tern build with the reason and the fix, instead of failing at boot.
 * With --force each becomes a warning and the image is built anyway (the
 * guest tests of the kernel's own ELF loader need such images).
 */
#ifndef TERN_CHECK_H
#define TERN_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "manifest.h"

struct machine;

struct check_ctx {
    const struct manifest *m;
    const struct machine *mach;
    bool force;                 /* warnings instead of errors */
    int errors;
};

/* The program cmdline names (guest path, and the host file it comes from):
 * a static ELF for the image's arch, whole, executable; not a script, not
 * dynamically linked, not 32-bit. */
void check_program(struct check_ctx *c, const char *guest, const char *host);
/* There is a program to run, or kernel options that give a result. */
void check_has_program(struct check_ctx *c);
/* memory: is not more than this host can give QEMU. */
void check_host_memory(struct check_ctx *c);
/* The kernel, the ROFS image (rofs_bytes, for the manifest's disk) and
 * the kernel's own needs fit the guest's memory. */
void check_memory(struct check_ctx *c, const char *kernel, uint64_t rofs_bytes);

#endif
