/*
 * Frame-pointer backtraces. Each frame is [saved fp][return address] at fp
 * (x86_64 rbp chain; the aarch64 x29 chain has the same shape). Before a
 * frame is read its address must lie inside a registered kernel stack, and
 * frames must move towards the stack top, so a corrupted chain stops the
 * walk instead of faulting inside the fault handler.
 */
#include <kern/arch.h>
#include <kern/backtrace.h>
#include <kern/ksyms.h>
#include <kern/printk.h>
#include <kern/thread.h>

#define MAX_STACKS 96

static struct { uintptr_t lo, hi; } stacks[MAX_STACKS];
static unsigned nr_stacks;

void stack_register(uintptr_t lo, uintptr_t hi)
{
    if (nr_stacks < MAX_STACKS) {
        stacks[nr_stacks].lo = lo;
        stacks[nr_stacks].hi = hi;
        nr_stacks++;
    }
}

bool stack_contains(uintptr_t addr, size_t len)
{
    if (sched_stack_contains(addr, len))
        return true;
    for (unsigned i = 0; i < nr_stacks; i++)
        if (addr >= stacks[i].lo && addr + len <= stacks[i].hi && addr + len > addr)
            return true;
    return false;
}

static void print_frame(int n, uintptr_t pc)
{
    char sym[128];
    ksym_format(sym, sizeof(sym), pc);
    pr_emerg("  #%-2d %016lx %s\n", n, (unsigned long)pc, sym);
}

void backtrace_print(uintptr_t pc, uintptr_t fp, int max)
{
    int shown = 0, repeats = 0;
    uintptr_t last = 0;

    pr_emerg("backtrace:\n");
    print_frame(shown++, pc);
    /* The walk is bounded by the frames shown and by the stack: frame
     * pointers only move up, inside one registered stack. */
    while (shown < max && fp) {
        if ((fp & (sizeof(uintptr_t) - 1)) || !stack_contains(fp, 2 * sizeof(uintptr_t))) {
            pr_emerg("  (frame pointer %lx is not on a kernel stack; stop)\n",
                     (unsigned long)fp);
            break;
        }
        const uintptr_t *frame = (const uintptr_t *)fp;
        uintptr_t next = frame[0], ret = frame[1];
        if (ret == 0)
            break;
        /* The return address points after the call; show the call itself.
         * Deep recursion prints one line per distinct return address. */
        if (ret == last) {
            repeats++;
        } else {
            if (repeats)
                pr_emerg("  ... the frame above repeats %d more times\n", repeats);
            repeats = 0;
            print_frame(shown++, ret - 1);
            last = ret;
        }
        if (next && next <= fp) {
            pr_emerg("  (frame chain goes backwards; stop)\n");
            break;
        }
        fp = next;
    }
    if (repeats)
        pr_emerg("  ... the frame above repeats %d more times\n", repeats);
}

void backtrace_here(void)
{
    uintptr_t fp = arch_frame_address();
    backtrace_print((uintptr_t)__builtin_return_address(0), *(uintptr_t *)fp, 32);
}
