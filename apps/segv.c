/*
 * segv: a program that dies with SIGSEGV (status 139 from a shell).
 *
 *   segv           store through a NULL pointer
 *   segv --stack   recurse without bound until the stack runs into its
 *                  guard page
 *
 * The kernel must turn the page fault of a user program into SIGSEGV with
 * the default action: end the process with status 128+11, and (on Tern)
 * say where it faulted, without taking the kernel down with it.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

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

int main(int argc, char **argv)
{
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
