/*
 * tern run / tern probe: launch a Tern kernel under QEMU.
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
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tern.h"
#include "util.h"

#define EXIT_TIMEOUT     124
#define EXIT_NO_STATUS   125
#define EXIT_INTERRUPTED 130
/* A KVM probe boot must finish within this budget. A plain KVM host boots
 * the kernel in well under half a second; a nested KVM without hardware
 * paging support can take seconds for the same boot and is slower than TCG
 * at everything the guest does, so it counts as unusable. */
#define PROBE_BUDGET_MS  2000

struct run_opts {
    const char *kernel;
    const char *initrd;
    const char *append;
    const char *accel;          /* "auto", "kvm", "tcg" */
    const char *log_path;
    const char *qemu;
    long smp;
    long memory_mb;
    long timeout_s;
    bool quiet;                 /* do not stream the console */
    bool no_debug_exit;         /* leave out isa-debug-exit (tests the fallback) */
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

static void build_qemu_argv(const struct run_opts *o, const char *accel,
                            struct argv_buf *a)
{
    argv_add(a, o->qemu);
    argv_add(a, "-M");
    argv_add(a, "q35");
    argv_add(a, "-accel");
    argv_add(a, accel);
    /* Under KVM the host's CPU model, less ARCH_CAPABILITIES: some nested
     * KVMs refuse to set that MSR and QEMU aborts (docs/boot.md). */
    argv_add(a, "-cpu");
    argv_add(a, strcmp(accel, "kvm") == 0 ? "host,-arch-capabilities" : "max");
    argv_add(a, "-m");
    argv_addf(a, "%ld", o->memory_mb);
    argv_add(a, "-smp");
    argv_addf(a, "%ld", o->smp);
    argv_add(a, "-nodefaults");
    argv_add(a, "-no-user-config");
    argv_add(a, "-display");
    argv_add(a, "none");
    argv_add(a, "-serial");
    argv_add(a, "stdio");
    argv_add(a, "-no-reboot");
    if (!o->no_debug_exit) {
        argv_add(a, "-device");
        argv_add(a, "isa-debug-exit,iobase=0xf4,iosize=0x04");
    }
    argv_add(a, "-kernel");
    argv_add(a, o->kernel);
    if (o->initrd) {
        argv_add(a, "-initrd");
        argv_add(a, o->initrd);
    }
    if (o->append && *o->append) {
        argv_add(a, "-append");
        argv_add(a, o->append);
    }
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
 * Boot once: spawn QEMU, stream its console, wait for it to end. stream
 * decides whether the console goes to our stdout.
 */
static void boot(const struct run_opts *o, const char *accel, bool stream,
                 uint64_t timeout_ms, FILE *log, struct boot_result *r)
{
    int out[2], err[2];
    struct argv_buf a = { 0 };

    memset(r, 0, sizeof(*r));
    r->status = -1;
    build_qemu_argv(o, accel, &a);
    if (pipe(out) < 0 || pipe(err) < 0)
        die("pipe: %s", strerror(errno));

    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        /* Own process group: Ctrl-C reaches tern, which stops QEMU cleanly. */
        setpgid(0, 0);
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

    char obuf[8192], ebuf[2048];
    size_t olen = 0, elen = 0;
    bool out_open = true, err_open = true;
    uint64_t deadline = t0 + timeout_ms * 1000000u;
    uint64_t exit_seen_at = 0;

    while (out_open || err_open) {
        struct pollfd pfd[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
        if (!out_open)
            pfd[0].fd = -1;
        if (!err_open)
            pfd[1].fd = -1;
        int rc = poll(pfd, 2, 100);
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
            ssize_t n = read(out[0], obuf + olen, sizeof(obuf) - 1 - olen);
            if (n <= 0) {
                out_open = false;
            } else {
                if (stream)
                    fwrite(obuf + olen, 1, (size_t)n, stdout), fflush(stdout);
                if (log)
                    fwrite(obuf + olen, 1, (size_t)n, log);
                olen += (size_t)n;
                obuf[olen] = 0;
                char *start = obuf, *nl;
                while ((nl = memchr(start, '\n', olen - (size_t)(start - obuf)))) {
                    *nl = 0;
                    console_line(start, t0, r);
                    if (r->status >= 0 && !exit_seen_at)
                        exit_seen_at = now_ns();
                    start = nl + 1;
                }
                olen -= (size_t)(start - obuf);
                memmove(obuf, start, olen);
                if (olen == sizeof(obuf) - 1)
                    olen = 0;           /* an absurdly long line: drop it */
            }
        }
        if (pfd[1].revents) {
            ssize_t n = read(err[0], ebuf + elen, sizeof(ebuf) - 1 - elen);
            if (n <= 0) {
                err_open = false;
            } else {
                fwrite(ebuf + elen, 1, (size_t)n, stderr);
                elen += (size_t)n;
                ebuf[elen] = 0;
                /* Keep the last complete line for the error message. */
                char *last = NULL, *p = ebuf;
                for (char *nl; (nl = strchr(p, '\n')); p = nl + 1) {
                    *nl = 0;
                    last = p;
                }
                if (last)
                    snprintf(r->last_error, sizeof(r->last_error), "%.*s", (int)sizeof(r->last_error) - 1, last);
                elen = strlen(p);
                memmove(ebuf, p, elen + 1);
            }
        }
    }
    if (olen) {                         /* a last line without newline */
        obuf[olen] = 0;
        console_line(obuf, t0, r);
    }
    if (out_open || err_open) {
        kill(pid, SIGTERM);
        for (int i = 0; i < 50 && waitpid(pid, &r->qemu_status, WNOHANG) == 0; i++)
            usleep(20000);
        kill(pid, SIGKILL);
    }
    waitpid(pid, &r->qemu_status, 0);
    close(out[0]);
    close(err[0]);
}

/* Decide the accelerator: a quiet probe boot under KVM. */
static const char *choose_accel(const struct run_opts *o, char *why, size_t whylen)
{
    if (strcmp(o->accel, "auto") != 0) {
        snprintf(why, whylen, "requested");
        return o->accel;
    }
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        snprintf(why, whylen, "/dev/kvm not usable: %s", strerror(errno));
        return "tcg";
    }
    struct run_opts probe = *o;
    struct boot_result r;
    probe.append = "loglevel=3";
    probe.smp = 1;
    probe.initrd = NULL;
    uint64_t t0 = now_ns();
    boot(&probe, "kvm", false, PROBE_BUDGET_MS, NULL, &r);
    uint64_t ms = (now_ns() - t0) / 1000000;
    if (r.interrupted)
        exit(EXIT_INTERRUPTED);
    if (r.status == 0 && ms <= PROBE_BUDGET_MS) {
        snprintf(why, whylen, "a KVM probe boot succeeded in %llu ms",
                 (unsigned long long)ms);
        return "kvm";
    }
    if (r.status == 0 || r.timed_out)
        snprintf(why, whylen, "a KVM probe boot did not finish within %d ms: KVM "
                 "works here but is slower than TCG (nested KVM?)", PROBE_BUDGET_MS);
    else
        snprintf(why, whylen, "a KVM probe boot failed (%s)",
                 r.last_error[0] ? r.last_error : "no exit status from the guest");
    return "tcg";
}

static void run_usage(FILE *f)
{
    fputs("usage: tern run --kernel FILE [options]\n"
          "       tern probe --kernel FILE\n"
          "\n"
          "Boot a Tern kernel under QEMU, stream its console, and exit with the\n"
          "guest's exit status. (Manifests and image directories come with\n"
          "`tern build`.)\n"
          "\n"
          "options:\n"
          "  --kernel FILE       the kernel ELF (PVH) to boot\n"
          "  --initrd FILE       a boot module (the ROFS image)\n"
          "  --append STRING     kernel command line (docs/cmdline.md)\n"
          "  --accel auto|kvm|tcg  accelerator (default auto: KVM when a probe\n"
          "                      boot works under it, else TCG)\n"
          "  --smp N             vCPUs (default 1)\n"
          "  --memory MIB        guest memory in MiB (default 128)\n"
          "  --timeout SECONDS   stop the guest after this long (default 300)\n"
          "  --log FILE          also write the console to FILE\n"
          "  --quiet             do not stream the console, print only the summary\n"
          "  --no-debug-exit     leave out QEMU's isa-debug-exit device\n"
          "  --qemu PROGRAM      QEMU binary (default qemu-system-x86_64)\n"
          "\n"
          "`tern probe` prints the accelerator `auto` would choose, and why.\n"
          "\n"
          "examples:\n"
          "  tern run --kernel out/x86_64-kvm-O2/kernel.elf\n"
          "  tern run --kernel kernel.elf --accel tcg --append 'loglevel=7 exit=3'\n", f);
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
        { "no-debug-exit", no_argument, NULL, 'D' },
        { "qemu", required_argument, NULL, 'Q' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    struct run_opts o = {
        .accel = "auto", .qemu = "qemu-system-x86_64", .smp = 1,
        .memory_mb = 128, .timeout_s = 300, .append = "",
    };
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case 'k': o.kernel = optarg; break;
        case 'i': o.initrd = optarg; break;
        case 'a': o.append = optarg; break;
        case 'A':
            if (strcmp(optarg, "auto") && strcmp(optarg, "kvm") && strcmp(optarg, "tcg"))
                die("--accel %s: choose auto, kvm or tcg", optarg);
            o.accel = optarg;
            break;
        case 's':
            if (!parse_long(optarg, 1, 255, &o.smp))
                die("--smp %s: expected a number of vCPUs in 1..255", optarg);
            break;
        case 'm':
            if (!parse_long(optarg, 2, 1 << 20, &o.memory_mb))
                die("--memory %s: expected MiB in 2..1048576", optarg);
            break;
        case 't':
            if (!parse_long(optarg, 1, 86400, &o.timeout_s))
                die("--timeout %s: expected seconds in 1..86400", optarg);
            break;
        case 'l': o.log_path = optarg; break;
        case 'q': o.quiet = true; break;
        case 'D': o.no_debug_exit = true; break;
        case 'Q': o.qemu = optarg; break;
        case 'h': run_usage(stdout); return 0;
        default:
            if (optopt)
                die("%s: option -%c is unknown or needs a value (see tern run --help)",
                    probe_only ? "probe" : "run", optopt);
            die("%s: option '%s' is unknown or needs a value (see tern run --help)",
                probe_only ? "probe" : "run", argv[optind - 1]);
        }
    }
    if (optind < argc)
        die("%s: unexpected argument '%s' (manifests come with `tern build`; "
            "use --kernel FILE)", probe_only ? "probe" : "run", argv[optind]);
    if (!o.kernel)
        die("%s: --kernel FILE is required (see tern run --help)",
            probe_only ? "probe" : "run");
    if (access(o.kernel, R_OK) != 0)
        die("kernel '%s': %s", o.kernel, strerror(errno));
    if (o.initrd && access(o.initrd, R_OK) != 0)
        die("initrd '%s': %s", o.initrd, strerror(errno));

    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    char why[600];
    const char *accel = choose_accel(&o, why, sizeof(why));
    if (probe_only) {
        printf("%s\n", accel);
        msg("%s: %s", accel, why);
        return 0;
    }
    msg("booting %s with %s (%s)", o.kernel, accel, why);

    FILE *log = NULL;
    if (o.log_path && !(log = fopen(o.log_path, "w")))
        die("--log %s: %s", o.log_path, strerror(errno));
    struct boot_result r;
    boot(&o, accel, !o.quiet, (uint64_t)o.timeout_s * 1000, log, &r);
    if (log)
        fclose(log);

    if (r.ready_ns)
        msg("boot time: %.1f ms from QEMU start to kernel ready (accel %s; kernel: %s)",
            r.ready_ns / 1e6, accel, r.ready_line);
    if (r.interrupted) {
        msg("interrupted; the guest was stopped");
        return EXIT_INTERRUPTED;
    }
    if (r.timed_out) {
        msg("timeout: the guest ran longer than %ld s and was stopped", o.timeout_s);
        return EXIT_TIMEOUT;
    }
    if (r.status < 0) {
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
