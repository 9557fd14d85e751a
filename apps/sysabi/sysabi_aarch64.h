/*
 * The arm64 register image shared by sysabi_aarch64.c and regs_aarch64.S
 * (the arm64 port of the syscall ABI torture app). Offsets are spelled out
 * for the assembler; the C struct below (hidden from the assembler) is
 * checked against them with static assertions.
 */
#ifndef SYSABI_AARCH64_H
#define SYSABI_AARCH64_H

/* struct sysabi_regs */
#define A_X         0       /* uint64_t x[31]: x0-x30 (in: x8 is the number) */
#define A_SP        248     /* out: sp as it came back */
#define A_SP0       256     /* out: sp at the svc */
#define A_NZCV      264     /* in: N Z C V to load; out: nzcv right after the call */
#define A_FPCR      272
#define A_FPSR      280
#define A_TPIDR     288     /* out: TPIDR_EL0 (the thread pointer) */
#define A_RESULT    296     /* out: x0 after the svc; 1 if a spin saw a gap */
#define A_VEC       304     /* uint8_t v[32][16]: q0-q31, low bytes first */
#define A_SIZE      816

/* sysabi_round's mode bits */
#define M_SPIN        0x01  /* no svc: spin until a counter gap (an interrupt) or a deadline */
#define M_BROKEN_X9   0x02  /* self-test: clobber x9 after the svc */
#define M_BROKEN_V15  0x04  /* self-test: clobber v15 after the svc */

#define NZCV_MASK     0xf0000000
/* FPCR: AHP DN FZ RMode (the ARMv8.0 control bits; traps stay disabled) */
#define FPCR_MASK     0x07c00000
/* FPSR: the cumulative flags IOC DZC OFC UFC IXC IDC QC */
#define FPSR_MASK     0x0800009f

/* struct sysabi_spin */
#define S_GAP       0       /* counter ticks between two reads that count as an interruption */
#define S_MAX       8       /* counter ticks after which the spin gives up */

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct sysabi_regs {
    uint64_t x[31];
    uint64_t sp;                /* out: sp after the call (sp0: at it) */
    uint64_t sp0;
    uint64_t nzcv;
    uint64_t fpcr;
    uint64_t fpsr;
    uint64_t tpidr;
    uint64_t result;
    uint8_t v[32][16];
} __attribute__((aligned(16)));

_Static_assert(offsetof(struct sysabi_regs, x) == A_X, "A_X");
_Static_assert(offsetof(struct sysabi_regs, sp) == A_SP, "A_SP");
_Static_assert(offsetof(struct sysabi_regs, sp0) == A_SP0, "A_SP0");
_Static_assert(offsetof(struct sysabi_regs, nzcv) == A_NZCV, "A_NZCV");
_Static_assert(offsetof(struct sysabi_regs, fpcr) == A_FPCR, "A_FPCR");
_Static_assert(offsetof(struct sysabi_regs, fpsr) == A_FPSR, "A_FPSR");
_Static_assert(offsetof(struct sysabi_regs, tpidr) == A_TPIDR, "A_TPIDR");
_Static_assert(offsetof(struct sysabi_regs, result) == A_RESULT, "A_RESULT");
_Static_assert(offsetof(struct sysabi_regs, v) == A_VEC, "A_VEC");
_Static_assert(sizeof(struct sysabi_regs) == A_SIZE, "A_SIZE");
#endif

#endif
