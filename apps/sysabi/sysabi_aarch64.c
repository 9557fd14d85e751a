/*
 * sysabi's arm64 port (sysabi.c is the arch-neutral half; sysabi_port.h
 * says what they share; README.md describes the app).
 *
 * Across an `svc #0`, every register but x0 (the result) must survive:
 * x1-x30 (x8, the number, included), sp, NZCV, all of q0-q31, FPCR, FPSR
 * and TPIDR_EL0. regs_aarch64.S loads the patterns made here into all of
 * them around one system call (or a preemption spin) and stores what came
 * back; this file compares.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sysabi_port.h"

uint64_t sysabi_round(const struct sysabi_regs *in, struct sysabi_regs *out, uint64_t mode,
                      const struct sysabi_spin *spin);
uint64_t sysabi_counter(void);
uint64_t sysabi_counter_hz(void);
uint64_t sysabi_tpidr(void);

const char sysabi_port_contract[] = "an arm64 system call keeps every register but x0";
const char sysabi_port_options[] =
    "  --self-test-broken[=x9|v15|both]\n"
    "                         clobber x9 (default) and/or v15 after every\n"
    "                         svc: the run must then report MISMATCH and fail\n";
const char *const sysabi_port_arg_name[6] = { "x0", "x1", "x2", "x3", "x4", "x5" };

static uint64_t opt_broken;     /* M_BROKEN_* */

int sysabi_port_option(const char *a)
{
    if (!strcmp(a, "--self-test-broken") || !strcmp(a, "--self-test-broken=x9"))
        opt_broken = M_BROKEN_X9;
    else if (!strcmp(a, "--self-test-broken=v15"))
        opt_broken = M_BROKEN_V15;
    else if (!strcmp(a, "--self-test-broken=both"))
        opt_broken = M_BROKEN_X9 | M_BROKEN_V15;
    else
        return 0;
    return 1;
}

/* Nothing to find out: every arm64 CPU has q0-q31 (AArch64 needs FP/SIMD). */
void sysabi_port_setup(void)
{
}

void sysabi_port_describe(void)
{
    printf("x1-x30 (x8 the number), sp, nzcv, v0-v31, fpcr, fpsr, tpidr_el0 (aarch64)\n");
    if (opt_broken)
        printf("sysabi: self-test: clobbering%s%s after every svc; this run must fail\n",
               (opt_broken & M_BROKEN_X9) ? " x9" : "", (opt_broken & M_BROKEN_V15) ? " v15" : "");
}

/* Counter ticks per microsecond: CNTFRQ_EL0, or measured against
 * CLOCK_MONOTONIC where firmware left it 0. */
double sysabi_port_ticks_per_us(void)
{
    uint64_t hz = sysabi_counter_hz();
    if (hz)
        return (double)hz / 1e6;
    double f = sysabi_measure_ticks_per_us(sysabi_counter);
    return f > 0 ? f : 62.5;    /* unusable: QEMU virt's 62.5 MHz */
}

uint64_t sysabi_port_tls(void)
{
    return sysabi_tpidr();
}

uint64_t *sysabi_port_arg(struct sysabi_regs *r, unsigned i)
{
    return &r->x[i];
}

#define CODE_VEC     0x80       /* + i */
#define CODE_MISC    0xf0

void sysabi_port_fill(struct sysabi_regs *in, int t, uint64_t r)
{
    for (unsigned i = 0; i < 31; i++)
        in->x[i] = sysabi_pat(t, r, i, 0);
    uint64_t m = sysabi_pat(t, r, CODE_MISC, 0) >> 16;
    in->nzcv = (m << 28) & NZCV_MASK;
    in->fpcr = (m << 18) & FPCR_MASK;
    in->fpsr = (m << 5) & FPSR_MASK;
    for (unsigned i = 0; i < 32; i++)
        for (unsigned q = 0; q < 2; q++) {
            uint64_t v = sysabi_pat(t, r, CODE_VEC + i, q);
            memcpy(in->v[i] + 8 * q, &v, 8);
        }
}

/* The number goes in x8, which is compared afterwards like the rest; a
 * spin leaves x8 a pattern. */
uint64_t sysabi_port_round(struct sysabi_regs *in, struct sysabi_regs *out, uint64_t nr,
                           const struct sysabi_spin *spin)
{
    if (spin)
        return sysabi_round(in, out, M_SPIN, spin);
    in->x[8] = nr;
    return sysabi_round(in, out, opt_broken, NULL);
}

/* A spin computes with x0 and NZCV, so those are left out there. */
int sysabi_port_check(const struct sysabi_regs *in, const struct sysabi_regs *out,
                      uint64_t tpidr, int t, const char *kind, int spin)
{
    int bad = 0;
    char reg[32];

    for (unsigned i = 1; i < 31; i++)
        if (out->x[i] != in->x[i]) {
            snprintf(reg, sizeof(reg), "x%u", i);
            sysabi_report_u64(t, kind, reg, in->x[i], out->x[i]);
            bad++;
        }
    if (out->sp != out->sp0) {
        sysabi_report_u64(t, kind, "sp", out->sp0, out->sp);
        bad++;
    }
    if (!spin && (out->nzcv & NZCV_MASK) != in->nzcv) {
        sysabi_report_u64(t, kind, "nzcv", in->nzcv, out->nzcv & NZCV_MASK);
        bad++;
    }
    if ((out->fpcr & FPCR_MASK) != in->fpcr) {
        sysabi_report_u64(t, kind, "fpcr", in->fpcr, out->fpcr & FPCR_MASK);
        bad++;
    }
    if ((out->fpsr & FPSR_MASK) != in->fpsr) {
        sysabi_report_u64(t, kind, "fpsr", in->fpsr, out->fpsr & FPSR_MASK);
        bad++;
    }
    if (out->tpidr != tpidr) {
        sysabi_report_u64(t, kind, "tpidr_el0", tpidr, out->tpidr);
        bad++;
    }
    for (unsigned i = 0; i < 32; i++)
        for (unsigned q = 0; q < 2; q++) {
            uint64_t a, b;
            memcpy(&a, in->v[i] + 8 * q, 8);
            memcpy(&b, out->v[i] + 8 * q, 8);
            if (a != b) {
                snprintf(reg, sizeof(reg), "v%u.d%u", i, q);
                sysabi_report_u64(t, kind, reg, a, b);
                bad++;
            }
        }
    return bad;
}
