/*
 * stamp: runs one command (QEMU, in bench/) and copies its output, each
 * line prefixed with the milliseconds since the command was started:
 *
 *   stamp [--pid-file FILE] [--timeout S] [--mark REGEX-FREE-TEXT] -- CMD ARGS...
 *
 *      12.345 | a line of output
 *   ...
 *   stamp: exit status=N ms=T        (the last line; status 124: timed out)
 *
 * Why a program and not a shell loop: boot times are tens of milliseconds,
 * and a shell that forks `date` per line measures itself. The start time is
 * taken just before fork() and the child execs at once, so "ms since
 * start" is QEMU exec to the line (plus a fork, microseconds).
 *
 * --pid-file writes the command's PID (it is the QEMU process: exec, no
 * shell between) for bench/sink, which reads its CPU time from /proc.
 * --timeout kills the command (SIGTERM, then SIGKILL) after S seconds.
 * --mark TEXT: when a line containing TEXT appears, print
 * "stamp: mark ms=T" right after it (the harness's "app main" moment).
 * The exit status is the command's (its low 8 bits of a normal exit,
 * 128+signal for a signal, 124 for a timeout).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void usage(void)
{
    fprintf(stderr, "usage: stamp [--pid-file FILE] [--timeout S] [--mark TEXT] -- CMD ARGS...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *pid_file = NULL, *mark = NULL;
    double timeout_s = 0;
    int i;
    for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (i + 1 >= argc)
            usage();
        if (!strcmp(argv[i], "--pid-file"))
            pid_file = argv[++i];
        else if (!strcmp(argv[i], "--timeout"))
            timeout_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--mark"))
            mark = argv[++i];
        else
            usage();
    }
    if (i + 1 >= argc)
        usage();
    char **cmd = argv + i + 1;

    int p[2];
    if (pipe(p)) {
        perror("stamp: pipe");
        return 1;
    }
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        perror("stamp: fork");
        return 1;
    }
    if (pid == 0) {
        /* QEMU must not outlive a killed harness. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        execvp(cmd[0], cmd);
        fprintf(stderr, "stamp: cannot run %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    if (pid_file) {
        FILE *f = fopen(pid_file, "w");
        if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f)) {
            perror(pid_file);
            kill(pid, SIGKILL);
            return 1;
        }
    }

    char buf[8192];
    size_t len = 0;
    int timed_out = 0, marked = 0;
    double deadline = timeout_s > 0 ? t0 + timeout_s * 1e3 : 0;
    for (;;) {
        int wait_ms = -1;
        if (deadline) {
            double left = deadline - now_ms();
            if (left <= 0) {
                timed_out = 1;
                break;
            }
            wait_ms = (int)left + 1;
        }
        struct pollfd pf = { .fd = p[0], .events = POLLIN };
        int r = poll(&pf, 1, wait_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            continue;
        ssize_t n = read(p[0], buf + len, sizeof(buf) - 1 - len);
        double t = now_ms() - t0;
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = 0;
        char *start = buf, *nl;
        while ((nl = strchr(start, '\n'))) {
            *nl = 0;
            if (nl > start && nl[-1] == '\r')
                nl[-1] = 0;
            printf("%10.3f | %s\n", t, start);
            if (mark && !marked && strstr(start, mark)) {
                printf("stamp: mark ms=%.3f\n", t);
                marked = 1;
            }
            start = nl + 1;
        }
        len -= (size_t)(start - buf);
        memmove(buf, start, len);
        if (len == sizeof(buf) - 1) {       /* an endless line: flush it */
            buf[len] = 0;
            printf("%10.3f | %s\n", t, buf);
            len = 0;
        }
        fflush(stdout);
    }
    if (len) {
        buf[len] = 0;
        printf("%10.3f | %s\n", now_ms() - t0, buf);
    }
    int st = 0;
    if (timed_out) {
        kill(pid, SIGTERM);
        for (int k = 0; k < 50 && waitpid(pid, &st, WNOHANG) == 0; k++)
            usleep(20000);
        kill(pid, SIGKILL);
    }
    waitpid(pid, &st, 0);
    double total = now_ms() - t0;
    int status = timed_out ? 124 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    printf("stamp: exit status=%d ms=%.3f\n", status, total);
    fflush(stdout);
    return status;
}
