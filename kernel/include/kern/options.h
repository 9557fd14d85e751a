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
    struct cmdline_list env;    /* env=NAME=value: the app's, after the image's */
    struct cmdline_result app;  /* arguments after "--" */
};

extern struct kernel_options kopt;

/* Parse boot_info.cmdline into kopt; a bad command line ends the kernel
 * with EXIT_USAGE after printing what is wrong. */
void options_parse(void);

#endif
