/*
 * abort: a program that ends with SIGABRT (status 134 from a shell).
 *
 * abort() is how assert() and the libcs' own "can't happen" checks end a
 * program, so a kernel must deliver SIGABRT with its default action (end
 * the process, status 128+6). musl's abort() blocks every signal but
 * SIGABRT, raises it with tkill, and if that returns, resets the handler
 * to SIG_DFL and raises again; glibc's does much the same.
 */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("abort: calling abort()\n");
    /* stdout may be a pipe or a file (block-buffered); abort() does not
     * flush, so flush here or the line above is lost. */
    fflush(stdout);
    abort();
}
