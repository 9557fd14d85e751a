/*
 * Built-in tests that end the kernel on purpose: each must produce a fault
 * report (register dump, backtrace) and exit status EXIT_PANIC. The guest
 * tests check both, which proves the fault path and the page permissions
 * (W^X, NX, guard pages) really work. Plus in-guest allocator checks.
 */
#include <arch/mm.h>
#include <kern/kmalloc.h>
#include <kern/ktest.h>
#include <kern/page_alloc.h>
#include <kern/panic.h>
#include <kern/printk.h>
#include <kern/string.h>

/* Keep the compiler from proving the faults away. */
static volatile uintptr_t opaque_zero;

KTEST(fault_null, "read through a NULL pointer: page fault report")
{
    volatile int *p = (volatile int *)opaque_zero;
    return *p;
}

KTEST(fault_write_text, "write into kernel text: page fault (text is read-only)")
{
    extern char _text[];
    volatile char *p = (volatile char *)_text + opaque_zero;
    *p = 0;
    return 0;
}

KTEST(fault_exec_data, "jump into a data page: page fault (data is NX)")
{
    static uint8_t code[16] = { 0xc3 };     /* ret, in .data */
    void (*fn)(void) = (void (*)(void))((uintptr_t)code + opaque_zero);
    fn();
    return 0;
}

KTEST(fault_ud, "execute an invalid opcode")
{
    __builtin_trap();
}

KTEST(fault_div0, "divide by zero")
{
    volatile unsigned long d = opaque_zero;
    return (int)(100 / d);
}

KTEST(fault_gp, "access a non-canonical address: general protection fault")
{
    volatile int *p = (volatile int *)(0x8000000000000000UL + opaque_zero);
    return *p;
}

static int recurse(int depth)
{
    volatile char pad[256];
    pad[0] = (char)depth;
    if (opaque_zero == 1)       /* never true; keeps the recursion "finite" */
        return depth;
    return recurse(depth + 1) + pad[0];
}

KTEST(stack_overflow, "unbounded recursion: hits the boot stack's guard page")
{
    return recurse(0);
}

KTEST(hang, "spin forever: for testing the launcher's timeout")
{
    while (opaque_zero == 0)
        __asm__ volatile("" ::: "memory");
    return 0;
}

KTEST(panic, "call panic(): message, backtrace, status 70")
{
    panic("ktest: deliberate panic (value %d)", 42);
}

KTEST(heap_double_free, "free a heap object twice: caught")
{
    void *p = kmalloc(100);
    kfree(p);
    kfree(p);
    return 0;
}

KTEST(heap_overflow, "write one byte past a heap object: caught (debug builds)")
{
#ifdef TERN_DEBUG
    char *p = kmalloc(100);
    p[100 + opaque_zero] = 'x';
    kfree(p);
    return 0;
#else
    pr_err("heap_overflow needs a debug kernel (./configure --debug)\n");
    return 2;
#endif
}

/* A deterministic PRNG for the stress tests (xorshift64). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

KTEST(mm_stress, "page allocator and heap stress on real memory; stats balance")
{
    enum { N = 256 };
    static paddr_t pages[N];
    static unsigned orders[N];
    static void *objs[N];
    static size_t sizes[N];
    struct page_stats before, after;
    struct kmalloc_stats kbefore, kafter;

    page_alloc_stats(&before);
    kmalloc_stats(&kbefore);
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < N; i++) {
            orders[i] = rng() % 6;
            pages[i] = page_alloc(orders[i]);
            if (!pages[i])
                return 1;
            memset(phys_to_virt(pages[i]), i & 0xff, PAGE_SIZE << orders[i]);
            sizes[i] = rng() % 5000;
            objs[i] = kmalloc(sizes[i]);
            if (!objs[i])
                return 1;
            memset(objs[i], (i + 1) & 0xff, sizes[i]);
        }
        for (int i = 0; i < N; i++) {
            const uint8_t *p = phys_to_virt(pages[i]);
            for (size_t b = 0; b < (PAGE_SIZE << orders[i]); b += 512)
                if (p[b] != (i & 0xff)) {
                    pr_err("page block %d corrupted\n", i);
                    return 1;
                }
            const uint8_t *o = objs[i];
            for (size_t b = 0; b < sizes[i]; b++)
                if (o[b] != ((i + 1) & 0xff)) {
                    pr_err("heap object %d corrupted\n", i);
                    return 1;
                }
            page_free(pages[i], orders[i]);
            kfree(objs[i]);
        }
    }
    kmalloc_check_all();
    page_alloc_stats(&after);
    kmalloc_stats(&kafter);
    pr_info("mm_stress: %llu page allocs, %llu heap allocs\n",
            (unsigned long long)(after.allocs - before.allocs),
            (unsigned long long)(kafter.allocs - kbefore.allocs));
    if (kafter.bytes_in_use != kbefore.bytes_in_use) {
        pr_err("heap bytes in use %llu, was %llu\n",
               (unsigned long long)kafter.bytes_in_use,
               (unsigned long long)kbefore.bytes_in_use);
        return 1;
    }
    /* Slabs may stay cached, but no page may leak beyond them. */
    uint64_t cached = kafter.slab_pages + kafter.large_pages -
                      kbefore.slab_pages - kbefore.large_pages;
    if (after.free_pages + cached != before.free_pages) {
        pr_err("free pages %llu (+%llu cached in slabs), was %llu\n",
               (unsigned long long)after.free_pages, (unsigned long long)cached,
               (unsigned long long)before.free_pages);
        return 1;
    }
    return 0;
}
