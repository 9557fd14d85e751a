/*
 * hello: the smallest Tern app, and a probe of what the kernel hands a new
 * program: argv, the environment and the exit status.
 *
 *   hello [ARGS...] [--exit N]
 *
 * Prints each argv element on its own line (argv[0]=...), then the value of
 * the environment variable GREETING, and exits with status N when given
 * --exit N (0 otherwise). Built three ways (apps/README.md): musl
 * static-PIE, glibc static-PIE and glibc static (ET_EXEC), so one source
 * exercises both libcs' start-up code and both ELF types.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int status = 0;

    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);

    const char *greeting = getenv("GREETING");
    printf("GREETING=%s\n", greeting ? greeting : "(unset)");

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--exit") != 0)
            continue;
        char *end;
        long n = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : -1;
        if (i + 1 >= argc || *argv[i + 1] == 0 || *end != 0 || n < 0 || n > 255) {
            fprintf(stderr, "hello: --exit needs a status from 0 to 255\n");
            return 2;
        }
        status = (int)n;
    }
    /* Returning from main flushes stdout through exit(), which a kernel
     * must let run to completion before the process ends. */
    return status;
}
