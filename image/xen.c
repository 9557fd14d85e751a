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

#include <kern/stdio_frame.h>

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

/* ----------------------------------------------------------------- dom0 --- */

static int run_quiet(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool xen_is_dom0(char *why, size_t whylen)
{
    /* xenfs says so in a dom0 (Linux's /proc/xen/capabilities). */
    FILE *f = fopen("/proc/xen/capabilities", "r");
    if (f) {
        char buf[256] = "";
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = 0;
        fclose(f);
        if (strstr(buf, "control_d")) {
            snprintf(why, whylen, "/proc/xen/capabilities has control_d");
            return true;
        }
    }
    /* A dom0 without xenfs mounted where it is looked for, or one whose
     * toolstack is all we can see: xl itself says whether it reaches Xen. */
    char *argv[] = { "xl", "info", NULL };
    int rc = run_quiet(argv);
    if (rc == 0) {
        snprintf(why, whylen, "xl info works");
        return true;
    }
    snprintf(why, whylen, "%s", rc == 127 ? "no xl here (xen-utils) and no "
             "/proc/xen/capabilities with control_d" : "xl info fails and "
             "/proc/xen/capabilities has no control_d: this is not a Xen dom0");
    return false;
}

/*
 * xl.cfg names the image's files by absolute path, like domain.xml
 * (libvirt.c): a copied or moved image would boot the original's files. The
 * directory being run counts; xl.cfg is rewritten for it, and the user told.
 */
static bool xl_cfg_follow_dir(const char *dir, const char *path, char *err, size_t errlen)
{
    char real[PATH_MAX];
    if (!realpath(dir, real)) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return false;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    char *text = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&text, &cap, 0, f);
    fclose(f);
    if (n < 0) {
        free(text);
        snprintf(err, errlen, "%s: empty", path);
        return false;
    }
    /* kernel = "DIR/kernel.elf": the directory it was written for. */
    const char *k = strstr(text, "\nkernel = \"");
    const char *end = k ? strstr(k + 11, "/kernel.elf\"") : NULL;
    if (!k || !end || memchr(k + 11, '\n', (size_t)(end - (k + 11)))) {
        snprintf(err, errlen, "%s: no kernel = \"DIR/kernel.elf\" line (was it edited? "
                 "rebuild the image with tern build)", path);
        free(text);
        return false;
    }
    char *old = strndup(k + 11, (size_t)(end - (k + 11)));
    if (!strcmp(old, real)) {
        free(old);
        free(text);
        return true;
    }
    msg("%s names the image at %s, but this image is at %s (copied or moved): "
        "booting this one", path, old, real);
    /* Every "OLD/ and target=OLD/ becomes the new directory. */
    char *out;
    size_t olen;
    FILE *o = open_memstream(&out, &olen);
    if (!o)
        die("out of memory");
    size_t ol = strlen(old);
    for (const char *p = text; *p;) {
        if ((*p == '"' || *p == '=') && !strncmp(p + 1, old, ol) && p[1 + ol] == '/') {
            fputc(*p, o);
            fputs(real, o);
            p += 1 + ol;
        } else {
            fputc(*p++, o);
        }
    }
    fclose(o);
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    FILE *w = fopen(tmp, "w");
    bool ok = w && fputs(out, w) >= 0;
    if (w && fclose(w) != 0)
        ok = false;
    if (ok && rename(tmp, path) == 0) {
        msg("%s rewritten for %s", path, real);
    } else {
        unlink(tmp);
        snprintf(err, errlen, "cannot rewrite %s for this directory: %s (rebuild the image "
                 "with tern build)", path, strerror(errno));
        ok = false;
    }
    free(out);
    free(old);
    free(text);
    return ok;
}

/*
 * tern run's command line for the image: the one its xl.cfg holds, with
 * stdio=framed first (kern/stdio_frame.h), so that the app's output can
 * be told from the kernel's lines on the one PV console. NULL, with err
 * set, when xl.cfg has no cmdline line.
 */
static char *framed_cmdline(const char *cfg, char *err, size_t errlen)
{
    FILE *f = fopen(cfg, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", cfg, strerror(errno));
        return NULL;
    }
    char *line = NULL, *out = NULL;
    size_t cap = 0;
    while (!out && getline(&line, &cap, f) > 0) {
        if (strncmp(line, "cmdline = \"", 11))
            continue;
        /* xl_quoted()'s string, its escapes undone */
        out = xmalloc(strlen(line) + 16);
        size_t o = (size_t)sprintf(out, STDIO_FRAME_OPTION " ");
        bool closed = false;
        for (const char *p = line + 11; *p && !closed; p++) {
            if (*p == '\\' && p[1])
                out[o++] = *++p;
            else if (*p == '"')
                closed = true;
            else
                out[o++] = *p;
        }
        out[o] = 0;
        if (!closed) {
            free(out);
            out = NULL;
            break;
        }
    }
    free(line);
    fclose(f);
    if (!out)
        snprintf(err, errlen, "%s: no cmdline = \"...\" line (was it edited? rebuild the "
                 "image with tern build)", cfg);
    return out;
}

static void xl_destroy(const char *name)
{
    char *argv[] = { "xl", "destroy", (char *)name, NULL };
    run_quiet(argv);
}

static bool xl_exists(const char *name)
{
    char *argv[] = { "xl", "domid", (char *)name, NULL };
    return run_quiet(argv) == 0;
}

enum xen_end xen_xl_boot(const struct xen_run *xr, char *err, size_t errlen)
{
    char cfg[PATH_MAX], name[256], name_opt[300];
    snprintf(cfg, sizeof(cfg), "%s/xl.cfg", xr->dir);
    if (!xl_cfg_follow_dir(xr->dir, cfg, err, errlen))
        return XEN_FAILED;
    /* A name of its own: the image may be running already. */
    const char *base = strrchr(xr->dir, '/');
    base = base && base[1] ? base + 1 : xr->dir;
    snprintf(name, sizeof(name), "%.*s-tern%ld", (int)strcspn(base, "\"\\/"), base,
             (long)getpid());
    snprintf(name_opt, sizeof(name_opt), "name=\"%s\"", name);
    /* xl create's KEY=VALUE arguments override the file's. */
    char *cmdline_opt = NULL;
    if (xr->framed) {
        char *cl = framed_cmdline(cfg, err, errlen);
        if (!cl)
            return XEN_FAILED;
        char *q;
        size_t qlen;
        FILE *m = open_memstream(&q, &qlen);
        if (!m)
            die("out of memory");
        fputs("cmdline=", m);
        xl_quoted(m, cl);
        fclose(m);
        free(cl);
        cmdline_opt = q;
    }
    msg("xl create -c %s (as domain %s)", cfg, name);
    /* xl's console client (xenconsole) wants a terminal: give it a pty. */
    char *argv[] = { "xl", "create", "-c", cfg, name_opt, cmdline_opt, NULL };
    int master;
    pid_t pid = spawn_on_pty(argv, &master, err, errlen);
    if (pid < 0) {
        free(cmdline_opt);
        return XEN_FAILED;
    }
    enum xen_end end = XEN_GONE;
    uint64_t t0 = now_ns(), exit_at = 0, next_check = 0, gone_at = 0;
    bool exit_seen = false, xl_done = false, seen_domain = false;
    int st = 0;
    for (;;) {
        struct pollfd p = { master, POLLIN, 0 };
        if (poll(&p, 1, 100) > 0) {
            char buf[4096];
            ssize_t n = read(master, buf, sizeof(buf));
            if (n > 0 && xr->output(buf, (size_t)n, xr->arg))
                exit_seen = true;
            if (n <= 0 && (p.revents & (POLLHUP | POLLERR)))
                usleep(50000);
        }
        if (!xl_done && waitpid(pid, &st, WNOHANG) == pid)
            xl_done = true;
        uint64_t now = now_ns();
        if (exit_seen && !exit_at)
            exit_at = now;
        if (*xr->stop) {
            end = XEN_INTERRUPTED;
            break;
        }
        if (xr->timeout_ms && now - t0 > xr->timeout_ms * 1000000u) {
            end = XEN_TIMEOUT;
            break;
        }
        if (xl_done) {
            /* xl is gone, but what it wrote last (the exit line) may still
             * wait in the pty: read it before judging. */
            pty_relay(master, 200, xr->output, xr->arg, &exit_seen);
            /* xl create failed before the domain ran: its message is on
             * the console already; say so if there was no exit line. */
            if (!exit_seen && WIFEXITED(st) && WEXITSTATUS(st) != 0 && !xl_exists(name))
                snprintf(err, errlen, "xl create failed (exit code %d)", WEXITSTATUS(st));
            break;
        }
        /* The domain powered off (gone) or crashed (kept, on_crash =
         * "preserve"): the console client may linger. */
        if (exit_at && now - exit_at > 5000000000u)
            break;
        /* A domain that existed and is gone while the console client
         * lingers: what it still relays (the domain's last output, the
         * exit line among it, may be on its way through xenconsoled and
         * the client) comes within a few seconds, then nothing more.
         * (Creating it may take a while: only a domain seen once counts
         * as gone.) */
        if (gone_at && now - gone_at > 5000000000u) {
            snprintf(err, errlen, "domain %s is gone without an exit line", name);
            break;
        }
        if (now >= next_check && !gone_at) {
            next_check = now + 1000000000u;
            bool exists = xl_exists(name);
            if (exists)
                seen_domain = true;
            else if (seen_domain && !exit_seen)
                gone_at = now;
        }
    }
    /* Whatever is left: the domain (crashed, timed out), the console. */
    if (xl_exists(name)) {
        if (end == XEN_GONE && !exit_seen)
            snprintf(err, errlen, "domain %s did not finish (crashed? `xl list`); "
                     "destroyed", name);
        xl_destroy(name);
    }
    if (!xl_done) {
        kill(pid, SIGTERM);
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    close(master);
    free(cmdline_opt);
    return end;
}

/* -------------------------------------------------------------- harness --- */

/* tests/xen/run.sh of the source tree this tern was built in
 * (out/host/tern), or $TERN_XEN_HARNESS. */
static char *harness_path(void)
{
    const char *env = getenv("TERN_XEN_HARNESS");
    if (env && *env)
        return access(env, R_OK) == 0 ? xstrdup(env) : NULL;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = 0;
    char p[PATH_MAX + 32], real[PATH_MAX];
    snprintf(p, sizeof(p), "%s/../../tests/xen/run.sh", exe);
    return access(p, R_OK) == 0 && realpath(p, real) ? xstrdup(real) : NULL;
}

static bool on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        char f[PATH_MAX];
        snprintf(f, sizeof(f), "%.*s/%s", (int)n, p, prog);
        if (n && access(f, X_OK) == 0)
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

int xen_harness_boot(const struct xen_run *xr)
{
    char *run_sh = harness_path();
    if (!run_sh) {
        msg("error: this host is not a Xen dom0, and there is no tests/xen/run.sh beside "
            "this tern to boot the image in (Xen + dom0 under QEMU). Run it on a Xen "
            "dom0 (xl create -c %s/xl.cfg), or from a Tern source tree (or set "
            "TERN_XEN_HARNESS=.../tests/xen/run.sh)", xr->dir);
        return 125;
    }
    /* What the harness needs: QEMU, and its cache of Xen + dom0, which
     * only root can build (debootstrap) and which takes minutes. */
    if (!on_path("qemu-system-x86_64")) {
        msg("error: this host is not a Xen dom0, and the Xen harness (%s) needs "
            "qemu-system-x86_64 to boot Xen + dom0 in; install it or run the image on "
            "a Xen dom0", run_sh);
        free(run_sh);
        return 125;
    }
    const char *cache_root = getenv("TERN_CACHE");
    char cache[PATH_MAX], f[PATH_MAX + 32];
    if (cache_root && *cache_root)
        snprintf(cache, sizeof(cache), "%s/xen", cache_root);
    else
        snprintf(cache, sizeof(cache), "%s/.cache/tern/xen", getenv("HOME") ? getenv("HOME") : "");
    snprintf(f, sizeof(f), "%s/dom0.cpio.gz", cache);
    bool cached = access(f, R_OK) == 0;
    if (!cached && geteuid() != 0) {
        msg("error: this host is not a Xen dom0, and the Xen harness's cache (%s: Debian's "
            "Xen and a dom0) is not built; building it needs root and Debian's mirror "
            "(sudo sh %s/../mkdom0.sh, a few minutes), or run the image on a Xen dom0",
            cache, run_sh);
        free(run_sh);
        return 125;
    }
    msg("not a Xen dom0: booting %s inside the Xen harness (%s: Xen 4.17 + Debian dom0 "
        "under QEMU TCG, xl create; about a minute%s)", xr->dir, run_sh,
        cached ? "" : ", plus a few minutes to build its cache first");
    /* run.sh writes the guest's console to --log FILE and the whole serial
     * output to FILE.serial: not in the image directory (tern build
     * replaces only directories holding image files). */
    char tmpd[] = "/tmp/tern-xen-run-XXXXXX", log[64], serial[80], tmo[32];
    if (!mkdtemp(tmpd))
        die("mkdtemp: %s", strerror(errno));
    snprintf(log, sizeof(log), "%s/console.log", tmpd);
    snprintf(serial, sizeof(serial), "%s.serial", log);
    /* run.sh's --timeout is the guest's; the boot of Xen + dom0 has its own. */
    snprintf(tmo, sizeof(tmo), "%llu",
             (unsigned long long)(xr->timeout_ms ? (xr->timeout_ms + 999) / 1000 : 86400));
    char cfg[PATH_MAX], err[PATH_MAX + 200];
    snprintf(cfg, sizeof(cfg), "%s/xl.cfg", xr->dir);
    char *cmdline = NULL;
    if (xr->framed && !(cmdline = framed_cmdline(cfg, err, sizeof(err)))) {
        msg("error: %s", err);
        free(run_sh);
        rmdir(tmpd);
        return 125;
    }
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        /* The harness's own progress to stderr; the guest's console is
         * read from the log afterwards. */
        dup2(2, 1);
        char *argv[] = { "sh", run_sh, "--quiet", "--log", log, "--timeout", tmo,
                         (char *)xr->dir, NULL, NULL, NULL };
        if (cmdline) {          /* (--append replaces the image's command line) */
            argv[7] = "--append";
            argv[8] = cmdline;
            argv[9] = (char *)xr->dir;
        }
        execvp("sh", argv);
        _exit(127);
    }
    int st;
    for (;;) {
        pid_t w = waitpid(pid, &st, 0);
        if (w == pid)
            break;
        if (errno != EINTR) {
            st = 125 << 8;
            break;
        }
        if (*xr->stop)
            kill(pid, SIGTERM);
    }
    free(run_sh);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 125;
    free(cmdline);
    /* The console, as if streamed. */
    FILE *c = fopen(log, "r");
    if (c) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), c)) > 0)
            xr->output(buf, n, xr->arg);
        fclose(c);
    }
    unlink(log);
    /* Xen's and dom0's own output matters only when the harness, not the
     * app, failed: no status (125) or out of time (124). */
    if (rc != 124 && rc != 125)
        unlink(serial);
    if (rmdir(tmpd) != 0)
        msg("Xen's and dom0's serial output is in %s", serial);
    if (*xr->stop)
        return 130;
    return rc;
}
