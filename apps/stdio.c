/*
 * stdio: the app side of the standard I/O tests (tests/guest/stdio.sh,
 * tests/guest/instances.sh).
 *
 *   stdio bytes N     write N bytes to stdout, byte i being i % 256 (every
 *                     byte value, no newline translation allowed), in
 *                     pieces of varying size; then "stdio: wrote N" on stderr
 *   stdio cat         copy stdin to stdout until end of file; then
 *                     "stdio: cat: N bytes, end of file" on stderr
 *   stdio args        print each argument and the variables named TERN_*
 *                     (and GREETING) on stdout, one per line
 *   stdio tick        print "tick N" on stdout every second, forever
 *   stdio crash       write through a null pointer (a SIGSEGV)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "bytes")) {
        long n = atol(argv[2]);
        static char buf[70000];
        long done = 0;
        size_t piece = 1;
        while (done < n) {
            size_t k = piece;
            if ((long)k > n - done)
                k = (size_t)(n - done);
            for (size_t i = 0; i < k; i++)
                buf[i] = (char)((done + (long)i) & 255);
            if (write_all(1, buf, k) < 0)
                return 1;
            done += (long)k;
            piece = piece * 7 % 65521 + 1;      /* 1 byte up to 64 KiB */
        }
        fprintf(stderr, "stdio: wrote %ld\n", n);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "cat")) {
        char buf[5000];
        long total = 0;
        ssize_t k;
        while ((k = read(0, buf, sizeof(buf))) > 0) {
            if (write_all(1, buf, (size_t)k) < 0)
                return 1;
            total += k;
        }
        if (k < 0) {
            perror("stdio: read");
            return 1;
        }
        fprintf(stderr, "stdio: cat: %ld bytes, end of file\n", total);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "args")) {
        for (int i = 0; i < argc; i++)
            printf("arg[%d]=%s\n", i, argv[i]);
        for (char **e = environ; *e; e++)
            if (!strncmp(*e, "TERN_", 5) || !strncmp(*e, "GREETING=", 9))
                printf("env %s\n", *e);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "tick")) {
        for (long i = 0;; i++) {
            printf("tick %ld\n", i);
            fflush(stdout);
            sleep(1);
        }
    }
    if (argc >= 2 && !strcmp(argv[1], "crash")) {
        *(volatile int *)(uintptr_t)argc = 1;
        return 1;
    }
    fprintf(stderr, "usage: stdio bytes N | cat | args ... | tick | crash\n");
    return 2;
}
