/*
 * tern run / tern probe: launch a Tern kernel or image under QEMU, or an
 * image through libvirt (--via virsh, libvirt.c).
 *
 * An image is a directory made by tern build (image.h); a manifest is built
 * into one first. Its QEMU command line comes from the directory's
 * qemu.args, with the accelerator chosen here.
 *
 * The guest console (serial) is streamed to the terminal and optionally to a
 * log file. The guest's exit status comes from its last console line,
 * "tern-exit: status=N" (QEMU's own exit code cannot carry every status).
 * The accelerator is KVM when a probe boot succeeds under it, TCG otherwise:
 * /dev/kvm may exist and still be unusable (nested, partial KVM).
 *
 * Exit statuses of tern run itself, besides the guest's:
 *   2    bad usage            124  timeout
 *   125  QEMU failed or the guest ended without reporting a status
 *   130  interrupted (Ctrl-C), the guest was stopped
 *   141  the reader of tern's stdout went away (`| head`), the guest was stopped
 *   143  terminated (SIGTERM), the guest was stopped
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image.h"
#include "instances.h"
#include "libvirt.h"
#include "machine.h"
#include "tern.h"
#include "ports.h"
#include "probe_cache.h"
#include "stdio_relay.h"
#include "util.h"
#include "xen.h"

#include <kern/stdio_frame.h>

#define EXIT_TIMEOUT     124
#define EXIT_NO_STATUS   125
#define EXIT_INTERRUPTED 130
#define EXIT_TERMINATED  143    /* SIGTERM, as a shell reports 128 + 15 */
#define EXIT_BROKEN_PIPE 141    /* SIGPIPE's 128 + 13: the reader of stdout left */
/* A KVM probe boot must finish within this budget. A plain KVM host boots
 * the kernel in well under half a second; a nested KVM without hardware
 * paging support can take seconds for the same boot and is slower than TCG
 * at everything the guest does, so it counts as unusable. */
#define PROBE_BUDGET_MS  2000
#define PROBE_TIMEOUT_MS 30000

struct run_opts {
    const char *kernel;
    const char *initrd;
    const char *append;
    const char *accel;          /* "auto", "kvm", "tcg" */
    const char *log_path;
    const char *qemu;           /* NULL: the machine's */
    const struct machine *machine;      /* the kernel's (machine.h) */
    long smp;
    long memory_mb;
    long timeout_s;
    bool quiet;                 /* do not stream the console */
    bool verbose;               /* the kernel log to stderr even with the app's own stdio */
    bool stdio;                 /* the app's stdio through virtio-serial (stdio_relay.h) */
    bool no_debug_exit;         /* leave out the exit device (tests the fallback) */
    long gdb_port;              /* --gdb: start halted with QEMU's gdbstub here; 0: no */
    const char *image_dir;      /* booting an image directory */
    struct port_fwd fwd[64];    /* -p: forwarded on the image's user network */
    size_t nfwd;
    const char *env[64];        /* -e NAME=value: env= kernel options */
    size_t nenv;
    char **extra;               /* arguments after "--": appended to the app's */
    int nextra;
    struct argv_buf image_args; /* its qemu.args */
};

struct boot_result {
    int status;                 /* the guest's tern-exit status, or -1 */
    int qemu_status;            /* waitpid status */
    bool timed_out, interrupted;
    uint64_t ready_ns;          /* host time from exec to the ready line; 0 if none */
    char ready_line[256];       /* the kernel's own timing */
    char last_error[512];       /* QEMU's stderr, last line */
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

/* One token of the kernel command line (docs/cmdline.md): quoted when it
 * has blanks or is empty. */
static void add_token(FILE *f, const char *t)
{
    bool q = !*t || strpbrk(t, " \t");
    fprintf(f, q ? " \"%s\"" : " %s", t);
}

/* The image's kernel command line with this run's -e variables (env=
 * options, before "--") and extra arguments (after the app's). */
static char *run_cmdline(const struct run_opts *o, const char *cl)
{
    char *s;
    size_t len;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        die("out of memory");
    const char *sep = !strncmp(cl, "--", 2) && (cl[2] == ' ' || !cl[2]) ? cl : strstr(cl, " -- ");
    if (!sep && !strcmp(cl + (strlen(cl) >= 3 ? strlen(cl) - 3 : 0), " --"))
        sep = cl + strlen(cl) - 3;
    size_t optlen = sep ? (size_t)(sep - cl) : strlen(cl);
    fprintf(f, "%.*s", (int)optlen, cl);
    /* The quotes go around the value only: a quoted '=' would not end
     * the option's name. */
    for (size_t i = 0; i < o->nenv; i++)
        fprintf(f, strpbrk(o->env[i], " \t") ? " env=\"%s\"" : " env=%s", o->env[i]);
    if (sep) {
        const char *args = sep + (sep == cl ? 2 : 3);
        fprintf(f, " --%s", args);
    }
    for (int i = 0; i < o->nextra; i++)
        add_token(f, o->extra[i]);
    fclose(f);
    /* A leading blank when the image had no kernel options. */
    if (s[0] == ' ')
        memmove(s, s + 1, strlen(s));
    return s;
}

/* An image's qemu.args with this run's accelerator, CPU model and QEMU. */
static void image_qemu_argv(const struct run_opts *o, const char *accel, struct argv_buf *a)
{
    const struct argv_buf *in = &o->image_args;
    argv_add(a, o->qemu ? o->qemu : o->machine->qemu);
    for (size_t i = 1; i < in->n; i++) {
        const char *arg = in->v[i], *next = i + 1 < in->n ? in->v[i + 1] : NULL;
        if (next && !strcmp(arg, "-accel")) {
            argv_add(a, arg);
            argv_add(a, accel);
            i++;
        } else if (next && !strcmp(arg, "-cpu")) {
            argv_add(a, arg);
            argv_add(a, machine_cpu(o->machine, accel));
            i++;
        } else if (next && !strcmp(arg, "-append")) {
            argv_add(a, arg);
            char *cl = run_cmdline(o, next);
            argv_add(a, cl);
            free(cl);
            i++;
        } else if (next && !strcmp(arg, "-netdev") && !strncmp(next, "user,", 5) && o->nfwd) {
            char nd[4096];
            snprintf(nd, sizeof(nd), "%s", next);
            for (size_t k = 0; k < o->nfwd; k++)
                port_hostfwd(&o->fwd[k], nd + strlen(nd), sizeof(nd) - strlen(nd));
            argv_add(a, arg);
            argv_add(a, nd);
            i++;
        } else if (next && o->no_debug_exit && o->machine->exit_device &&
                   !strcmp(arg, "-device") && !strcmp(next, o->machine->exit_device)) {
            i++;
        } else {
            argv_add(a, arg);
        }
    }
}

/* --gdb: the guest waits, halted before its first instruction, for a
 * debugger on QEMU's gdbstub (docs/debugging.md). */
static void add_gdb_args(const struct run_opts *o, struct argv_buf *a)
{
    char dev[32];
    if (!o->gdb_port)
        return;
    snprintf(dev, sizeof(dev), "tcp::%ld", o->gdb_port);
    argv_add(a, "-S");
    argv_add(a, "-gdb");
    argv_add(a, dev);
}

static void build_qemu_argv(const struct run_opts *o, const char *accel,
                            struct argv_buf *a)
{
    if (o->image_dir) {
        image_qemu_argv(o, accel, a);
        add_gdb_args(o, a);
        return;
    }
    machine_qemu_argv(o->machine, a, o->qemu, accel, o->memory_mb, o->smp, !o->no_debug_exit);
    argv_add(a, "-kernel");
    argv_add(a, o->kernel);
    if (o->initrd) {
        argv_add(a, "-initrd");
        argv_add(a, o->initrd);
    }
    machine_rng_argv(o->machine, a);
    if (o->append && *o->append) {
        argv_add(a, "-append");
        argv_add(a, o->append);
    }
    add_gdb_args(o, a);
}

/* Handle one complete console line. */
static void console_line(const char *line, uint64_t t0, struct boot_result *r)
{
    const char *p;
    if ((p = strstr(line, "tern-exit: status=")) != NULL) {
        long st;
        char num[16];
        size_t n = strcspn(p + 18, "\r\n");
        if (n < sizeof(num)) {
            memcpy(num, p + 18, n);
            num[n] = 0;
            if (parse_long(num, 0, 255, &st))
                r->status = (int)st;
        }
    }
    if (!r->ready_ns && (p = strstr(line, "] ready: ")) != NULL) {
        r->ready_ns = now_ns() - t0;
        snprintf(r->ready_line, sizeof(r->ready_line), "%.*s", (int)strcspn(p + 9, "\r\n"),
                 p + 9);
    }
}

/*
 * --log FILE when the app's output travels apart from the console: both
 * go to the file, whole lines at a time, so that neither cuts into the
 * other's lines (the two streams arrive with different delays: a kernel
 * line still crossing the serial port while the app has written). A line
 * longer than the buffer goes out in pieces.
 */
struct merged_log {
    FILE *f;
    struct {
        char buf[8192];
        size_t len;
    } s[2];                     /* 0: console, 1: the app */
};

static void mlog_write(struct merged_log *m, int which, const char *data, size_t n)
{
    if (!m->f)
        return;
    char *b = m->s[which].buf;
    size_t *len = &m->s[which].len;
    while (n) {
        size_t k = sizeof(m->s[which].buf) - *len;
        if (k > n)
            k = n;
        memcpy(b + *len, data, k);
        *len += k;
        data += k;
        n -= k;
        char *nl = memrchr(b, '\n', *len);
        size_t out = nl ? (size_t)(nl - b) + 1 : *len == sizeof(m->s[which].buf) ? *len : 0;
        if (out) {
            fwrite(b, 1, out, m->f);
            memmove(b, b + out, *len - out);
            *len -= out;
        }
    }
}

static void mlog_end(struct merged_log *m)
{
    /* The app's unfinished line first: the console's last is tern-exit. */
    for (int i = 1; m->f && i >= 0; i--) {
        if (m->s[i].len)
            fwrite(m->s[i].buf, 1, m->s[i].len, m->f);
        m->s[i].len = 0;
    }
}

static void mlog_app(void *arg, const char *data, size_t n)
{
    mlog_write(arg, 1, data, n);
}

/* The console as it streams in: copied to the terminal and the log, split
 * into lines for console_line(). */
struct console {
    char buf[8192];
    size_t len;
    uint64_t t0;
    FILE *term;                 /* where the console streams to, or NULL */
    FILE *log;
    FILE *klog;                 /* the image's console.log, or NULL */
    struct merged_log *mlog;    /* log by lines, beside the app's output */
    struct boot_result *r;
    /* The app's output framed in the console (stdio=framed, a Xen image):
     * records to our stdout and stderr, the rest is the kernel's. */
    struct stdio_deframer *deframe;
};

/* The kernel's bytes of the console. */
static void console_text(struct console *c, const char *data, size_t n)
{
    /* Nobody reads our output any more (tern run | head): stop the guest
     * as Ctrl-C would. */
    if (c->term &&
        (fwrite(data, 1, n, c->term) != n || fflush(c->term) != 0) && errno == EPIPE)
        got_signal = SIGPIPE;
    if (c->mlog)
        mlog_write(c->mlog, 0, data, n);
    else if (c->log)
        fwrite(data, 1, n, c->log);
    if (c->klog)
        fwrite(data, 1, n, c->klog);
    while (n) {
        size_t k = sizeof(c->buf) - 1 - c->len;
        if (k > n)
            k = n;
        memcpy(c->buf + c->len, data, k);
        c->len += k;
        data += k;
        n -= k;
        c->buf[c->len] = 0;
        char *start = c->buf, *nl;
        while ((nl = memchr(start, '\n', c->len - (size_t)(start - c->buf)))) {
            *nl = 0;
            console_line(start, c->t0, c->r);
            start = nl + 1;
        }
        c->len -= (size_t)(start - c->buf);
        memmove(c->buf, start, c->len);
        if (c->len == sizeof(c->buf) - 1)
            c->len = 0;                 /* an absurdly long line: drop it */
    }
}

/* The app's stdout or stderr, apart from the console (libvirt's channel
 * files, or records framed in the console): ours, and the --log beside
 * the console, as boot() relays them from QEMU. */
static void app_output(int fd, const char *data, size_t n, void *arg)
{
    struct console *c = arg;
    FILE *to = fd == 1 ? stdout : stderr;
    if ((fwrite(data, 1, n, to) != n || fflush(to) != 0) && errno == EPIPE)
        got_signal = SIGPIPE;
    if (c->mlog)
        mlog_app(c->mlog, data, n);
}

static void deframed_text(void *arg, const char *data, size_t n)
{
    console_text(arg, data, n);
}

static void deframed_app(void *arg, int fd, const void *data, size_t n)
{
    app_output(fd, data, n, arg);
}

/* Returns true once the exit line has been seen. */
static bool console_feed(struct console *c, const char *data, size_t n)
{
    if (c->deframe)
        stdio_deframe(c->deframe, data, n);
    else
        console_text(c, data, n);
    return c->r->status >= 0;
}

static void console_end(struct console *c)
{
    if (c->deframe) {
        stdio_deframe_end(c->deframe);
        if (c->deframe->lost)
            msg("warning: %lu pieces of the app's output were cut short on the console "
                "and dropped (the console's reader fell behind)", c->deframe->lost);
    }
    if (c->len) {                       /* a last line without newline */
        c->buf[c->len] = 0;
        console_line(c->buf, c->t0, c->r);
        c->len = 0;
    }
}

static bool qemu_alive(void *arg)
{
    int st;
    return waitpid(*(pid_t *)arg, &st, WNOHANG) == 0;
}

/*
 * Boot once: spawn QEMU, stream its console, wait for it to end. The
 * console goes to term (NULL: nowhere), log and klog; with o->stdio the
 * app's stdio is relayed to ours apart from it. timeout_ms 0: no limit.
 */
static void boot(const struct run_opts *o, const char *accel, FILE *term, FILE *klog,
                 uint64_t timeout_ms, FILE *log, struct boot_result *r)
{
    int out[2], err[2];
    struct argv_buf a = { 0 };
    struct stdio_relay relay;
    bool stream = term != NULL;

    memset(r, 0, sizeof(*r));
    r->status = -1;
    build_qemu_argv(o, accel, &a);
    if (o->stdio)
        relay_setup(&relay, &a);
    if (pipe(out) < 0 || pipe(err) < 0)
        die("pipe: %s", strerror(errno));

    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        /* Own process group: Ctrl-C reaches tern, which stops QEMU cleanly. */
        setpgid(0, 0);
        /* If tern dies (killed, or SIGPIPE from a closed pipe), QEMU must
         * not live on as an orphan. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(127);
        /* qemu.args names the image's files relative to its directory. */
        if (o->image_dir && chdir(o->image_dir) != 0) {
            fprintf(stderr, "cannot enter %s: %s\n", o->image_dir, strerror(errno));
            _exit(127);
        }
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        execvp(a.v[0], a.v);
        fprintf(stderr, "cannot run %s: %s\n", a.v[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    argv_free(&a);

    char ebuf[2048];
    size_t elen = 0;
    static struct merged_log mlog;
    memset(&mlog, 0, sizeof(mlog));
    mlog.f = o->stdio ? log : NULL;
    struct console con = { .t0 = t0, .term = term, .log = log, .klog = klog, .r = r,
                           .mlog = o->stdio ? &mlog : NULL };
    bool out_open = true, err_open = true;
    uint64_t deadline = timeout_ms ? t0 + timeout_ms * 1000000u : UINT64_MAX;
    uint64_t exit_seen_at = 0;

    if (o->stdio) {
        relay.copy = mlog_app;
        relay.copy_arg = &mlog;
        if (!relay_connect(&relay, 30000, qemu_alive, &pid, r->last_error,
                           sizeof(r->last_error))) {
            out_open = err_open = false;        /* stop QEMU below */
            kill(pid, SIGKILL);
        }
    }
    while (out_open || err_open) {
        struct pollfd pfd[6] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
        int npfd = 2;
        if (!out_open)
            pfd[0].fd = -1;
        if (!err_open)
            pfd[1].fd = -1;
        if (o->stdio)
            relay_pollfds(&relay, pfd, &npfd);
        int rc = poll(pfd, (nfds_t)npfd, 100);
        /* The app's output first: what it wrote before the kernel's exit
         * line is in its socket before that line is in the console. */
        if (o->stdio && rc > 0) {
            relay_handle(&relay, pfd);
            if (relay.broken_pipe)
                got_signal = SIGPIPE;
        }
        if (got_signal) {
            r->interrupted = true;
            break;
        }
        uint64_t now = now_ns();
        if (now > deadline) {
            r->timed_out = true;
            break;
        }
        /* After the exit line QEMU should be gone in a moment; do not wait
         * forever on a guest whose power-off failed. */
        if (exit_seen_at && now - exit_seen_at > 5000000000u)
            break;
        if (rc <= 0)
            continue;
        if (pfd[0].revents) {
            char obuf[4096];
            ssize_t n = read(out[0], obuf, sizeof(obuf));
            if (n <= 0)
                out_open = false;
            else if (console_feed(&con, obuf, (size_t)n) && !exit_seen_at)
                exit_seen_at = now_ns();
        }
        if (pfd[1].revents) {
            ssize_t n = read(err[0], ebuf + elen, sizeof(ebuf) - 1 - elen);
            if (n <= 0) {
                err_open = false;
            } else {
                if (stream)             /* a probe keeps QEMU quiet */
                    fwrite(ebuf + elen, 1, (size_t)n, stderr);
                elen += (size_t)n;
                ebuf[elen] = 0;
                /* Keep the last complete line for the error message. */
                char *last = NULL, *p = ebuf;
                bool kvm_failed = false;
                for (char *nl; (nl = strchr(p, '\n')); p = nl + 1) {
                    *nl = 0;
                    last = p;
                    /* QEMU pauses the VM after this instead of exiting. */
                    if (strstr(p, "KVM internal error"))
                        kvm_failed = true;
                }
                if (kvm_failed)
                    snprintf(r->last_error, sizeof(r->last_error),
                             "KVM internal error (the hypervisor could not run a guest instruction)");
                else if (last && !strstr(r->last_error, "KVM internal error"))
                    snprintf(r->last_error, sizeof(r->last_error), "%.*s", (int)sizeof(r->last_error) - 1, last);
                elen = strlen(p);
                memmove(ebuf, p, elen + 1);
                if (kvm_failed)
                    break;
            }
        }
    }
    console_end(&con);
    if (out_open || err_open) {
        kill(pid, SIGTERM);
        for (int i = 0; i < 50 && waitpid(pid, &r->qemu_status, WNOHANG) == 0; i++)
            usleep(20000);
        kill(pid, SIGKILL);
    }
    waitpid(pid, &r->qemu_status, 0);
    close(out[0]);
    close(err[0]);
    if (o->stdio) {
        if (!r->interrupted)
            relay_drain(&relay);
        relay_close(&relay);
        mlog_end(&mlog);
        fflush(stdout);
    }
}

/*
 * Decide the accelerator: a quiet probe boot of this very kernel under KVM,
 * run to completion. Three outcomes: KVM boots it within the budget (use
 * KVM); KVM boots it but slower (a nested KVM without hardware paging: TCG
 * is faster); KVM cannot boot it at all (TCG). The verdict is cached.
 */
static const char *choose_accel(const struct run_opts *o, char *why, size_t whylen)
{
    static char cached[8];

    if (strcmp(o->accel, "auto") != 0) {
        snprintf(why, whylen, "requested");
        return o->accel;
    }
    if (machine_kvm_impossible(o->machine, why, whylen))
        return "tcg";
    /* TERN_KVM_DEV names another device (the tests' stand-in). */
    const char *kvm_dev = getenv("TERN_KVM_DEV");
    if (!kvm_dev || !*kvm_dev)
        kvm_dev = "/dev/kvm";
    if (access(kvm_dev, R_OK | W_OK) != 0) {
        snprintf(why, whylen, "%s not usable: %s", kvm_dev, strerror(errno));
        return "tcg";
    }
    const char *qemu = o->qemu ? o->qemu : o->machine->qemu;
    if (probe_cache_get(o->kernel, qemu, kvm_dev, cached, sizeof(cached), why, whylen))
        return cached;
    struct run_opts probe = *o;
    struct boot_result r;
    probe.append = "loglevel=3";
    probe.smp = 1;
    probe.initrd = NULL;
    probe.image_dir = NULL;
    probe.gdb_port = 0;
    uint64_t t0 = now_ns();
    probe.stdio = false;
    boot(&probe, "kvm", NULL, NULL, PROBE_TIMEOUT_MS, NULL, &r);
    uint64_t ms = (now_ns() - t0) / 1000000;
    if (r.interrupted)
        exit(got_signal == SIGTERM ? EXIT_TERMINATED : EXIT_INTERRUPTED);
    const char *accel = "tcg";
    if (r.status == 0 && ms <= PROBE_BUDGET_MS) {
        snprintf(why, whylen, "a KVM probe boot succeeded in %llu ms", (unsigned long long)ms);
        accel = "kvm";
    } else if (r.status == 0) {
        snprintf(why, whylen, "KVM boots the kernel but took %llu ms, over the %d ms "
                 "budget: slower than TCG here (nested KVM?)", (unsigned long long)ms,
                 PROBE_BUDGET_MS);
    } else {
        snprintf(why, whylen, "KVM cannot boot the kernel: %s",
                 r.timed_out ? "the probe boot timed out" :
                 r.last_error[0] ? r.last_error : "no exit status from the guest");
    }
    probe_cache_put(o->kernel, qemu, kvm_dev, accel, why);
    return accel;
}

static void run_usage(FILE *f)
{
    fputs("usage: tern run MANIFEST|DIR [options]\n"
          "       tern run --kernel FILE [options]\n"
          "       tern probe --kernel FILE\n"
          "\n"
          "Boot a Tern image and exit with the app's exit status. A MANIFEST is\n"
          "built first (like tern build, into build/NAME or -o DIR); a DIR made by\n"
          "tern build is booted as it is. With --kernel, a bare kernel is booted.\n"
          "\n"
          "An image's app has tern's stdin, stdout and stderr, byte for byte: its\n"
          "stdin ends when tern's does (a pipe's end, Ctrl-D on a terminal; run\n"
          "with </dev/null if it should get nothing). The kernel log goes to\n"
          "DIR/console.log, and to stderr with -v or when the guest fails. A bare\n"
          "--kernel, and --via virsh, stream the console with the app's output in\n"
          "it, as before.\n"
          "\n"
          "A Xen image (platform: xen, it has xl.cfg) is started with xl create -c\n"
          "on a Xen dom0 (--via virsh: xen:///system); elsewhere inside the Xen test\n"
          "harness (tests/xen/run.sh: Xen + dom0 under QEMU, about a minute).\n"
          "\n"
          "options:\n"
          "  --via qemu|virsh    launch QEMU directly (default), or through libvirt:\n"
          "                      virsh create of DIR/domain.xml on qemu:///system,\n"
          "                      starting virtlogd and libvirtd when needed (root)\n"
          "  -o, --out DIR       where a MANIFEST is built (default build/NAME)\n"
          "  --kernel FILE       the kernel to boot (x86_64: an ELF with the PVH note);\n"
          "                      with a MANIFEST, the kernel to build it with\n"
          "  --platform kvm|xen  build a MANIFEST for this platform instead of its own\n"
          "                      (xen: on a dom0 with xl, elsewhere in the Xen harness)\n"
          "  --accel auto|kvm|tcg  accelerator (default auto: KVM when a probe\n"
          "                      boot works under it, else TCG)\n"
          "  --timeout SECONDS   stop the guest after this long (default 300; 0: never)\n"
          "  --log FILE          also write the console (and the app's output) to FILE\n"
          "  --quiet             do not stream the console, print only the summary\n"
          "  -v, --verbose       an image's kernel log to stderr as well\n"
          "  -d, --detach        start the image in the background and print its name\n"
          "                      (tern ps, logs, console, stop); no timeout unless\n"
          "                      --timeout is given\n"
          "  --name NAME         the detached instance's name (default: the image's)\n"
          "  -e, --env NAME=VALUE  an environment variable for the app (repeatable;\n"
          "                      overrides the manifest's env:)\n"
          "  -- ARG...           more arguments for the app, after the manifest's\n"
          "  -p, --publish HOST:GUEST[/udp]  forward the host's port HOST to the\n"
          "                      guest's port GUEST (user networking; repeatable;\n"
          "                      adds to the manifest's ports:)\n"
          "  --gdb[=PORT]        start the guest halted, waiting for gdb on QEMU's\n"
          "                      gdbstub at PORT (default 1234); no --timeout unless\n"
          "                      given (docs/debugging.md)\n"
          "  --no-debug-exit     leave out QEMU's exit device (isa-debug-exit on x86_64)\n"
          "  --qemu PROGRAM      QEMU binary (default: the kernel's machine's,\n"
          "                      qemu-system-x86_64 for an x86_64 kernel)\n"
          "\n"
          "with --kernel only (an image has these in its manifest):\n"
          "  --initrd FILE       a boot module (a ROFS image)\n"
          "  --append STRING     kernel command line (docs/cmdline.md)\n"
          "  --smp N             vCPUs (default 1)\n"
          "  --memory MIB        guest memory in MiB (default 128)\n"
          "\n"
          "`tern probe` prints the accelerator `auto` would choose, and why.\n"
          "\n"
          "examples:\n"
          "  tern run manifests/hello.yaml\n"
          "  tern run -d manifests/echo-server.yaml; tern ps; tern stop echo-server\n"
          "  tern run build/hello -e GREETING=hi -- more args\n"
          "  tern run build/hello --via virsh\n"
          "  tern run --kernel out/x86_64-kvm-O2/kernel.elf\n"
          "  tern run --kernel kernel.elf --accel tcg --append 'loglevel=7 exit=3'\n", f);
}

/* The kernel in image directory dir: the first machine's kernel file that
 * is there (kernel.elf, kernel.img), else kernel.elf for the error. */
static void image_kernel_path(const char *dir, char *out, size_t len)
{
    for (size_t i = 0; i < machine_count; i++) {
        snprintf(out, len, "%s/%s", dir, machines[i].kernel_file);
        if (access(out, F_OK) == 0)
            return;
    }
    snprintf(out, len, "%s/%s", dir, machines[0].kernel_file);
}

static bool image_has_append(const struct run_opts *o)
{
    for (size_t i = 1; i < o->image_args.n; i++)
        if (!strcmp(o->image_args.v[i], "-append"))
            return true;
    return false;
}

/* A boot: u-boot image: QEMU starts firmware (-bios), which finds the
 * kernel and its command line on the boot disk (uboot.h). */
static bool image_boots_firmware(const struct run_opts *o)
{
    for (size_t i = 1; i < o->image_args.n; i++)
        if (!strcmp(o->image_args.v[i], "-bios"))
            return true;
    return false;
}

static bool image_runs_app(const struct run_opts *o)
{
    for (size_t i = 1; i + 1 < o->image_args.n; i++)
        if (!strcmp(o->image_args.v[i], "-append")) {
            const char *cl = o->image_args.v[i + 1];
            return !strncmp(cl, "-- ", 3) || strstr(cl, " -- ");
        }
    return false;
}

/* -p needs the image's user-mode network. */
static void check_forwarding(const struct run_opts *o)
{
    for (size_t i = 1; i + 1 < o->image_args.n; i++) {
        const char *nd = o->image_args.v[i + 1];
        if (strcmp(o->image_args.v[i], "-netdev"))
            continue;
        if (!strncmp(nd, "user,", 5))
            return;
        die("-p: image '%s' is on a %.*s network, where the guest has its own address on "
            "the host's network: reach it there (forwarding is for network: user)",
            o->image_dir, (int)strcspn(nd, ","), nd);
    }
    die("-p: image '%s' has no network (give its manifest network: user)", o->image_dir);
}

/* Read DIR/qemu.args: one argument per line. */
static void load_image_args(struct run_opts *o)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/qemu.args", o->image_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        die("image '%s': %s: %s (is it a directory made by tern build?)", o->image_dir,
            path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = 0;
        argv_add(&o->image_args, line);
    }
    free(line);
    fclose(f);
    if (o->image_args.n < 2)
        die("image '%s': %s is empty", o->image_dir, path);
}

/* A failed run: the end of the kernel log, which the terminal did not see. */
static void show_kernel_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char *lines[40] = { 0 }, *line = NULL;
    size_t cap = 0, n = 0;
    while (getline(&line, &cap, f) > 0) {
        free(lines[n % 40]);
        lines[n % 40] = xstrdup(line);
        n++;
    }
    fclose(f);
    free(line);
    msg("the kernel log (%s)%s:", path, n > 40 ? ", its last 40 lines" : "");
    for (size_t i = n > 40 ? n - 40 : 0; i < n; i++) {
        char *l = lines[i % 40];
        l[strcspn(l, "\r\n")] = 0;
        fprintf(stderr, "  | %s\n", l);
        free(l);
    }
}

static bool virsh_output(const char *data, size_t n, void *arg)
{
    return console_feed(arg, data, n);
}


/*
 * A Xen image (it has xl.cfg): on a dom0 `xl create -c` (or virsh on
 * xen:///system), elsewhere the tests/xen harness. The status comes from
 * the console's tern-exit line either way. The kernel frames the app's
 * output in its one console (stdio=framed, added to the image's command
 * line): the app's bytes go to our stdout and stderr, the kernel's lines
 * to console.log (and stderr with --verbose), as on KVM.
 */
static int run_xen(const struct run_opts *o, const char *via)
{
    const struct machine *mach = machine_find("x86_64", "xen");
    char why[300];
    bool dom0 = xen_is_dom0(why, sizeof(why));
    bool virsh = !strcmp(via, "virsh");
    if (virsh && !dom0)
        die("--via virsh: image '%s' is a Xen image, which libvirt boots through "
            "xen:///system on a Xen dom0; this host is not one (%s). Without --via, tern "
            "run boots it in the Xen test harness", o->image_dir, why);
    FILE *log = NULL;
    if (o->log_path && !(log = fopen(o->log_path, "w")))
        die("--log %s: %s", o->log_path, strerror(errno));
    if (log)
        setvbuf(log, NULL, _IOLBF, 0);
    char klog_path[4200];
    snprintf(klog_path, sizeof(klog_path), "%s/console.log", o->image_dir);
    struct boot_result r;
    memset(&r, 0, sizeof(r));
    r.status = -1;
    static struct merged_log mlog;
    memset(&mlog, 0, sizeof(mlog));
    mlog.f = log;
    struct console con = { .t0 = now_ns(), .term = o->verbose ? stderr : NULL, .log = log,
                           .mlog = log ? &mlog : NULL, .r = &r };
    struct stdio_deframer deframe = {
        .text = deframed_text, .app = deframed_app, .arg = &con,
    };
    con.deframe = &deframe;
    if (!(con.klog = fopen(klog_path, "w")))
        die("%s: %s", klog_path, strerror(errno));
    setvbuf(con.klog, NULL, _IOLBF, 0);
    struct xen_run xr = {
        .dir = o->image_dir, .timeout_ms = (uint64_t)o->timeout_s * 1000,
        .log_path = o->log_path, .quiet = o->quiet, .framed = true, .stop = &got_signal,
        .output = virsh_output, .arg = &con,
    };
    int rc = -1;
    char err[1024] = "";
    enum { GONE, TIMEOUT, INTERRUPTED, FAILED, HARNESS } end;
    if (!dom0) {
        rc = xen_harness_boot(&xr);
        end = HARNESS;
    } else {
        msg("booting Xen image %s on this dom0 (%s)%s", o->image_dir, why,
            virsh ? " through libvirt" : "");
        if (virsh) {
            struct virsh_boot vb = {
                .dir = o->image_dir, .machine = mach, .accel = "kvm",
                .timeout_ms = (uint64_t)o->timeout_s * 1000, .stop = &got_signal,
                .output = virsh_output, .arg = &con, .framed = true,
            };
            enum virsh_end ve = virsh_boot(&vb, err, sizeof(err));
            end = ve == VIRSH_GONE ? GONE : ve == VIRSH_TIMEOUT ? TIMEOUT :
                  ve == VIRSH_INTERRUPTED ? INTERRUPTED : FAILED;
        } else {
            enum xen_end xe = xen_xl_boot(&xr, err, sizeof(err));
            end = xe == XEN_GONE ? GONE : xe == XEN_TIMEOUT ? TIMEOUT :
                  xe == XEN_INTERRUPTED ? INTERRUPTED : FAILED;
        }
    }
    console_end(&con);
    mlog_end(&mlog);
    fclose(con.klog);
    if (log)
        fclose(log);
    /* A run that failed: the end of the kernel's log, which only --verbose
     * showed. */
    bool failed = r.status < 0 || end == TIMEOUT || end == FAILED ||
                  (end == HARNESS && rc != r.status);
    if (failed && !o->verbose && !got_signal)
        show_kernel_log(klog_path);
    if (end == HARNESS) {
        /* run.sh's status is the guest's, or 124/125/130 as tern run's. */
        if (rc == 0 || (r.status >= 0 && rc == r.status)) {
            if (!o->quiet || rc)
                msg("guest exit status %d", rc);
        } else if (rc == EXIT_TIMEOUT) {
            msg("timeout: the guest ran longer than %ld s and was stopped", o->timeout_s);
        } else if (rc == EXIT_INTERRUPTED || got_signal) {
            msg("interrupted; the Xen harness was stopped");
        } else if (r.status < 0) {
            msg("the guest ended without reporting an exit status (the Xen harness said "
                "%d)", rc);
        }
        return rc;
    }
    if (end == FAILED) {
        msg("error: %s", err);
        return EXIT_NO_STATUS;
    }
    if (end == INTERRUPTED && got_signal == SIGPIPE)
        return EXIT_BROKEN_PIPE;
    if (end == INTERRUPTED) {
        msg("%s; the guest was stopped", got_signal == SIGTERM ? "terminated" : "interrupted");
        return got_signal == SIGTERM ? EXIT_TERMINATED : EXIT_INTERRUPTED;
    }
    if (end == TIMEOUT) {
        msg("timeout: the guest ran longer than %ld s and was stopped", o->timeout_s);
        return EXIT_TIMEOUT;
    }
    if (r.status < 0) {
        msg("the guest ended without reporting an exit status%s%s", err[0] ? ": " : "", err);
        return EXIT_NO_STATUS;
    }
    if (!o->quiet || r.status)
        msg("guest exit status %d", r.status);
    return r.status;
}

/* How to attach: the kernel's ELF (its symbols and DWARF) with the
 * helper (scripts/tern-gdb.py). aarch64 boots kernel.img, the ELF lies
 * next to it. */
static void gdb_hint(const struct run_opts *o)
{
    char elf[4200];
    size_t n = strlen(o->kernel);
    if (n > 4 && !strcmp(o->kernel + n - 4, ".img"))
        snprintf(elf, sizeof(elf), "%.*s.elf", (int)(n - 4), o->kernel);
    else
        snprintf(elf, sizeof(elf), "%s", o->kernel);
    if (access(elf, R_OK) != 0)
        msg("warning: no kernel ELF at %s: gdb will lack the kernel's symbols", elf);
    msg("the guest waits for gdb on port %ld; attach with:", o->gdb_port);
    msg("  %s -x scripts/tern-gdb.py %s -ex 'target remote :%ld'",
        strcmp(o->machine->arch, "x86_64") ? "gdb-multiarch" : "gdb", elf, o->gdb_port);
    msg("then: tern threads, tern thread N, bt, continue (docs/debugging.md)");
}

int cmd_run(int argc, char **argv, bool probe_only)
{
    static const struct option longopts[] = {
        { "kernel", required_argument, NULL, 'k' },
        { "initrd", required_argument, NULL, 'i' },
        { "append", required_argument, NULL, 'a' },
        { "accel", required_argument, NULL, 'A' },
        { "smp", required_argument, NULL, 's' },
        { "memory", required_argument, NULL, 'm' },
        { "timeout", required_argument, NULL, 't' },
        { "log", required_argument, NULL, 'l' },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "no-debug-exit", no_argument, NULL, 'D' },
        { "qemu", required_argument, NULL, 'Q' },
        { "via", required_argument, NULL, 'V' },
        { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { "publish", required_argument, NULL, 'p' },
        { "detach", no_argument, NULL, 'd' },
        { "name", required_argument, NULL, 'n' },
        { "env", required_argument, NULL, 'e' },
        { "gdb", optional_argument, NULL, 'g' },
        { "platform", required_argument, NULL, 'P' },
        { 0, 0, 0, 0 },
    };
    char why_port[200];
    const char *platform = NULL;
    struct run_opts o = {
        .accel = "auto", .smp = 1,
        .memory_mb = 128, .timeout_s = 300, .append = "",
    };
    const char *via = "qemu", *out_dir = NULL, *inst_name = NULL;
    bool detach = false, timeout_given = false;
    /* Arguments after "--" are the app's, added to the image's. */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            o.extra = argv + i + 1;
            o.nextra = argc - i - 1;
            argc = i;
            break;
        }
    for (int i = 0; i < o.nextra; i++)
        if (strpbrk(o.extra[i], "\"\n\r"))
            die("argument '%s': an app argument cannot hold a double quote or a line break "
                "(docs/cmdline.md)", o.extra[i]);
    const char *kernel_only = NULL;     /* an option that needs --kernel mode */
    int c;

    optind = 1;
    opterr = 0;
    /* Options may come before or after the image (GNU getopt permutes). */
    while ((c = getopt_long(argc, argv, "ho:vp:de:", longopts, NULL)) != -1) {
        switch (c) {
        case 'k': o.kernel = optarg; break;
        case 'i': o.initrd = optarg; kernel_only = "--initrd"; break;
        case 'a': o.append = optarg; kernel_only = "--append"; break;
        case 'A':
            if (strcmp(optarg, "auto") && strcmp(optarg, "kvm") && strcmp(optarg, "tcg"))
                die("--accel %s: choose auto, kvm or tcg", optarg);
            o.accel = optarg;
            break;
        case 's':
            if (!parse_long(optarg, 1, 255, &o.smp))
                die("--smp %s: expected a number of vCPUs in 1..255", optarg);
            kernel_only = "--smp";
            break;
        case 'm':
            if (!parse_long(optarg, 2, 1 << 20, &o.memory_mb))
                die("--memory %s: expected MiB in 2..1048576", optarg);
            kernel_only = "--memory";
            break;
        case 't':
            timeout_given = true;
            if (!parse_long(optarg, 0, 31536000, &o.timeout_s))
                die("--timeout %s: expected seconds in 0..31536000 (0: no limit)", optarg);
            break;
        case 'l': o.log_path = optarg; break;
        case 'q': o.quiet = true; break;
        case 'v': o.verbose = true; break;
        case 'd': detach = true; break;
        case 'n': inst_name = optarg; break;
        case 'e': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != (size_t)(eq - optarg) || (optarg[0] >= '0' && optarg[0] <= '9'))
                die("-e %s: expected NAME=value (NAME of letters, digits and '_')", optarg);
            if (strpbrk(optarg, "\"\n\r"))
                die("-e %s: a value cannot hold a double quote or a line break (docs/cmdline.md)",
                    optarg);
            if (o.nenv == sizeof(o.env) / sizeof(o.env[0]))
                die("-e: at most %zu variables", o.nenv);
            o.env[o.nenv++] = optarg;
            break;
        }
        case 'p':
            if (o.nfwd == sizeof(o.fwd) / sizeof(o.fwd[0]))
                die("-p %s: at most %zu forwarded ports", optarg, o.nfwd);
            if (!port_parse(optarg, &o.fwd[o.nfwd], why_port, sizeof(why_port)))
                die("-p %s", why_port);
            o.nfwd++;
            break;
        case 'D': o.no_debug_exit = true; break;
        case 'g':
            o.gdb_port = 1234;
            if (optarg && !parse_long(optarg, 1, 65535, &o.gdb_port))
                die("--gdb=%s: expected a TCP port in 1..65535", optarg);
            break;
        case 'Q': o.qemu = optarg; break;
        case 'V':
            if (strcmp(optarg, "qemu") && strcmp(optarg, "virsh"))
                die("--via %s: choose qemu or virsh", optarg);
            via = optarg;
            break;
        case 'o': out_dir = optarg; break;
        case 'P': platform = optarg; break;
        case 'h': run_usage(stdout); return 0;
        default:
            if (optopt)
                die("%s: option -%c is unknown or needs a value (see tern run --help)",
                    probe_only ? "probe" : "run", optopt);
            die("%s: option '%s' is unknown or needs a value (see tern run --help)",
                probe_only ? "probe" : "run", argv[optind - 1]);
        }
    }
    if ((o.nenv || o.nextra || detach) && !strcmp(via, "virsh"))
        die("%s: not with --via virsh (use tern run on QEMU, or edit the domain)",
            detach ? "-d" : o.nenv ? "-e" : "-- ARGS");
    if (inst_name && !detach)
        die("--name: only with -d (a detached run)");
    if (o.gdb_port && !strcmp(via, "virsh"))
        die("--gdb: not with --via virsh (libvirt has its own: virsh qemu-monitor-command "
            "--hmp DOMAIN gdbserver)");
    if (o.gdb_port && probe_only)
        die("probe: --gdb is for tern run");
    /* Someone sits in the debugger: the guest runs until they are done. */
    if (o.gdb_port && !timeout_given)
        o.timeout_s = 0;
    /* A detached server runs until stopped unless a timeout is asked for. */
    if (detach && !timeout_given)
        o.timeout_s = 0;
    if (o.nfwd && !strcmp(via, "virsh"))
        die("-p: not with --via virsh (tern forwards ports on QEMU's user network; with "
            "libvirt use a tap or bridge network and the guest's own address)");
    const char *image = optind < argc ? argv[optind] : NULL;
    if (image && optind + 1 < argc)
        die("run: unexpected argument '%s' (one image at a time)", argv[optind + 1]);
    if (image && probe_only)
        die("probe: unexpected argument '%s' (use --kernel FILE)", image);
    if (platform && !image)
        die("--platform: only for a manifest (a bare --kernel boots under QEMU)");
    char *built_dir = NULL;
    char image_kernel[4096];
    if (image) {
        struct stat st;
        if (stat(image, &st) != 0)
            die("'%s': %s (expected a manifest or an image directory)", image,
                strerror(errno));
        if (kernel_only)
            die("%s: not with an image; an image's kernel command line, memory and "
                "vCPUs come from its manifest", kernel_only);
        if (S_ISDIR(st.st_mode)) {
            if (o.kernel)
                die("--kernel: not with an image directory (it holds its kernel); "
                    "rebuild it with tern build --kernel");
            if (out_dir)
                die("-o: only for a manifest (a directory is run as it is)");
            if (platform)
                die("--platform: only for a manifest (image '%s' was built for its "
                    "platform; rebuild it with tern build --platform)", image);
            o.image_dir = image;
        } else {
            struct build_opts bo = {
                .manifest = image, .out_dir = out_dir, .kernel = o.kernel,
                .platform = platform,
                .accel = !strcmp(o.accel, "auto") ? NULL : strcmp(o.accel, "tcg") ? "kvm" : "tcg",
            };
            int rc = build_image(&bo, &built_dir);
            if (rc)
                return rc;
            o.image_dir = built_dir;
        }
        if (xen_image(o.image_dir)) {
            /* Launched by xl, not QEMU: what only QEMU runs can do is refused. */
            if (detach || o.nfwd || o.nenv || o.nextra)
                die("%s: not for a Xen image ('%s'); tern run boots it in the foreground "
                    "with the manifest's command line (rebuild it to change that)",
                    detach ? "-d" : o.nfwd ? "-p" : o.nenv ? "-e" : "-- ARGS", o.image_dir);
            if (o.qemu || o.no_debug_exit || o.gdb_port)
                die("%s: not for a Xen image ('%s'): xl starts it, not QEMU",
                    o.qemu ? "--qemu" : o.gdb_port ? "--gdb" : "--no-debug-exit", o.image_dir);
            signal(SIGPIPE, SIG_IGN);
            struct sigaction xsa = { .sa_handler = on_signal };
            sigaction(SIGINT, &xsa, NULL);
            sigaction(SIGTERM, &xsa, NULL);
            sigaction(SIGHUP, &xsa, NULL);
            int rc = run_xen(&o, via);
            free(built_dir);
            return rc;
        }
        image_kernel_path(o.image_dir, image_kernel, sizeof(image_kernel));
        o.kernel = image_kernel;
        load_image_args(&o);
        if (o.nfwd)
            check_forwarding(&o);
        if ((o.nenv || o.nextra) && image_boots_firmware(&o))
            die("%s: image '%s' boots through U-Boot: its command line is in the FIT on "
                "boot.img, not given at run time (change env: or cmdline: in the manifest "
                "and rebuild)", o.nenv ? "-e" : "-- ARGS", o.image_dir);
        if (o.nextra && !image_runs_app(&o))
            die("-- %s: image '%s' runs no app to give arguments to", o.extra[0], o.image_dir);
    } else if (!strcmp(via, "virsh")) {
        die("run: --via virsh boots an image: name a MANIFEST or DIR");
    } else if (out_dir) {
        die("-o: only with a manifest");
    } else if (o.nfwd) {
        die("-p: forwards to an image's network: name a MANIFEST or DIR");
    } else if (o.nenv || o.nextra || detach) {
        die("%s: for an image (MANIFEST or DIR); with --kernel use --append",
            detach ? "-d" : o.nenv ? "-e" : "-- ARGS");
    }
    if (!o.kernel)
        die("%s: --kernel FILE or an image (MANIFEST or DIR) is required (see tern run --help)",
            probe_only ? "probe" : "run");
    if (access(o.kernel, R_OK) != 0)
        die("kernel '%s': %s", o.kernel, strerror(errno));
    if (o.initrd && access(o.initrd, R_OK) != 0)
        die("initrd '%s': %s", o.initrd, strerror(errno));
    /* tern run launches QEMU: the kvm platform of the kernel's arch. */
    char merr[4200];
    if (!(o.machine = machine_of_kernel(o.kernel, "kvm", merr, sizeof(merr))))
        die("%s", merr);
    if (o.machine->not_ready)
        die("kernel '%s': %s/%s cannot boot yet: %s", o.kernel, o.machine->arch,
            o.machine->platform, o.machine->not_ready);

    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* A reader that goes away (tern run | head) must not kill tern before
     * it has stopped the guest: writes then fail with EPIPE instead. */
    signal(SIGPIPE, SIG_IGN);

    char why[600];
    const char *accel = choose_accel(&o, why, sizeof(why));
    if (probe_only) {
        printf("%s\n", accel);
        msg("%s: %s", accel, why);
        return 0;
    }
    if (o.gdb_port)
        gdb_hint(&o);
    if (detach) {
        struct argv_buf a = { 0 };
        build_qemu_argv(&o, accel, &a);
        /* -e on an image without a command line at all. */
        if (o.nenv && !image_has_append(&o)) {
            argv_add(&a, "-append");
            char *cl = run_cmdline(&o, "");
            argv_add(&a, cl);
            free(cl);
        }
        int rc = instance_start(inst_name, o.image_dir, &a, o.timeout_s);
        argv_free(&a);
        free(built_dir);
        argv_free(&o.image_args);
        return rc;
    }
    if (o.nenv && o.image_dir && !image_has_append(&o)) {
        argv_add(&o.image_args, "-append");
        argv_add(&o.image_args, "");
    }
    msg("booting %s%s with %s (%s)%s", o.image_dir ? "image " : "",
        o.image_dir ? o.image_dir : o.kernel, accel, why,
        strcmp(via, "virsh") ? "" : " through libvirt");

    FILE *log = NULL;
    if (o.log_path && !(log = fopen(o.log_path, "w")))
        die("--log %s: %s", o.log_path, strerror(errno));
    /* Line by line: tests and people watch the log while the guest runs. */
    if (log)
        setvbuf(log, NULL, _IOLBF, 0);
    struct boot_result r;
    FILE *klog;
    char klog_path[4200];
    if (!strcmp(via, "virsh")) {
        memset(&r, 0, sizeof(r));
        r.status = -1;
        /* With the app's stdio on channels (machine.h libvirt_stdio) the
         * console is the kernel log: console.log, and stderr with
         * --verbose, as without --via virsh. Else the app's output is on
         * the console, which streams to stdout. */
        bool app_io = o.machine->libvirt_stdio;
        static struct merged_log mlog;
        memset(&mlog, 0, sizeof(mlog));
        mlog.f = app_io ? log : NULL;
        struct console con = { .t0 = now_ns(), .log = log, .r = &r,
                               .term = app_io ? (o.verbose ? stderr : NULL) :
                                       o.quiet ? NULL : stdout,
                               .mlog = app_io ? &mlog : NULL };
        struct virsh_boot vb = {
            .dir = o.image_dir, .machine = o.machine, .accel = accel, .timeout_ms = (uint64_t)o.timeout_s * 1000,
            .stop = &got_signal, .output = virsh_output, .arg = &con,
            .app_output = app_output,
        };
        char err[1024] = "";
        enum virsh_end end = virsh_boot(&vb, err, sizeof(err));
        console_end(&con);
        mlog_end(&mlog);
        if (end == VIRSH_FAILED) {
            if (log)
                fclose(log);
            msg("error: %s", err);
            free(built_dir);
            argv_free(&o.image_args);
            return EXIT_NO_STATUS;
        }
        r.interrupted = end == VIRSH_INTERRUPTED;
        r.timed_out = end == VIRSH_TIMEOUT;
        if (err[0])
            snprintf(r.last_error, sizeof(r.last_error), "%s", err);
        /* The console was not shown: on a failure, its end, as below. */
        snprintf(klog_path, sizeof(klog_path), "%s/console.log", o.image_dir);
        if (app_io && !o.verbose && !r.interrupted && (r.status < 0 || r.timed_out ||
                      r.status == 64 || r.status == 126 || r.status == 127 || r.status >= 128))
            show_kernel_log(klog_path);
        /* The boot time includes libvirt's own start-up: not comparable. */
        r.ready_ns = 0;
    } else if (o.image_dir) {
        /* The app's stdio is ours; the kernel log goes to the image's
         * console.log, and to stderr with --verbose (or below, on a
         * failure). */
        o.stdio = true;
        snprintf(klog_path, sizeof(klog_path), "%s/console.log", o.image_dir);
        if (!(klog = fopen(klog_path, "w")))
            die("%s: %s", klog_path, strerror(errno));
        setvbuf(klog, NULL, _IOLBF, 0);
        boot(&o, accel, o.verbose ? stderr : NULL, klog, (uint64_t)o.timeout_s * 1000, log, &r);
        fclose(klog);
        /* Failures the kernel reports: no status, a timeout, a bad command
         * line (64), an app it cannot run (126) or find (127), a signal. */
        if (!o.verbose && !r.interrupted && (r.status < 0 || r.timed_out || r.status == 64 ||
                           r.status == 126 || r.status == 127 || r.status >= 128))
            show_kernel_log(klog_path);
    } else {
        boot(&o, accel, o.quiet ? NULL : stdout, NULL, (uint64_t)o.timeout_s * 1000, log, &r);
    }
    if (log)
        fclose(log);
    free(built_dir);
    argv_free(&o.image_args);

    if (r.ready_ns)
        msg("boot time: %.1f ms from QEMU start to kernel ready (accel %s; kernel: %s)",
            r.ready_ns / 1e6, accel, r.ready_line);
    if (r.interrupted) {
        /* `tern run IMAGE | head`: the reader has what it wanted. Stop
         * quietly, as a program killed by SIGPIPE does. */
        if (got_signal == SIGPIPE)
            return EXIT_BROKEN_PIPE;
        if (got_signal == SIGTERM) {
            msg("terminated; the guest was stopped");
            return EXIT_TERMINATED;
        }
        msg("interrupted; the guest was stopped");
        return EXIT_INTERRUPTED;
    }
    if (r.timed_out) {
        msg("timeout: the guest ran longer than %ld s and was stopped", o.timeout_s);
        return EXIT_TIMEOUT;
    }
    if (r.status < 0) {
        if (!strcmp(via, "virsh")) {
            msg("the guest ended without reporting an exit status%s%s",
                r.last_error[0] ? ": " : "", r.last_error);
            return EXIT_NO_STATUS;
        }
        int code = WIFEXITED(r.qemu_status) ? WEXITSTATUS(r.qemu_status) : -1;
        msg("the guest ended without reporting an exit status (QEMU %s %d%s%s)",
            WIFEXITED(r.qemu_status) ? "exit code" : "killed by signal",
            WIFEXITED(r.qemu_status) ? code : WTERMSIG(r.qemu_status),
            r.last_error[0] ? ": " : "", r.last_error);
        return EXIT_NO_STATUS;
    }
    if (!o.quiet || r.status)
        msg("guest exit status %d", r.status);
    return r.status;
}
