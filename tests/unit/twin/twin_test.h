/*
 * Test-side helpers for twin tests (twin.h); include after check.h, once.
 *
 * TWIN_TEST(name) { ... } is a check.h TEST whose body runs in a child
 * process: the two stacks live in globals and cannot be torn down, so each
 * test gets fresh ones (and its own clock from 0) by forking. The child's
 * CHECK failures, a crash, a sanitizer report or a leak make the test
 * fail; a failing child prints its seed. TWIN_NOFORK=1 runs the body in
 * the test process instead (for a debugger; then select one test).
 * TWIN_SEED=n replaces every test's own seed.
 */
#ifndef TWIN_TEST_H
#define TWIN_TEST_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "twin.h"

#define US 1000ULL
#define MS 1000000ULL
#define SEC 1000000000ULL

/* A test may not take longer than this in real time (a stack that spins). */
#define TWIN_ALARM_S 300

static const char *twin_test_name;

/* The seed a test asked for, or TWIN_SEED's. */
static inline uint64_t twin_pick_seed(uint64_t seed)
{
    const char *s = getenv("TWIN_SEED");
    return s && *s ? strtoull(s, NULL, 0) : seed;
}

/* Start the pair with cfg (its seed possibly replaced by TWIN_SEED). */
static inline void twin_begin(struct twin_cfg *cfg)
{
    cfg->seed = twin_pick_seed(cfg->seed);
    twin_start(cfg);
}

static void twin_report_end(void)
{
    twin_finish();
    const struct twin_stats *st = twin_stats();
    for (int i = 0; i < 2; i++)
        if (st->dev_errors[i]) {
            printf("  side %c: %llu device errors\n", twin_sides[i].name,
                   (unsigned long long)st->dev_errors[i]);
            check_failed_current = 1;
        }
    if (check_failed_current)
        printf("  %s failed with seed %#llx at t=%llu ns (rerun: TWIN_SEED=%#llx "
               "<test binary> %s)\n", twin_test_name, (unsigned long long)twin_seed(),
               (unsigned long long)twin_now(), (unsigned long long)twin_seed(),
               twin_test_name);
}

static void twin_run_forked(void (*body)(void), const char *name)
{
    twin_test_name = name;
    const char *nf = getenv("TWIN_NOFORK");
    if (nf && *nf == '1') {
        body();
        twin_report_end();
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        check_failed_current = 1;
        return;
    }
    if (pid == 0) {
        alarm(TWIN_ALARM_S);
        body();
        twin_report_end();
        fflush(stdout);
        /* exit, not _exit: LeakSanitizer checks the child at exit. */
        exit(check_failed_current ? 1 : 0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (WIFSIGNALED(status)) {
        printf("  %s: killed by signal %d%s\n", name, WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? " (took too long)" : "");
        check_failed_current = 1;
    } else if (WEXITSTATUS(status) != 0) {
        check_failed_current = 1;
    }
}

#define TWIN_TEST(name) \
    static void name##_body(void); \
    TEST(name) { twin_run_forked(name##_body, #name); } \
    static void name##_body(void)

/* Run the simulation until cond holds (checked before every event) or
 * timeout_ns of simulated time passed; the value is cond's last. */
#define RUN_UNTIL(cond, timeout_ns) ({ \
        uint64_t run_deadline_ = twin_now() + (timeout_ns); \
        bool run_ok_; \
        while (!(run_ok_ = (cond)) && twin_step(run_deadline_)) \
            ; \
        run_ok_; \
    })

#endif
