/*
 * segv: a program that dies with SIGSEGV (status 139 from a shell).
 *
 *   segv           store through a NULL pointer
 *   segv --stack   recurse without bound until the stack runs into its
 *                  guard page
 *   segv --oom     touch fresh anonymous memory, 16 MiB at a time, until
 *                  the kernel runs out of pages and kills the program with
 *                  SIGKILL (status 137), as Linux's OOM killer would; it
 *                  gives up after 4 GiB. Meant for a small VM: do not run
 *                  it on a host you care about.
 *
 * The kernel must turn the page fault of a user program into SIGSEGV with
 * the default action: end the process with status 128+11, and (on Tern)
 * say where it faulted, without taking the kernel down with it.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* The recursion limit lives in a volatile global so the compiler cannot
 * prove the recursion infinite (gcc's -Winfinite-recursion) or turn it
 * into a loop; it is never reached. */
static volatile long depth_limit = LONG_MAX;

__attribute__((noinline)) static long recurse(long depth)
{
    /* A frame of a few hundred bytes that the compiler must keep: the
     * volatile array is written before and read after the call. */
    volatile char frame[256];
    frame[0] = (char)depth;
    if (depth >= depth_limit)
        return depth;
    return recurse(depth + 1) + frame[0];
}

/* Touch every page of 16 MiB mappings until the kernel kills us. */
static int exhaust_memory(void)
{
    enum { CHUNK = 16 << 20, PAGE = 4096, MAX_CHUNKS = 256 };
    printf("segv: about to run out of memory\n");
    fflush(stdout);
    for (int i = 0; i < MAX_CHUNKS; i++) {
        volatile char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            printf("segv: mmap failed after %d MiB\n", i * 16);
            return 1;
        }
        for (long k = 0; k < CHUNK; k += PAGE)
            p[k] = (char)k;
    }
    printf("segv: still alive after %d MiB\n", MAX_CHUNKS * 16);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--oom") == 0)
        return exhaust_memory();
    if (argc > 1 && strcmp(argv[1], "--stack") == 0) {
        printf("segv: about to overflow the stack\n");
        fflush(stdout);
        return (int)recurse(0);
    }
    printf("segv: about to fault\n");
    /* Flush now: the process dies without running exit(). */
    fflush(stdout);
    /* Through a volatile pointer so the compiler can neither see that it is
     * NULL (and emit a trap instruction instead of the store) nor drop it. */
    volatile int *volatile p = NULL;
    *p = 42;
    printf("segv: still alive?\n");
    return 1;
}
