/*
 * sysabi's x86_64 port (sysabi.c is the arch-neutral half; sysabi_port.h
 * says what they share; README.md describes the app).
 *
 * Across a `syscall`, every register but rax, rcx and r11 must survive:
 * the other GPRs, the rflags arithmetic bits and DF, all vector state
 * (xmm/ymm/zmm, k0-7, x87 st0-7, MXCSR, x87 control word), the FS base and
 * the 128-byte red zone below rsp. regs.S loads the patterns made here
 * into all of them around one system call (or a preemption spin) and
 * stores what came back; this file compares.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <cpuid.h>

#include "sysabi_port.h"

#ifndef AT_HWCAP2
#define AT_HWCAP2 26
#endif
#define HWCAP2_FSGSBASE (1 << 1)

uint64_t sysabi_round(const struct sysabi_regs *in, struct sysabi_regs *out, uint64_t nr,
                      uint64_t mode, const struct sysabi_spin *spin);
uint64_t sysabi_xgetbv0(void);
uint32_t sysabi_mxcsr_mask(void);
uint64_t sysabi_fs0(void);
uint64_t sysabi_rdtsc(void);

const char sysabi_port_contract[] = "a system call keeps every register but rax, rcx and r11";
const char sysabi_port_options[] =
    "  --vector=auto|sse|avx|avx512  vector registers to check (default: all enabled)\n"
    "  --no-fsgsbase          do not use rdfsbase even if AT_HWCAP2 allows it\n"
    "  --self-test-broken[=r10|xmm15|both]\n"
    "                         clobber r10 (default) and/or xmm15 after every\n"
    "                         syscall: the run must then report MISMATCH and fail\n";
const char *const sysabi_port_arg_name[6] = { "rdi", "rsi", "rdx", "r10", "r8", "r9" };

static const char *opt_vector = "auto";
static int opt_no_fsgsbase;
static uint64_t opt_broken;     /* M_BROKEN_* */

static uint64_t mode_base;      /* vector and FS-base bits for sysabi_round */
static uint32_t mxcsr_mask;

int sysabi_port_option(const char *a)
{
    if (!strncmp(a, "--vector=", 9)) {
        opt_vector = a + 9;
        if (strcmp(opt_vector, "auto") && strcmp(opt_vector, "sse") &&
            strcmp(opt_vector, "avx") && strcmp(opt_vector, "avx512")) {
            fprintf(stderr, "sysabi: %s: choose auto, sse, avx or avx512\n", a);
            exit(2);
        }
    } else if (!strcmp(a, "--no-fsgsbase")) {
        opt_no_fsgsbase = 1;
    } else if (!strcmp(a, "--self-test-broken") || !strcmp(a, "--self-test-broken=r10")) {
        opt_broken = M_BROKEN_R10;
    } else if (!strcmp(a, "--self-test-broken=xmm15")) {
        opt_broken = M_BROKEN_XMM15;
    } else if (!strcmp(a, "--self-test-broken=both")) {
        opt_broken = M_BROKEN_R10 | M_BROKEN_XMM15;
    } else {
        return 0;
    }
    return 1;
}

void sysabi_port_setup(void)
{
    unsigned a, b, c, d;
    int avx = 0, avx512 = 0, avx512bw = 0;
    __cpuid(1, a, b, c, d);
    if ((c & bit_OSXSAVE) && (c & bit_AVX)) {
        uint64_t xcr0 = sysabi_xgetbv0();
        avx = (xcr0 & 6) == 6;
        if (avx && __get_cpuid_max(0, NULL) >= 7) {
            __cpuid_count(7, 0, a, b, c, d);
            avx512 = (b & bit_AVX512F) && (xcr0 & 0xe6) == 0xe6;
            avx512bw = avx512 && (b & bit_AVX512BW);
        }
    }
    if (!strcmp(opt_vector, "sse")) {
        avx = avx512 = 0;
    } else if (!strcmp(opt_vector, "avx")) {
        if (!avx) {
            fprintf(stderr, "sysabi: --vector=avx: AVX is not enabled here\n");
            exit(2);
        }
        avx512 = 0;
    } else if (!strcmp(opt_vector, "avx512")) {
        if (!avx512) {
            fprintf(stderr, "sysabi: --vector=avx512: AVX-512 is not enabled here\n");
            exit(2);
        }
    }
    mode_base = (avx ? M_AVX : 0) | (avx512 ? M_AVX512 : 0) | (avx512bw ? M_AVX512BW : 0);
    /* rdfsbase faults unless the kernel enabled it (CR4.FSGSBASE); Linux
     * says so in AT_HWCAP2. Without it, %fs:0 alone shows the FS base. */
    if (!opt_no_fsgsbase && (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE))
        mode_base |= M_FSGSBASE;
    mxcsr_mask = sysabi_mxcsr_mask();
}

void sysabi_port_describe(void)
{
    printf("rbx rbp rsp rsi rdi rdx r8 r9 r10 r12-r15 (+ rcx r11 when preempted), rflags CF PF "
           "AF ZF SF OF DF, %s, x87 st0-7, fcw, mxcsr, fs:0%s, red zone\n",
           (mode_base & M_AVX512) ? "zmm0-31 k0-7" : (mode_base & M_AVX) ? "ymm0-15" : "xmm0-15",
           (mode_base & M_FSGSBASE) ? " + rdfsbase" : "");
    if (opt_broken)
        printf("sysabi: self-test: clobbering%s%s after every syscall; this run must fail\n",
               (opt_broken & M_BROKEN_R10) ? " r10" : "",
               (opt_broken & M_BROKEN_XMM15) ? " xmm15" : "");
}

/* TSC ticks per microsecond, measured against CLOCK_MONOTONIC. */
double sysabi_port_ticks_per_us(void)
{
    double f = sysabi_measure_ticks_per_us(sysabi_rdtsc);
    return f >= 1 ? f : 1000;   /* unusable TSC: guess 1 GHz */
}

/* The TLS self pointer: equals the FS base. */
uint64_t sysabi_port_tls(void)
{
    return sysabi_fs0();
}

uint64_t *sysabi_port_arg(struct sysabi_regs *r, unsigned i)
{
    static const unsigned gpr[6] = { G_RDI, G_RSI, G_RDX, 10, 8, 9 };
    return &r->gpr[gpr[i]];
}

#define CODE_REDZONE 0x40       /* + word */
#define CODE_ST      0x50       /* + i */
#define CODE_K       0x60       /* + i */
#define CODE_VEC     0x80       /* + i */
#define CODE_MISC    0xf0

void sysabi_port_fill(struct sysabi_regs *in, int t, uint64_t r)
{
    for (unsigned i = 0; i < 16; i++)
        in->gpr[i] = sysabi_pat(t, r, i, 0);
    in->gpr[G_RSP] = 0;         /* regs.S records it: out->rsp0 */
    in->rflags = sysabi_pat(t, r, CODE_MISC, 0) >> 20 & FLAGS_MASK;

    uint64_t m = sysabi_pat(t, r, CODE_MISC, 1) >> 16;
    /* all exceptions masked; rounding, FZ, DAZ and the sticky flags vary */
    uint32_t mx = 0x1f80 | (uint32_t)(m & 0x3f) | (uint32_t)(m >> 6 & 3) << 13 |
                  (uint32_t)(m >> 8 & 1) << 15 | (uint32_t)(m >> 9 & 1) << 6;
    in->mxcsr = mx & mxcsr_mask;
    /* x87: exceptions masked; precision (single, double, extended) and
     * rounding vary */
    static const uint16_t pc[4] = { 0, 2, 3, 3 };
    in->fcw = (uint16_t)(0x7f | pc[m >> 10 & 3] << 8 | (m >> 12 & 3) << 10);

    for (unsigned i = 0; i < NREDZONE; i++)
        in->redzone[i] = sysabi_pat(t, r, CODE_REDZONE + i, 0);
    for (unsigned i = 0; i < 8; i++) {
        /* a normal extended-precision number: explicit integer bit set */
        uint64_t mant = sysabi_pat(t, r, CODE_ST + i, 0) | 1ULL << 63;
        uint64_t e = sysabi_pat(t, r, CODE_ST + i, 1) >> 16;
        uint16_t se = (uint16_t)(0x3f00 + (e & 0x1ff)) | (uint16_t)((e >> 9 & 1) << 15);
        memcpy(in->st[i], &mant, 8);
        memcpy(in->st[i] + 8, &se, 2);
        memset(in->st[i] + 10, 0, 6);
    }
    for (unsigned i = 0; i < 8; i++)
        in->k[i] = sysabi_pat(t, r, CODE_K + i, 0) &
                   ((mode_base & M_AVX512BW) ? ~0ULL : 0xffff);
    for (unsigned i = 0; i < 32; i++)
        for (unsigned q = 0; q < VEC_BYTES / 8; q++) {
            uint64_t v = sysabi_pat(t, r, CODE_VEC + i, q);
            memcpy(in->vec[i] + 8 * q, &v, 8);
        }
}

uint64_t sysabi_port_round(struct sysabi_regs *in, struct sysabi_regs *out, uint64_t nr,
                           const struct sysabi_spin *spin)
{
    if (spin)
        return sysabi_round(in, out, 0, mode_base | M_SPIN, spin);
    return sysabi_round(in, out, nr, mode_base | opt_broken, NULL);
}

static void st_hex(char *buf, size_t n, const uint8_t *st)
{
    uint64_t mant;
    uint16_t se;
    memcpy(&mant, st, 8);
    memcpy(&se, st + 8, 2);
    snprintf(buf, n, "0x%04x%016llx", se, (unsigned long long)mant);
}

int sysabi_port_check(const struct sysabi_regs *in, const struct sysabi_regs *out,
                      uint64_t fs0, int t, const char *kind, int spin)
{
    static const char *const gname[16] = {
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    };
    int bad = 0;
    char reg[32], a[40], b[40];

    for (unsigned i = 0; i < 16; i++) {
        if (i == G_RAX || i == G_RSP)
            continue;
        if (!spin && (i == G_RCX || i == 11))
            continue;           /* the syscall instruction's own */
        if (out->gpr[i] != in->gpr[i]) {
            sysabi_report_u64(t, kind, gname[i], in->gpr[i], out->gpr[i]);
            bad++;
        }
    }
    if (out->gpr[G_RSP] != out->rsp0) {
        sysabi_report_u64(t, kind, "rsp", out->rsp0, out->gpr[G_RSP]);
        bad++;
    }
    /* A spin's loop computes, so only DF carries a pattern there. */
    uint64_t fm = spin ? 0x400 : FLAGS_MASK;
    if ((out->rflags & fm) != (in->rflags & fm)) {
        sysabi_report_u64(t, kind, "rflags", in->rflags & fm, out->rflags & fm);
        bad++;
    }
    for (unsigned i = 0; i < NREDZONE; i++)
        if (out->redzone[i] != in->redzone[i]) {
            snprintf(reg, sizeof(reg), "redzone-%u", 8 * (i + 1));
            sysabi_report_u64(t, kind, reg, in->redzone[i], out->redzone[i]);
            bad++;
        }
    if (out->fs0 != fs0) {
        sysabi_report_u64(t, kind, "fs:0", fs0, out->fs0);
        bad++;
    }
    if ((mode_base & M_FSGSBASE) && out->fsbase != fs0) {
        sysabi_report_u64(t, kind, "fsbase", fs0, out->fsbase);
        bad++;
    }
    if (out->mxcsr != in->mxcsr) {
        sysabi_report_u64(t, kind, "mxcsr", in->mxcsr, out->mxcsr);
        bad++;
    }
    if (out->fcw != in->fcw) {
        sysabi_report_u64(t, kind, "fcw", in->fcw, out->fcw);
        bad++;
    }
    for (unsigned i = 0; i < 8; i++)
        if (memcmp(out->st[i], in->st[i], 10)) {
            snprintf(reg, sizeof(reg), "st%u", i);
            st_hex(a, sizeof(a), in->st[i]);
            st_hex(b, sizeof(b), out->st[i]);
            sysabi_report(t, kind, reg, a, b);
            bad++;
        }
    unsigned nvec = (mode_base & M_AVX512) ? 32 : 16;
    unsigned lanes = (mode_base & M_AVX512) ? 8 : (mode_base & M_AVX) ? 4 : 2;
    for (unsigned i = 0; i < nvec; i++)
        for (unsigned q = 0; q < lanes; q++) {
            uint64_t x, y;
            memcpy(&x, in->vec[i] + 8 * q, 8);
            memcpy(&y, out->vec[i] + 8 * q, 8);
            if (x != y) {
                /* named by the narrowest register holding the lane */
                const char *r = i >= 16 || q >= 4 ? "zmm" : q >= 2 ? "ymm" : "xmm";
                snprintf(reg, sizeof(reg), "%s%u.q%u", r, i, q);
                sysabi_report_u64(t, kind, reg, x, y);
                bad++;
            }
        }
    if (mode_base & M_AVX512)
        for (unsigned i = 0; i < 8; i++)
            if (out->k[i] != in->k[i]) {
                snprintf(reg, sizeof(reg), "k%u", i);
                sysabi_report_u64(t, kind, reg, in->k[i], out->k[i]);
                bad++;
            }
    return bad;
}
