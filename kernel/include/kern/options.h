/* The kernel's command-line options (docs/cmdline.md lists them). */
#ifndef KERN_OPTIONS_H
#define KERN_OPTIONS_H

#include <kern/cmdline.h>

struct kernel_options {
    long loglevel;
    bool quiet;
    bool help;
    const char *ktest;          /* NULL: none */
    long exit_status;           /* exit status when no app runs */
    long torture_switches, torture_preemptions, torture_seconds;
    long profile_hz;            /* 0: not profiling */
    bool netstat;               /* print the network counters at app exit */
    long net_lose_kicks;        /* tests: drop every Nth TX notification; 0: none */
    long zcopy_copy_max;        /* zero-copy sends this small are copied */
    int stdio;                  /* STDIO_CONSOLE or STDIO_FRAMED */
    struct cmdline_list env;    /* env=NAME=value: the app's, after the image's */
    struct cmdline_result app;  /* arguments after "--" */
};

/* stdio=: where the app's stdout and stderr go when no driver gave them a
 * channel of their own (kern/appio.h): into the console as text, or
 * framed in it (kern/stdio_frame.h, for tern run on Xen). */
enum { STDIO_CONSOLE, STDIO_FRAMED };

extern struct kernel_options kopt;

/* Parse boot_info.cmdline into kopt; a bad command line ends the kernel
 * with EXIT_USAGE after printing what is wrong. */
void options_parse(void);

#endif
