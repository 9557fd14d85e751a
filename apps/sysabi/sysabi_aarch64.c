/*
 * sysabi on arm64: a torture test of the arm64 Linux system call ABI, as
 * an ordinary static Linux program (see README.md in this directory; the
 * x86_64 original is sysabi.c, whose kinds, patterns and verdict this
 * follows).
 *
 * Across an `svc #0`, every register but x0 (the result) must survive:
 * x1-x30 (x8, the number, included), sp, NZCV, all of q0-q31, FPCR, FPSR
 * and TPIDR_EL0. Several threads load per-thread, per-round patterns into
 * all of them (regs_aarch64.S), make one system call of a rotating kind --
 * one that returns at once, yields, sleeps on a futex that a partner
 * thread wakes, sleeps on a timer, Tern's own SYS_tern_argcheck -- or spin
 * until they are interrupted, and compare everything afterwards.
 *
 * Runs natively on arm64 Linux too (same register contract);
 * SYS_tern_argcheck then returns -ENOSYS and that kind is skipped.
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
#include <time.h>
#include <unistd.h>

#include "sysabi_aarch64.h"
#include "tern_test.h"

#ifndef __aarch64__
#error "sysabi_aarch64.c is the arm64 port; x86_64 builds sysabi.c"
#endif

/* arm64 Linux system call numbers (asm-generic/unistd.h). */
#define NR_futex            98
#define NR_nanosleep        101
#define NR_clock_nanosleep  115
#define NR_sched_yield      124
#define NR_getpid           172
#define NR_gettid           178

#define FUTEX_WAIT_PRIVATE  (0 | 128)
#define FUTEX_WAKE_PRIVATE  (1 | 128)
#define CLOCK_MONO          1

#define MAX_THREADS   256
#define MAX_REPORTED  20

struct sysabi_regs {
    uint64_t x[31];
    uint64_t sp;                /* out: sp after the call (sp0: at it) */
    uint64_t sp0;
    uint64_t nzcv;
    uint64_t fpcr;
    uint64_t fpsr;
    uint64_t tpidr;
    uint64_t result;
    uint8_t v[32][16];
} __attribute__((aligned(16)));

_Static_assert(offsetof(struct sysabi_regs, x) == A_X, "A_X");
_Static_assert(offsetof(struct sysabi_regs, sp) == A_SP, "A_SP");
_Static_assert(offsetof(struct sysabi_regs, sp0) == A_SP0, "A_SP0");
_Static_assert(offsetof(struct sysabi_regs, nzcv) == A_NZCV, "A_NZCV");
_Static_assert(offsetof(struct sysabi_regs, fpcr) == A_FPCR, "A_FPCR");
_Static_assert(offsetof(struct sysabi_regs, fpsr) == A_FPSR, "A_FPSR");
_Static_assert(offsetof(struct sysabi_regs, tpidr) == A_TPIDR, "A_TPIDR");
_Static_assert(offsetof(struct sysabi_regs, result) == A_RESULT, "A_RESULT");
_Static_assert(offsetof(struct sysabi_regs, v) == A_VEC, "A_VEC");
_Static_assert(sizeof(struct sysabi_regs) == A_SIZE, "A_SIZE");

struct sysabi_spin {
    uint64_t gap;               /* counter ticks */
    uint64_t max;
};
_Static_assert(offsetof(struct sysabi_spin, gap) == S_GAP, "S_GAP");
_Static_assert(offsetof(struct sysabi_spin, max) == S_MAX, "S_MAX");

uint64_t sysabi_round(const struct sysabi_regs *in, struct sysabi_regs *out, uint64_t mode,
                      const struct sysabi_spin *spin);
uint64_t sysabi_counter(void);
uint64_t sysabi_counter_hz(void);
uint64_t sysabi_tpidr(void);

/* ------------------------------------------------------------- kinds --- */

enum kind { K_GETPID, K_YIELD, K_FUTEX, K_SLEEP, K_ARGCHECK, K_PREEMPT, NKINDS };

static const char *const kind_name[NKINDS] = {
    "getpid", "yield", "futex", "sleep", "argcheck", "preempt",
};

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
static uint64_t opt_broken;     /* M_BROKEN_* */

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

static void report(int thread, const char *kind, const char *reg, uint64_t want, uint64_t got)
{
    unsigned long n = atomic_fetch_add(&n_mismatch, 1);
    if (n >= 1000)
        atomic_store(&stop_all, 1);     /* enough: the verdict is clear */
    if (n >= MAX_REPORTED)
        return;
    pthread_mutex_lock(&report_lock);
    if (n_reports < MAX_REPORTED)
        snprintf(reports[n_reports++], sizeof(reports[0]),
                 "sysabi: MISMATCH thread %d kind %s reg %s want 0x%llx got 0x%llx", thread,
                 kind, reg, (unsigned long long)want, (unsigned long long)got);
    pthread_mutex_unlock(&report_lock);
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

/* A value distinct per thread, round, register and lane; its low 16 bits
 * name the thread (bits 15-8) and the register (bits 7-0). */
static uint64_t pat(int thread, uint64_t round, unsigned code, unsigned lane)
{
    uint64_t h = mix64(opt_seed ^ mix64(((uint64_t)thread << 40) ^ (round << 12) ^
                                        ((uint64_t)code << 4) ^ lane));
    return (h & ~0xffffULL) | ((uint64_t)(thread & 0xff) << 8) | (code & 0xff);
}

#define CODE_VEC     0x80       /* + i */
#define CODE_MISC    0xf0

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
    uint64_t tpidr;
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
    struct sysabi_regs *in = &w->in;
    int t = w->idx;
    uint64_t r = w->round++;

    for (unsigned i = 0; i < 31; i++)
        in->x[i] = pat(t, r, i, 0);
    uint64_t m = pat(t, r, CODE_MISC, 0) >> 16;
    in->nzcv = (m << 28) & NZCV_MASK;
    in->fpcr = (m << 18) & FPCR_MASK;
    in->fpsr = (m << 5) & FPSR_MASK;
    for (unsigned i = 0; i < 32; i++)
        for (unsigned q = 0; q < 2; q++) {
            uint64_t v = pat(t, r, CODE_VEC + i, q);
            memcpy(in->v[i] + 8 * q, &v, 8);
        }
}

/* Compares w->out with w->in; returns the number of differences. A spin
 * computes with x0 and NZCV, so those are left out there. */
static int check(struct worker *w, const char *kind, int spin)
{
    const struct sysabi_regs *in = &w->in, *out = &w->out;
    int bad = 0, t = w->idx;
    char reg[32];

    for (unsigned i = 1; i < 31; i++)
        if (out->x[i] != in->x[i]) {
            snprintf(reg, sizeof(reg), "x%u", i);
            report(t, kind, reg, in->x[i], out->x[i]);
            bad++;
        }
    if (out->sp != out->sp0) {
        report(t, kind, "sp", out->sp0, out->sp);
        bad++;
    }
    if (!spin && (out->nzcv & NZCV_MASK) != in->nzcv) {
        report(t, kind, "nzcv", in->nzcv, out->nzcv & NZCV_MASK);
        bad++;
    }
    if ((out->fpcr & FPCR_MASK) != in->fpcr) {
        report(t, kind, "fpcr", in->fpcr, out->fpcr & FPCR_MASK);
        bad++;
    }
    if ((out->fpsr & FPSR_MASK) != in->fpsr) {
        report(t, kind, "fpsr", in->fpsr, out->fpsr & FPSR_MASK);
        bad++;
    }
    if (out->tpidr != w->tpidr) {
        report(t, kind, "tpidr_el0", w->tpidr, out->tpidr);
        bad++;
    }
    for (unsigned i = 0; i < 32; i++)
        for (unsigned q = 0; q < 2; q++) {
            uint64_t a, b;
            memcpy(&a, in->v[i] + 8 * q, 8);
            memcpy(&b, out->v[i] + 8 * q, 8);
            if (a != b) {
                snprintf(reg, sizeof(reg), "v%u.d%u", i, q);
                report(t, kind, reg, a, b);
                bad++;
            }
        }
    return bad;
}

static void check_result(struct worker *w, const char *kind, int64_t got, int ok, int64_t want)
{
    if (!ok)
        report(w->idx, kind, "result", (uint64_t)want, (uint64_t)got);
}

/* One system call with every preserved register holding a pattern, then
 * the comparison. The caller has filled w->in and set the argument
 * registers that the call really uses. */
static int64_t call(struct worker *w, const char *kind, uint64_t nr)
{
    w->in.x[8] = nr;
    uint64_t r = sysabi_round(&w->in, &w->out, opt_broken, NULL);
    check(w, kind, 0);
    return (int64_t)r;
}

static void k_getpid(struct worker *w, uint64_t n)
{
    fill(w);
    if (n & 1) {
        int64_t r = call(w, "gettid", NR_gettid);
        check_result(w, "gettid", r, r == w->tid, w->tid);
        w->sub[K_GETPID][S_GETTID]++;
    } else {
        int64_t r = call(w, "getpid", NR_getpid);
        check_result(w, "getpid", r, r == the_pid, the_pid);
        w->sub[K_GETPID][S_GETPID]++;
    }
    w->rounds[K_GETPID]++;
}

static void k_yield(struct worker *w)
{
    fill(w);
    int64_t r = call(w, "sched_yield", NR_sched_yield);
    check_result(w, "sched_yield", r, r == 0, 0);
    w->rounds[K_YIELD]++;
}

static int64_t futex_call(struct worker *w, const char *kind, atomic_uint *uaddr, int op,
                          uint64_t val, const struct timespec *timeout)
{
    fill(w);
    w->in.x[0] = (uint64_t)(uintptr_t)uaddr;
    w->in.x[1] = (uint64_t)op;
    w->in.x[2] = val;
    if (timeout)
        w->in.x[3] = (uint64_t)(uintptr_t)timeout;     /* else x3 is unused: a pattern */
    /* x4 (uaddr2) and x5 (val3) are unused by WAIT and WAKE: patterns */
    w->rounds[K_FUTEX]++;
    return call(w, kind, NR_futex);
}

/* Ping-pong: thread 2k moves when the pair's word is even, 2k+1 when it is
 * odd; each waits (really sleeping, usually) until the other has moved. */
static void k_futex(struct worker *w)
{
    if (!w->pair) {
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
        w->in.x[0] = CLOCK_MONO;
        w->in.x[1] = 0;                                 /* relative */
        w->in.x[2] = (uint64_t)(uintptr_t)&w->ts;
        w->in.x[3] = (uint64_t)(uintptr_t)&w->rem;     /* x4, x5: patterns */
        r = call(w, "clock_nanosleep", NR_clock_nanosleep);
        check_result(w, "clock_nanosleep", r, r == 0, 0);
        w->sub[K_SLEEP][S_CLOCK_NANOSLEEP]++;
    } else {
        w->in.x[0] = (uint64_t)(uintptr_t)&w->ts;
        w->in.x[1] = (uint64_t)(uintptr_t)&w->rem;     /* x2-x5: patterns */
        r = call(w, "nanosleep", NR_nanosleep);
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
    w->in.x[0] = (uint64_t)(uintptr_t)a;               /* the pointer argument */
    for (int i = 0; i < 6; i++)
        a->expect[i] = w->in.x[i];
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
    uint64_t r = sysabi_round(&w->in, &w->out, M_SPIN, &spin_params);
    check(w, "preempt", 1);
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
    w->tid = (pid_t)syscall(NR_gettid);
    w->tpidr = sysabi_tpidr();
    pthread_barrier_wait(&start_barrier);
    for (uint64_t n = 0; !atomic_load(&stop_all) && !time_is_up(); n++) {
        for (unsigned j = 0; j < 4; j++)
            k_getpid(w, 4 * n + j);
        k_yield(w);
        k_futex(w);
        k_yield(w);
        k_sleep(w, n);
        if (argcheck_ok)
            for (unsigned j = 0; j < 4; j++)
                k_argcheck(w, 4 * n + j);
        k_preempt(w);
    }
    if (w->pair) {
        atomic_store(&w->pair->done[w->parity], 1);
        atomic_fetch_add(&w->pair->word, 2);    /* parity unchanged: wakes, no turn */
        syscall(NR_futex, &w->pair->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
    return NULL;
}

/* ------------------------------------------------------------ set-up --- */

/* Counter ticks per microsecond: CNTFRQ_EL0, or measured against
 * CLOCK_MONOTONIC where firmware left it 0. */
static double ticks_per_us(void)
{
    uint64_t hz = sysabi_counter_hz();
    if (hz)
        return (double)hz / 1e6;
    struct timespec t0, t1, d = { 0, 20000000 };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t c0 = sysabi_counter();
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uint64_t c1 = sysabi_counter();
    double us = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
    double f = us > 0 && c1 > c0 ? (double)(c1 - c0) / us : 0;
    return f > 0 ? f : 62.5;    /* unusable: QEMU virt's 62.5 MHz */
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
    struct {
        const char *what;
        int null;
        uint64_t x3;
        uint32_t action, reserved;
        long want;
    } probes[] = {
#define X3_BAD ((long)(TERN_ARGCHECK_ENTRY(3) | TERN_ARGCHECK_AFTER(3)))     /* 0x808 */
        { "good arguments", 0, 0x4444444444444444ULL, 0, 0, 0 },
        { "x3 differs", 0, 0x4444444444444445ULL, 0, 0, X3_BAD },
        { "x3 differs, yield", 0, 0x0ULL, 1, 0, X3_BAD },
        { "NULL struct", 1, 0x4444444444444444ULL, 0, 0, -EFAULT },
        { "action 4", 0, 0x4444444444444444ULL, 4, 0, -EINVAL },
        { "reserved 1", 0, 0x4444444444444444ULL, 0, 1, -EINVAL },
    };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        a.action = probes[i].action;
        a.reserved = probes[i].reserved;
        errno = 0;
        r = syscall(SYS_tern_argcheck, probes[i].null ? NULL : &a, a.expect[1], a.expect[2],
                    probes[i].x3, a.expect[4], a.expect[5]);
        if (r == -1)
            r = -errno;
        if (r != probes[i].want)
            fail("SYS_tern_argcheck probe '%s' returned %ld (%#lx), expected %ld (%#lx)",
                 probes[i].what, r, (unsigned long)r, probes[i].want,
                 (unsigned long)probes[i].want);
    }
    a.action = 0;
    a.reserved = 0;
}

static void usage(FILE *f)
{
    fputs("usage: sysabi [options]\n"
          "Checks that an arm64 system call keeps every register but x0\n"
          "(see apps/sysabi/README.md).\n"
          "  -t, --threads N        worker threads (default 4, max 256)\n"
          "  -s, --seconds S        how long to run (default 10)\n"
          "  --min-rounds N         each kind must run at least N rounds (default 20)\n"
          "  --seed N               pattern seed\n"
          "  --spin-us N            longest preemption spin, microseconds (default 5000)\n"
          "  --require-argcheck     fail if SYS_tern_argcheck is missing (on Tern)\n"
          "  --self-test-broken[=x9|v15|both]\n"
          "                         clobber x9 (default) and/or v15 after every\n"
          "                         svc: the run must then report MISMATCH and fail\n",
          f);
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
        } else if (!strcmp(a, "--self-test-broken") || !strcmp(a, "--self-test-broken=x9")) {
            opt_broken = M_BROKEN_X9;
        } else if (!strcmp(a, "--self-test-broken=v15")) {
            opt_broken = M_BROKEN_V15;
        } else if (!strcmp(a, "--self-test-broken=both")) {
            opt_broken = M_BROKEN_X9 | M_BROKEN_V15;
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
    the_pid = getpid();

    double f = ticks_per_us();
    spin_params.gap = (uint64_t)(20 * f);               /* 20 us without us: interrupted */
    spin_params.max = (uint64_t)((double)opt_spin_us * f);

    printf("sysabi: %d threads, %g s, seed 0x%llx; checking x1-x30 (x8 the number), sp, "
           "nzcv, v0-v31, fpcr, fpsr, tpidr_el0 (aarch64)\n",
           opt_threads, opt_seconds, (unsigned long long)opt_seed);
    if (opt_broken)
        printf("sysabi: self-test: clobbering%s%s after every svc; this run must fail\n",
               (opt_broken & M_BROKEN_X9) ? " x9" : "", (opt_broken & M_BROKEN_V15) ? " v15" : "");
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
