/*
 * Xen: the xl config tern build writes for a Xen machine (machine.h
 * xl_type), and tern run of such an image: `xl create -c` on a dom0, else
 * the tests/xen harness (Xen + dom0 under QEMU), else a message saying what
 * is needed.
 */
#ifndef TERN_XEN_H
#define TERN_XEN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "manifest.h"

struct machine;

/* xl.cfg for m on mach, with paths under abs_dir. */
char *xl_cfg_text(const struct manifest *m, const struct machine *mach, const char *abs_dir);

/* Whether image directory dir is a Xen image (it has xl.cfg). */
bool xen_image(const char *dir);

/* The bridge a networked guest's vif joins. */
const char *xen_vif_bridge(const struct manifest *m, const struct machine *mach);

struct xen_run {
    const char *dir;            /* the image directory */
    uint64_t timeout_ms;        /* 0: none */
    const char *log_path;       /* --log, or NULL */
    bool quiet;
    /* Boot with stdio=framed added to the image's command line: the app's
     * output comes framed in the console (kern/stdio_frame.h). */
    bool framed;
    volatile sig_atomic_t *stop;
    /* Console bytes as they arrive; true once the exit line was seen. */
    bool (*output)(const char *data, size_t n, void *arg);
    void *arg;
};
enum xen_end { XEN_GONE, XEN_TIMEOUT, XEN_INTERRUPTED, XEN_FAILED };

/* Whether this host is a Xen dom0 that can create domains (why says how
 * it was decided, or what is missing). */
bool xen_is_dom0(char *why, size_t whylen);

/* Boot the image with xl create -c on this dom0, its console through
 * xr->output. */
enum xen_end xen_xl_boot(const struct xen_run *xr, char *err, size_t errlen);

/* Not a dom0: boot the image inside the tests/xen harness and return its
 * exit status (run.sh's: the guest's, 124 timeout, 125 no status), or
 * print what is needed and return 125. */
int xen_harness_boot(const struct xen_run *xr);

#endif
