/*
 * Unit tests for the buddy page allocator (kernel/mm/page_alloc.c).
 *
 * "Physical" memory is a host mapping: phys_to_virt is the identity in the
 * host stand-in <arch/mm.h>, so the ranges handed to page_alloc_init are
 * host addresses. The arena is 1 GiB aligned so that the largest order
 * (2^18 pages = 1 GiB) can exist, and mapped with MAP_NORESERVE: only the
 * pages the allocator and the tests touch take memory.
 */
#include "check.h"

#include <sys/mman.h>

#include <kern/page_alloc.h>
#include <arch/mm.h>

#define ARENA_ALIGN     (1ULL << 30)
#define ARENA_SIZE      (2ULL << 30)
#define PG              ((paddr_t)PAGE_SIZE)

static paddr_t arena;

static paddr_t arena_base(void)
{
    if (!arena) {
        size_t len = ARENA_SIZE + ARENA_ALIGN;
        void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            perror("mmap");
            exit(2);
        }
        arena = ALIGN_UP((paddr_t)(uintptr_t)m, (paddr_t)ARENA_ALIGN);
    }
    return arena;
}

/* Give the pages of a finished test back to the host. */
static void arena_release(void)
{
    madvise((void *)(uintptr_t)arena_base(), ARENA_SIZE, MADV_DONTNEED);
}

static uint64_t init_one(paddr_t start, paddr_t end)
{
    struct mem_region r = { start, end, MEM_RAM };
    return page_alloc_init(&r, 1);
}

static struct page_stats stats(void)
{
    struct page_stats st;
    page_alloc_stats(&st);
    return st;
}

static uint64_t block_pages_sum(const struct page_stats *st)
{
    uint64_t n = 0;
    for (unsigned o = 0; o <= PAGE_ALLOC_MAX_ORDER; o++)
        n += st->free_blocks[o] << o;
    return n;
}

static int same_blocks(const struct page_stats *a, const struct page_stats *b)
{
    return memcmp(a->free_blocks, b->free_blocks, sizeof(a->free_blocks)) == 0 &&
           a->free_pages == b->free_pages;
}

/* Deterministic PRNG (xorshift64*), so failures reproduce. */
#define rng check_rng

/* The layout for a single unaligned 64 MiB range is worked out by hand in
 * init_single_range_counts_pages. */
static uint64_t init_t1(void)
{
    paddr_t a = arena_base();
    return init_one(a + 100, a + 64 * MiB - 5);
}

TEST(init_single_range_counts_pages)
{
    /* [a+100, a+64M-5) trims to pages 1..16382 (16382 pages). The state
     * array needs 16382 bytes = 4 pages, taken from the start (pages
     * 1..4), so pages 5..16382 are managed: 16378. */
    uint64_t n = init_t1();
    struct page_stats st = stats();

    CHECK_EQ_INT(n, 16378);
    CHECK_EQ_INT(st.total_pages, 16378);
    CHECK_EQ_INT(st.free_pages, 16378);
    CHECK_EQ_INT(block_pages_sum(&st), 16378);
    CHECK_EQ_INT(st.metadata_bytes, 16382);
    CHECK_EQ_INT(st.allocs + st.frees + st.failures, 0);
    /* Maximal aligned blocks: 5 | 6-7 | 8-15 | ... | 2048-4095 | 4096-8191
     * | 8192-12287 | 12288-14335 | ... | 16380-16381 | 16382. */
    CHECK_EQ_INT(st.free_blocks[0], 2);
    CHECK_EQ_INT(st.free_blocks[1], 2);
    CHECK_EQ_INT(st.free_blocks[2], 1);
    for (unsigned o = 3; o <= 12; o++)
        CHECK_EQ_INT(st.free_blocks[o], 2);
    for (unsigned o = 13; o <= PAGE_ALLOC_MAX_ORDER; o++)
        CHECK_EQ_INT(st.free_blocks[o], 0);
    page_alloc_print_stats();

    /* An order-13 block does not exist; order 12 does. */
    CHECK_EQ_INT(page_alloc(13), 0);
    CHECK_EQ_INT(stats().failures, 1);
    paddr_t p = page_alloc(12);
    CHECK(p == arena_base() + 4096 * PG || p == arena_base() + 8192 * PG);
    page_free(p, 12);
    arena_release();
}

TEST(init_multiple_ranges_holes_and_edges)
{
    paddr_t a = arena_base();
    struct mem_region r[] = {
        { a + 32 * MiB + 123, a + 40 * MiB, MEM_RAM },      /* pages 8193..10239 */
        { a + 3 * PG, a + 8 * MiB + 77, MEM_RAM },          /* pages 3..2047 */
        { a + 16 * MiB + 1, a + 16 * MiB + 4095, MEM_RAM }, /* no whole page */
        { a + 20 * MiB, a + 20 * MiB + PG, MEM_RAM },       /* page 5120 */
        { a + 24 * MiB, a + 24 * MiB, MEM_RAM },            /* empty */
    };
    /* Span: pages 3..10239 = 10237 pages -> a 3-page state array, carved
     * from the first range big enough (r[0]: pages 8193..8195). */
    uint64_t expect = (2047 - 3) + 2045 + 1;
    uint64_t n = page_alloc_init(r, ARRAY_SIZE(r));
    struct page_stats st0 = stats();

    CHECK_EQ_INT(n, expect);
    CHECK_EQ_INT(st0.total_pages, expect);
    CHECK_EQ_INT(st0.free_pages, expect);
    CHECK_EQ_INT(block_pages_sum(&st0), expect);
    CHECK_EQ_INT(st0.metadata_bytes, 10237);

    /* Every page handed out lies in a range, outside the state array. */
    static paddr_t got[4096];
    uint64_t count = 0;
    paddr_t p;
    while ((p = page_alloc(0)) != 0 && count < ARRAY_SIZE(got)) {
        uint64_t i = (p - a) / PG;
        CHECK(IS_ALIGNED(p, PG));
        CHECK((i >= 8196 && i < 10240) || (i >= 3 && i < 2048) || i == 5120);
        got[count++] = p;
    }
    CHECK_EQ_INT(count, expect);
    CHECK_EQ_INT(p, 0);
    CHECK_EQ_INT(stats().free_pages, 0);
    CHECK_EQ_INT(stats().failures, 1);

    /* Holes, trimmed edges and the state array are not managed. */
    EXPECT_PANIC(page_free(a + 5000 * PG, 0), "unmanaged");
    EXPECT_PANIC(page_free(a + 2048 * PG, 0), "unmanaged");
    EXPECT_PANIC(page_free(a + 8193 * PG, 0), "unmanaged");
    EXPECT_PANIC(page_free(a + 16 * MiB, 0), "unmanaged");

    for (uint64_t i = 0; i < count; i++)
        page_free(got[count - 1 - i], 0);
    struct page_stats st1 = stats();
    CHECK(same_blocks(&st0, &st1));
    CHECK_EQ_INT(st1.allocs, expect);
    CHECK_EQ_INT(st1.frees, expect);
    arena_release();
}

TEST(page_zero_is_never_managed)
{
    paddr_t a = arena_base();
    struct mem_region zero = { 0, PG, MEM_RAM };
    struct mem_region zero_small = { 0, 100, MEM_RAM };

    CHECK_EQ_INT(page_alloc_init(&zero, 1), 0);
    CHECK_EQ_INT(page_alloc(0), 0);
    CHECK_EQ_INT(stats().failures, 1);
    CHECK_EQ_INT(page_alloc_init(&zero_small, 1), 0);
    CHECK_EQ_INT(page_alloc_init(NULL, 0), 0);
    CHECK_EQ_INT(page_alloc(0), 0);
    EXPECT_PANIC(page_free(0, 0), "unmanaged");

    /* With page 0 next to real memory, the span still starts at the real
     * memory: a span from 0 would need a far bigger state array. */
    struct mem_region two[] = {
        { 0, PG, MEM_RAM },
        { a, a + 4 * MiB, MEM_RAM },
    };
    CHECK_EQ_INT(page_alloc_init(two, 2), 1023);
    CHECK_EQ_INT(stats().metadata_bytes, 1024);
    paddr_t p;
    uint64_t count = 0;
    while ((p = page_alloc(0)) != 0)
        count++;
    CHECK_EQ_INT(count, 1023);
    EXPECT_PANIC(page_free(0, 0), "unmanaged");
    arena_release();
}

TEST(alloc_free_every_order_coalesces)
{
    paddr_t a = arena_base();
    /* 2 GiB: the state array breaks up the first GiB, the second is one
     * order-18 block. */
    uint64_t n = init_one(a, a + 2 * GiB);
    struct page_stats st0 = stats();

    CHECK_EQ_INT(n, 2 * GiB / PG - 128);
    CHECK_EQ_INT(st0.free_blocks[PAGE_ALLOC_MAX_ORDER], 1);

    for (unsigned o = 0; o <= PAGE_ALLOC_MAX_ORDER; o++) {
        paddr_t p = page_alloc(o);
        CHECK(p != 0);
        CHECK(IS_ALIGNED(p, PG << o));
        CHECK(p >= a && p + (PG << o) <= a + 2 * GiB);
        CHECK_EQ_INT(stats().free_pages, st0.free_pages - (1ULL << o));
        page_free(p, o);
        struct page_stats st = stats();
        CHECK(same_blocks(&st0, &st));
    }

    /* Hold several blocks of each order at once, free them in a
     * different order than allocated: everything merges back. */
    paddr_t held[PAGE_ALLOC_MAX_ORDER + 1][3];
    uint64_t used = 0;
    for (unsigned o = 0; o <= 12; o++) {
        for (int k = 0; k < 3; k++) {
            held[o][k] = page_alloc(o);
            CHECK(held[o][k] != 0);
            CHECK(IS_ALIGNED(held[o][k], PG << o));
            used += 1ULL << o;
        }
    }
    CHECK_EQ_INT(stats().free_pages, st0.free_pages - used);
    for (int k = 0; k < 3; k++)
        for (unsigned o = 0; o <= 12; o++)
            page_free(held[(o * 7 + k) % 13][k], (o * 7 + k) % 13);
    struct page_stats st1 = stats();
    CHECK(same_blocks(&st0, &st1));

    /* Orders past the maximum simply fail. */
    uint64_t f = st1.failures;
    CHECK_EQ_INT(page_alloc(PAGE_ALLOC_MAX_ORDER + 1), 0);
    CHECK_EQ_INT(page_alloc(1000), 0);
    CHECK_EQ_INT(stats().failures, f + 2);
    arena_release();
}

TEST(split_takes_smallest_block)
{
    init_t1();
    struct page_stats st0 = stats(), st;
    paddr_t a = arena_base();

    /* The two order-0 blocks go first, then an order-1 block is split. */
    paddr_t p1 = page_alloc(0), p2 = page_alloc(0), p3;
    CHECK(p1 == a + 5 * PG || p1 == a + 16382 * PG);
    CHECK(p2 == a + 5 * PG || p2 == a + 16382 * PG);
    CHECK(p1 != p2);
    st = stats();
    CHECK_EQ_INT(st.free_blocks[0], 0);
    CHECK_EQ_INT(st.free_blocks[1], 2);
    p3 = page_alloc(0);
    st = stats();
    CHECK_EQ_INT(st.free_blocks[0], 1);
    CHECK_EQ_INT(st.free_blocks[1], 1);
    CHECK(p3 == a + 6 * PG || p3 == a + 7 * PG || p3 == a + 16380 * PG ||
          p3 == a + 16381 * PG);

    /* Order 3 takes an existing order-3 block; order 2 exists once. */
    paddr_t q = page_alloc(2), r = page_alloc(2);
    CHECK(IS_ALIGNED(q, 4 * PG) && IS_ALIGNED(r, 4 * PG));
    st = stats();
    CHECK_EQ_INT(st.free_blocks[2], 1);          /* r split an order 3 */
    CHECK_EQ_INT(st.free_blocks[3], 1);

    page_free(p1, 0);
    page_free(r, 2);
    page_free(p3, 0);
    page_free(q, 2);
    page_free(p2, 0);
    st = stats();
    CHECK(same_blocks(&st0, &st));
    arena_release();
}

TEST(exhaustion_returns_zero_and_counts_failures)
{
    paddr_t a = arena_base();
    /* 1 MiB + 3 pages at an odd place: 259 pages, 1 for the state array. */
    uint64_t n = init_one(a + 7 * PG, a + 7 * PG + MiB + 3 * PG);
    static paddr_t got[512];
    uint64_t count = 0;
    paddr_t p;

    CHECK_EQ_INT(n, 258);
    struct page_stats st0 = stats();
    /* Too big from the start. */
    CHECK_EQ_INT(page_alloc(9), 0);
    while ((p = page_alloc(0)) != 0) {
        CHECK(count < ARRAY_SIZE(got));
        if (count < ARRAY_SIZE(got))
            got[count++] = p;
    }
    CHECK_EQ_INT(count, 258);
    CHECK_EQ_INT(page_alloc(0), 0);
    CHECK_EQ_INT(page_alloc(3), 0);
    struct page_stats st = stats();
    CHECK_EQ_INT(st.failures, 4);
    CHECK_EQ_INT(st.free_pages, 0);
    CHECK_EQ_INT(block_pages_sum(&st), 0);
    CHECK_EQ_INT(st.allocs, 258);

    /* Free every other page, then the rest. */
    for (uint64_t i = 0; i < count; i += 2)
        page_free(got[i], 0);
    uint64_t odd_free = stats().free_pages;
    CHECK_EQ_INT(odd_free, 129);
    for (uint64_t i = 1; i < count; i += 2)
        page_free(got[i], 0);
    st = stats();
    CHECK(same_blocks(&st0, &st));
    CHECK(page_alloc(7) != 0);
    arena_release();
}

struct live {
    paddr_t pa;
    unsigned order;
    uint64_t key;
};

static void fill(const struct live *l)
{
    for (uint64_t i = 0; i < (1ULL << l->order); i++) {
        uint64_t *w = (uint64_t *)(uintptr_t)(l->pa + i * PG);
        for (int k = 0; k < 8; k++)
            w[k] = l->key ^ (i << 8) ^ (uint64_t)k;
        w[PAGE_SIZE / 8 - 1] = ~l->key ^ i;
    }
}

static int verify(const struct live *l)
{
    for (uint64_t i = 0; i < (1ULL << l->order); i++) {
        uint64_t *w = (uint64_t *)(uintptr_t)(l->pa + i * PG);
        for (int k = 0; k < 8; k++)
            if (w[k] != (l->key ^ (i << 8) ^ (uint64_t)k))
                return 0;
        if (w[PAGE_SIZE / 8 - 1] != (~l->key ^ i))
            return 0;
    }
    return 1;
}

TEST(random_stress_no_overlap)
{
    paddr_t a = arena_base();
    const uint64_t npages = 64 * MiB / PG;
    uint64_t n = init_one(a, a + 64 * MiB);
    struct page_stats st0 = stats();
    static uint16_t owner[64 * MiB / PAGE_SIZE];  /* slot + 1, 0 = none */
    static struct live live[300];
    uint64_t in_use = 0, fails = 0, overlaps = 0, damaged = 0;

    CHECK_EQ_INT(n, npages - 4);
    memset(owner, 0, sizeof(owner));
    memset(live, 0, sizeof(live));
    check_rng_seed(0x9e3779b97f4a7c15ULL);

    for (int iter = 0; iter < 30000; iter++) {
        unsigned s = (unsigned)(rng() % ARRAY_SIZE(live));
        struct live *l = &live[s];
        if (l->pa) {
            if (!verify(l))
                damaged++;
            for (uint64_t i = 0; i < (1ULL << l->order); i++)
                owner[(l->pa - a) / PG + i] = 0;
            page_free(l->pa, l->order);
            in_use -= 1ULL << l->order;
            l->pa = 0;
        } else {
            /* Mostly small, now and then up to 2 MiB. */
            uint64_t r = rng();
            unsigned order = (r & 7) < 6 ? (unsigned)(r >> 8) % 4
                                         : (unsigned)(r >> 8) % 10;
            paddr_t p = page_alloc(order);
            if (!p) {
                fails++;
                continue;
            }
            if (!IS_ALIGNED(p, PG << order) || p < a ||
                p + (PG << order) > a + 64 * MiB) {
                overlaps++;
                continue;
            }
            for (uint64_t i = 0; i < (1ULL << order); i++) {
                uint16_t *o = &owner[(p - a) / PG + i];
                if (*o)
                    overlaps++;
                *o = (uint16_t)(s + 1);
            }
            l->pa = p;
            l->order = order;
            l->key = rng();
            fill(l);
            in_use += 1ULL << order;
        }
        if (iter % 1000 == 0) {
            struct page_stats st = stats();
            CHECK_EQ_INT(st.free_pages, n - in_use);
            CHECK_EQ_INT(block_pages_sum(&st), st.free_pages);
        }
    }
    CHECK_EQ_INT(overlaps, 0);
    CHECK_EQ_INT(damaged, 0);
    CHECK_EQ_INT(stats().failures, fails);

    for (unsigned s = 0; s < ARRAY_SIZE(live); s++) {
        if (live[s].pa) {
            CHECK(verify(&live[s]));
            page_free(live[s].pa, live[s].order);
        }
    }
    struct page_stats st = stats();
    CHECK(same_blocks(&st0, &st));
    CHECK_EQ_INT(st.allocs, st.frees);
    arena_release();
}

static char hex[32];

static const char *hexaddr(paddr_t pa)
{
    snprintf(hex, sizeof(hex), "%llx", (unsigned long long)pa);
    return hex;
}

TEST(bad_frees_panic)
{
    paddr_t a = arena_base();
    init_t1();
    struct page_stats st0 = stats();

    /* Double free, both when the block stays a free head (its buddy is
     * the state array) and when it has merged into a bigger block. */
    paddr_t p0 = page_alloc(0);
    CHECK(p0 == a + 5 * PG || p0 == a + 16382 * PG);
    page_free(p0, 0);
    EXPECT_PANIC(page_free(p0, 0), "double free");
    CHECK(strstr(check_panic_msg, hexaddr(p0)) != NULL);

    paddr_t p = page_alloc(4);
    paddr_t q = page_alloc(4);
    page_free(p, 4);
    page_free(q, 4);
    EXPECT_PANIC(page_free(p, 4), "double free");
    EXPECT_PANIC(page_free(q, 4), "double free");
    EXPECT_PANIC(page_free(q + PG, 0), "double free");

    /* Wrong order, not a block start, misaligned, bad order. */
    p = page_alloc(2);
    EXPECT_PANIC(page_free(p, 1), "wrong order");
    CHECK(strstr(check_panic_msg, hexaddr(p)) != NULL);
    EXPECT_PANIC(page_free(p, 3), "wrong order");
    EXPECT_PANIC(page_free(p, 0), "wrong order");
    EXPECT_PANIC(page_free(p + PG, 0), "not allocated");
    EXPECT_PANIC(page_free(p + 2 * PG, 1), "not allocated");
    EXPECT_PANIC(page_free(p + 1, 2), "misaligned");
    EXPECT_PANIC(page_free(p + 100, 0), "misaligned");
    EXPECT_PANIC(page_free(p, PAGE_ALLOC_MAX_ORDER + 1), "wrong order");

    /* Outside the managed span, or inside it but unmanaged. */
    EXPECT_PANIC(page_free(a - PG, 0), "unmanaged");
    EXPECT_PANIC(page_free(a + 64 * MiB, 0), "unmanaged");
    EXPECT_PANIC(page_free(a + 1ULL * GiB, 3), "unmanaged");
    CHECK(strstr(check_panic_msg, hexaddr(a + GiB)) != NULL);
    EXPECT_PANIC(page_free(a + PG, 0), "unmanaged");          /* state array */

    /* None of that changed anything, and the lock was released. */
    page_free(p, 2);
    struct page_stats st = stats();
    CHECK(same_blocks(&st0, &st));
    CHECK_EQ_INT(st.frees, 4);
    arena_release();
}

TEST(overwritten_free_block_detected)
{
    init_t1();
    /* The order-0 blocks cannot merge (their buddies are the state array
     * and the end of the range), so a freed one stays a list head. */
    paddr_t p = page_alloc(0);
    page_free(p, 0);
    uint64_t *w = (uint64_t *)(uintptr_t)p;
    uint64_t saved = w[0];
    w[0] = 0x4141414141414141ULL;
    EXPECT_PANIC(page_alloc(0), "use after free");
    CHECK(strstr(check_panic_msg, hexaddr(p)) != NULL);
    w[0] = saved;
    CHECK_EQ_INT(page_alloc(0), p);
    page_free(p, 0);
    arena_release();
}

/* page_alloc_trim: 21 of 32 pages kept as blocks of 16, 4 and 1 pages;
 * the 11 others (8, 2 and 1) are free and allocatable; freeing the kept
 * blocks merges everything back. */
TEST(trim_keeps_a_prefix_and_frees_the_rest)
{
    init_t1();
    struct page_stats st0 = stats(), st;

    paddr_t p = page_alloc(5);
    CHECK(p != 0);
    page_alloc_trim(p, 5, 21);
    st = stats();
    CHECK_EQ_INT(st.free_pages, st0.free_pages - 21);
    CHECK_EQ_INT(block_pages_sum(&st), st.free_pages);
    /* The freed tail, and only it, comes back from the allocator. */
    paddr_t t3 = page_alloc(3), t1 = page_alloc(1), t0 = page_alloc(0);
    CHECK_EQ_INT(t3, p + 24 * PG);
    CHECK_EQ_INT(t1, p + 22 * PG);
    CHECK_EQ_INT(t0, p + 21 * PG);
    page_free(t0, 0);
    page_free(t1, 1);
    page_free(t3, 3);
    /* The kept blocks are allocated with their own orders. */
    EXPECT_PANIC(page_free(p, 5), "wrong order");
    page_free(p + 16 * PG, 2);
    page_free(p, 4);
    page_free(p + 20 * PG, 0);
    st = stats();
    CHECK(same_blocks(&st0, &st));

    /* Keeping everything or one page; refusing nonsense. */
    p = page_alloc(3);
    page_alloc_trim(p, 3, 8);
    page_free(p, 3);
    p = page_alloc(3);
    page_alloc_trim(p, 3, 1);
    CHECK_EQ_INT(stats().free_pages, st0.free_pages - 1);
    EXPECT_PANIC(page_alloc_trim(p, 0, 2), "cannot keep");
    EXPECT_PANIC(page_alloc_trim(p, 0, 0), "cannot keep");
    EXPECT_PANIC(page_alloc_trim(p, 3, 1), "not a block allocated");
    EXPECT_PANIC(page_alloc_trim(p + PG, 0, 1), "not a block allocated");
    page_free(p, 0);
    st = stats();
    CHECK(same_blocks(&st0, &st));
    arena_release();
}

TEST(order_for_sizes)
{
    CHECK_EQ_INT(page_order_for(0), 0);
    CHECK_EQ_INT(page_order_for(1), 0);
    CHECK_EQ_INT(page_order_for(4096), 0);
    CHECK_EQ_INT(page_order_for(4097), 1);
    CHECK_EQ_INT(page_order_for(8192), 1);
    CHECK_EQ_INT(page_order_for(8193), 2);
    CHECK_EQ_INT(page_order_for(3 * 4096), 2);
    CHECK_EQ_INT(page_order_for(1 * MiB), 8);
    CHECK_EQ_INT(page_order_for(1 * MiB + 1), 9);
    CHECK_EQ_INT(page_order_for(1 * GiB), PAGE_ALLOC_MAX_ORDER);
    CHECK_EQ_INT(page_order_for(1 * GiB + 1), PAGE_ALLOC_MAX_ORDER + 1);
    CHECK_EQ_INT(page_order_for((size_t)-1), 52);
    for (unsigned o = 0; o < 40; o++)
        CHECK_EQ_INT(page_order_for((size_t)PAGE_SIZE << o), o);
}
