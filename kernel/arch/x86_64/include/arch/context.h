/*
 * A thread's saved context for the voluntary switch (switch.S). Offsets
 * are used by the assembly: change both together.
 */
#ifndef ARCH_CONTEXT_H
#define ARCH_CONTEXT_H

#define CTX_RSP      0
#define CTX_FS_BASE  8
#define CTX_MXCSR    16
#define CTX_FCW      20
#define CTX_FPU      24
#define CTX_LOADED_ON 32
#define CTX_APP      40

#ifndef __ASSEMBLY__
#include <stdint.h>

struct arch_context {
    uint64_t rsp;           /* callee-saved GPRs are pushed on the stack */
    uint64_t fs_base;
    uint32_t mxcsr;
    uint16_t fcw;
    uint16_t pad;
    void *fpu_state;        /* 64-byte aligned XSAVE/FXSAVE area */
    void *loaded_on;        /* the struct cpu that last XRSTORed fpu_state */
    uint8_t app;            /* runs app code (arch_context_set_app) */
};

_Static_assert(__builtin_offsetof(struct arch_context, fpu_state) == CTX_FPU,
               "arch_context layout");
_Static_assert(__builtin_offsetof(struct arch_context, loaded_on) == CTX_LOADED_ON,
               "arch_context layout");
_Static_assert(__builtin_offsetof(struct arch_context, app) == CTX_APP,
               "arch_context layout");

/* Switch from prev to next; returns (in next's context) the prev that
 * switched to it. */
struct arch_context *arch_switch(struct arch_context *prev, struct arch_context *next);

/* Prepare a new context that starts in thread_start(entry, arg) on the
 * stack ending at stack_top. */
void arch_context_init(struct arch_context *c, uintptr_t stack_top,
                       void (*entry)(void *), void *arg, void *fpu_state);

/* The thread pointer (TLS base) a new context starts with: the FS base
 * here, TPIDR_EL0 on aarch64; the switch loads it. */
static inline void arch_context_set_tls(struct arch_context *c, uintptr_t tls)
{
    c->fs_base = tls;
}

/* A context not yet started will run app code (or otherwise use FP/SIMD
 * registers and the FS base, as the torture test does). Only such
 * contexts have those switched: kernel C touches neither, so switching
 * to a kernel thread and back leaves an app's state in the registers,
 * and switch.S restores it only when another state was loaded since. */
static inline void arch_context_set_app(struct arch_context *c)
{
    c->app = 1;
}

/* The context of code already running (a CPU's boot context becoming a
 * thread): only its save area, filled by the first switch away. */
void arch_context_adopt(struct arch_context *c, void *fpu_state);
#endif

#endif
