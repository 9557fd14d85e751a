/*
 * threads: POSIX threads as a libc drives them (clone, futex, TLS).
 *
 *   threads [N]      N workers, default 8
 *
 * Checks, each printed as it passes; "threads: ok" comes last and only
 * when every check held (exit 0), otherwise the failures are named and the
 * exit status is 1:
 *
 *   - N workers increment a shared counter under a mutex, with sched_yield
 *     in between to force interleaving: the total must be exact;
 *   - thread-local storage: every thread (main included) first sees the
 *     initial values from .tdata and a zero from .tbss, then its own
 *     values survive while the other threads write theirs; a 64-byte
 *     aligned TLS variable is aligned in every thread (the kernel or the
 *     libc must honour PT_TLS's alignment);
 *   - each worker ends with pthread_exit(value) and pthread_join collects
 *     exactly that value;
 *   - a producer and a consumer hand 10000 items over a small queue with a
 *     mutex and two condition variables: every item arrives, in order;
 *   - a detached thread runs and signals the main thread through a
 *     condition variable.
 *
 * Under the hood that is clone(CLONE_VM|CLONE_SETTLS|CLONE_CHILD_CLEARTID
 * ...), futex wait/wake (the mutex and condvars, and pthread_join waiting
 * for the kernel to clear the thread id), mmap for thread stacks and
 * munmap when they are reclaimed.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INCREMENTS 20000
#define ITEMS      10000
#define QUEUE_LEN  16

static int failures;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static void check(int ok, const char *what)
{
    if (ok)
        return;
    pthread_mutex_lock(&report_lock);
    printf("threads: FAIL: %s\n", what);
    failures++;
    pthread_mutex_unlock(&report_lock);
}

/* ---------------------------------------------------------- TLS ---------- */

/* .tdata: a non-zero initial value every thread must see. */
static __thread long tls_init = 0x5eed1234;
static __thread char tls_name[16] = "initial";
/* .tbss: zero in every new thread. */
static __thread long tls_zero;
/* Over-aligned: the TLS block must be placed at PT_TLS's p_align. */
static __thread char tls_aligned[64] __attribute__((aligned(64)));

/* What a thread must see in its TLS before it writes any of it. */
static void tls_fresh(void)
{
    check(tls_init == 0x5eed1234, "a thread's .tdata variable lacks its initial value");
    check(strcmp(tls_name, "initial") == 0, "a thread's .tdata string lacks its initial value");
    check(tls_zero == 0, "a thread's .tbss variable is not zero");
    check(((uintptr_t)tls_aligned & 63) == 0, "a 64-byte aligned TLS variable is misaligned");
    check(tls_aligned[0] == 0 && tls_aligned[63] == 0, "a .tbss array is not zero");
}

/* Each thread then writes its own mark, and later checks it is intact. */
static void tls_mark(long id)
{
    tls_init = id;
    tls_zero = ~id;
    snprintf(tls_name, sizeof(tls_name), "t%ld", id);
    tls_aligned[0] = (char)id;
}

static void tls_still_mine(long id)
{
    char want[16];
    snprintf(want, sizeof(want), "t%ld", id);
    check(tls_init == id && tls_zero == ~id && strcmp(tls_name, want) == 0 &&
          tls_aligned[0] == (char)id,
          "a thread's TLS changed under it (shared with another thread?)");
}

/* ------------------------------------------------- counter workers ------- */

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static uintptr_t tls_addrs[256];

static void *worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    tls_fresh();
    tls_mark(id);
    tls_addrs[id] = (uintptr_t)&tls_init;
    for (int i = 0; i < INCREMENTS; i++) {
        pthread_mutex_lock(&counter_lock);
        long v = counter;
        /* Yield inside the critical section now and then: if the mutex
         * does not exclude, another thread's increment is lost. */
        if (i % 1000 == 0)
            sched_yield();
        counter = v + 1;
        pthread_mutex_unlock(&counter_lock);
        if (i % 997 == 0)
            sched_yield();
    }
    tls_still_mine(id);
    /* pthread_exit rather than return: the value travels the same way. */
    pthread_exit((void *)(intptr_t)(id * 1000 + 7));
}

/* ------------------------------------------------ producer/consumer ------ */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_not_full = PTHREAD_COND_INITIALIZER;
static int queue[QUEUE_LEN];
static int q_head, q_count;

static void *producer(void *arg)
{
    (void)arg;
    tls_fresh();
    for (int item = 1; item <= ITEMS; item++) {
        pthread_mutex_lock(&q_lock);
        while (q_count == QUEUE_LEN)
            pthread_cond_wait(&q_not_full, &q_lock);
        queue[(q_head + q_count) % QUEUE_LEN] = item;
        q_count++;
        pthread_cond_signal(&q_not_empty);
        pthread_mutex_unlock(&q_lock);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    long sum = 0;
    int expect = 1, in_order = 1;
    for (int n = 0; n < ITEMS; n++) {
        pthread_mutex_lock(&q_lock);
        while (q_count == 0)
            pthread_cond_wait(&q_not_empty, &q_lock);
        int item = queue[q_head];
        q_head = (q_head + 1) % QUEUE_LEN;
        q_count--;
        pthread_cond_signal(&q_not_full);
        pthread_mutex_unlock(&q_lock);
        if (item != expect++)
            in_order = 0;
        sum += item;
    }
    check(in_order, "the consumer got the items out of order");
    check(sum == (long)ITEMS * (ITEMS + 1) / 2, "the consumer's sum is wrong (items lost)");
    return (void *)(intptr_t)sum;
}

/* --------------------------------------------------------- detached ------ */

static pthread_mutex_t det_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t det_cond = PTHREAD_COND_INITIALIZER;
static int det_done;

static void *detached(void *arg)
{
    tls_fresh();
    pthread_mutex_lock(&det_lock);
    det_done = (int)(intptr_t)arg;
    pthread_cond_signal(&det_cond);
    pthread_mutex_unlock(&det_lock);
    return NULL;
}

int main(int argc, char **argv)
{
    long nworkers = 8;
    if (argc > 1) {
        char *end;
        nworkers = strtol(argv[1], &end, 10);
        if (*argv[1] == 0 || *end != 0 || nworkers < 1 || nworkers > 256) {
            fprintf(stderr, "usage: threads [N]   (1 to 256 workers)\n");
            return 2;
        }
    }

    /* The main thread's TLS comes from the same image as everyone's. */
    tls_fresh();
    tls_mark(1000);

    /* 1. Workers and a mutex-protected counter; join collects exit values. */
    pthread_t tids[256];
    for (long i = 0; i < nworkers; i++) {
        if (pthread_create(&tids[i], NULL, worker, (void *)(intptr_t)i) != 0) {
            printf("threads: FAIL: pthread_create\n");
            return 1;
        }
    }
    int joined_ok = 1;
    for (long i = 0; i < nworkers; i++) {
        void *ret;
        if (pthread_join(tids[i], &ret) != 0 || (intptr_t)ret != i * 1000 + 7)
            joined_ok = 0;
    }
    check(joined_ok, "pthread_join did not return the value given to pthread_exit");
    check(counter == nworkers * INCREMENTS, "the counter is wrong: the mutex did not exclude");
    int distinct = 1;
    for (long i = 0; i < nworkers; i++)
        for (long j = i + 1; j < nworkers; j++)
            if (tls_addrs[i] == tls_addrs[j])
                distinct = 0;
    check(distinct, "two threads share a TLS address");
    tls_still_mine(1000);
    printf("threads: %ld workers, counter %ld, joined\n", nworkers, counter);

    /* 2. Producer/consumer through condition variables. */
    pthread_t prod, cons;
    void *sum = NULL;
    if (pthread_create(&cons, NULL, consumer, NULL) != 0 ||
        pthread_create(&prod, NULL, producer, NULL) != 0) {
        printf("threads: FAIL: pthread_create\n");
        return 1;
    }
    pthread_join(prod, NULL);
    pthread_join(cons, &sum);
    printf("threads: %d items handed over, sum %ld\n", ITEMS, (long)(intptr_t)sum);

    /* 3. A detached thread signals back; nobody joins it. */
    pthread_attr_t attr;
    pthread_t det;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&det, &attr, detached, (void *)(intptr_t)42) != 0) {
        printf("threads: FAIL: pthread_create (detached)\n");
        return 1;
    }
    pthread_attr_destroy(&attr);
    pthread_mutex_lock(&det_lock);
    while (!det_done)
        pthread_cond_wait(&det_cond, &det_lock);
    pthread_mutex_unlock(&det_lock);
    check(det_done == 42, "the detached thread's signal carried the wrong value");
    printf("threads: detached thread ran\n");

    tls_still_mine(1000);
    if (failures) {
        printf("threads: %d check(s) failed\n", failures);
        return 1;
    }
    printf("threads: ok\n");
    return 0;
}
