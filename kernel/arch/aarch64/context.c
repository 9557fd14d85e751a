/* New thread contexts for switch.S. */
#include <arch/context.h>
#include <kern/string.h>
#include "aarch64.h"

void thread_trampoline(void);

void arch_context_init(struct arch_context *c, uintptr_t stack_top,
                       void (*entry)(void *), void *arg, void *fpu_state)
{
    /* What arch_switch pops, from the lowest address: x19 x20 ... x28,
     * x29, x30. After the pops sp is stack_top, 16-byte aligned; the
     * trampoline reads entry and arg back from the x19/x20 slots. */
    uint64_t *sp = (uint64_t *)(stack_top & ~15UL) - 12;
    memset(sp, 0, 12 * sizeof(*sp));
    sp[0] = (uint64_t)entry;                /* x19 */
    sp[1] = (uint64_t)arg;                  /* x20 */
    sp[11] = (uint64_t)thread_trampoline;   /* x30 */
    c->sp = (uint64_t)sp;
    c->tpidr_el0 = 0;
    c->spsel = 0;                           /* threads run on SP_EL0 */
    c->fpu_state = fpu_state;
    memset(fpu_state, 0, FPU_STATE_SIZE);   /* FPCR 0: round to nearest, no traps */
}

void arch_context_adopt(struct arch_context *c, void *fpu_state)
{
    c->fpu_state = fpu_state;
    memset(fpu_state, 0, FPU_STATE_SIZE);
}
