/* Register patterns for the torture test: distinct per thread and round,
 * and only values the registers keep (FPCR's and FPSR's writable bits). */
#include <arch/torture.h>
#include <kern/ktest.h>
#include <kern/types.h>

uint64_t torture_pattern_fill(struct torture_pattern *p, uint64_t seed)
{
    /* x1..x28 in gpr[0..27], and gpr[28] for x0 in a system call. */
    for (int i = 0; i < 29; i++)
        p->gpr[i] = torture_mix(seed * 64 + (uint64_t)i) | 1;   /* never zero */
    for (int r = 0; r < 32; r++)
        for (int b = 0; b < 16; b += 8) {
            uint64_t v = torture_mix(seed * 1024 + (uint64_t)(r * 2 + b / 8) + 512);
            __builtin_memcpy(&p->vec[r][b], &v, 8);
        }
    uint64_t m = torture_mix(seed + 7);
    /* FPCR: the rounding mode (23-22), flush-to-zero (24), default NaN
     * (25), alternative half precision (26); the trap enables stay off. */
    p->fpcr = (uint32_t)(((m & 3) << 22) | (((m >> 2) & 1) << 24) | (((m >> 3) & 1) << 25) |
                         (((m >> 4) & 1) << 26));
    /* FPSR: the cumulative exception flags (0-4, 7) and QC (27). */
    p->fpsr = (uint32_t)(((m >> 8) & 0x1f) | (((m >> 13) & 1) << 7) | (((m >> 14) & 1) << 27));
    return TORTURE_VEC;
}

const char *torture_bit_name(unsigned bit)
{
    static const char *const gpr[28] = {
        "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
        "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25",
        "x26", "x27", "x28" };
    static const char *const vec[32] = {
        "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12",
        "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24",
        "v25", "v26", "v27", "v28", "v29", "v30", "v31" };
    if (bit < 28)
        return gpr[bit];
    if (bit < 60)
        return vec[bit - 28];
    if (bit == 60)
        return "fpcr";
    if (bit == 61)
        return "fpsr";
    return NULL;
}
