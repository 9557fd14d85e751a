/* Register patterns for the torture test: distinct per thread and round,
 * and only values the registers accept (MXCSR reserved bits stay zero). */
#include <arch/torture.h>
#include <kern/ktest.h>
#include "x86_64.h"

extern uint64_t fpu_xcr0;

uint64_t torture_pattern_fill(struct torture_pattern *p, uint64_t seed)
{
    for (int i = 0; i < 16; i++)
        p->gpr[i] = torture_mix(seed * 64 + (uint64_t)i) | 1;   /* never zero */
    for (int r = 0; r < 16; r++)
        for (int b = 0; b < 32; b += 8) {
            uint64_t v = torture_mix(seed * 1024 + (uint64_t)(r * 4 + b / 8) + 512);
            __builtin_memcpy(&p->vec[r][b], &v, 8);
        }
    uint64_t m = torture_mix(seed + 7);
    /* MXCSR: all exceptions masked (bits 7-12), a rounding mode (13-14),
     * and FZ (15) / DAZ (6) varied; flags (0-5) clear. */
    p->mxcsr = 0x1f80 | ((m & 3) << 13) | (((m >> 2) & 1) << 15) | (((m >> 3) & 1) << 6);
    /* x87 control word: exceptions masked, precision (8-9) and rounding
     * (10-11) varied. */
    p->fcw = (uint16_t)(0x007f | (((m >> 4) & 3) << 8) | (((m >> 6) & 3) << 10));
    uint64_t flags = TORTURE_VEC;
    if (fpu_xcr0 & 0x4)                         /* AVX state enabled */
        flags |= TORTURE_AVX;
    return flags;
}

const char *torture_bit_name(unsigned bit)
{
    /* The order of TP_GPR in arch/torture.h. */
    static const char *const gpr[13] = { "rbx", "rbp", "r12", "r13", "r14", "r15", "rcx",
                                         "rdx", "rsi", "rdi", "r8", "r9", "r10" };
    static const char *const xmm[16] = { "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
                                         "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                                         "xmm12", "xmm13", "xmm14", "xmm15" };
    static const char *const ymmh[16] = { "ymm0.hi", "ymm1.hi", "ymm2.hi", "ymm3.hi",
                                          "ymm4.hi", "ymm5.hi", "ymm6.hi", "ymm7.hi",
                                          "ymm8.hi", "ymm9.hi", "ymm10.hi", "ymm11.hi",
                                          "ymm12.hi", "ymm13.hi", "ymm14.hi", "ymm15.hi" };
    if (bit < 13)
        return gpr[bit];
    if (bit >= 16 && bit < 32)
        return xmm[bit - 16];
    if (bit >= 32 && bit < 48)
        return ymmh[bit - 32];
    if (bit == 48)
        return "mxcsr";
    if (bit == 49)
        return "x87-cw";
    return NULL;
}
