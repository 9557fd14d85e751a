/*
 * sink: the host receiver of the TCP throughput benchmark (bench/net.sh).
 *
 *   sink --port P [--connections N] [--verify-period BYTES] [--verify]
 *        [--cpu-pid-file FILE] [--timeout S]
 *   sink --tap-counter FILE [--cpu-pid-file FILE] [--timeout S]
 *
 * Listens on 0.0.0.0:P (P 0: a free one), prints "sink: listening on port
 * P", then for each of N connections (default 1): accepts (printing
 * "sink: accepted connection K"), recv()s into one
 * 1 MiB buffer until EOF, counting bytes, and prints one line
 *
 *   sink: result bytes=B secs=S gbps=G qemu_cpu=C vcpu_cpu=V verified=yes|no
 *
 * It is deliberately nothing more than that, so that the receiver is never
 * what limits a guest: tests/host/tcp_peer hashes every byte with SHA-256,
 * which is slower than the device ceiling this benchmark looks for.
 *
 * --verify compares every byte with the pattern stream of
 * apps/tcp_pattern.h at its offset; --verify-period B with the first B
 * bytes of that stream, repeated (what a sender that sends the same ring
 * of pre-filled buffers over and over sends, and what sendfile() of a
 * file made by `tcp_peer pattern --bytes B` sends). The harness turns it
 * on for one sampled run per case: checking costs host CPU, which could
 * slow the receiver on the other runs. A mismatch prints the offset and
 * makes the exit status 1.
 *
 * --cpu-pid-file FILE names a file holding the QEMU process's PID (written
 * by the harness after it started QEMU, so read at each accept). The sink
 * reads that process's utime+stime from /proc/PID/stat right after
 * accept() and right after EOF, so the CPU cost covers exactly the
 * transfer and not the boot: qemu_cpu is the difference in seconds.
 * vcpu_cpu is the same for the threads QEMU names "CPU n/..." (QEMU's
 * -name ...,debug-threads=on), the guest's own execution; without named
 * threads it is -1.
 *
 * --tap-counter FILE (the device ceiling, where no TCP connection exists)
 * watches a byte counter instead (the tap's
 * /sys/class/net/TAP/statistics/rx_bytes: what QEMU wrote into the tap),
 * polling it every millisecond. The transfer starts at the first poll
 * that sees it grow by more than 64 KiB (ARP and such stay below) and
 * ends at its last growth, once it stood still for 500 ms; CPU times are
 * those sampled at those two polls (QEMU may be gone by the time the
 * sink notices the end). It prints the same result line with verified=skipped.
 *
 * Errors name what failed, on stderr, with status 1 (2 for usage).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOOL_NAME "sink"
#define TOOL_USAGE \
    "usage: sink --port P [--connections N] [--verify | --verify-period BYTES]\n" \
    "            [--cpu-pid-file FILE] [--timeout S]\n"
#include "../apps/tcp_pattern.h"
#include "../apps/tool_util.h"

typedef unsigned long long ull;

#define BUF_SIZE (1u << 20)

/* utime+stime in clock ticks from a /proc/.../stat line; the command name
 * (field 2) may hold blanks and parentheses, so fields count from the
 * last ')'. Returns -1 when unreadable. Also returns the name. */
static long long stat_ticks(const char *path, char *comm, size_t commlen)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = 0;
    char *open = strchr(line, '('), *close = strrchr(line, ')');
    if (!open || !close || close < open)
        return -1;
    if (comm) {
        size_t k = (size_t)(close - open - 1);
        if (k >= commlen)
            k = commlen - 1;
        memcpy(comm, open + 1, k);
        comm[k] = 0;
    }
    /* After ')': state(3) ppid pgrp session tty_nr tpgid flags minflt
     * cminflt majflt cmajflt utime(14) stime(15). */
    unsigned long long ut, st;
    if (sscanf(close + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
               &st) != 2)
        return -1;
    return (long long)(ut + st);
}

struct cpu_sample {
    long long proc;     /* the whole process; -1: unknown */
    long long vcpu;     /* its "CPU n/..." threads; -1: none found */
};

static void sample_cpu(const char *pid_file, struct cpu_sample *s)
{
    s->proc = s->vcpu = -1;
    if (!pid_file)
        return;
    FILE *f = fopen(pid_file, "r");
    long pid = 0;
    if (!f)
        return;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    if (pid <= 0)
        return;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    s->proc = stat_ticks(path, NULL, 0);
    snprintf(path, sizeof(path), "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char tpath[320], comm[64];
        snprintf(tpath, sizeof(tpath), "/proc/%ld/task/%s/stat", pid, e->d_name);
        long long t = stat_ticks(tpath, comm, sizeof(comm));
        if (t >= 0 && !strncmp(comm, "CPU ", 4))
            s->vcpu = (s->vcpu < 0 ? 0 : s->vcpu) + t;
    }
    closedir(d);
}

static long long read_counter(const char *path)
{
    char v[32];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(v, 1, sizeof(v) - 1, f);
    fclose(f);
    v[n] = 0;
    return n ? atoll(v) : -1;
}

static void print_result(ull bytes, double secs, const struct cpu_sample *c0,
                         const struct cpu_sample *c1, const char *verified)
{
    double tick = (double)sysconf(_SC_CLK_TCK);
    double qcpu = c0->proc >= 0 && c1->proc >= 0 ? (double)(c1->proc - c0->proc) / tick : -1;
    double vcpu = c0->vcpu >= 0 && c1->vcpu >= 0 ? (double)(c1->vcpu - c0->vcpu) / tick : -1;
    say("result bytes=%llu secs=%.4f gbps=%.4f qemu_cpu=%.2f vcpu_cpu=%.2f verified=%s", bytes,
        secs, secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0.0, qcpu, vcpu, verified);
}

static int watch_counter(const char *path, const char *pid_file)
{
    long long base = read_counter(path);
    if (base < 0)
        die("%s: cannot read it", path);
    say("watching %s", path);
    long long start = -1, last = base;
    double t_start = 0, t_last = 0;
    struct cpu_sample c_start = { -1, -1 }, c_last = { -1, -1 };
    for (;;) {
        if (timed_out)
            die("timed out watching %s", path);
        usleep(1000);
        long long v = read_counter(path);
        double t = now();
        if (v < 0)
            die("%s: cannot read it (the tap is gone?)", path);
        if (start < 0) {
            if (v - base > 65536) {
                start = last = v;
                t_start = t_last = t;
                sample_cpu(pid_file, &c_start);
                c_last = c_start;
            }
            continue;
        }
        if (v != last) {
            last = v;
            t_last = t;
            sample_cpu(pid_file, &c_last);
        } else if (t - t_last > 0.5) {
            break;
        }
    }
    print_result((ull)(last - start), t_last - t_start, &c_start, &c_last, "skipped");
    return 0;
}

int main(int argc, char **argv)
{
    const char *counter = NULL;
    ull port = 0, conns = 1, period = 0, timeout = 0;
    int have_port = 0, check = 0;
    const char *pid_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--verify")) {
            check = 1;
            continue;
        }
        const char *v = option_value(argc, argv, &i);
        if (!strcmp(a, "--port") && !parse_listen_port(v, &port))
            have_port = 1;
        else if (!strcmp(a, "--connections") && !parse_size(v, &conns) && conns)
            ;
        else if (!strcmp(a, "--verify-period") && !parse_size(v, &period) && period)
            check = 1;
        else if (!strcmp(a, "--cpu-pid-file"))
            pid_file = v;
        else if (!strcmp(a, "--tap-counter"))
            counter = v;
        else if (!strcmp(a, "--timeout") && !parse_size(v, &timeout))
            ;
        else
            usage("a bad option or value");
    }
    if (!have_port && !counter)
        usage("--port or --tap-counter is required");

    arm_timeout((unsigned)timeout);
    if (counter)
        return watch_counter(counter, pid_file);
    int ls = listen_on_port((unsigned)port, 4);

    unsigned char *buf = malloc(BUF_SIZE);
    if (!buf)
        die("out of memory");
    int status = 0;
    for (ull c = 0; c < conns; c++) {
        int s = accept(ls, NULL, NULL);
        if (s < 0)
            die("%s", timed_out ? "timed out waiting for a connection" : strerror(errno));
        struct cpu_sample c0, c1;
        sample_cpu(pid_file, &c0);
        double t0 = now();
        say("accepted connection %llu", c + 1);   /* bench/xen-peer.sh's window opens */
        ull got = 0;
        int bad = 0;
        for (;;) {
            /* Checked before each call: an alarm during a recv that had
             * data returns it, and the next recv would block for good. */
            if (timed_out)
                die("recv after %llu bytes: timed out", got);
            ssize_t n = recv(s, buf, BUF_SIZE, 0);
            if (n < 0 && errno == EINTR && !timed_out)
                continue;
            if (n < 0)
                die("recv after %llu bytes: %s", got,
                    timed_out ? "timed out" : strerror(errno));
            if (n == 0)
                break;
            if (check && !bad) {
                size_t at = tcp_pattern_check_periodic(buf, got, (size_t)n, period);
                if (at < (size_t)n) {
                    ull o = got + at;
                    fprintf(stderr, "sink: pattern mismatch at stream byte %llu: got 0x%02x, "
                            "expected 0x%02x\n", o, buf[at],
                            tcp_pattern_byte(period ? o % period : o));
                    bad = 1;
                }
            }
            got += (ull)n;
        }
        double secs = now() - t0;
        sample_cpu(pid_file, &c1);
        close(s);
        print_result(got, secs, &c0, &c1, !check ? "skipped" : bad ? "no" : "yes");
        if (bad)
            status = 1;
    }
    return status;
}
