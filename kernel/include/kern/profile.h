/* A sampling profiler for finding where the CPUs spend their time
 * (docs/cmdline.md: profile=HZ): each CPU records the interrupted program
 * counter HZ times a second, and the kernel prints the busiest functions,
 * kernel and app alike, when it exits. */
#ifndef KERN_PROFILE_H
#define KERN_PROFILE_H

#include <kern/types.h>

/* Start sampling on every online CPU (after SMP bring-up); nothing when
 * the option is off. */
void profile_start(void);
/* Stop and print the report; safe to call when profiling is off. */
void profile_report(void);
/* A thread is being freed: keep its CPU time for the report. */
struct thread;
void profile_thread_gone(struct thread *t);

#endif
