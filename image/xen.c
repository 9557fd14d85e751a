/*
 * Xen images: xl.cfg, and booting them (xen.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "machine.h"
#include "util.h"
#include "xen.h"

/* ---------------------------------------------------------------- xl.cfg -- */

/* An xl config string: double quotes, a backslash escaping a quote or a
 * backslash (libxlu's dequoting). */
static void xl_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

const char *xen_vif_bridge(const struct manifest *m, const struct machine *mach)
{
    return m->net.mode == NET_BRIDGE && m->net.ifname ? m->net.ifname : mach->xen_bridge;
}

char *xl_cfg_text(const struct manifest *m, const struct machine *mach, const char *abs_dir)
{
    char *s, *p;
    size_t len;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        die("out of memory");
    fputs("# Xen domain config written by tern build: xl create -c xl.cfg\n", f);
    fputs("name = ", f);
    xl_quoted(f, m->name);
    fprintf(f, "\ntype = \"%s\"\n", mach->xl_type);
    if (asprintf(&p, "%s/%s", abs_dir, mach->kernel_file) < 0)
        die("out of memory");
    fputs("kernel = ", f);
    xl_quoted(f, p);
    fputc('\n', f);
    free(p);
    if (asprintf(&p, "%s/rofs.img", abs_dir) < 0)
        die("out of memory");
    if (m->disk == DISK_INITRD) {
        fputs("ramdisk = ", f);
        xl_quoted(f, p);
        fputc('\n', f);
    } else {
        /* The ROFS as a read-only PV disk (blkfront). target= must come
         * last: it takes the rest of the spec, commas and all. */
        fprintf(f, "disk = [ 'format=raw,vdev=xvda,access=ro,target=%s' ]\n", p);
    }
    free(p);
    char *cl = manifest_kernel_cmdline(m);
    fputs("cmdline = ", f);
    xl_quoted(f, cl);
    fputc('\n', f);
    free(cl);
    fprintf(f, "memory = %ld\n", m->memory_mib);
    fprintf(f, "vcpus = %ld\n", m->cpus);
    if (m->net.mode != NET_NONE) {
        char mac[18];
        format_mac(m->net.mac, mac);
        fprintf(f, "vif = [ 'bridge=%s,mac=%s' ]\n", xen_vif_bridge(m, mach), mac);
    }
    /* The kernel ends with SCHEDOP_shutdown(poweroff); a reboot is its
     * last-resort exit. A crashed domain is kept for `xl dump-core` or
     * xenctx; tern run destroys it once it has reported the crash. */
    fputs("on_poweroff = \"destroy\"\n"
          "on_reboot = \"destroy\"\n"
          "on_crash = \"preserve\"\n", f);
    fclose(f);
    return s;
}

bool xen_image(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/xl.cfg", dir);
    return access(p, F_OK) == 0;
}
