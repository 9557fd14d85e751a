/* New thread contexts for switch.S. */
#include <arch/context.h>
#include <kern/string.h>
#include "x86_64.h"

void thread_trampoline(void);

void arch_context_init(struct arch_context *c, uintptr_t stack_top,
                       void (*entry)(void *), void *arg, void *fpu_state)
{
    /* What arch_switch pops, from the lowest address: r15 r14 [r13] r12
     * rbx rbp, then its return address. After the pops rsp is stack_top,
     * 16-byte aligned, as the ABI wants before thread_trampoline's call. */
#ifdef TERN_BROKEN_SWITCH_R13
    enum { SAVED = 5 };
#else
    enum { SAVED = 6 };
#endif
    uint64_t *sp = (uint64_t *)(stack_top & ~15UL) - (SAVED + 1);
    memset(sp, 0, (SAVED + 1) * sizeof(*sp));
    sp[0] = (uint64_t)arg;                  /* r15 */
    sp[1] = (uint64_t)entry;                /* r14 */
    sp[SAVED] = (uint64_t)thread_trampoline;
    c->rsp = (uint64_t)sp;
    c->fs_base = 0;
    c->mxcsr = 0x1f80;                      /* all exceptions masked */
    c->fcw = 0x37f;
    c->fpu_state = fpu_state;
    memcpy(fpu_state, fpu_init_state, fpu_state_size);
}

void arch_context_adopt(struct arch_context *c, void *fpu_state)
{
    /* A CPU's boot context is a kernel thread, whose FP/SIMD state the
     * switch leaves alone; its area still starts from the clean initial
     * image, as new threads' do, not from whatever the heap held, so that
     * it is a valid XRSTOR image (reserved header bytes zero) should it
     * ever be restored. */
    c->fpu_state = fpu_state;
    memcpy(fpu_state, fpu_init_state, fpu_state_size);
}
