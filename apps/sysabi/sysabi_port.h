/*
 * What the arch-neutral half of the syscall ABI torture app (sysabi.c:
 * options, kinds, threads, verdict) and each architecture's port
 * (sysabi_x86_64.c, sysabi_aarch64.c: the register image, its patterns
 * and comparison, the round in assembly) say to each other.
 */
#ifndef SYSABI_PORT_H
#define SYSABI_PORT_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#include "sysabi_x86_64.h"
#elif defined(__aarch64__)
#include "sysabi_aarch64.h"
#else
#error "apps/sysabi has ports for x86_64 and aarch64 only"
#endif

/* The preemption spin's limits, in the port's counter ticks. */
struct sysabi_spin {
    uint64_t gap;               /* ticks between two reads that count as an interruption */
    uint64_t max;               /* ticks after which the spin gives up */
};
_Static_assert(offsetof(struct sysabi_spin, gap) == S_GAP, "S_GAP");
_Static_assert(offsetof(struct sysabi_spin, max) == S_MAX, "S_MAX");

/* ------------------------------------------------ sysabi.c, for a port --- */

/* A value distinct per thread, round, register and lane; its low 16 bits
 * name the thread (bits 15-8) and the register (bits 7-0), so a value that
 * turns up in the wrong place says where it came from. */
uint64_t sysabi_pat(int thread, uint64_t round, unsigned code, unsigned lane);

/* One MISMATCH line (the first few are kept and printed at the end). */
void sysabi_report(int thread, const char *kind, const char *reg, const char *want,
                   const char *got);
void sysabi_report_u64(int thread, const char *kind, const char *reg, uint64_t want,
                       uint64_t got);

/* Ticks of counter() per microsecond, measured against CLOCK_MONOTONIC
 * over 20 ms; 0 if the counter did not move. */
double sysabi_measure_ticks_per_us(uint64_t (*counter)(void));

/* ---------------------------------------------- a port, for sysabi.c --- */

/* For usage: what a system call must keep (a line), the port's own
 * options (usage lines). */
extern const char sysabi_port_contract[];
extern const char sysabi_port_options[];
/* The six system call argument registers, by name (for the probes). */
extern const char *const sysabi_port_arg_name[6];

/* Takes the port's own command-line option (one word); 0 if it is not one. */
int sysabi_port_option(const char *arg);
/* After the options: finds out what the CPU has. */
void sysabi_port_setup(void);
/* Ends the start line with what a round checks; says what a self-test
 * clobbers, if one was asked for. */
void sysabi_port_describe(void);
/* Counter ticks per microsecond, for the preemption spin. */
double sysabi_port_ticks_per_us(void);
/* This thread's TLS pointer as the round records it (fs:0, TPIDR_EL0). */
uint64_t sysabi_port_tls(void);

/* The i-th (0-5) system call argument register in an image. */
uint64_t *sysabi_port_arg(struct sysabi_regs *r, unsigned i);
/* Fills every register of *in with the thread's patterns for a round. */
void sysabi_port_fill(struct sysabi_regs *in, int thread, uint64_t round);
/* One round: system call nr with *in loaded, or (spin != NULL) the
 * preemption spin; *out holds what came back. Returns the result (the
 * spin: 1 if it was interrupted). */
uint64_t sysabi_port_round(struct sysabi_regs *in, struct sysabi_regs *out, uint64_t nr,
                           const struct sysabi_spin *spin);
/* Compares *out with *in (and the TLS pointer with tls), reporting each
 * difference; a spin computes with some registers, which it leaves out.
 * Returns the number of differences. */
int sysabi_port_check(const struct sysabi_regs *in, const struct sysabi_regs *out,
                      uint64_t tls, int thread, const char *kind, int spin);

#endif
