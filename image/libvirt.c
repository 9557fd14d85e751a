/*
 * libvirt: the domain XML tern build writes, and booting an image through
 * virsh against qemu:///system (tern run --via virsh).
 *
 * The virsh CLI is used rather than the C API so the tool needs no
 * libvirt-dev and every step can be repeated by hand.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libvirt.h"
#include "machine.h"
#include "uboot.h"
#include "util.h"
#include "xen.h"

#include <kern/stdio_frame.h>

/* The connection: the machine's (qemu:///system, xen:///system), set by
 * virsh_boot. */
static const char *virsh_uri = "qemu:///system";
#define VIRSH_URI ((char *)virsh_uri)

/* ----------------------------------------------------------- domain.xml --- */

static void xml_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* <os> for a boot: u-boot image (uboot.h): U-Boot as the firmware, which
 * libvirt passes to QEMU as -bios; it boots the FIT on boot.img. */
static void xml_os_uboot(FILE *f, const struct machine *mach)
{
    fputs("  <os>\n", f);
    fprintf(f, "    <type arch='%s' machine='%s'>%s</type>\n", mach->os_arch,
            mach->os_machine, mach->os_type);
    fputs("    <loader readonly='yes' type='rom'>", f);
    xml_escaped(f, mach->uboot_firmware);
    fputs("</loader>\n  </os>\n", f);
}

/*
 * <os> for direct kernel boot: the kernel with the ROFS image as the initrd
 * (x86: the PVH module; Arm: /chosen's linux,initrd-*) and the command
 * line. A boot through firmware (Arm: U-Boot's <loader> and a boot disk)
 * is another function beside this one.
 */
static void xml_os_direct(FILE *f, const struct manifest *m, const struct machine *mach,
                          const char *abs_dir)
{
    fputs("  <os>\n", f);
    fprintf(f, "    <type arch='%s' machine='%s'>%s</type>\n", mach->os_arch,
            mach->os_machine, mach->os_type);
    fputs("    <kernel>", f);
    xml_escaped(f, abs_dir);
    fprintf(f, "/%s</kernel>\n", mach->kernel_file);
    if (m->disk == DISK_INITRD) {
        fputs("    <initrd>", f);
        xml_escaped(f, abs_dir);
        fputs("/rofs.img</initrd>\n", f);
    }
    char *cl = manifest_kernel_cmdline(m);
    if (*cl) {
        fputs("    <cmdline>", f);
        xml_escaped(f, cl);
        fputs("</cmdline>\n", f);
    }
    free(cl);
    fputs("  </os>\n", f);
}

/* <features>: ACPI where the guest powers off through it (x86), the GIC
 * version on Arm (libvirt passes -M virt,gic-version=N). */
static void xml_features(FILE *f, const struct machine *mach)
{
    if (!mach->acpi && !mach->gic_version)
        return;
    fputs("  <features>\n", f);
    if (mach->acpi)
        fputs("    <acpi/>\n", f);
    if (mach->gic_version)
        fprintf(f, "    <gic version='%d'/>\n", mach->gic_version);
    fputs("  </features>\n", f);
}

/*
 * The <cpu> element for accel, on one line (virsh_boot replaces it when the
 * run's accelerator differs from the build's), or NULL when the machine
 * leaves the CPU to libvirt. TCG: the row's model, exactly (fallback
 * forbidden: a libvirt that cannot give it must fail, not boot another);
 * KVM: the host's CPU as it is.
 */
static char *xml_cpu(const struct machine *mach, const char *accel)
{
    char *s;
    if (!mach->libvirt_cpu)
        return NULL;
    if (!strcmp(accel, "kvm")) {
        s = xstrdup("  <cpu mode='host-passthrough' check='none'></cpu>\n");
    } else if (asprintf(&s, "  <cpu mode='custom' match='exact' check='none'><model "
                        "fallback='forbid'>%s</model></cpu>\n", mach->cpu_tcg) < 0) {
        die("out of memory");
    }
    return s;
}

/*
 * The app's stdout and stderr on virtio-serial ports (the names the
 * kernel's virtio_console.c looks for), each written to a file in the
 * image directory. libvirt opens the files (through virtlogd), so QEMU's
 * user needs no write access to the directory. No tern.stdin (the app's
 * stdin is empty, as with any port missing) and no tern.ctl (end a domain
 * with virsh shutdown/destroy).
 */
static void xml_stdio_channels(FILE *f, const char *abs_dir)
{
    static const char *const names[] = { "stdout", "stderr" };
    for (int i = 0; i < 2; i++) {
        fputs("    <channel type='file'>\n      <source path='", f);
        xml_escaped(f, abs_dir);
        fprintf(f, "/%s.log' append='off'/>\n"
                "      <target type='virtio' name='tern.%s'/>\n"
                "    </channel>\n", names[i], names[i]);
    }
}

/*
 * The domain: direct kernel boot (xml_os_direct); the machine table gives
 * the domain type, arch, machine, features and CPU. No <cpu> on x86:
 * libvirt's default model works under both KVM and TCG. No exit device
 * either (isa-debug-exit would need <qemu:commandline> and taint the
 * domain): the kernel powers off (ACPI S5 on x86, PSCI SYSTEM_OFF on Arm),
 * which libvirt sees as a shutdown, and the status is read from the
 * console log.
 *
 * On Arm virt libvirt places every virtio device on PCIe, each behind its
 * own pcie-root-port (the kernel numbers the bridges and assigns the BARs
 * itself, docs/aarch64.md), and the serial port is the PL011.
 */
char *domain_xml(const struct manifest *m, const struct machine *mach, const char *abs_dir,
                 const char *accel)
{
    char *s;
    size_t len;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        die("out of memory");
    fprintf(f, "<domain type='%s'>\n", machine_virt_type(mach, accel));
    fputs("  <name>", f);
    xml_escaped(f, m->name);
    fputs("</name>\n", f);
    fputs("  <description>Tern image built by tern build</description>\n", f);
    fprintf(f, "  <memory unit='MiB'>%ld</memory>\n", m->memory_mib);
    fprintf(f, "  <vcpu>%ld</vcpu>\n", m->cpus);
    if (m->boot == BOOT_UBOOT)
        xml_os_uboot(f, mach);
    else
        xml_os_direct(f, m, mach, abs_dir);
    xml_features(f, mach);
    char *cpu = xml_cpu(mach, accel);
    if (cpu)
        fputs(cpu, f);
    free(cpu);
    fputs("  <clock offset='utc'/>\n", f);
    /* A reboot is the kernel's last-resort exit (triple fault): end there. */
    fputs("  <on_poweroff>destroy</on_poweroff>\n", f);
    fputs("  <on_reboot>destroy</on_reboot>\n", f);
    fputs("  <on_crash>destroy</on_crash>\n", f);
    fputs("  <devices>\n", f);
    /* Xen (xl_type): blkfront's xvda, netfront on a bridge, the PV
     * console; otherwise virtio and a serial port. */
    bool xen = mach->xl_type != NULL;
    /* The ROFS as a disk, or U-Boot's boot disk (on PCIe here, where
     * U-Boot finds it as virtio0 too). */
    if (m->disk == DISK_VIRTIO_BLK || m->boot == BOOT_UBOOT) {
        fputs("    <disk type='file' device='disk'>\n"
              "      <driver name='qemu' type='raw'/>\n"
              "      <source file='", f);
        xml_escaped(f, abs_dir);
        fprintf(f, "/%s'/>\n", m->boot == BOOT_UBOOT ? UBOOT_DISK : "rofs.img");
        fprintf(f, ""
                "      <target dev='%s' bus='%s'/>\n"
                "      <readonly/>\n"
                "    </disk>\n", xen ? "xvda" : "vda", xen ? "xen" : "virtio");
    }
    if (xen && m->net.mode != NET_NONE) {
        char mac[18];
        format_mac(m->net.mac, mac);
        fputs("    <interface type='bridge'>\n", f);
        fprintf(f, "      <mac address='%s'/>\n", mac);
        fputs("      <source bridge='", f);
        xml_escaped(f, xen_vif_bridge(m, mach));
        fputs("'/>\n    </interface>\n", f);
    }
    if (xen) {
        /* The PV console, logged like the serial port below (libvirt's
         * libxl driver hands it to xenconsoled; `virsh console` works). */
        fputs("    <console type='pty'>\n      <log file='", f);
        xml_escaped(f, abs_dir);
        fputs("/console.log' append='off'/>\n"
              "      <target type='xen' port='0'/>\n"
              "    </console>\n"
              "  </devices>\n"
              "</domain>\n", f);
        fclose(f);
        return s;
    }
    if (m->net.mode != NET_NONE) {
        char mac[18];
        format_mac(m->net.mac, mac);
        static const char *const types[] = { "", "user", "ethernet", "bridge" };
        fprintf(f, "    <interface type='%s'>\n", types[m->net.mode]);
        fprintf(f, "      <mac address='%s'/>\n", mac);
        if (m->net.mode == NET_TAP) {
            fputs("      <target dev='", f);
            xml_escaped(f, m->net.ifname);
            fputs("' managed='no'/>\n", f);
        } else if (m->net.mode == NET_BRIDGE) {
            fputs("      <source bridge='", f);
            xml_escaped(f, m->net.ifname);
            fputs("'/>\n", f);
        }
        fputs("      <model type='virtio'/>\n", f);
        fputs("    </interface>\n", f);
    }
    /* A pty serial port with a log: everything is logged from the first
     * byte, and `virsh console` still works. */
    fputs("    <serial type='pty'>\n      <log file='", f);
    xml_escaped(f, abs_dir);
    fputs("/console.log' append='off'/>\n", f);
    if (mach->libvirt_serial_model)
        fprintf(f, "      <target type='system-serial' port='0'>\n"
                "        <model name='%s'/>\n"
                "      </target>\n", mach->libvirt_serial_model);
    else
        fputs("      <target port='0'/>\n", f);
    fputs("    </serial>\n"
          "    <console type='pty'>\n"
          "      <target type='serial' port='0'/>\n"
          "    </console>\n", f);
    if (mach->libvirt_stdio)
        xml_stdio_channels(f, abs_dir);
    /* The kernel's random seed where the CPU has no RDRAND/RNDR
     * (machine.h's rng_device; docs/random.md). */
    if (mach->rng_device)
        fputs("    <rng model='virtio'>\n"
              "      <backend model='random'>/dev/urandom</backend>\n"
              "    </rng>\n", f);
    fputs("    <memballoon model='none'/>\n"
          "  </devices>\n"
          "</domain>\n", f);
    fclose(f);
    return s;
}

/* ---------------------------------------------------------------- virsh --- */

/* Run a command, capturing its stdout and stderr (each up to outlen-1
 * bytes). Returns the exit status, or -1 if it could not run. */
/* One read from a child's pipe into buf (size bytes, *used filled, one
 * kept for the NUL); what does not fit is read and dropped so the child
 * never blocks. buf may be NULL. False at end of file or on an error. */
static bool drain(int fd, char *buf, size_t size, size_t *used)
{
    char junk[4096];
    bool room = buf && *used + 1 < size;
    ssize_t n = read(fd, room ? buf + *used : junk, room ? size - 1 - *used : sizeof(junk));
    if (n <= 0)
        return false;
    if (room)
        *used += (size_t)n;
    return true;
}

static int run_capture(char *const argv[], char *out, size_t outlen, char *errbuf,
                       size_t errlen)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        /* Its own process group: Ctrl-C is for tern, which cleans up. */
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    size_t ol = 0, el = 0;
    bool oo = true, eo = true;
    while (oo || eo) {
        struct pollfd pfd[2] = { { oo ? po[0] : -1, POLLIN, 0 }, { eo ? pe[0] : -1, POLLIN, 0 } };
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[0].revents)
            oo = drain(po[0], out, outlen, &ol);
        if (pfd[1].revents)
            eo = drain(pe[0], errbuf, errlen, &el);
    }
    if (out && outlen)
        out[ol] = 0;
    if (errbuf && errlen)
        errbuf[el] = 0;
    close(po[0]);
    close(pe[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The first meaningful line of virsh's complaint, without "error: ". */
static void first_error(const char *text, char *out, size_t outlen)
{
    const char *best = NULL;
    for (const char *p = text; *p; p += strcspn(p, "\n"), p += *p == '\n') {
        size_t n = strcspn(p, "\n");
        if (!n)
            continue;
        /* virsh prints a generic line, then the reason: keep the reason. */
        best = p;
        if (strncmp(p, "error: Failed to", 16) && strncmp(p, "error: failed to connect", 24))
            break;
    }
    if (!best) {
        snprintf(out, outlen, "no message");
        return;
    }
    if (!strncmp(best, "error: ", 7))
        best += 7;
    snprintf(out, outlen, "%.*s", (int)strcspn(best, "\n"), best);
}

static bool virsh_ok(void)
{
    char *argv[] = { "virsh", "-c", VIRSH_URI, "version", NULL };
    return run_capture(argv, NULL, 0, NULL, 0) == 0;
}

static bool running(const char *prog)
{
    char *argv[] = { "pgrep", "-x", (char *)prog, NULL };
    return run_capture(argv, NULL, 0, NULL, 0) == 0;
}

/*
 * libvirtd for qemu:///system. Without systemd (containers, CI) nobody
 * starts it, so tern does when it is root: virtlogd first (QEMU's console
 * and log go through it), then the monolithic libvirtd of Debian 12.
 */
static bool ensure_libvirtd(char *err, size_t errlen)
{
    if (virsh_ok())
        return true;
    if (geteuid() != 0) {
        snprintf(err, errlen, "cannot reach libvirt at %s, and only root can start "
                 "libvirtd here (virtlogd -d; libvirtd -d); or use --via qemu", VIRSH_URI);
        return false;
    }
    static const char *const daemons[] = { "virtlogd", "libvirtd" };
    for (int i = 0; i < 2; i++) {
        if (running(daemons[i]))
            continue;
        msg("starting %s -d (libvirt is not running)", daemons[i]);
        char *argv[] = { (char *)daemons[i], "-d", NULL };
        char e[512];
        if (run_capture(argv, NULL, 0, e, sizeof(e)) != 0) {
            char why[256];
            first_error(e, why, sizeof(why));
            snprintf(err, errlen, "cannot start %s: %s", daemons[i], why);
            return false;
        }
    }
    for (int i = 0; i < 200; i++) {
        if (virsh_ok())
            return true;
        usleep(100000);
    }
    snprintf(err, errlen, "libvirtd started but %s does not answer after 20 s", VIRSH_URI);
    return false;
}

/*
 * libvirt runs QEMU as libvirt-qemu, which reaches /dev/kvm through group
 * kvm. Debian's udev rules make it root:kvm 0660; without udev it stays
 * root:root 0600, and then libvirt not only cannot use KVM but decides on
 * every domain start that its cached QEMU capabilities are stale ("KVM was
 * enabled when probing, but it is not available now") and re-probes every
 * QEMU binary, which takes a minute. As root, do what udev would.
 */
static void fix_kvm_permissions(void)
{
    struct stat st;
    struct group *g = getgrnam("kvm");
    if (geteuid() != 0 || !g || stat("/dev/kvm", &st) != 0)
        return;
    if (st.st_gid == g->gr_gid && (st.st_mode & 0660) == 0660)
        return;
    if (chown("/dev/kvm", (uid_t)-1, g->gr_gid) == 0 &&
        chmod("/dev/kvm", (st.st_mode & 07777) | 0660) == 0)
        msg("/dev/kvm is now group kvm, mode 0660, as Debian's udev rules make it "
            "(there is no udev here), so libvirt's QEMU can open it");
}

/* Find `open` ... `close` in s; return a malloc'd copy of what lies between. */
static char *between(const char *s, const char *open, const char *close,
                     const char **start, const char **end)
{
    const char *a = strstr(s, open);
    if (!a)
        return NULL;
    a += strlen(open);
    const char *b = strstr(a, close);
    if (!b)
        return NULL;
    if (start)
        *start = a;
    if (end)
        *end = b;
    return strndup(a, (size_t)(b - a));
}

static char *xml_unescape(char *s)
{
    static const struct { const char *ent; char c; } ents[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&apos;", '\'' }, { "&quot;", '"' },
    };
    char *o = s;
    for (char *p = s; *p;) {
        size_t i;
        for (i = 0; i < 5 && strncmp(p, ents[i].ent, strlen(ents[i].ent)); i++)
            ;
        if (i < 5) {
            *o++ = ents[i].c;
            p += strlen(ents[i].ent);
        } else {
            *o++ = *p++;
        }
    }
    *o = 0;
    return s;
}

static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *s = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 16384;
            s = realloc(s, cap);
            if (!s)
                die("out of memory");
        }
        size_t n = fread(s + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    s[len] = 0;
    return s;
}

static bool domain_exists(const char *name)
{
    char *argv[] = { "virsh", "-c", VIRSH_URI, "domid", (char *)name, NULL };
    return run_capture(argv, NULL, 0, NULL, 0) == 0;
}

static void destroy(const char *name)
{
    char *argv[] = { "virsh", "-c", VIRSH_URI, "destroy", (char *)name, NULL };
    run_capture(argv, NULL, 0, NULL, 0);
}

/* Replace every occurrence of from with to in *s (reallocated). */
static void replace_all(char **s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    for (const char *p = *s; (p = strstr(p, from)); p += fl)
        n++;
    if (!n)
        return;
    char *out = xmalloc(strlen(*s) + n * tl + 1), *o = out;
    const char *p = *s, *q;
    while ((q = strstr(p, from))) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
        p = q + fl;
    }
    strcpy(o, p);
    free(*s);
    *s = out;
}

static char *xml_escaped_str(const char *s)
{
    char *out;
    size_t len;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        die("out of memory");
    xml_escaped(f, s);
    fclose(f);
    return out;
}

/*
 * domain.xml names the image's files by absolute path (libvirt needs
 * that), so a copied or moved image directory still names the directory
 * it was built in: it would boot the original's kernel and ROFS and write
 * the original's console.log, or fail when that is gone. The directory
 * being run is the one that counts: when its domain.xml names another,
 * every path is rewritten to this one, for this run and in domain.xml
 * itself (so a plain `virsh create` of it works too), and the user is told.
 */
static bool domain_follow_dir(char **xml, const char *dir, const struct machine *mach,
                              const char *path, char *err, size_t errlen)
{
    char real[4096];
    if (!realpath(dir, real)) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return false;
    }
    /* A boot through firmware (U-Boot: <loader>) has no <kernel>: then
     * the serial port's log, DIR/console.log, names the directory. */
    const char *elem = "<kernel>", *file = mach->kernel_file;
    char *kernel = between(*xml, "<kernel>", "</kernel>", NULL, NULL);
    if (!kernel && strstr(*xml, "<loader ") &&
        (kernel = between(*xml, "<log file='", "'", NULL, NULL)))
        elem = "<log file>", file = "console.log";
    if (!kernel) {
        snprintf(err, errlen, "%s: no <kernel> element (rebuild the image with tern build)",
                 path);
        return false;
    }
    /* The directory domain.xml was written for: <kernel> is DIR/KERNEL_FILE. */
    size_t kl = strlen(kernel), fl = strlen(file);
    if (kl <= fl + 1 || kernel[kl - fl - 1] != '/' || strcmp(kernel + kl - fl, file)) {
        snprintf(err, errlen, "%s: %s is '%s', not DIR/%s (was it edited? rebuild the "
                 "image with tern build)", path, elem, kernel, file);
        free(kernel);
        return false;
    }
    kernel[kl - fl - 1] = 0;               /* still XML-escaped */
    char *now = xml_escaped_str(real);
    if (strcmp(kernel, now) != 0) {
        char *old_unesc = xml_unescape(xstrdup(kernel));
        msg("%s names the image at %s, but this image is at %s (copied or moved): "
            "its paths now name this directory", path, old_unesc, real);
        free(old_unesc);
        char *from, *to;
        /* Only whole path prefixes: inside elements and attribute values. */
        static const char *const lead[] = { ">", "'" };
        for (int i = 0; i < 2; i++) {
            if (asprintf(&from, "%s%s/", lead[i], kernel) < 0 ||
                asprintf(&to, "%s%s/", lead[i], now) < 0)
                die("out of memory");
            replace_all(xml, from, to);
            free(from);
            free(to);
        }
        /* Keep domain.xml true for plain virsh create, when we may. */
        char tmp[4200];
        snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
        FILE *f = fopen(tmp, "w");
        if (f && fputs(*xml, f) >= 0 && fclose(f) == 0 && rename(tmp, path) == 0) {
            msg("%s rewritten for %s", path, real);
        } else {
            if (f)
                unlink(tmp);
            msg("warning: cannot rewrite %s (%s); this run uses the right paths, but a plain "
                "virsh create of it would not: rebuild the image with tern build", path,
                strerror(errno));
        }
    }
    free(now);
    free(kernel);
    return true;
}

/* Read what the console log has gained since last time. */
static void drain_log(const struct virsh_boot *vb, int fd, bool *exit_seen)
{
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (vb->output(buf, (size_t)n, vb->arg))
            *exit_seen = true;
}

/* `virsh console --force NAME` on a pty, once the domain exists (paused):
 * true when it says it is connected (within 20 s). Its greeting goes
 * to vb->output with the console. */
static bool attach_console_pty(const struct virsh_boot *vb, const char *name, int *master,
                               pid_t *pid, char *err, size_t errlen)
{
    char *argv[] = { "virsh", "-c", VIRSH_URI, "console", "--force", (char *)name, NULL };
    if ((*pid = spawn_on_pty(argv, master, err, errlen)) < 0)
        return false;
    fcntl(*master, F_SETFL, fcntl(*master, F_GETFL) | O_NONBLOCK);
    char seen[512] = "";
    size_t len = 0;
    for (uint64_t end = now_ns() + 20000000000u; now_ns() < end;) {
        struct pollfd p = { *master, POLLIN, 0 };
        if (poll(&p, 1, 200) <= 0)
            continue;
        char buf[256];
        ssize_t n = read(*master, buf, sizeof(buf));
        if (n <= 0)
            break;
        vb->output(buf, (size_t)n, vb->arg);
        for (ssize_t i = 0; i < n && len < sizeof(seen) - 1; i++)
            seen[len++] = buf[i] ? buf[i] : ' ';
        seen[len] = 0;
        if (strstr(seen, "Escape character"))
            return true;
    }
    snprintf(err, errlen, "virsh console %s did not connect: %s", name,
             len ? seen : "(it said nothing)");
    return false;
}

/* The app's stdout.log and stderr.log (xml_stdio_channels), read as
 * libvirt writes them. path[i] NULL: the machine has no such channels. */
struct app_files {
    char *path[2];
    int fd[2];
};

/* The channel file for port tern.NAME in xml, or NULL. */
static char *channel_path(const char *xml, const char *name)
{
    char target[64];
    snprintf(target, sizeof(target), "<target type='virtio' name='tern.%s'/>", name);
    const char *t = strstr(xml, target);
    if (!t)
        return NULL;
    /* The <source path='...'/> of the <channel> holding that target. */
    const char *c = NULL;
    for (const char *p = xml; (p = strstr(p, "<channel type='file'>")) && p < t; p++)
        c = p;
    if (!c)
        return NULL;
    char *path = between(c, "<source path='", "'", NULL, NULL);
    if (path && strstr(c, "<source path='") > t) {
        free(path);
        return NULL;
    }
    return path ? xml_unescape(path) : NULL;
}

static void drain_app(const struct virsh_boot *vb, struct app_files *af)
{
    char buf[8192];
    for (int i = 0; i < 2; i++) {
        if (!af->path[i])
            continue;
        if (af->fd[i] < 0)
            af->fd[i] = open(af->path[i], O_RDONLY | O_CLOEXEC);
        ssize_t n;
        while (af->fd[i] >= 0 && (n = read(af->fd[i], buf, sizeof(buf))) > 0)
            vb->app_output(i + 1, buf, (size_t)n, vb->arg);
    }
}

/* The <cpu> line of xml (xml_cpu's) replaced by the one for accel. */
static void domain_set_cpu(char **xml, const struct machine *mach, const char *accel)
{
    char *cpu = xml_cpu(mach, accel);
    const char *a = cpu ? strstr(*xml, "  <cpu ") : NULL;
    const char *b = a ? strstr(a, "</cpu>\n") : NULL;
    if (b) {
        char *old = strndup(a, (size_t)(b + 7 - a));
        if (!old)
            die("out of memory");
        replace_all(xml, old, cpu);
        free(old);
    }
    free(cpu);
}

enum virsh_end virsh_boot(const struct virsh_boot *vb, char *err, size_t errlen)
{
    enum virsh_end end = VIRSH_FAILED;
    char path[4096], e[2048];
    char *xml = NULL, *name = NULL, *log = NULL, *newxml = NULL;
    char tmpxml[] = "/tmp/tern-domain-XXXXXX.xml";
    int xfd = -1, lfd = -1, cmaster = -1;
    pid_t cpid = -1;
    bool have_tmpxml = false, pty = vb->machine->libvirt_console_pty;
    struct app_files af = { { NULL, NULL }, { -1, -1 } };

    if (vb->machine->libvirt_uri)
        virsh_uri = vb->machine->libvirt_uri;
    snprintf(path, sizeof(path), "%s/domain.xml", vb->dir);
    if (!(xml = read_file(path, err, errlen)))
        goto out;
    if (!domain_follow_dir(&xml, vb->dir, vb->machine, path, err, errlen))
        goto out;
    /* domain.xml is tern build's output; adjust the few things that make a
     * run distinct: a unique name (the image may be running already), the
     * domain type for the accelerator. */
    /* Under the run's accelerator, the CPU model too (before pointers into
     * xml are taken: this reallocates it). */
    domain_set_cpu(&xml, vb->machine, vb->accel);
    const char *ns, *ne;
    if (!(name = between(xml, "<name>", "</name>", &ns, &ne))) {
        snprintf(err, errlen, "%s: no <name> element", path);
        goto out;
    }
    if (!(log = between(xml, "<log file='", "'", NULL, NULL))) {
        snprintf(err, errlen, "%s: no <log file='...'/> on the serial port (tern reads the "
                 "console from it)", path);
        goto out;
    }
    xml_unescape(log);
    if (vb->machine->libvirt_stdio) {
        static const char *const names[] = { "stdout", "stderr" };
        for (int i = 0; i < 2; i++) {
            if (!(af.path[i] = channel_path(xml, names[i]))) {
                snprintf(err, errlen, "%s: no <channel> for the app's tern.%s (written before "
                         "tern had them? rebuild the image with tern build)", path, names[i]);
                goto out;
            }
        }
    }
    const char *type = machine_virt_type(vb->machine, vb->accel);
    const char *dt = strstr(xml, "<domain type='");
    if (!dt || dt > ns) {
        snprintf(err, errlen, "%s: no <domain type='...'> element", path);
        goto out;
    }
    const char *dt_end = strchr(dt + 14, '\'');
    char unique[256];
    snprintf(unique, sizeof(unique), "%.*s-tern%ld", (int)(ne - ns), ns, (long)getpid());
    if (!dt_end || dt_end > ns) {
        snprintf(err, errlen, "%s: a bad <domain type='...'> element", path);
        goto out;
    }
    if (asprintf(&newxml, "%.*s<domain type='%s%.*s%s%s", (int)(dt - xml), xml, type,
                 (int)(ns - dt_end), dt_end, unique, ne) < 0)
        die("out of memory");
    free(name);
    name = xstrdup(unique);
    if (vb->framed) {
        /* <cmdline>stdio=framed ...</cmdline>, or a new one in <os>. */
        char *at = strstr(newxml, "<cmdline>"), *framed;
        const char *os_end = strstr(newxml, "</os>");
        int r;
        if (at)
            r = asprintf(&framed, "%.*s" STDIO_FRAME_OPTION " %s", (int)(at + 9 - newxml),
                         newxml, at + 9);
        else if (os_end)
            r = asprintf(&framed, "%.*s  <cmdline>" STDIO_FRAME_OPTION "</cmdline>\n  %s",
                         (int)(os_end - newxml), newxml, os_end);
        else {
            snprintf(err, errlen, "%s: no <os> element", path);
            goto out;
        }
        if (r < 0)
            die("out of memory");
        free(newxml);
        newxml = framed;
    }

    if (!ensure_libvirtd(err, errlen))
        goto out;
    fix_kvm_permissions();

    if ((xfd = mkstemps(tmpxml, 4)) < 0) {
        snprintf(err, errlen, "%s: %s", tmpxml, strerror(errno));
        goto out;
    }
    have_tmpxml = true;
    if (write(xfd, newxml, strlen(newxml)) != (ssize_t)strlen(newxml)) {
        snprintf(err, errlen, "%s: %s", tmpxml, strerror(errno));
        goto out;
    }
    close(xfd);
    xfd = -1;

    /* A fresh log, so everything read from it is this boot's (the app's
     * files too). */
    const char *fresh[3] = { log, af.path[0], af.path[1] };
    for (int i = 0; i < 3; i++) {
        if (fresh[i] && unlink(fresh[i]) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "%s: %s", fresh[i], strerror(errno));
            goto out;
        }
    }
    msg("virsh -c %s create %s/domain.xml (as domain %s)", VIRSH_URI, vb->dir, name);
    char *create[] = { "virsh", "-c", VIRSH_URI, "create", tmpxml, pty ? "--paused" : NULL,
                       NULL };
    if (run_capture(create, NULL, 0, e, sizeof(e)) != 0) {
        char why[1024];
        first_error(e, why, sizeof(why));
        snprintf(err, errlen, "virsh create failed: %s", why);
        goto out;
    }
    if (pty) {
        /* The console is read as it is relayed, from the first byte: the
         * domain runs only once `virsh console` is attached. */
        char *resume[] = { "virsh", "-c", VIRSH_URI, "resume", name, NULL };
        if (!attach_console_pty(vb, name, &cmaster, &cpid, err, errlen)) {
            destroy(name);
            goto out;
        }
        if (run_capture(resume, NULL, 0, e, sizeof(e)) != 0) {
            char why[1024];
            first_error(e, why, sizeof(why));
            snprintf(err, errlen, "virsh resume failed: %s", why);
            destroy(name);
            goto out;
        }
    }

    uint64_t t0 = now_ns(), deadline = t0 + vb->timeout_ms * 1000000u;
    uint64_t next_check = 0, exit_at = 0;
    bool exit_seen = false;
    for (;;) {
        /* The app's output first: what it wrote before the exit line. */
        drain_app(vb, &af);
        if (pty)
            pty_relay(cmaster, 0, vb->output, vb->arg, &exit_seen);
        else if (lfd < 0)
            lfd = open(log, O_RDONLY | O_CLOEXEC);
        if (lfd >= 0)
            drain_log(vb, lfd, &exit_seen);
        if (exit_seen && !exit_at)
            exit_at = now_ns();
        if (*vb->stop) {
            destroy(name);
            end = VIRSH_INTERRUPTED;
            break;
        }
        uint64_t now = now_ns();
        if (now > deadline) {
            destroy(name);
            end = VIRSH_TIMEOUT;
            break;
        }
        /* After the exit line the domain should be gone in a moment; a
         * guest whose power-off failed is stopped. */
        if (exit_at && now - exit_at > 5000000000u) {
            destroy(name);
            end = VIRSH_GONE;
            break;
        }
        if (now >= next_check) {
            next_check = now + 200000000u;
            if (!domain_exists(name)) {
                drain_app(vb, &af);
                if (!pty && lfd < 0)
                    lfd = open(log, O_RDONLY | O_CLOEXEC);
                if (lfd >= 0)
                    drain_log(vb, lfd, &exit_seen);
                /* The console client may still be relaying the domain's
                 * last output (its exit line among it): a few seconds. */
                for (uint64_t until = now_ns() + 5000000000u; pty && !exit_seen &&
                     now_ns() < until;)
                    if (!pty_relay(cmaster, 50, vb->output, vb->arg, &exit_seen))
                        break;
                end = VIRSH_GONE;
                break;
            }
        }
        usleep(50000);
    }
    if (!pty && lfd < 0 && end == VIRSH_GONE)
        snprintf(err, errlen, "the domain ended without writing %s", log);
out:
    if (cpid > 0) {
        kill(cpid, SIGTERM);
        while (waitpid(cpid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (cmaster >= 0)
        close(cmaster);
    if (xfd >= 0)
        close(xfd);
    if (have_tmpxml)
        unlink(tmpxml);
    if (lfd >= 0)
        close(lfd);
    for (int i = 0; i < 2; i++) {
        if (af.fd[i] >= 0)
            close(af.fd[i]);
        free(af.path[i]);
    }
    free(xml);
    free(newxml);
    free(name);
    free(log);
    return end;
}
