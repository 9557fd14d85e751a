/*
 * libgcc helpers the kernel calls, in general registers only. Debian's
 * libgcc for arm64 is built with FP/SIMD: its __popcountdi2 (what
 * __builtin_popcount becomes under -mgeneral-regs-only) counts bits with
 * `cnt v0.8b`, clobbering a thread's v0 inside the kernel (the torture
 * test caught it in SYS_tern_test_args). Defined here, the linker takes
 * these instead of libgcc's. scripts/check-kernel-simd.sh checks that no
 * other kernel function uses the vector registers.
 */
#include <kern/types.h>

int __popcountdi2(uint64_t x);
int __popcountdi2(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}
