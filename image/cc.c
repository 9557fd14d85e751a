/*
 * tern cc: compile and link C into a static Linux program that Tern runs.
 *
 * Tern runs unmodified static Linux ELF programs, static-PIE first (the
 * loader can place them anywhere in the one address space). This command
 * is a thin front end to the host's gcc that knows the recipes:
 *
 *   --libc=musl (default), static-PIE. Debian's musl-gcc wrapper cannot
 *     link -static-pie (its specs use Scrt1.o and a dynamic linker), so we
 *     call gcc with -nostdinc/-nostdlib and name musl's pieces ourselves:
 *       gcc -nostdinc -isystem MUSL/include -isystem GCC/include -fPIE
 *           -nostdlib -static-pie -L MUSL/lib
 *           rcrt1.o crti.o crtbeginS.o  ARGS...
 *           --start-group libc.a libgcc.a libgcc_eh.a --end-group
 *           crtendS.o crtn.o
 *     rcrt1.o is musl's self-relocating start file for static-PIE.
 *   --libc=musl --static: the same with crt1.o, crtbeginT.o, crtend.o and
 *     -static -no-pie (a fixed-address ET_EXEC).
 *   --libc=glibc: gcc -static-pie ARGS; with --static, gcc -static -no-pie.
 *
 * Everything that is not a tern cc option goes to gcc unchanged, in order;
 * gcc's exit status is ours. With -c, -S, -E, -M or -MM nothing is linked,
 * so only the compile-side flags are added. The musl paths are found at run
 * time (musl-gcc.specs, else known install prefixes), so nothing about the
 * host is baked into the tool.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/utsname.h>

#include "tern.h"
#include "util.h"

/* The compiler: the host's gcc, or for another --arch Debian's cross
 * compiler (gcc-aarch64-linux-gnu), whose -dumpmachine then names the
 * musl multiarch directory (musl-dev:arm64: /usr/lib/aarch64-linux-musl). */
static const char *GCC = "gcc";

static void cc_usage(FILE *f)
{
    fputs("usage: tern cc [--arch=x86_64|aarch64] [--libc=musl|glibc] [--static] [-v] GCC-ARGS...\n"
          "\n"
          "Compile and link C sources into a static Linux program for Tern, with gcc.\n"
          "The default is a static-PIE program linked with musl.\n"
          "\n"
          "options (anywhere on the line; everything else goes to gcc as it is):\n"
          "  --arch=ARCH    the app's architecture: the host's (default), or aarch64\n"
          "                 through aarch64-linux-gnu-gcc and musl-dev:arm64\n"
          "  --libc=musl    link with musl (Debian's musl-tools), the default\n"
          "  --libc=glibc   link with glibc (libc6-dev)\n"
          "  --static       a non-PIE static program (ET_EXEC) instead of static-PIE\n"
          "  -v             show the gcc command before running it\n"
          "  -h, --help     this help\n"
          "\n"
          "gcc's -static means --static and -static-pie is the default; -shared,\n"
          "-pie and -no-pie are refused. -c, -S, -E, -M and -MM compile without\n"
          "linking; -nostartfiles, -nodefaultlibs and -nostdlib leave out the start\n"
          "files, the libraries, or both, as with gcc.\n"
          "\n"
          "examples:\n"
          "  tern cc -O2 -Wall -o hello hello.c\n"
          "  tern cc --libc=glibc -pthread -o server server.c\n"
          "  tern cc -v --static -o hello hello.c      # show the gcc command\n", f);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Run argv and return its first line of output (trimmed), or NULL when it
 * could not run or failed. Used for gcc's -print-* queries. */
static char *capture_line(char *const argv[])
{
    int p[2];
    if (pipe(p) < 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    while ((n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0 ||
           (n < 0 && errno == EINTR))
        if (n > 0)
            len += (size_t)n;
    close(p[0]);
    buf[len] = 0;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
            die("cc: cannot run %s (install Debian's gcc)", argv[0]);
        return NULL;
    }
    buf[strcspn(buf, "\n")] = 0;
    return xstrdup(buf);
}

/* gcc -print-file-name=NAME: an absolute path when gcc has the file. */
static char *gcc_file(const char *name, const char *why)
{
    char opt[256];
    snprintf(opt, sizeof(opt), "-print-file-name=%s", name);
    char *argv[] = { (char *)GCC, opt, NULL };
    char *path = capture_line(argv);
    if (!path || path[0] != '/' || !is_file(path))
        die("cc: gcc has no %s%s", name, why);
    return path;
}

/* Append gcc's file NAME (crtbeginS.o, libgcc.a...) to a command line. */
static void add_gcc_file(struct argv_buf *a, const char *name)
{
    char *path = gcc_file(name, " (the gcc package is incomplete)");
    argv_add(a, path);
    free(path);
}

/* gcc -print-file-name=NAME, or NULL when gcc has no such file. */
static char *gcc_file_opt(const char *name)
{
    char opt[256];
    snprintf(opt, sizeof(opt), "-print-file-name=%s", name);
    char *argv[] = { (char *)GCC, opt, NULL };
    char *path = capture_line(argv);
    if (path && (path[0] != '/' || !is_file(path))) {
        free(path);
        path = NULL;
    }
    return path;
}

/* ------------------------------------------------------------------ musl --- */

struct musl {
    char lib[512];          /* rcrt1.o, crt1.o, crti.o, crtn.o, libc.a */
    char include[512];      /* stdio.h ... */
};

/* The first "FLAG PATH" or "FLAGPATH" (e.g. "-isystem /x", "-L/x") in a
 * specs file's text, copied to out. */
static bool spec_find(const char *text, const char *flag, char *out, size_t outlen)
{
    size_t fl = strlen(flag);
    for (const char *p = strstr(text, flag); p; p = strstr(p + 1, flag)) {
        if (p != text && p[-1] != ' ' && p[-1] != '\n' && p[-1] != '\t')
            continue;
        const char *v = p + fl;
        while (*v == ' ')
            v++;
        if (*v != '/')          /* e.g. "-L .%s" or "-isystem include%s" */
            continue;
        size_t n = strcspn(v, " \t\n");
        if (n == 0 || n >= outlen)
            continue;
        memcpy(out, v, n);
        out[n] = 0;
        return true;
    }
    return false;
}

static bool musl_complete(const struct musl *m)
{
    static const char *const need[] = { "rcrt1.o", "crt1.o", "crti.o", "crtn.o", "libc.a" };
    char path[1024];
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", m->lib, need[i]);
        if (!is_file(path))
            return false;
    }
    snprintf(path, sizeof(path), "%s/stdio.h", m->include);
    return is_file(path);
}

/* Find musl: for each known install (Debian's multiarch directories, the
 * /usr/lib/musl of other distributions, musl's own default prefix), read
 * musl-gcc.specs when it is there (it names the include and library
 * directories), else take the conventional layout; the first complete one
 * wins. `arch` is gcc's target CPU (x86_64). */
static void find_musl(const char *arch, struct musl *m)
{
    char deb_lib[256], deb_inc[256];
    snprintf(deb_lib, sizeof(deb_lib), "/usr/lib/%s-linux-musl", arch);
    snprintf(deb_inc, sizeof(deb_inc), "/usr/include/%s-linux-musl", arch);
    const char *cand[][2] = {
        { deb_lib, deb_inc },
        { "/usr/lib/musl/lib", "/usr/lib/musl/include" },
        { "/usr/local/musl/lib", "/usr/local/musl/include" },
    };
    for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
        snprintf(m->lib, sizeof(m->lib), "%s", cand[i][0]);
        snprintf(m->include, sizeof(m->include), "%s", cand[i][1]);
        char specs[600];
        snprintf(specs, sizeof(specs), "%s/musl-gcc.specs", cand[i][0]);
        FILE *f = fopen(specs, "r");
        if (f) {
            char text[8192];
            size_t n = fread(text, 1, sizeof(text) - 1, f);
            text[n] = 0;
            fclose(f);
            spec_find(text, "-isystem", m->include, sizeof(m->include));
            spec_find(text, "-L", m->lib, sizeof(m->lib));
        }
        if (musl_complete(m))
            return;
    }
    die("cc: musl is not installed (looked in %s and %s, /usr/lib/musl, /usr/local/musl): "
        "install Debian's musl-tools (apt-get install musl-tools), or use --libc=glibc",
        deb_lib, deb_inc);
}

/* --------------------------------------------------------------- command --- */

/* Print argv as a shell command line, quoting what needs it. */
/* Tern's headers for apps (<tern/zcopy.h>): $TERN_INCLUDE, else the
 * PREFIX/include of an installed tern, else the include/ of the tree this
 * tool was built in (out/host/tern -> include/). Added after the user's
 * -I options, before the libc's. */
static void add_tern_include(struct argv_buf *a)
{
    const char *env = getenv("TERN_INCLUDE");
    char dir[PATH_MAX + 32];
    if (env && *env) {
        snprintf(dir, sizeof(dir), "%s", env);
    } else {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n <= 0)
            return;
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (!slash)
            return;
        *slash = 0;
        /* Installed: PREFIX/bin/tern and PREFIX/include/tern/. */
        snprintf(dir, sizeof(dir), "%s/../include", exe);
        char probe[PATH_MAX + 64];
        snprintf(probe, sizeof(probe), "%s/tern/zcopy.h", dir);
        if (access(probe, R_OK) != 0)
            snprintf(dir, sizeof(dir), "%s/../../include", exe);
    }
    char probe[PATH_MAX + 64];
    snprintf(probe, sizeof(probe), "%s/tern/zcopy.h", dir);
    if (access(probe, R_OK) != 0)
        return;
    argv_add(a, "-idirafter");
    argv_add(a, dir);
}

static void show_command(char *const argv[])
{
    fputs("tern: cc:", stderr);
    for (size_t i = 0; argv[i]; i++) {
        const char *s = argv[i];
        bool plain = *s != 0;
        for (const char *c = s; *c; c++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_./=,+:@%-", *c))
                plain = false;
        if (plain) {
            fprintf(stderr, " %s", s);
            continue;
        }
        fputs(" '", stderr);
        for (const char *c = s; *c; c++) {
            if (*c == '\'')
                fputs("'\\''", stderr);
            else
                fputc(*c, stderr);
        }
        fputc('\'', stderr);
    }
    fputc('\n', stderr);
}

/* Run gcc; its exit status is ours (128+N when a signal killed it). */
static int run_gcc(char *const argv[])
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "tern: error: cc: cannot run %s: %s (install Debian's gcc)\n",
                argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            die("cc: waitpid: %s", strerror(errno));
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

int cmd_cc(int argc, char **argv)
{
    const char *libc = "musl";
    bool static_exe = false, static_pie_asked = false, verbose = false;
    bool link = true, startfiles = true, defaultlibs = true;
    struct argv_buf user = { 0 };

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cc_usage(stdout);
            return 0;
        } else if (!strncmp(a, "--arch=", 7) || !strcmp(a, "--arch")) {
            const char *arch = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : "");
            struct utsname u;
            if (strcmp(arch, "x86_64") && strcmp(arch, "aarch64"))
                die("cc: --arch=%s: choose x86_64 or aarch64", arch);
            if (uname(&u) == 0 && !strcmp(u.machine, arch)) {
                GCC = "gcc";
            } else {
                static char cross[64];
                snprintf(cross, sizeof(cross), "%s-linux-gnu-gcc", arch);
                GCC = cross;
            }
        } else if (!strncmp(a, "--libc=", 7)) {
            libc = a + 7;
        } else if (!strcmp(a, "--libc")) {
            if (i + 1 >= argc)
                die("cc: --libc needs a value: musl or glibc");
            libc = argv[++i];
        } else if (!strcmp(a, "--static") || !strcmp(a, "-static")) {
            static_exe = true;
        } else if (!strcmp(a, "-static-pie")) {
            static_pie_asked = true;
        } else if (!strcmp(a, "-v")) {
            verbose = true;
        } else if (!strcmp(a, "-shared")) {
            die("cc: -shared: tern cc builds static programs only");
        } else if (!strcmp(a, "-pie") || !strcmp(a, "-no-pie")) {
            die("cc: %s: tern cc builds static-PIE programs, or with --static, "
                "non-PIE static ones", a);
        } else {
            if (!strcmp(a, "-c") || !strcmp(a, "-S") || !strcmp(a, "-E") ||
                !strcmp(a, "-M") || !strcmp(a, "-MM") || !strcmp(a, "-fsyntax-only"))
                link = false;
            else if (!strcmp(a, "-nostartfiles"))
                startfiles = false;
            else if (!strcmp(a, "-nodefaultlibs"))
                defaultlibs = false;
            else if (!strcmp(a, "-nostdlib"))
                startfiles = defaultlibs = false;
            argv_add(&user, a);
        }
    }
    if (strcmp(libc, "musl") && strcmp(libc, "glibc"))
        die("cc: --libc=%s: choose musl or glibc", libc);
    if (static_exe && static_pie_asked)
        die("cc: -static-pie and --static contradict each other (static-PIE is the default)");
    if (user.n == 0)
        die("cc: no input files (see tern cc --help)");

    struct argv_buf a = { 0 };
    argv_add(&a, GCC);
    add_tern_include(&a);

    if (!strcmp(libc, "glibc")) {
        /* gcc's own specs know glibc's static start files. */
        if (link) {
            if (defaultlibs && !gcc_file_opt("libc.a"))
                die("cc: glibc's static library libc.a is missing: install Debian's libc6-dev");
            if (static_exe) {
                argv_add(&a, "-static");
                argv_add(&a, "-no-pie");
            } else {
                argv_add(&a, "-static-pie");
            }
        }
        for (size_t i = 0; i < user.n; i++)
            argv_add(&a, user.v[i]);
    } else {
        char *machine_argv[] = { (char *)GCC, "-dumpmachine", NULL };
        char *machine = capture_line(machine_argv);
        if (!machine || !*machine)
            die("cc: gcc -dumpmachine failed");
        machine[strcspn(machine, "-")] = 0;         /* x86_64-linux-gnu -> x86_64 */
        struct musl m;
        find_musl(machine, &m);
        free(machine);
        char *inc_argv[] = { (char *)GCC, "-print-file-name=include", NULL };
        char *gcc_inc = capture_line(inc_argv);
        struct stat st;
        if (!gcc_inc || gcc_inc[0] != '/' || stat(gcc_inc, &st) != 0 || !S_ISDIR(st.st_mode))
            die("cc: gcc's own include directory was not found (gcc -print-file-name=include)");

        /* Compile side: musl's headers, then gcc's own (stddef.h, stdarg.h,
         * the intrinsics), never glibc's /usr/include. */
        argv_add(&a, "-nostdinc");
        argv_add(&a, "-isystem");
        argv_add(&a, m.include);
        argv_add(&a, "-isystem");
        argv_add(&a, gcc_inc);
        if (!static_exe)
            argv_add(&a, "-fPIE");

        if (!link) {
            for (size_t i = 0; i < user.n; i++)
                argv_add(&a, user.v[i]);
        } else {
            const char *suffix = static_exe ? "" : "S";
            char name[64];
            argv_add(&a, "-nostdlib");
            if (static_exe) {
                argv_add(&a, "-static");
                argv_add(&a, "-no-pie");
            } else {
                argv_add(&a, "-static-pie");
            }
            /* musl's libm, libpthread, librt... (empty: all is in libc.a)
             * come before gcc's default directories, which hold glibc's. */
            argv_addf(&a, "-L%s", m.lib);
            if (startfiles) {
                argv_addf(&a, "%s/%s", m.lib, static_exe ? "crt1.o" : "rcrt1.o");
                argv_addf(&a, "%s/crti.o", m.lib);
                /* gcc's choice for -static is crtbeginT.o. */
                snprintf(name, sizeof(name), "crtbegin%s.o", static_exe ? "T" : "S");
                add_gcc_file(&a, name);
            }
            for (size_t i = 0; i < user.n; i++)
                argv_add(&a, user.v[i]);
            if (defaultlibs) {
                /* libgcc_eh (unwinding) needs libc back, hence the group. */
                argv_add(&a, "-Wl,--start-group");
                argv_addf(&a, "%s/libc.a", m.lib);
                add_gcc_file(&a, "libgcc.a");
                char *eh = gcc_file_opt("libgcc_eh.a");
                if (eh)
                    argv_add(&a, eh);
                free(eh);
                argv_add(&a, "-Wl,--end-group");
            }
            if (startfiles) {
                snprintf(name, sizeof(name), "crtend%s.o", suffix);
                add_gcc_file(&a, name);
                argv_addf(&a, "%s/crtn.o", m.lib);
            }
        }
        free(gcc_inc);
    }

    if (verbose)
        show_command(a.v);
    int status = run_gcc(a.v);
    argv_free(&a);
    argv_free(&user);
    return status;
}
