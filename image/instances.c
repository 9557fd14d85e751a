/*
 * Detached runs and their management: tern run -d, ps, stop, logs,
 * console, rm (instances.h describes an instance's directory).
 *
 * No tern process stays behind a detached run: QEMU writes the kernel log
 * and the app's output to files itself (chardev logfile and file
 * backends), and an instance's state is its directory plus QEMU's process,
 * recognised by its command line naming that directory (so a reused pid
 * is not mistaken for it).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "instances.h"
#include "util.h"

#define VIRSH_URI "qemu:///system"
/* An ended instance is forgotten (by tern ps) a day after it ended. */
#define STALE_SECONDS (24 * 3600)

/* snprintf that refuses to cut: paths and names here must be whole. */
__attribute__((format(printf, 3, 4)))
static void xsnprintf(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len)
        die("a path or name is too long: %s...", out);
}

/* ------------------------------------------------------------ state ---- */

static void state_dir(char *out, size_t len)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    const char *home = getenv("HOME");
    char cwd[2048];
    const char *t = getenv("TERN_STATE_DIR");  /* tests */
    /* Absolute: QEMU runs in the image's directory. */
    if (t && *t == '/')
        xsnprintf(out, len, "%s", t);
    else if (t && *t)
        xsnprintf(out, len, "%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : ".", t);
    else if (xdg && *xdg)
        xsnprintf(out, len, "%s/tern", xdg);
    else
        xsnprintf(out, len, "%s/.cache/tern/run", home && *home ? home : "/tmp");
}

static void mkdirs(const char *path)
{
    char tmp[4096];
    xsnprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0700);
            *p = '/';
        }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        die("%s: %s", tmp, strerror(errno));
}

static void inst_path(const char *name, const char *file, char *out, size_t len)
{
    char st[4096];
    state_dir(st, sizeof(st));
    if (file)
        xsnprintf(out, len, "%s/%s/%s", st, name, file);
    else
        xsnprintf(out, len, "%s/%s", st, name);
}

static bool read_small(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return true;
}

static void write_small(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        die("%s: %s", path, strerror(errno));
}

/* The instance's QEMU pid when it runs, else 0. */
static pid_t inst_pid(const char *name)
{
    char path[4200], buf[32], dir[4200];
    inst_path(name, "pid", path, sizeof(path));
    inst_path(name, NULL, dir, sizeof(dir));
    long pid;
    if (!read_small(path, buf, sizeof(buf)) || !parse_long(buf, 1, 1 << 30, &pid))
        return 0;
    /* Its command line names the instance's directory (console.sock). */
    char cl[256], cmd[65536];
    xsnprintf(cl, sizeof(cl), "/proc/%ld/cmdline", pid);
    int fd = open(cl, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, cmd, sizeof(cmd) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    for (ssize_t i = 0; i < n; i++)
        if (!cmd[i])
            cmd[i] = ' ';
    cmd[n] = 0;
    /* A zombie (our own child, not yet reaped) has an empty command line. */
    return strstr(cmd, dir) ? (pid_t)pid : 0;
}

/* The guest's exit status from its console log, -1 when it has none. */
static int inst_status(const char *name)
{
    char path[4200];
    inst_path(name, "console.log", path, sizeof(path));
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    int st = -1;
    while (getline(&line, &cap, f) > 0) {
        const char *p = strstr(line, "tern-exit: status=");
        if (p)
            st = atoi(p + 18);
    }
    free(line);
    fclose(f);
    return st;
}

static bool inst_exists(const char *name)
{
    char path[4200];
    struct stat st;
    inst_path(name, "image", path, sizeof(path));
    return stat(path, &st) == 0;
}

static void inst_remove(const char *name)
{
    static const char *const files[] = { "pid", "image", "started", "console.log",
                                         "output.log", "console.sock", "ctl.sock",
                                         "qemu.log", NULL };
    char path[4200];
    for (int i = 0; files[i]; i++) {
        inst_path(name, files[i], path, sizeof(path));
        unlink(path);
    }
    inst_path(name, NULL, path, sizeof(path));
    if (rmdir(path) != 0 && errno != ENOENT)
        msg("warning: %s: %s", path, strerror(errno));
}

static bool valid_name(const char *s)
{
    if (!*s || strlen(s) > 64 || *s == '.' || *s == '-')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* A name for an instance of image_dir: its last component, then -2, -3 ...
 * while one of that name runs. */
static void pick_name(const char *image_dir, char *out, size_t len)
{
    char base[256];
    const char *b = image_dir + strlen(image_dir);
    while (b > image_dir && b[-1] == '/')
        b--;
    const char *e = b;
    while (b > image_dir && b[-1] != '/')
        b--;
    xsnprintf(base, sizeof(base), "%.*s", (int)(e - b), b);
    if (!valid_name(base))
        xsnprintf(base, sizeof(base), "tern");
    for (int i = 1;; i++) {
        if (i == 1)
            xsnprintf(out, len, "%s", base);
        else
            xsnprintf(out, len, "%s-%d", base, i);
        if (!inst_pid(out))
            return;
    }
}

/* --------------------------------------------------------- tern run -d ---- */

static bool stop_one(const char *name, pid_t pid, long grace);

static bool qemu_ended(pid_t pid, int *status)
{
    return waitpid(pid, status, WNOHANG) == pid;
}

int instance_start(const char *name, const char *image_dir, struct argv_buf *a, long timeout_s)
{
    char nm[128], dir[4200], path[4200], abs_image[4096];
    if (name && !valid_name(name))
        die("--name %s: use letters, digits, '-', '_' and '.' (at most 64, not starting "
            "with '.' or '-')", name);
    if (name && inst_pid(name))
        die("--name %s: an instance of that name is running (tern stop %s)", name, name);
    if (!realpath(image_dir, abs_image))
        die("%s: %s", image_dir, strerror(errno));
    if (!name) {
        pick_name(image_dir, nm, sizeof(nm));
        name = nm;
    }
    if (inst_exists(name))
        inst_remove(name);              /* an exited one of the same name */
    inst_path(name, NULL, dir, sizeof(dir));
    mkdirs(dir);
    inst_path(name, "image", path, sizeof(path));
    write_small(path, abs_image);
    char started[32];
    xsnprintf(started, sizeof(started), "%lld\n", (long long)time(NULL));
    inst_path(name, "started", path, sizeof(path));
    write_small(path, started);
    char out_log[4200];
    inst_path(name, "output.log", out_log, sizeof(out_log));
    write_small(out_log, "");

    /* The console to a socket with a log file, the app's stdout and stderr
     * to output.log, and tern.ctl for tern stop. */
    struct argv_buf q = { 0 };
    for (size_t i = 0; i < a->n; i++) {
        if (!strcmp(a->v[i], "-serial") && i + 1 < a->n && !strcmp(a->v[i + 1], "stdio")) {
            argv_add(&q, "-serial");
            argv_add(&q, "chardev:tern_con");
            i++;
        } else {
            argv_add(&q, a->v[i]);
        }
    }
    argv_add(&q, "-chardev");
    argv_addf(&q, "socket,id=tern_con,path=%s/console.sock,server=on,wait=off,"
              "logfile=%s/console.log", dir, dir);
    for (int i = 0; i < 2; i++) {
        argv_add(&q, "-chardev");
        argv_addf(&q, "file,id=tern_%s,path=%s,append=on", i ? "err" : "out", out_log);
    }
    argv_add(&q, "-chardev");
    argv_addf(&q, "socket,id=tern_ctl,path=%s/ctl.sock,server=on,wait=off", dir);
    argv_add(&q, "-device");
    argv_add(&q, "virtio-serial-pci,id=tern_serial,max_ports=8");
    argv_add(&q, "-device");
    argv_add(&q, "virtserialport,bus=tern_serial.0,nr=2,chardev=tern_out,name=tern.stdout");
    argv_add(&q, "-device");
    argv_add(&q, "virtserialport,bus=tern_serial.0,nr=3,chardev=tern_err,name=tern.stderr");
    argv_add(&q, "-device");
    argv_add(&q, "virtserialport,bus=tern_serial.0,nr=4,chardev=tern_ctl,name=tern.ctl");

    char qlog[4200];
    inst_path(name, "qemu.log", qlog, sizeof(qlog));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        setsid();                       /* no terminal, no Ctrl-C from ours */
        if (chdir(image_dir) != 0) {
            fprintf(stderr, "cannot enter %s: %s\n", image_dir, strerror(errno));
            _exit(127);
        }
        int in = open("/dev/null", O_RDONLY);
        int lg = open(qlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || lg < 0)
            _exit(127);
        dup2(in, 0);
        dup2(lg, 1);
        dup2(lg, 2);
        execvp(q.v[0], q.v);
        fprintf(stderr, "cannot run %s: %s\n", q.v[0], strerror(errno));
        _exit(127);
    }
    char pidtext[32];
    xsnprintf(pidtext, sizeof(pidtext), "%ld\n", (long)pid);
    inst_path(name, "pid", path, sizeof(path));
    write_small(path, pidtext);
    argv_free(&q);

    /* QEMU refusing its command line ends at once: say so here. */
    int st;
    char sock[4200];
    inst_path(name, "console.sock", sock, sizeof(sock));
    /* Until the console socket is there, and half a second more: QEMU sets
     * up the network (a host port taken) after the chardevs. */
    bool seen = false;
    for (int i = 0, after = 0; i < 250 && after < 25; i++, after += seen) {
        if (qemu_ended(pid, &st)) {
            char text[2048] = "";
            read_small(qlog, text, sizeof(text));
            msg("error: QEMU ended at once%s%s", text[0] ? ": " : "", text);
            inst_remove(name);
            return 125;
        }
        seen = seen || access(sock, F_OK) == 0;
        usleep(20000);
    }
    /* A watchdog for --timeout, detached like QEMU. */
    if (timeout_s > 0 && fork() == 0) {
        setsid();
        if (fork() != 0)
            _exit(0);
        /* Hold none of tern's descriptors: $(tern run -d ...) must end. */
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        uint64_t end = now_ns() + (uint64_t)timeout_s * 1000000000u;
        while (now_ns() < end && kill(pid, 0) == 0)
            sleep(1);
        if (kill(pid, 0) == 0 && inst_pid(name) == pid)
            stop_one(name, pid, 10);    /* as tern stop would */
        _exit(0);
    }
    printf("%s\n", name);
    msg("started instance %s (QEMU pid %ld): tern logs %s; tern stop %s", name, (long)pid,
        name, name);
    return 0;
}

/* ---------------------------------------------------------------- ps ---- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The instances' names, sorted; the caller frees. */
static char **list_names(size_t *n)
{
    char st[4096];
    state_dir(st, sizeof(st));
    *n = 0;
    DIR *d = opendir(st);
    if (!d)
        return NULL;
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            v = realloc(v, cap * sizeof(*v));
            if (!v)
                die("out of memory");
        }
        v[(*n)++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof(*v), name_cmp);
    return v;
}

static void format_age(long long secs, char *out, size_t len)
{
    if (secs < 120)
        xsnprintf(out, len, "%llds", secs);
    else if (secs < 7200)
        xsnprintf(out, len, "%lldm", secs / 60);
    else if (secs < 172800)
        xsnprintf(out, len, "%lldh", secs / 3600);
    else
        xsnprintf(out, len, "%lldd", secs / 86400);
}

int cmd_ps(int argc, char **argv)
{
    bool all = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all"))
            all = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            puts("usage: tern ps [-a]\n\n"
                 "List the instances started with tern run -d: running ones, and with -a\n"
                 "those that have ended too (with their exit status; tern rm removes them).\n"
                 "Stale entries are removed: runs whose QEMU never started, and instances\n"
                 "that ended more than a day ago.");
            return 0;
        } else {
            die("ps: unexpected argument '%s' (see tern ps --help)", argv[i]);
        }
    }
    size_t n;
    char **names = list_names(&n);
    printf("%-20s %-12s %-8s %-6s %s\n", "NAME", "STATUS", "PID", "AGE", "IMAGE");
    for (size_t i = 0; i < n; i++) {
        char path[4200], image[4096] = "?", started[32] = "";
        pid_t pid = inst_pid(names[i]);
        inst_path(names[i], "pid", path, sizeof(path));
        if (!pid && access(path, F_OK) != 0) {
            /* A run -d that died before QEMU started: stale. */
            inst_remove(names[i]);
            free(names[i]);
            continue;
        }
        /* Ended long ago: its logs are stale (the last write to the
         * console log is when it ended). */
        struct stat lst;
        inst_path(names[i], "console.log", path, sizeof(path));
        if (!pid && stat(path, &lst) == 0 && time(NULL) - lst.st_mtime > STALE_SECONDS) {
            inst_remove(names[i]);
            free(names[i]);
            continue;
        }
        char status[32];
        if (pid) {
            xsnprintf(status, sizeof(status), "running");
        } else {
            int st = inst_status(names[i]);
            if (!all) {
                free(names[i]);
                continue;
            }
            if (st >= 0)
                xsnprintf(status, sizeof(status), "exited %d", st);
            else
                xsnprintf(status, sizeof(status), "ended");
        }
        inst_path(names[i], "image", path, sizeof(path));
        read_small(path, image, sizeof(image));
        inst_path(names[i], "started", path, sizeof(path));
        read_small(path, started, sizeof(started));
        char age[16] = "?";
        if (started[0])
            format_age((long long)time(NULL) - atoll(started), age, sizeof(age));
        char pidtext[16] = "-";
        if (pid)
            xsnprintf(pidtext, sizeof(pidtext), "%ld", (long)pid);
        printf("%-20s %-12s %-8s %-6s %s\n", names[i], status, pidtext, age, image);
        free(names[i]);
    }
    free(names);
    return 0;
}

/* -------------------------------------------------------------- stop ---- */

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static bool wait_gone(pid_t pid, const char *name, uint64_t ms)
{
    uint64_t end = now_ns() + ms * 1000000u;
    while (now_ns() < end) {
        if (inst_pid(name) != pid)
            return true;
        usleep(50000);
    }
    return inst_pid(name) != pid;
}

static void need_instance(const char *cmd, const char *name)
{
    if (!valid_name(name) || !inst_exists(name))
        die("%s: no instance named '%s' (tern ps -a lists them)", cmd, name);
}

int cmd_stop(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "time", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    long grace = 10;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (!parse_long(optarg, 0, 3600, &grace))
                die("--time %s: expected seconds in 0..3600", optarg);
            break;
        case 'h':
            puts("usage: tern stop [-t SECONDS] NAME...\n\n"
                 "Stop running instances cleanly: the kernel is asked (through the port\n"
                 "tern.ctl) to end the app as SIGTERM would (exit status 143). After\n"
                 "-t SECONDS (default 10) QEMU is stopped by force.");
            return 0;
        default:
            die("stop: option '%s' is unknown or needs a value (see tern stop --help)",
                argv[optind - 1]);
        }
    }
    if (optind >= argc)
        die("stop: name the instance (tern ps lists them)");
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        const char *name = argv[i];
        need_instance("stop", name);
        pid_t pid = inst_pid(name);
        if (!pid) {
            msg("%s has already ended", name);
            continue;
        }
        if (!stop_one(name, pid, grace))
            rc = 1;
    }
    return rc;
}

/* Ask the guest, wait grace seconds, then force QEMU. True when it ended. */
static bool stop_one(const char *name, pid_t pid, long grace)
{
    char sock[4200];
    inst_path(name, "ctl.sock", sock, sizeof(sock));
    int fd = connect_unix(sock);
    bool asked = fd >= 0 && write(fd, "stop\n", 5) == 5;
    if (fd >= 0)
        close(fd);
    if (!asked || !wait_gone(pid, name, (uint64_t)grace * 1000)) {
        msg("%s: %s; stopping QEMU", name, asked ? "still running after the grace period"
                                               : "cannot ask the guest to stop");
        kill(pid, SIGTERM);
        if (!wait_gone(pid, name, 3000))
            kill(pid, SIGKILL);
        wait_gone(pid, name, 3000);
    }
    int st = inst_status(name);
    if (inst_pid(name)) {
        msg("error: %s (QEMU pid %ld) would not stop", name, (long)pid);
        return false;
    } else if (st >= 0) {
        msg("stopped %s (exit status %d)", name, st);
    } else {
        msg("stopped %s (forced; no exit status)", name);
    }
    return true;
}

int cmd_rm(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        puts("usage: tern rm NAME...\n\nRemove ended instances and their logs.");
        return argc < 2 ? 2 : 0;
    }
    for (int i = 1; i < argc; i++) {
        need_instance("rm", argv[i]);
        if (inst_pid(argv[i]))
            die("rm: %s is running (tern stop %s first)", argv[i], argv[i]);
        inst_remove(argv[i]);
    }
    return 0;
}

/* -------------------------------------------------------------- logs ---- */

int cmd_logs(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "follow", no_argument, NULL, 'f' },
        { "kernel", no_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    bool follow = false, kernel = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "fkh", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': follow = true; break;
        case 'k': kernel = true; break;
        case 'h':
            puts("usage: tern logs [-f] [--kernel] NAME\n\n"
                 "Print the app's output (stdout and stderr) of an instance started with\n"
                 "tern run -d; --kernel prints its kernel log instead. -f keeps printing\n"
                 "what comes until the instance ends (or Ctrl-C).");
            return 0;
        default:
            die("logs: option '%s' is unknown (see tern logs --help)", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        die("logs: name one instance (tern ps lists them)");
    const char *name = argv[optind];
    need_instance("logs", name);
    char path[4200];
    inst_path(name, kernel ? "console.log" : "output.log", path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die("logs: %s: %s", path, strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    char buf[65536];
    for (;;) {
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            if (write(1, buf, (size_t)n) != n) {
                close(fd);
                return errno == EPIPE ? 0 : 1;
            }
        if (!follow)
            break;
        if (!inst_pid(name)) {
            /* Ended: what it wrote last is in the file now. */
            while ((n = read(fd, buf, sizeof(buf))) > 0)
                if (write(1, buf, (size_t)n) != n)
                    break;
            break;
        }
        usleep(200000);
    }
    close(fd);
    return 0;
}

/* ----------------------------------------------------------- console ---- */

static bool virsh_domain(const char *name)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execlp("virsh", "virsh", "-c", VIRSH_URI, "domid", name, (char *)NULL);
        _exit(127);
    }
    int st;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The pty of a libvirt domain's console. */
static bool virsh_ttyconsole(const char *name, char *out, size_t len)
{
    int p[2];
    if (pipe(p) != 0)
        return false;
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(p[1], 1);
        dup2(null, 2);
        execlp("virsh", "virsh", "-c", VIRSH_URI, "ttyconsole", name, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    ssize_t n = pid > 0 ? read(p[0], out, len - 1) : -1;
    close(p[0]);
    int st;
    if (pid > 0)
        waitpid(pid, &st, 0);
    if (n <= 0 || pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return false;
    out[n] = 0;
    out[strcspn(out, "\n")] = 0;
    return !strncmp(out, "/dev/", 5);
}

int cmd_console(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        puts("usage: tern console NAME\n\n"
             "Attach to the serial console of an instance started with tern run -d (the\n"
             "kernel's log as it happens; Ctrl-] detaches), or of a libvirt domain NAME\n"
             "on " VIRSH_URI " (started with tern run --via virsh or plain virsh create),\n"
             "through its pty (virsh ttyconsole). It ends when the guest does.");
        return argc != 2 ? 2 : 0;
    }
    const char *name = argv[1];
    int fd;
    if (!valid_name(name) || !inst_exists(name)) {
        if (!virsh_domain(name))
            die("console: no instance named '%s' (tern ps) and no libvirt domain of that "
                "name on %s (virsh list)", name, VIRSH_URI);
        /* The domain's serial port is a pty (tern build's domain.xml, and
         * virsh's default): attach to it directly, which works without a
         * terminal of our own, unlike virsh console. */
        char pty[256];
        if (!virsh_ttyconsole(name, pty, sizeof(pty)))
            die("console: libvirt domain %s has no pty console (virsh ttyconsole %s)", name,
                name);
        if ((fd = open(pty, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
            die("console: %s (domain %s): %s", pty, name, strerror(errno));
        struct termios t;
        if (tcgetattr(fd, &t) == 0) {   /* bytes as they are, no echo back */
            cfmakeraw(&t);
            tcsetattr(fd, TCSANOW, &t);
        }
    } else {
        if (!inst_pid(name))
            die("console: %s has ended (tern logs --kernel %s shows its console)", name, name);
        char sock[4200];
        inst_path(name, "console.sock", sock, sizeof(sock));
        if ((fd = connect_unix(sock)) < 0)
            die("console: %s: %s", sock, strerror(errno));
    }
    struct termios saved, raw;
    bool tty = isatty(0) && tcgetattr(0, &saved) == 0;
    if (tty) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(0, TCSANOW, &raw);
        fprintf(stderr, "tern: connected to %s's console; Ctrl-] detaches\r\n", name);
    }
    signal(SIGPIPE, SIG_IGN);
    bool in_open = true;
    for (;;) {
        struct pollfd p[2] = { { fd, POLLIN, 0 }, { in_open ? 0 : -1, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        char buf[4096];
        if (p[0].revents) {
            ssize_t n = read(fd, buf, sizeof(buf));
            if (n <= 0 || write(1, buf, (size_t)n) != n)
                break;
        }
        if (p[1].revents) {
            ssize_t n = read(0, buf, sizeof(buf));
            if (n <= 0) {
                in_open = false;        /* keep showing the console */
                continue;
            }
            if (tty && memchr(buf, 0x1d, (size_t)n))
                break;
            if (write(fd, buf, (size_t)n) != n)
                break;
        }
    }
    if (tty) {
        tcsetattr(0, TCSANOW, &saved);
        fprintf(stderr, "\ntern: detached from %s\n", name);
    }
    close(fd);
    return 0;
}
