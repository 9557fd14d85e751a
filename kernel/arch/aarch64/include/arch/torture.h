/* The register torture test's architecture part on aarch64 (torture.S):
 * the same interface as x86_64's, over the
 * AAPCS64 registers the contract covers (docs/abi-contract.md). */
#ifndef ARCH_TORTURE_H
#define ARCH_TORTURE_H

/* Offsets used by torture.S. */
#define TP_GPR      0       /* 28 x u64: x1..x28 (x0 carries the op's argument);
                             * gpr[28] is x0's in a system call */
#define TP_VEC      256     /* 32 x 16 bytes: v0..v31 */
#define TP_FPCR     768
#define TP_FPSR     772

#define TORTURE_VEC     0x1     /* load and check the vector registers */
#define TORTURE_SPIN    0x4     /* spin until *(u64 *)arg changes, instead of calling */
#define TORTURE_SYSCALL 0x8     /* `svc #0` with x8 = (uintptr_t)arg, instead of calling */

/* Result bits: x1..x28 as bits 0-27, v0..v31 as bits 28-59, FPCR 60,
 * FPSR 61 (torture_bit_name says which). */
#define TORTURE_BAD_GPR(i)   (1ULL << (i))
#define TORTURE_BAD_VEC(i)   (1ULL << (28 + (i)))
#define TORTURE_BAD_FPCR     (1ULL << 60)
#define TORTURE_BAD_FPSR     (1ULL << 61)
#define TORTURE_NO_PREEMPT   (1ULL << 63)           /* the spin bound ran out */

#ifndef __ASSEMBLY__
#include <stdint.h>

struct torture_pattern {
    uint64_t gpr[32];
    uint8_t vec[32][16] __attribute__((aligned(16)));
    uint32_t fpcr;
    uint32_t fpsr;
};
_Static_assert(__builtin_offsetof(struct torture_pattern, vec) == TP_VEC, "layout");
_Static_assert(__builtin_offsetof(struct torture_pattern, fpcr) == TP_FPCR, "layout");
_Static_assert(__builtin_offsetof(struct torture_pattern, fpsr) == TP_FPSR, "layout");

/* The patterns the six syscall argument registers hold in a
 * TORTURE_SYSCALL round, in argument order: x0 (gpr[28]), x1-x5. */
static inline void torture_syscall_args(const struct torture_pattern *p, uint64_t a[6])
{
    a[0] = p->gpr[28];
    for (int i = 1; i < 6; i++)
        a[i] = p->gpr[i - 1];
}

/* Load the pattern, run op(arg) (or spin), verify; returns the bad bits. */
uint64_t torture_round(const struct torture_pattern *p, void (*op)(void *),
                       void *arg, uint64_t flags);
/* Fill p with values derived from seed; returns the flags to use. */
uint64_t torture_pattern_fill(struct torture_pattern *p, uint64_t seed);
/* The register a result bit stands for ("x19", "v8", "fpcr"...), or NULL. */
const char *torture_bit_name(unsigned bit);
#endif

#endif
