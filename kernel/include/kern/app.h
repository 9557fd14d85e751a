/*
 * The app: one Linux process made of app threads, loaded from an ELF file
 * in the root file system (kernel/linux/). What the rest of the kernel
 * needs to know about it.
 */
#ifndef KERN_APP_H
#define KERN_APP_H

#include <kern/types.h>

/* Linux signal numbers used for fault reports and exit statuses. */
#define SIGILL   4
#define SIGTRAP  5
#define SIGABRT  6
#define SIGBUS   7
#define SIGFPE   8
#define SIGKILL  9
#define SIGSEGV 11
#define SIGPIPE 13

/* Load and start the program named by the command line's app arguments
 * (argv[0] is its path), with the environment from /.tern/manifest. Does
 * not return when an app ran: the app's exit ends the VM. Returns when
 * there is no app to run. */
void app_run(void);

/* True when addr is app code or data (the lower half). */
bool app_address(uintptr_t addr);

/* A fault or trap in app code (or in a system call on the app's behalf
 * that touched memory it may not): report it, naming the address and, when
 * the app has a symbol table, the symbol, then end the app with status
 * 128 + sig. detail says what happened ("page fault: write of ..."). */
void app_crash(int sig, uintptr_t pc, const char *detail) __noreturn;

/* The symbol for an app address, "name+0xoff" or "" (kernel/linux/elf_load.c). */
void app_symbolize(uintptr_t pc, char *buf, size_t size);

/* End the whole app (exit_group, a fatal signal) with this status. */
void app_exit(int status) __noreturn;

#endif
