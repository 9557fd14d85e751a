/*
 * The app as a Linux process: loading it (elf_load.c), its initial stack
 * (argv, envp, auxv as the x86_64/aarch64 psABI and Linux lay them out),
 * its threads, and how it ends (exit, exit_group, a fatal signal or
 * fault), which ends the VM with the app's status.
 */
#include <arch/mm.h>
#include <arch/syscall.h>
#include <kern/app.h>
#include <kern/console.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/net.h>
#include <kern/options.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/random.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/thread.h>
#include <kern/uaccess.h>
#include <kern/vfs.h>
#include <kern/vm.h>
#include "futex.h"
#include "linux.h"

struct process proc = {
    .lock = MUTEX_INIT(proc.lock),
    .cwd = "/",
    .next_tid = APP_PID,
};

#define STACK_SIZE   (8UL << 20)        /* RLIMIT_STACK's usual 8 MiB */
#define MAX_ENV      256
#define SETTINGS     "/.tern/manifest"

/* auxv tags (Linux include/uapi/linux/auxvec.h). */
enum {
    AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7,
    AT_FLAGS = 8, AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14,
    AT_PLATFORM = 15, AT_HWCAP = 16, AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25,
    AT_HWCAP2 = 26, AT_EXECFN = 31,
};

bool app_address(uintptr_t addr)
{
    return addr < VM_USER_END;
}

struct app_thread *app_current(void)
{
    return thread_current()->app;
}

/* ---- threads --------------------------------------------------------------- */

static void app_thread_main(void *arg)
{
    struct thread *t = thread_current();
    (void)arg;
    /* The frame app_thread_start left at the top of the syscall stack. */
    struct syscall_frame *f = (struct syscall_frame *)((uintptr_t)t->syscall_stack +
                                                       THREAD_SYSCALL_STACK_SIZE) - 1;
    arch_app_enter(f);
}

struct app_thread *app_thread_create(const struct syscall_frame *f, uintptr_t tls,
                                     bool inherit_fpu)
{
    struct app_thread *at = kzalloc(sizeof(*at));
    if (!at)
        return NULL;
    mutex_lock(&proc.lock);
    at->tid = proc.next_tid++;
    mutex_unlock(&proc.lock);

    char name[THREAD_NAME_MAX];
    const char *base = proc.exe ? strrchr(proc.exe, '/') : NULL;
    base = base ? base + 1 : proc.exe ? proc.exe : "app";
    if (at->tid == APP_PID)
        snprintf(name, sizeof(name), "%s", base);
    else
        snprintf(name, sizeof(name), "%.15s:%d", base, at->tid);
    struct thread *t = thread_prepare(name, app_thread_main, NULL, 0);
    if (!t) {
        kfree(at);
        return NULL;
    }
    struct syscall_frame *top = (struct syscall_frame *)((uintptr_t)t->syscall_stack +
                                                         THREAD_SYSCALL_STACK_SIZE) - 1;
    *top = *f;
    arch_context_set_tls(&t->ctx, tls);
    arch_context_set_app(&t->ctx);
    if (inherit_fpu)
        arch_fpu_snapshot(&t->ctx);
    at->thread = t;
    t->app = at;
    if (app_current()) {
        at->sigmask = app_current()->sigmask;
    }
    return at;
}

void app_thread_launch(struct app_thread *at)
{
    __atomic_add_fetch(&proc.live_threads, 1, __ATOMIC_RELAXED);
    thread_detach(at->thread);
    thread_launch(at->thread);
}

void app_thread_exit(int status)
{
    struct app_thread *at = app_current();
    /* CLONE_CHILD_CLEARTID / set_tid_address: how pthread_join learns of
     * the exit. A bad address is ignored, as on Linux. */
    if (at->clear_child_tid) {
        uint32_t zero = 0;
        if (!copy_to_user(at->clear_child_tid, &zero, sizeof(zero)))
            futex_wake_addr(at->clear_child_tid, 1);
    }
    if (__atomic_sub_fetch(&proc.live_threads, 1, __ATOMIC_ACQ_REL) == 0)
        app_exit(status);
    thread_current()->app = NULL;
    kfree(at);
    thread_exit(status);
}

/* How long an exiting app's last TCP output may take to be acknowledged
 * before the machine powers off anyway (a dead peer never will). */
#define EXIT_DRAIN_NS (2ULL * 1000000000)

/* The `netstat` option's counters, once, however the app ended: an exit,
 * or a death by a signal (an out-of-memory SIGKILL above all, where they
 * say most). Two threads can end the app at once (one exits while another
 * faults): the first one prints. */
static void app_end_report(void)
{
    static int printed;
    if (!kopt.netstat || __atomic_exchange_n(&printed, 1, __ATOMIC_ACQ_REL))
        return;
    net_print_stats();
}

void app_exit(int status)
{
    /* Linux keeps a closed socket's FIN going after its process exits;
     * here the machine ends with the app, so it waits for that first. */
    net_drain_output(EXIT_DRAIN_NS);
    console_end_line();
    app_end_report();
    pr_info("app: exited with status %d\n", status & 0xff);
    kernel_exit(status & 0xff);
}

void app_crash(int sig, uintptr_t pc, const char *detail)
{
    static const char *const names[32] = {
        [SIGILL] = "SIGILL", [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
        [SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE", [SIGKILL] = "SIGKILL",
        [SIGSEGV] = "SIGSEGV", [SIGPIPE] = "SIGPIPE",
    };
    char sym[96];
    struct app_thread *at = app_current();
    console_end_line();
    app_symbolize(pc, sym, sizeof(sym));
    pr_emerg("app: killed by %s (signal %d) in thread %d at %016lx%s%s%s%s\n",
             (sig > 0 && sig < 32 && names[sig]) ? names[sig] : "a signal", sig,
             at ? at->tid : 0, (unsigned long)pc, sym[0] ? " " : "", sym,
             proc.exe ? " in " : "", proc.exe ? proc.exe : "");
    if (detail && detail[0])
        pr_emerg("app: %s\n", detail);
    /* No drain here: a killed process's sockets do not linger on Linux
     * either. The counters go out after the reason, which matters most. */
    app_end_report();
    kernel_exit(128 + sig);
}

/* ---- start-up -------------------------------------------------------------- */

/* The environment: "env NAME=value" lines of /.tern/manifest. */
static int read_env(const char **envp, int max)
{
    struct file *f;
    struct kstat st;
    if (vfs_open(SETTINGS, O_RDONLY, &f))
        return 0;
    vfs_fstat(f, &st);
    char *text = st.size < (1u << 20) ? kmalloc(st.size + 1) : NULL;
    int n = 0;
    if (text && vfs_pread(f, text, st.size, 0) == (int64_t)st.size) {
        text[st.size] = 0;
        for (char *line = text; line && *line && n < max;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = 0;
            if (!strncmp(line, "env ", 4))
                envp[n++] = line + 4;
            line = nl ? nl + 1 : NULL;
        }
    }
    vfs_close(f);
    return n;                           /* text stays: envp points into it */
}

/* The env=NAME=value options (tern run -e) after the image's variables,
 * each replacing one of the same name. */
static void add_cmdline_env(const char **envp, int *envc, int max)
{
    for (int i = 0; i < kopt.env.n; i++) {
        const char *v = kopt.env.v[i], *eq = strchr(v, '=');
        if (!eq || eq == v) {
            pr_err("command line: env=%s: expected env=NAME=value\n", v);
            kernel_exit(EXIT_USAGE);
        }
        size_t klen = (size_t)(eq - v) + 1;
        int j;
        for (j = 0; j < *envc && strncmp(envp[j], v, klen); j++)
            ;
        if (j < *envc)
            envp[j] = v;
        else if (*envc < max)
            envp[(*envc)++] = v;
    }
}

/* Push bytes onto the new stack (growing down); returns their address. */
static uintptr_t push_bytes(uintptr_t *sp, const void *p, size_t n)
{
    *sp -= n;
    memcpy((void *)*sp, p, n);
    return *sp;
}

static uintptr_t build_stack(const struct app_image *img, int argc, const char *const *argv,
                             int envc, const char *const *envp)
{
    uintptr_t top = vm_stack_top(), base;
    int err = vm_map(top - STACK_SIZE, STACK_SIZE,
                     PROT_READ | PROT_WRITE | (img->exec_stack ? PROT_EXEC : 0),
                     VM_FIXED | VM_STACK, NULL, 0, &base);
    if (err)
        return 0;
    uintptr_t sp = top;
    uint8_t rnd[16];
    random_bytes(rnd, sizeof(rnd));
    uintptr_t at_random = push_bytes(&sp, rnd, sizeof(rnd));
    uintptr_t at_platform = push_bytes(&sp, arch_name, strlen(arch_name) + 1);
    uintptr_t at_execfn = push_bytes(&sp, argv[0], strlen(argv[0]) + 1);
    uintptr_t uargv[CMDLINE_MAX_ARGS + 1], uenvp[MAX_ENV + 1];
    for (int i = argc - 1; i >= 0; i--)
        uargv[i] = push_bytes(&sp, argv[i], strlen(argv[i]) + 1);
    uargv[argc] = 0;
    for (int i = envc - 1; i >= 0; i--)
        uenvp[i] = push_bytes(&sp, envp[i], strlen(envp[i]) + 1);
    uenvp[envc] = 0;

    const uint64_t auxv[] = {
        AT_PHDR, img->phdr, AT_PHENT, img->phent, AT_PHNUM, img->phnum,
        AT_PAGESZ, PAGE_SIZE, AT_BASE, 0, AT_FLAGS, 0, AT_ENTRY, img->entry,
        AT_UID, 0, AT_EUID, 0, AT_GID, 0, AT_EGID, 0,
        AT_PLATFORM, at_platform, AT_HWCAP, arch_elf_hwcap(), AT_HWCAP2, 0,
        AT_CLKTCK, 100, AT_SECURE, 0, AT_RANDOM, at_random, AT_EXECFN, at_execfn,
        AT_NULL, 0,
    };
    size_t words = 1 + (argc + 1) + (envc + 1) + ARRAY_SIZE(auxv);
    sp = ALIGN_DOWN(sp - words * 8, 16);       /* rsp is 16-aligned at argc */
    uint64_t *w = (uint64_t *)sp;
    *w++ = argc;
    memcpy(w, uargv, (argc + 1) * 8);
    w += argc + 1;
    memcpy(w, uenvp, (envc + 1) * 8);
    w += envc + 1;
    memcpy(w, auxv, sizeof(auxv));
    return sp;
}

void app_run(void)
{
    int argc = kopt.app.argc;
    const char *const *argv = kopt.app.argv;
    static const char *envp[MAX_ENV];
    char why[160];
    struct app_image img;

    if (!argc)
        return;
    if (!vfs_root_mounted()) {
        pr_err("app %s: no root file system (boot with a ROFS image)\n", argv[0]);
        kernel_exit(127);
    }
    proc.exe = argv[0];
    int envc = read_env(envp, MAX_ENV);
    add_cmdline_env(envp, &envc, MAX_ENV);
    vm_init();
    int err = argv[0][0] == '/' ? elf_load(argv[0], &img, why, sizeof(why)) : -ENOENT;
    if (err) {
        if (argv[0][0] != '/')
            snprintf(why, sizeof(why), "the program path must be absolute");
        pr_err("app %s: %s (%s)\n", argv[0], why, err == -ENOENT ? "not found" : "cannot run");
        kernel_exit(err == -ENOENT ? 127 : 126);
    }
    uintptr_t sp = build_stack(&img, argc, argv, envc, envp);
    if (!sp) {
        pr_err("app %s: no memory for its stack\n", argv[0]);
        kernel_exit(126);
    }
    proc.brk_start = proc.brk = img.end;
    console_files_init();
    pr_info("app: %s: %s at %#lx, entry %#lx, %d args, %d env\n", argv[0],
            img.pie ? "static-PIE" : "static", (unsigned long)img.bias,
            (unsigned long)img.entry, argc, envc);

    struct syscall_frame f;
    syscall_frame_init(&f, img.entry, sp);
    struct app_thread *at = app_thread_create(&f, 0, false);
    if (!at) {
        pr_err("app %s: no memory for its first thread\n", argv[0]);
        kernel_exit(126);
    }
    app_thread_launch(at);
}
