/*
 * The x86_64 register image shared by sysabi_x86_64.c and regs.S. Offsets
 * are spelled out for the assembler; the C struct below (hidden from the
 * assembler) is checked against them with static assertions.
 */
#ifndef SYSABI_X86_64_H
#define SYSABI_X86_64_H

/* struct sysabi_regs */
#define R_GPR       0       /* uint64_t gpr[16], by hardware number */
#define R_RFLAGS    128     /* in: CF PF AF ZF SF OF DF to load; out: rflags right after the call */
#define R_RSP0      136     /* out: rsp as it was at the syscall (gpr[G_RSP]: as it came back) */
#define R_FS0       144     /* out: the word at %fs:0 (the TLS self pointer) */
#define R_FSBASE    152     /* out: rdfsbase (with M_FSGSBASE) */
#define R_RESULT    160     /* out: rax after the syscall; 1 if a spin saw a gap */
#define R_MXCSR     168     /* uint32_t */
#define R_FCW       172     /* uint16_t */
#define R_REDZONE   176     /* uint64_t redzone[16]: the 128 bytes below rsp, [0] at rsp-8 */
#define R_ST        304     /* uint8_t st[8][16]: x87 st(0)..st(7), 10 bytes each */
#define R_K         432     /* uint64_t k[8]: AVX-512 opmask registers */
#define R_VEC       512     /* uint8_t vec[32][64]: zmm/ymm/xmm i, low bytes first */
#define R_SIZE      2560

#define NREDZONE    16
#define VEC_BYTES   64

/* Hardware GPR numbers. */
#define G_RAX 0
#define G_RCX 1
#define G_RDX 2
#define G_RBX 3
#define G_RSP 4
#define G_RBP 5
#define G_RSI 6
#define G_RDI 7
/* r8..r15 are 8..15 */

/* sysabi_round's mode bits */
#define M_SPIN        0x01  /* no syscall: spin until a TSC gap (an interrupt) or a deadline */
#define M_AVX         0x02  /* ymm0-15 instead of xmm0-15 */
#define M_AVX512      0x04  /* zmm0-31 and k0-7 (needs M_AVX too) */
#define M_AVX512BW    0x08  /* 64-bit opmask registers (kmovq) instead of 16-bit (kmovw) */
#define M_FSGSBASE    0x10  /* rdfsbase is usable */
#define M_BROKEN_R10  0x20  /* self-test: clobber r10 after the syscall */
#define M_BROKEN_XMM15 0x40 /* self-test: clobber xmm15 after the syscall */

/* The rflags bits loaded with patterns: CF PF AF ZF SF OF DF. */
#define FLAGS_MASK    0xcd5

/* struct sysabi_spin */
#define S_GAP       0       /* TSC ticks between two reads that count as an interruption */
#define S_MAX       8       /* TSC ticks after which the spin gives up */

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct sysabi_regs {
    uint64_t gpr[16];
    uint64_t rflags;
    uint64_t rsp0;              /* out: rsp at the call (gpr[G_RSP]: after it) */
    uint64_t fs0;
    uint64_t fsbase;
    uint64_t result;
    uint32_t mxcsr;
    uint16_t fcw;
    uint16_t pad;
    uint64_t redzone[NREDZONE];
    uint8_t st[8][16];
    uint64_t k[8];
    uint64_t pad2[2];
    uint8_t vec[32][VEC_BYTES];
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct sysabi_regs, gpr) == R_GPR, "R_GPR");
_Static_assert(offsetof(struct sysabi_regs, rflags) == R_RFLAGS, "R_RFLAGS");
_Static_assert(offsetof(struct sysabi_regs, rsp0) == R_RSP0, "R_RSP0");
_Static_assert(offsetof(struct sysabi_regs, fs0) == R_FS0, "R_FS0");
_Static_assert(offsetof(struct sysabi_regs, fsbase) == R_FSBASE, "R_FSBASE");
_Static_assert(offsetof(struct sysabi_regs, result) == R_RESULT, "R_RESULT");
_Static_assert(offsetof(struct sysabi_regs, mxcsr) == R_MXCSR, "R_MXCSR");
_Static_assert(offsetof(struct sysabi_regs, fcw) == R_FCW, "R_FCW");
_Static_assert(offsetof(struct sysabi_regs, redzone) == R_REDZONE, "R_REDZONE");
_Static_assert(offsetof(struct sysabi_regs, st) == R_ST, "R_ST");
_Static_assert(offsetof(struct sysabi_regs, k) == R_K, "R_K");
_Static_assert(offsetof(struct sysabi_regs, vec) == R_VEC, "R_VEC");
_Static_assert(sizeof(struct sysabi_regs) == R_SIZE, "R_SIZE");
#endif

#endif
