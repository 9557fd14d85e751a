/*
 * libvirt: the domain XML an image directory carries, and booting an image
 * through virsh (tern run --via virsh).
 */
#ifndef TERN_LIBVIRT_H
#define TERN_LIBVIRT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

/* The domain XML for m on machine mach, with paths under abs_dir; accel
 * ("kvm" or "tcg") picks the domain type. */
struct machine;
char *domain_xml(const struct manifest *m, const struct machine *mach, const char *abs_dir,
                 const char *accel);

/* Boot image directory dir through virsh (qemu:///system). */
struct virsh_boot {
    const char *dir;
    const struct machine *machine;      /* the image's (machine.h) */
    const char *accel;          /* "kvm" or "tcg" */
    uint64_t timeout_ms;
    volatile sig_atomic_t *stop;        /* set by a signal handler */
    /* Console bytes as they arrive; returns true once the guest's exit
     * line has been seen. */
    bool (*output)(const char *data, size_t n, void *arg);
    void *arg;
    /* When the machine has the app's stdio channels (machine.h
     * libvirt_stdio): the app's bytes for fd (1 stdout, 2 stderr) as
     * libvirt writes them to the image's stdout.log and stderr.log. */
    void (*app_output)(int fd, const char *data, size_t n, void *arg);
    /* Boot with stdio=framed first on the kernel's command line: the
     * app's output comes framed in the console (kern/stdio_frame.h; a
     * machine without the stdio channels, Xen). */
    bool framed;
};
enum virsh_end { VIRSH_GONE, VIRSH_TIMEOUT, VIRSH_INTERRUPTED, VIRSH_FAILED };
enum virsh_end virsh_boot(const struct virsh_boot *vb, char *err, size_t errlen);

#endif
