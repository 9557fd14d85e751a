/* Stack backtraces by frame-pointer walk (the kernel is built with
 * -fno-omit-frame-pointer at every optimization level). */
#ifndef KERN_BACKTRACE_H
#define KERN_BACKTRACE_H

#include <kern/types.h>

/* Print up to max frames starting with pc, then walking saved frame
 * pointers from fp. Frames are checked against known stacks before they
 * are read, so a corrupted chain ends the walk instead of faulting. */
void backtrace_print(uintptr_t pc, uintptr_t fp, int max);

/* Print the caller's backtrace. */
void backtrace_here(void);

/* Kernel stacks known to the walker (boot stack, IST stacks, threads). */
void stack_register(uintptr_t lo, uintptr_t hi);
bool stack_contains(uintptr_t addr, size_t len);

#endif
