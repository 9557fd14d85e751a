/*
 * sysabi: a torture test of the system call ABI, as an ordinary static
 * Linux program (see README.md in this directory). This file is the
 * arch-neutral half; each architecture's port (sysabi_x86_64.c with
 * regs.S, sysabi_aarch64.c with regs_aarch64.S; sysabi_port.h between
 * them) holds the register image, its patterns and their comparison.
 *
 * Across a system call, every register the architecture's contract
 * preserves must survive. Several threads load per-thread, per-round
 * patterns into all of them (in assembly), make one system call of a
 * rotating kind -- one that returns at once, yields, sleeps on a futex that
 * a partner thread wakes, sleeps on a timer, Tern's own SYS_tern_argcheck
 * -- or spin until they are interrupted, and compare everything afterwards.
 *
 * Runs natively on Linux too (same register contract); SYS_tern_argcheck
 * then returns -ENOSYS and that kind is skipped (and says so).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sysabi_port.h"
#include "tern_test.h"

/* The libc's numbers for the architecture built for (SYS_*). */
#define FUTEX_WAIT_PRIVATE  (0 | 128)
#define FUTEX_WAKE_PRIVATE  (1 | 128)
#define CLOCK_MONO          1

#define MAX_THREADS   256
#define MAX_REPORTED  20

/* ------------------------------------------------------------- kinds --- */

enum kind { K_GETPID, K_YIELD, K_FUTEX, K_SLEEP, K_ARGCHECK, K_PREEMPT, NKINDS };

static const char *const kind_name[NKINDS] = {
    "getpid", "yield", "futex", "sleep", "argcheck", "preempt",
};

/* Sub-counters, per kind. */
enum { S_GETPID = 0, S_GETTID = 1 };
enum { S_WAIT = 0, S_SLEPT = 1, S_WAKE = 2 };
enum { S_NANOSLEEP = 0, S_CLOCK_NANOSLEEP = 1 };
enum { S_INTERRUPTED = 0 };
static const char *const argcheck_action[4] = { "now", "yield", "sleep", "mutex" };

/* ----------------------------------------------------------- options --- */

static int opt_threads = 4;
static double opt_seconds = 10;
static long opt_min_rounds = 20;
static uint64_t opt_seed = 0x5eedab1c0ffeeULL;
static long opt_spin_us = 5000;
static int opt_require_argcheck;

static int argcheck_ok;         /* the kernel implements SYS_tern_argcheck */
static struct sysabi_spin spin_params;
static pid_t the_pid;
static struct timespec t_end;

/* --------------------------------------------------------- reporting --- */

static atomic_ulong n_mismatch;
static atomic_int stop_all;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static char reports[MAX_REPORTED][200];
static int n_reports;

void sysabi_report(int thread, const char *kind, const char *reg, const char *want,
                   const char *got)
{
    unsigned long n = atomic_fetch_add(&n_mismatch, 1);
    if (n >= 1000)
        atomic_store(&stop_all, 1);     /* enough: the verdict is clear */
    if (n >= MAX_REPORTED)
        return;
    pthread_mutex_lock(&report_lock);
    if (n_reports < MAX_REPORTED)
        snprintf(reports[n_reports++], sizeof(reports[0]),
                 "sysabi: MISMATCH thread %d kind %s reg %s want %s got %s",
                 thread, kind, reg, want, got);
    pthread_mutex_unlock(&report_lock);
}

void sysabi_report_u64(int thread, const char *kind, const char *reg, uint64_t want,
                       uint64_t got)
{
    char w[24], g[24];
    snprintf(w, sizeof(w), "0x%llx", (unsigned long long)want);
    snprintf(g, sizeof(g), "0x%llx", (unsigned long long)got);
    sysabi_report(thread, kind, reg, w, g);
}

static int failures;            /* failed requirements other than mismatches */

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("sysabi: FAIL: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures++;
}

/* ---------------------------------------------------------- patterns --- */

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t sysabi_pat(int thread, uint64_t round, unsigned code, unsigned lane)
{
    uint64_t h = mix64(opt_seed ^ mix64(((uint64_t)thread << 40) ^ (round << 12) ^
                                        ((uint64_t)code << 4) ^ lane));
    return (h & ~0xffffULL) | ((uint64_t)(thread & 0xff) << 8) | (code & 0xff);
}

/* ----------------------------------------------------------- workers --- */

struct pair {
    _Alignas(64) atomic_uint word;      /* even: thread 2k's turn; odd: 2k+1's */
    atomic_int done[2];
};

struct worker {
    struct sysabi_regs in, out;
    struct tern_argcheck ac;
    struct timespec ts, rem;
    int idx;
    pthread_t th;
    pid_t tid;
    uint64_t tls;               /* the TLS pointer (fs:0, TPIDR_EL0) */
    struct pair *pair;          /* NULL: no partner (odd thread count) */
    int parity;
    atomic_uint lonely;         /* futex word nobody changes */
    uint64_t round;
    uint64_t rounds[NKINDS];
    uint64_t sub[NKINDS][4];
} __attribute__((aligned(64)));

static struct worker *workers;
static struct pair *pairs;
static pthread_barrier_t start_barrier;

static void fill(struct worker *w)
{
    sysabi_port_fill(&w->in, w->idx, w->round++);
}

/* The i-th system call argument register of the worker's next round. */
static uint64_t *arg(struct worker *w, unsigned i)
{
    return sysabi_port_arg(&w->in, i);
}

static void check_result(struct worker *w, const char *kind, int64_t got, int ok, int64_t want)
{
    if (!ok)
        sysabi_report_u64(w->idx, kind, "result", (uint64_t)want, (uint64_t)got);
}

/* One system call with every preserved register holding a pattern, then
 * the comparison. The caller has filled w->in and set the argument
 * registers that the call really uses. */
static int64_t call(struct worker *w, const char *kind, uint64_t nr)
{
    uint64_t r = sysabi_port_round(&w->in, &w->out, nr, NULL);
    sysabi_port_check(&w->in, &w->out, w->tls, w->idx, kind, 0);
    return (int64_t)r;
}

static void k_getpid(struct worker *w, uint64_t n)
{
    fill(w);
    if (n & 1) {
        int64_t r = call(w, "gettid", SYS_gettid);
        check_result(w, "gettid", r, r == w->tid, w->tid);
        w->sub[K_GETPID][S_GETTID]++;
    } else {
        int64_t r = call(w, "getpid", SYS_getpid);
        check_result(w, "getpid", r, r == the_pid, the_pid);
        w->sub[K_GETPID][S_GETPID]++;
    }
    w->rounds[K_GETPID]++;
}

static void k_yield(struct worker *w)
{
    fill(w);
    int64_t r = call(w, "sched_yield", SYS_sched_yield);
    check_result(w, "sched_yield", r, r == 0, 0);
    w->rounds[K_YIELD]++;
}

static int64_t futex_call(struct worker *w, const char *kind, atomic_uint *uaddr, int op,
                          uint64_t val, const struct timespec *timeout)
{
    fill(w);
    *arg(w, 0) = (uint64_t)(uintptr_t)uaddr;
    *arg(w, 1) = (uint64_t)op;
    *arg(w, 2) = val;
    if (timeout)
        *arg(w, 3) = (uint64_t)(uintptr_t)timeout;      /* else it is unused: a pattern */
    /* arguments 4 (uaddr2) and 5 (val3) are unused by WAIT and WAKE: patterns */
    w->rounds[K_FUTEX]++;
    return call(w, kind, SYS_futex);
}

/* Ping-pong: thread 2k moves when the pair's word is even, 2k+1 when it is
 * odd; each waits (really sleeping, usually) until the other has moved. */
static void k_futex(struct worker *w)
{
    if (!w->pair) {
        /* No partner: sleep on a word nobody changes, until a 50 us timeout. */
        w->ts = (struct timespec){ 0, 50000 };
        int64_t r = futex_call(w, "futex_wait", &w->lonely, FUTEX_WAIT_PRIVATE, 0, &w->ts);
        check_result(w, "futex_wait", r, r == -ETIMEDOUT || r == -EINTR || r == 0, -ETIMEDOUT);
        w->sub[K_FUTEX][S_WAIT]++;
        if (r == -ETIMEDOUT || r == 0)
            w->sub[K_FUTEX][S_SLEPT]++;
        return;
    }
    struct pair *p = w->pair;
    unsigned v;
    while (((v = atomic_load(&p->word)) & 1) != (unsigned)w->parity) {
        if (atomic_load(&p->done[!w->parity]) || atomic_load(&stop_all))
            return;
        w->ts = (struct timespec){ 0, 20000000 };       /* 20 ms: never hang */
        int64_t r = futex_call(w, "futex_wait", &p->word, FUTEX_WAIT_PRIVATE, v, &w->ts);
        check_result(w, "futex_wait", r,
                     r == 0 || r == -EAGAIN || r == -ETIMEDOUT || r == -EINTR, 0);
        w->sub[K_FUTEX][S_WAIT]++;
        if (r == 0 || r == -ETIMEDOUT)
            w->sub[K_FUTEX][S_SLEPT]++;
    }
    atomic_store(&p->word, v + 1);
    int64_t r = futex_call(w, "futex_wake", &p->word, FUTEX_WAKE_PRIVATE, 1, NULL);
    check_result(w, "futex_wake", r, r >= 0 && r <= 1, 0);
    w->sub[K_FUTEX][S_WAKE]++;
}

static void k_sleep(struct worker *w, uint64_t n)
{
    fill(w);
    w->ts = (struct timespec){ 0, 50000 };
    int64_t r;
    if (n & 1) {
        *arg(w, 0) = CLOCK_MONO;
        *arg(w, 1) = 0;                                 /* relative */
        *arg(w, 2) = (uint64_t)(uintptr_t)&w->ts;
        *arg(w, 3) = (uint64_t)(uintptr_t)&w->rem;      /* arguments 4, 5: patterns */
        r = call(w, "clock_nanosleep", SYS_clock_nanosleep);
        check_result(w, "clock_nanosleep", r, r == 0, 0);
        w->sub[K_SLEEP][S_CLOCK_NANOSLEEP]++;
    } else {
        *arg(w, 0) = (uint64_t)(uintptr_t)&w->ts;
        *arg(w, 1) = (uint64_t)(uintptr_t)&w->rem;      /* arguments 2-5: patterns */
        r = call(w, "nanosleep", SYS_nanosleep);
        check_result(w, "nanosleep", r, r == 0, 0);
        w->sub[K_SLEEP][S_NANOSLEEP]++;
    }
    w->rounds[K_SLEEP]++;
}

static void k_argcheck(struct worker *w, uint64_t n)
{
    static const char *const kname[4] = {
        "argcheck:now", "argcheck:yield", "argcheck:sleep", "argcheck:mutex",
    };
    unsigned action = (unsigned)(n % 4);
    fill(w);
    struct tern_argcheck *a = &w->ac;
    *arg(w, 0) = (uint64_t)(uintptr_t)a;                /* the pointer argument */
    for (unsigned i = 0; i < 6; i++)
        a->expect[i] = *arg(w, i);
    a->action = action;
    a->reserved = 0;
    int64_t r = call(w, kname[action], SYS_tern_argcheck);
    check_result(w, kname[action], r, r == 0, 0);
    w->sub[K_ARGCHECK][action]++;
    w->rounds[K_ARGCHECK]++;
}

static void k_preempt(struct worker *w)
{
    fill(w);
    uint64_t r = sysabi_port_round(&w->in, &w->out, 0, &spin_params);
    sysabi_port_check(&w->in, &w->out, w->tls, w->idx, "preempt", 1);
    w->rounds[K_PREEMPT]++;
    if (r == 1)
        w->sub[K_PREEMPT][S_INTERRUPTED]++;
}

static int time_is_up(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t_end.tv_sec ||
           (now.tv_sec == t_end.tv_sec && now.tv_nsec >= t_end.tv_nsec);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->tid = (pid_t)syscall(SYS_gettid);
    w->tls = sysabi_port_tls();
    pthread_barrier_wait(&start_barrier);
    /* One cycle: every kind; the quick ones several times, since the
     * preemption spin and the sleeps take most of the time. */
    for (uint64_t n = 0; !atomic_load(&stop_all) && !time_is_up(); n++) {
        for (unsigned j = 0; j < 4; j++)
            k_getpid(w, 4 * n + j);     /* getpid, gettid, ... */
        k_yield(w);
        k_futex(w);
        k_yield(w);
        k_sleep(w, n);                  /* nanosleep, clock_nanosleep, ... */
        if (argcheck_ok)
            for (unsigned j = 0; j < 4; j++)
                k_argcheck(w, 4 * n + j);       /* every action */
        k_preempt(w);
    }
    if (w->pair) {
        atomic_store(&w->pair->done[w->parity], 1);
        atomic_fetch_add(&w->pair->word, 2);    /* parity unchanged: wakes, no turn */
        syscall(SYS_futex, &w->pair->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
    return NULL;
}

/* ------------------------------------------------------------ set-up --- */

double sysabi_measure_ticks_per_us(uint64_t (*counter)(void))
{
    struct timespec t0, t1, d = { 0, 20000000 };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t c0 = counter();
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uint64_t c1 = counter();
    double us = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
    double f = us > 0 && c1 > c0 ? (double)(c1 - c0) / us : 0;
    return f;
}

/* SYS_tern_argcheck: -ENOSYS on Linux. Where it exists, check that its
 * in-kernel check really reports what it should, before trusting its 0. */
static void probe_argcheck(void)
{
    static struct tern_argcheck a;
    for (int i = 0; i < 6; i++)
        a.expect[i] = 0x1111111111111111ULL * (uint64_t)(i + 1);
    a.expect[0] = (uint64_t)(uintptr_t)&a;
    errno = 0;
    long r = syscall(SYS_tern_argcheck, &a, a.expect[1], a.expect[2], a.expect[3],
                     a.expect[4], a.expect[5]);
    if (r == -1 && errno == ENOSYS) {
        argcheck_ok = 0;
        if (opt_require_argcheck)
            fail("SYS_tern_argcheck (0x%x) returned -ENOSYS, but --require-argcheck was given",
                 SYS_tern_argcheck);
        return;
    }
    argcheck_ok = 1;
    /* Argument 3 (r10, x3) is the one made wrong: "%s" names it. */
    struct {
        const char *what;
        int null;
        uint64_t arg3;
        uint32_t action, reserved;
        long want;
    } probes[] = {
#define ARG3_BAD ((long)(TERN_ARGCHECK_ENTRY(3) | TERN_ARGCHECK_AFTER(3)))     /* 0x808 */
        { "good arguments", 0, 0x4444444444444444ULL, 0, 0, 0 },
        { "%s differs", 0, 0x4444444444444445ULL, 0, 0, ARG3_BAD },
        { "%s differs, yield", 0, 0x0ULL, 1, 0, ARG3_BAD },
        { "NULL struct", 1, 0x4444444444444444ULL, 0, 0, -EFAULT },
        { "action 4", 0, 0x4444444444444444ULL, 4, 0, -EINVAL },
        { "reserved 1", 0, 0x4444444444444444ULL, 0, 1, -EINVAL },
    };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        a.action = probes[i].action;
        a.reserved = probes[i].reserved;
        errno = 0;
        r = syscall(SYS_tern_argcheck, probes[i].null ? NULL : &a, a.expect[1], a.expect[2],
                    probes[i].arg3, a.expect[4], a.expect[5]);
        if (r == -1)
            r = -errno;
        if (r != probes[i].want) {
            char what[64];
            snprintf(what, sizeof(what), probes[i].what, sysabi_port_arg_name[3]);
            fail("SYS_tern_argcheck probe '%s' returned %ld (%#lx), expected %ld (%#lx)",
                 what, r, (unsigned long)r, probes[i].want, (unsigned long)probes[i].want);
        }
    }
    a.action = 0;
    a.reserved = 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sysabi [options]\n"
            "Checks that %s\n"
            "(see apps/sysabi/README.md).\n"
            "  -t, --threads N        worker threads (default 4, max 256)\n"
            "  -s, --seconds S        how long to run (default 10)\n"
            "  --min-rounds N         each kind must run at least N rounds (default 20)\n"
            "  --seed N               pattern seed\n"
            "  --spin-us N            longest preemption spin, microseconds (default 5000)\n"
            "  --require-argcheck     fail if SYS_tern_argcheck is missing (on Tern)\n"
            "%s",
            sysabi_port_contract, sysabi_port_options);
}

static long num_arg(const char *opt, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s ? s : "", &end, 0);
    if (!s || !*s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "sysabi: %s: '%s' is not a number in %ld..%ld\n", opt, s ? s : "", lo,
                hi);
        exit(2);
    }
    return v;
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            opt_threads = (int)num_arg(a, v, 1, MAX_THREADS);
            i++;
        } else if (!strcmp(a, "-s") || !strcmp(a, "--seconds")) {
            char *end;
            opt_seconds = v ? strtod(v, &end) : -1;
            if (!v || *end || !(opt_seconds > 0 && opt_seconds <= 86400)) {
                fprintf(stderr, "sysabi: %s: '%s' is not a time in seconds\n", a, v ? v : "");
                exit(2);
            }
            i++;
        } else if (!strcmp(a, "--min-rounds")) {
            opt_min_rounds = num_arg(a, v, 0, 1L << 40);
            i++;
        } else if (!strcmp(a, "--seed")) {
            opt_seed = (uint64_t)num_arg(a, v, 0, 0x7fffffffffffffffL);
            i++;
        } else if (!strcmp(a, "--spin-us")) {
            opt_spin_us = num_arg(a, v, 10, 10000000);
            i++;
        } else if (!strcmp(a, "--require-argcheck")) {
            opt_require_argcheck = 1;
        } else if (sysabi_port_option(a)) {
            continue;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "sysabi: unknown argument '%s'\n", a);
            usage(stderr);
            exit(2);
        }
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    parse_args(argc, argv);
    sysabi_port_setup();
    the_pid = getpid();

    double f = sysabi_port_ticks_per_us();
    spin_params.gap = (uint64_t)(20 * f);               /* 20 us without us: interrupted */
    spin_params.max = (uint64_t)((double)opt_spin_us * f);

    printf("sysabi: %d threads, %g s, seed 0x%llx; checking ", opt_threads, opt_seconds,
           (unsigned long long)opt_seed);
    sysabi_port_describe();
    probe_argcheck();

    int nt = opt_threads;
    workers = aligned_alloc(64, sizeof(*workers) * (size_t)nt);
    pairs = aligned_alloc(64, sizeof(*pairs) * (size_t)(nt / 2 + 1));
    if (!workers || !pairs) {
        fprintf(stderr, "sysabi: out of memory\n");
        return 2;
    }
    memset(workers, 0, sizeof(*workers) * (size_t)nt);
    memset(pairs, 0, sizeof(*pairs) * (size_t)(nt / 2 + 1));
    for (int i = 0; i < nt; i++) {
        workers[i].idx = i;
        workers[i].parity = i & 1;
        workers[i].pair = (i ^ 1) < nt ? &pairs[i / 2] : NULL;
    }

    if (pthread_barrier_init(&start_barrier, NULL, (unsigned)nt + 1)) {
        fprintf(stderr, "sysabi: pthread_barrier_init failed\n");
        return 2;
    }
    for (int i = 0; i < nt; i++) {
        int e = pthread_create(&workers[i].th, NULL, worker_main, &workers[i]);
        if (e) {
            fprintf(stderr, "sysabi: pthread_create (thread %d): %s\n", i, strerror(e));
            return 2;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t_end);
    long ns = (long)(opt_seconds * 1e9);
    t_end.tv_sec += ns / 1000000000L;
    t_end.tv_nsec += ns % 1000000000L;
    if (t_end.tv_nsec >= 1000000000L) {
        t_end.tv_sec++;
        t_end.tv_nsec -= 1000000000L;
    }
    pthread_barrier_wait(&start_barrier);
    for (int i = 0; i < nt; i++)
        pthread_join(workers[i].th, NULL);

    /* Totals per kind. */
    uint64_t rounds[NKINDS] = { 0 }, sub[NKINDS][4] = { { 0 } }, total = 0;
    for (int i = 0; i < nt; i++)
        for (int k = 0; k < NKINDS; k++) {
            rounds[k] += workers[i].rounds[k];
            total += workers[i].rounds[k];
            for (int j = 0; j < 4; j++)
                sub[k][j] += workers[i].sub[k][j];
        }
#define U(x) ((unsigned long long)(x))
    printf("sysabi: kind getpid    %12llu rounds (getpid %llu, gettid %llu)\n", U(rounds[K_GETPID]),
           U(sub[K_GETPID][S_GETPID]), U(sub[K_GETPID][S_GETTID]));
    printf("sysabi: kind yield     %12llu rounds (sched_yield)\n", U(rounds[K_YIELD]));
    printf("sysabi: kind futex     %12llu rounds (wait %llu, of which slept %llu; wake %llu)\n",
           U(rounds[K_FUTEX]), U(sub[K_FUTEX][S_WAIT]), U(sub[K_FUTEX][S_SLEPT]),
           U(sub[K_FUTEX][S_WAKE]));
    printf("sysabi: kind sleep     %12llu rounds (nanosleep %llu, clock_nanosleep %llu, 50 us)\n",
           U(rounds[K_SLEEP]), U(sub[K_SLEEP][S_NANOSLEEP]), U(sub[K_SLEEP][S_CLOCK_NANOSLEEP]));
    if (argcheck_ok)
        printf("sysabi: kind argcheck  %12llu rounds (%s %llu, %s %llu, %s %llu, %s %llu)\n",
               U(rounds[K_ARGCHECK]), argcheck_action[0], U(sub[K_ARGCHECK][0]),
               argcheck_action[1], U(sub[K_ARGCHECK][1]), argcheck_action[2],
               U(sub[K_ARGCHECK][2]), argcheck_action[3], U(sub[K_ARGCHECK][3]));
    else
        printf("sysabi: kind argcheck  skipped: SYS_tern_argcheck (0x%x) returned -ENOSYS "
               "(not Tern)\n", SYS_tern_argcheck);
    printf("sysabi: kind preempt   %12llu rounds (interrupted %llu, spins of up to %ld us)\n",
           U(rounds[K_PREEMPT]), U(sub[K_PREEMPT][S_INTERRUPTED]), opt_spin_us);

    /* A kind that did not run proves nothing. */
    for (int k = 0; k < NKINDS; k++) {
        if (k == K_ARGCHECK && !argcheck_ok)
            continue;
        if (rounds[k] < (uint64_t)opt_min_rounds && !atomic_load(&stop_all))
            fail("kind %s ran %llu rounds, fewer than %ld", kind_name[k], U(rounds[k]),
                 opt_min_rounds);
    }
    long min_sub = opt_min_rounds < 5 ? opt_min_rounds : 5;
    if (sub[K_FUTEX][S_SLEPT] < (uint64_t)min_sub && !atomic_load(&stop_all))
        fail("only %llu futex waits slept, fewer than %ld", U(sub[K_FUTEX][S_SLEPT]), min_sub);
    if (sub[K_PREEMPT][S_INTERRUPTED] < (uint64_t)min_sub && !atomic_load(&stop_all))
        fail("only %llu preemption spins were interrupted, fewer than %ld (use more threads "
             "than CPUs)", U(sub[K_PREEMPT][S_INTERRUPTED]), min_sub);

    unsigned long nm = atomic_load(&n_mismatch);
    for (int i = 0; i < n_reports; i++)
        printf("%s\n", reports[i]);
    if (nm > (unsigned long)n_reports)
        printf("sysabi: ... %lu mismatches in all (the first %d shown)\n", nm, n_reports);
    if (nm || failures) {
        printf("sysabi: FAILED\n");
        return 1;
    }
    printf("sysabi: ok (%llu rounds, %d threads)\n", U(total), nt);
    return 0;
}
