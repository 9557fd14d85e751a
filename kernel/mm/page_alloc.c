/*
 * Physical page allocator: a binary buddy system.
 *
 * Free memory is kept as blocks of 2^order pages, naturally aligned in
 * physical address space, on one free list per order. Allocation takes the
 * smallest block that fits and splits it down; freeing merges a block with
 * its buddy (the other half of the block it was split from) for as long as
 * the buddy is free too.
 *
 * One state byte per page of the managed span [base, limit) records what
 * the page is: the first page of a free or allocated block (with the
 * block's order), a page inside a block, or a page we do not manage. That
 * is what lets page_free tell a double free or a wrong order from a
 * legitimate free, and it is how a buddy's freeness is known without
 * walking a list.
 *
 * The free lists are threaded through the free blocks themselves: the
 * first bytes of each free block hold a magic word and the physical
 * addresses of its neighbours. The magic is checked whenever a block
 * leaves a list, which catches most writes to freed pages.
 *
 * Physical page 0 is never managed, so 0 can mean "no memory".
 */
#include <kern/page_alloc.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <arch/mm.h>

/*
 * Per-page state. The first page of a block carries a type in the top
 * bits and the order in the low five; every other page of a block is
 * PS_TAIL. PS_AVAIL exists only while page_alloc_init builds the lists.
 */
#define PS_TAIL         0x00
#define PS_AVAIL        0x20
#define PS_ALLOC        0x40
#define PS_FREE         0x80
#define PS_TYPE_MASK    0xe0
#define PS_ORDER_MASK   0x1f
#define PS_RESERVED     0xff    /* hole, page 0, or the state array itself */

#define FREE_MAGIC      0x4545524650414754ULL  /* "TGAPFREE" */

_Static_assert(PAGE_ALLOC_MAX_ORDER <= PS_ORDER_MASK,
               "the order must fit in a state byte");

/* The head of a free block, stored in the block. Links are physical
 * addresses (0 ends a list) so that no virt_to_phys is needed. */
struct free_block {
    uint64_t magic;
    paddr_t next;
    paddr_t prev;
};

static spinlock_t lock = SPINLOCK_INIT;
static unsigned long lock_flags;    /* saved by pa_lock, valid while held */

static uint8_t *state;              /* one byte per page in [base, limit) */
static paddr_t base, limit;
static paddr_t free_head[PAGE_ALLOC_MAX_ORDER + 1];
static struct page_stats stats;

static void pa_lock(void)
{
    unsigned long flags = spin_lock_irqsave(&lock);
    lock_flags = flags;
}

static void pa_unlock(void)
{
    spin_unlock_irqrestore(&lock, lock_flags);
}

/* Panic with the lock released, so that whatever runs after a panic (the
 * host unit tests, or a backtrace that allocates) does not deadlock. */
#define PA_PANIC(...) do { \
        pa_unlock(); \
        panic(__VA_ARGS__); \
    } while (0)

static inline uint64_t block_bytes(unsigned order)
{
    return (uint64_t)PAGE_SIZE << order;
}

static inline size_t page_index(paddr_t pa)
{
    return (size_t)((pa - base) >> PAGE_SHIFT);
}

static inline bool in_span(paddr_t pa)
{
    return state != NULL && pa >= base && pa < limit;
}

static inline bool is_free_head(uint8_t s)
{
    return (s & PS_TYPE_MASK) == PS_FREE;
}

static inline bool is_alloc_head(uint8_t s)
{
    return (s & PS_TYPE_MASK) == PS_ALLOC;
}

static inline unsigned state_order(uint8_t s)
{
    return s & PS_ORDER_MASK;
}

static inline struct free_block *fb(paddr_t pa)
{
    return phys_to_virt(pa);
}

static inline unsigned long long ull(uint64_t v)
{
    return (unsigned long long)v;
}

static void list_push(paddr_t pa, unsigned order)
{
    struct free_block *b = fb(pa);

    b->magic = FREE_MAGIC;
    b->prev = 0;
    b->next = free_head[order];
    if (b->next)
        fb(b->next)->prev = pa;
    free_head[order] = pa;
    state[page_index(pa)] = PS_FREE | order;
    stats.free_blocks[order]++;
}

/* Unlink a free block. The caller sets the page's new state. */
static void list_remove(paddr_t pa, unsigned order)
{
    struct free_block *b = fb(pa);

    if (b->magic != FREE_MAGIC)
        PA_PANIC("page_alloc: free block %#llx (order %u) was overwritten "
                 "(magic %#llx): use after free of pages?",
                 ull(pa), order, ull(b->magic));
    if (b->prev)
        fb(b->prev)->next = b->next;
    else
        free_head[order] = b->next;
    if (b->next)
        fb(b->next)->prev = b->prev;
    b->magic = 0;
    stats.free_blocks[order]--;
}

/* Trim a range inward to whole pages, leaving out page 0. */
static bool trim_range(const struct mem_region *r, paddr_t *s, paddr_t *e)
{
    paddr_t start = ALIGN_UP(r->start, (paddr_t)PAGE_SIZE);
    paddr_t end = ALIGN_DOWN(r->end, (paddr_t)PAGE_SIZE);

    if (start < r->start)           /* wrapped around the top */
        return false;
    if (start == 0)
        start = PAGE_SIZE;
    if (start >= end)
        return false;
    *s = start;
    *e = end;
    return true;
}

/* Add the free pages [pa, end) as maximal naturally aligned blocks. */
static void add_run(paddr_t pa, paddr_t end)
{
    while (pa < end) {
        unsigned order = 0;
        while (order < PAGE_ALLOC_MAX_ORDER &&
               IS_ALIGNED(pa, block_bytes(order + 1)) &&
               pa + block_bytes(order + 1) <= end)
            order++;
        list_push(pa, order);
        stats.free_pages += 1ULL << order;
        pa += block_bytes(order);
    }
}

bool page_alloc_ready(void)
{
    return state != NULL;
}

uint64_t page_alloc_init(const struct mem_region *free, unsigned n)
{
    paddr_t lo = ~(paddr_t)0, hi = 0, s, e, meta = 0;
    uint64_t span_pages, meta_bytes;

    pa_lock();
    state = NULL;
    base = limit = 0;
    memset(free_head, 0, sizeof(free_head));
    memset(&stats, 0, sizeof(stats));

    for (unsigned i = 0; i < n; i++) {
        if (!trim_range(&free[i], &s, &e))
            continue;
        lo = MIN(lo, s);
        hi = MAX(hi, e);
    }
    if (hi == 0) {
        pa_unlock();
        pr_warn("page_alloc: no usable memory\n");
        return 0;
    }

    /* The state array covers the whole span, holes included, so that a
     * page's state is found by subtraction. It lives in the first range
     * that can hold it, and those pages are then not managed. */
    span_pages = (hi - lo) >> PAGE_SHIFT;
    meta_bytes = ALIGN_UP(span_pages, (uint64_t)PAGE_SIZE);
    for (unsigned i = 0; i < n; i++) {
        if (trim_range(&free[i], &s, &e) && e - s >= meta_bytes) {
            meta = s;
            break;
        }
    }
    if (meta == 0)
        PA_PANIC("page_alloc: no free range can hold the %llu-byte page "
                 "state array for [%#llx, %#llx)",
                 ull(meta_bytes), ull(lo), ull(hi));

    base = lo;
    limit = hi;
    state = phys_to_virt(meta);
    stats.metadata_bytes = span_pages;

    /* Mark what the ranges offer (overlaps and any order are fine), take
     * out the state array, then turn each run of usable pages into
     * blocks. */
    memset(state, PS_RESERVED, span_pages);
    for (unsigned i = 0; i < n; i++) {
        if (trim_range(&free[i], &s, &e))
            memset(state + page_index(s), PS_AVAIL, (e - s) >> PAGE_SHIFT);
    }
    memset(state + page_index(meta), PS_RESERVED, meta_bytes >> PAGE_SHIFT);

    for (paddr_t pa = base; pa < limit; ) {
        paddr_t end = pa;
        while (end < limit && state[page_index(end)] == PS_AVAIL) {
            state[page_index(end)] = PS_TAIL;
            end += PAGE_SIZE;
        }
        if (end == pa) {
            pa += PAGE_SIZE;
            continue;
        }
        add_run(pa, end);
        pa = end;
    }
    stats.total_pages = stats.free_pages;
    pa_unlock();

    pr_debug("page_alloc: %llu pages in [%#llx, %#llx), state array at %#llx\n",
             ull(stats.total_pages), ull(base), ull(limit), ull(meta));
    return stats.total_pages;
}

paddr_t page_alloc(unsigned order)
{
    unsigned o;
    paddr_t pa;

    pa_lock();
    for (o = order; o <= PAGE_ALLOC_MAX_ORDER; o++) {
        if (free_head[o])
            break;
    }
    if (o > PAGE_ALLOC_MAX_ORDER) {     /* also order > MAX_ORDER */
        stats.failures++;
        pa_unlock();
        return 0;
    }

    pa = free_head[o];
    list_remove(pa, o);
    /* Split: give back the upper half until the block is the right size. */
    while (o > order) {
        o--;
        list_push(pa + block_bytes(o), o);
    }
    state[page_index(pa)] = PS_ALLOC | order;
    stats.free_pages -= 1ULL << order;
    stats.allocs++;
    pa_unlock();
    return pa;
}

/* pa is a tail page: find the block it lies in and say what is wrong.
 * Blocks are naturally aligned, so the head of the block holding pa is
 * pa rounded down to that block's size: try each size in turn. */
static void __noreturn bad_tail_free(paddr_t pa, unsigned order)
{
    for (unsigned o = 1; o <= PAGE_ALLOC_MAX_ORDER; o++) {
        paddr_t h = ALIGN_DOWN(pa, block_bytes(o));
        if (h < base)
            break;
        uint8_t s = state[page_index(h)];
        if (s == PS_RESERVED || s == PS_TAIL || state_order(s) < o)
            continue;
        if (is_free_head(s))
            PA_PANIC("page_free: double free of %#llx (order %u): it lies "
                     "in the free block %#llx (order %u)",
                     ull(pa), order, ull(h), state_order(s));
        PA_PANIC("page_free: %#llx (order %u) is not allocated: it is inside "
                 "the block allocated at %#llx (order %u)",
                 ull(pa), order, ull(h), state_order(s));
    }
    PA_PANIC("page_free: %#llx (order %u) is not allocated (not a block start)",
             ull(pa), order);
}

void page_free(paddr_t pa, unsigned order)
{
    uint8_t s;

    pa_lock();
    if (order > PAGE_ALLOC_MAX_ORDER)
        PA_PANIC("page_free: %#llx: wrong order %u (max %u)",
                 ull(pa), order, PAGE_ALLOC_MAX_ORDER);
    if (!IS_ALIGNED(pa, (paddr_t)PAGE_SIZE))
        PA_PANIC("page_free: %#llx (order %u) is misaligned: not a page "
                 "address", ull(pa), order);
    if (!in_span(pa))
        PA_PANIC("page_free: %#llx (order %u) is unmanaged: outside the "
                 "managed span [%#llx, %#llx)",
                 ull(pa), order, ull(base), ull(limit));

    s = state[page_index(pa)];
    if (s == PS_RESERVED)
        PA_PANIC("page_free: %#llx (order %u) is unmanaged (a hole or "
                 "reserved page)", ull(pa), order);
    if (is_free_head(s))
        PA_PANIC("page_free: double free of %#llx (order %u)", ull(pa), order);
    if (!is_alloc_head(s))
        bad_tail_free(pa, order);
    if (state_order(s) != order)
        PA_PANIC("page_free: wrong order for %#llx: freed as order %u, "
                 "allocated as order %u", ull(pa), order, state_order(s));
    /* Allocated heads are aligned by construction; a misaligned one
     * means the state array itself is damaged. */
    if (!IS_ALIGNED(pa, block_bytes(order)))
        PA_PANIC("page_free: %#llx is misaligned for order %u (state array "
                 "damaged?)", ull(pa), order);

    state[page_index(pa)] = PS_TAIL;
    stats.free_pages += 1ULL << order;
    stats.frees++;

    /* Merge with the buddy for as long as it is a whole free block. A
     * buddy outside the span, reserved, split or allocated stops it. */
    while (order < PAGE_ALLOC_MAX_ORDER) {
        paddr_t buddy = pa ^ block_bytes(order);
        if (!in_span(buddy) || state[page_index(buddy)] != (PS_FREE | order))
            break;
        list_remove(buddy, order);
        state[page_index(buddy)] = PS_TAIL;
        pa = MIN(pa, buddy);
        order++;
    }
    list_push(pa, order);
    pa_unlock();
}

void page_alloc_trim(paddr_t pa, unsigned order, uint64_t pages)
{
    pa_lock();
    if (order > PAGE_ALLOC_MAX_ORDER || !in_span(pa) ||
        state[page_index(pa)] != (PS_ALLOC | order))
        PA_PANIC("page_alloc_trim: %#llx is not a block allocated with order %u",
                 ull(pa), order);
    if (pages == 0 || pages > 1ULL << order)
        PA_PANIC("page_alloc_trim: cannot keep %llu pages of an order-%u block",
                 ull(pages), order);
    /* Halve the block until what is kept fills it. An upper half past the
     * kept pages goes back whole; its buddy, the lower half, is in use, so
     * it cannot merge. A lower half that is all kept becomes an allocated
     * block of its own and the trimming goes on in the upper half. */
    while (pages < 1ULL << order) {
        order--;
        uint64_t half = 1ULL << order;
        state[page_index(pa)] = PS_ALLOC | order;
        if (pages <= half) {
            list_push(pa + block_bytes(order), order);
            stats.free_pages += half;
        } else {
            pa += block_bytes(order);
            state[page_index(pa)] = PS_ALLOC | order;
            pages -= half;
        }
    }
    pa_unlock();
}

unsigned page_order_for(size_t bytes)
{
    uint64_t pages = ((uint64_t)bytes >> PAGE_SHIFT) +
                     ((bytes & (PAGE_SIZE - 1)) != 0);

    if (pages <= 1)
        return 0;
    return 64 - (unsigned)__builtin_clzll(pages - 1);
}

void page_alloc_stats(struct page_stats *st)
{
    pa_lock();
    *st = stats;
    pa_unlock();
}

void page_alloc_print_stats(void)
{
    struct page_stats st;
    char line[32 * (PAGE_ALLOC_MAX_ORDER + 1)];
    size_t len = 0;
    uint64_t free_tenths_mib;

    page_alloc_stats(&st);
    /* One decimal without floating point: tenths of a MiB, rounded down. */
    free_tenths_mib = (st.free_pages * PAGE_SIZE * 10) / MiB;
    pr_info("pages: %llu total, %llu free (%llu.%llu MiB), %llu allocs, "
            "%llu frees, %llu failures, %llu KiB state\n",
            ull(st.total_pages), ull(st.free_pages),
            ull(free_tenths_mib / 10), ull(free_tenths_mib % 10),
            ull(st.allocs), ull(st.frees), ull(st.failures),
            ull((st.metadata_bytes + KiB - 1) / KiB));

    /* Free blocks as order:count, skipping empty orders. */
    line[0] = 0;
    for (unsigned o = 0; o <= PAGE_ALLOC_MAX_ORDER; o++) {
        if (st.free_blocks[o] == 0)
            continue;
        int w = snprintf(line + len, sizeof(line) - len, " %u:%llu",
                         o, ull(st.free_blocks[o]));
        if (w < 0 || (size_t)w >= sizeof(line) - len)
            break;
        len += (size_t)w;
    }
    pr_info("pages: free blocks by order:%s\n", len ? line : " none");
}
