/* The Linux system call layer (kernel/linux/). Numbers are x86_64 Linux's. */
#ifndef KERN_SYSCALL_H
#define KERN_SYSCALL_H

#include <kern/types.h>

#define SYS_sched_yield  24
#define SYS_getpid       39
#define SYS_gettid       186

/* Tern's own, for tests: checks that its six argument registers hold the
 * values the calling thread announced (thread->syscall_test_expect), does
 * what thread->syscall_test_action says (yield, sleep, take a contended
 * mutex), and checks them again. Mismatches are counted in
 * thread->syscall_test_bad. */
#define SYS_tern_test_args 0x7e54

#define SYSCALL_TEST_YIELD  0
#define SYSCALL_TEST_SLEEP  1
#define SYSCALL_TEST_MUTEX  2

#endif
