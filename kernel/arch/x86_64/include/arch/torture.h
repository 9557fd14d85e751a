/* The register torture test's architecture part (torture.S). */
#ifndef ARCH_TORTURE_H
#define ARCH_TORTURE_H

/* Offsets used by torture.S. */
#define TP_GPR      0       /* 13 x u64: rbx rbp r12 r13 r14 r15 rcx rdx rsi rdi r8 r9 r10 */
#define TP_VEC      128     /* 16 x 32 bytes: xmm/ymm 0..15 */
#define TP_MXCSR    640
#define TP_FCW      644

#define TORTURE_VEC     0x1     /* load and check XMM registers */
#define TORTURE_AVX     0x2     /* ... as full YMM registers */
#define TORTURE_SPIN    0x4     /* spin until *(u64 *)arg changes, instead of calling */
#define TORTURE_SYSCALL 0x8     /* `syscall` with rax = (uintptr_t)arg, instead of calling */

/* Result bits. */
#define TORTURE_BAD_GPR(i)   (1ULL << (i))          /* index into TP_GPR order */
#define TORTURE_BAD_XMM(i)   (1ULL << (16 + (i)))
#define TORTURE_BAD_YMMH(i)  (1ULL << (32 + (i)))
#define TORTURE_BAD_MXCSR    (1ULL << 48)
#define TORTURE_BAD_FCW      (1ULL << 49)
#define TORTURE_NO_PREEMPT   (1ULL << 63)           /* the spin bound ran out */

#ifndef __ASSEMBLY__
#include <stdint.h>

struct torture_pattern {
    uint64_t gpr[16];
    uint8_t vec[16][32] __attribute__((aligned(32)));
    uint32_t mxcsr;
    uint16_t fcw;
};
_Static_assert(__builtin_offsetof(struct torture_pattern, vec) == TP_VEC, "layout");
_Static_assert(__builtin_offsetof(struct torture_pattern, mxcsr) == TP_MXCSR, "layout");
_Static_assert(__builtin_offsetof(struct torture_pattern, fcw) == TP_FCW, "layout");

/* The patterns the six syscall argument registers hold in a
 * TORTURE_SYSCALL round, in argument order: rdi rsi rdx r10 r8 r9. */
static inline void torture_syscall_args(const struct torture_pattern *p, uint64_t a[6])
{
    a[0] = p->gpr[9];
    a[1] = p->gpr[8];
    a[2] = p->gpr[7];
    a[3] = p->gpr[12];
    a[4] = p->gpr[10];
    a[5] = p->gpr[11];
}

/* Load the pattern, run op(arg) (or spin), verify; returns the bad bits. */
uint64_t torture_round(const struct torture_pattern *p, void (*op)(void *),
                       void *arg, uint64_t flags);
#endif

#endif

#ifndef __ASSEMBLY__
/* Fill p with values derived from seed; returns the flags to use (vector
 * registers, and AVX when the CPU has it enabled). */
uint64_t torture_pattern_fill(struct torture_pattern *p, uint64_t seed);
/* The register a result bit stands for ("r13", "xmm4", "ymm4.hi",
 * "mxcsr"...), or NULL for a bit that names none. */
const char *torture_bit_name(unsigned bit);
#endif
