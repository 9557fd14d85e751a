/*
 * Unit tests for the kernel heap (kernel/mm/kmalloc.c) on top of the real
 * page allocator.
 *
 * The page allocator manages a 256 MiB host mapping (phys_to_virt is the
 * identity on the host). It is set up once: kmalloc keeps state across
 * tests, so every test frees what it allocates, and tests that check
 * slab placement rely on that.
 *
 * Unit tests build with TERN_DEBUG, so red zones and poisoning are on.
 */
#include "check.h"

#include <sys/mman.h>

#include <kern/kmalloc.h>
#include <kern/page_alloc.h>
#include <arch/mm.h>

#define ARENA_SIZE      (256 * MiB)

/* The biggest request a 4096-byte slab slot holds: 16 bytes go to the
 * header and, in debug builds, at least 16 to the red zone. */
#ifdef TERN_DEBUG
#define SLAB_MAX        4064
#else
#define SLAB_MAX        4080
#endif

static paddr_t arena;

static void setup(void)
{
    if (arena)
        return;
    size_t len = 2 * ARENA_SIZE;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    arena = ALIGN_UP((paddr_t)(uintptr_t)m, (paddr_t)ARENA_SIZE);
    struct mem_region r = { arena, arena + ARENA_SIZE, MEM_RAM };
    if (page_alloc_init(&r, 1) == 0) {
        printf("page_alloc_init failed\n");
        exit(2);
    }
}

static struct kmalloc_stats kstats(void)
{
    struct kmalloc_stats st;
    kmalloc_stats(&st);
    return st;
}

static struct page_stats pstats(void)
{
    struct page_stats st;
    page_alloc_stats(&st);
    return st;
}

#define rng check_rng

static unsigned char pat(uint64_t key, size_t i)
{
    return (unsigned char)(key + i * 131 + (i >> 8));
}

static void fill(void *p, size_t n, uint64_t key)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = pat(key, i);
}

static int verify(const void *p, size_t n, uint64_t key)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != pat(key, i))
            return 0;
    return 1;
}

struct span {
    uintptr_t start, end;
};

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort and count overlapping neighbours. */
static int count_overlaps(struct span *s, size_t n)
{
    int bad = 0;
    qsort(s, n, sizeof(*s), span_cmp);
    for (size_t i = 1; i < n; i++)
        if (s[i].start < s[i - 1].end)
            bad++;
    return bad;
}

static char ptrbuf[32];

static const char *ptrstr(const void *p)
{
    snprintf(ptrbuf, sizeof(ptrbuf), "%p", p);
    return ptrbuf;
}

TEST(every_size_class_and_large)
{
    static const size_t sizes[] = {
        0, 1, 15, 16, 17, 31, 32, 33, 48, 100, 112, 113, 240, 496, 1000,
        1008, 2000, 2032, 2033, 4000, 4064, 4065, 4080, 4096, 5000, 8000,
        65536, 1 * MiB, 3 * MiB + 7,
    };
    void *p[ARRAY_SIZE(sizes)];
    struct span sp[ARRAY_SIZE(sizes)];
    uint64_t sum = 0;

    setup();
    struct kmalloc_stats st0 = kstats();
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        p[i] = kmalloc(sizes[i]);
        CHECK(p[i] != NULL);
        CHECK(IS_ALIGNED((uintptr_t)p[i], KMALLOC_ALIGN));
        CHECK(kmalloc_usable_size(p[i]) >= sizes[i]);
        fill(p[i], sizes[i], i);
        sp[i].start = (uintptr_t)p[i];
        sp[i].end = (uintptr_t)p[i] + MAX(sizes[i], 1);
        sum += sizes[i];
    }
    struct kmalloc_stats st = kstats();
    CHECK_EQ_INT(st.bytes_in_use - st0.bytes_in_use, sum);
    CHECK_EQ_INT(st.allocs - st0.allocs, ARRAY_SIZE(sizes));
    /* Large blocks (48 bytes of headers, 16 of red zone in debug):
     * 4065 and 4080 (debug only), 4096, 5000 and 8000 take 2 pages, 65536
     * 32, 1 MiB 512 and 3 MiB + 7 1024. */
    CHECK_EQ_INT(st.large_pages - st0.large_pages,
                 (SLAB_MAX == 4064 ? 5 : 3) * 2 + 32 + 512 + 1024);
    CHECK_EQ_INT(kmalloc_check_all(), st.allocs - st.frees);
    CHECK_EQ_INT(count_overlaps(sp, ARRAY_SIZE(sizes)), 0);
    kmalloc_print_stats();

    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        CHECK(verify(p[i], sizes[i], i));
        kfree(p[i]);
    }
    st = kstats();
    CHECK_EQ_INT(st.bytes_in_use, st0.bytes_in_use);
    CHECK_EQ_INT(st.large_pages, st0.large_pages);
    CHECK_EQ_INT(st.frees - st0.frees, ARRAY_SIZE(sizes));
}

TEST(slab_and_large_boundary)
{
    setup();
    struct kmalloc_stats st0 = kstats();
    void *a = kmalloc(SLAB_MAX);
    CHECK_EQ_INT(kstats().large_pages, st0.large_pages);
    void *b = kmalloc(SLAB_MAX + 1);
    CHECK_EQ_INT(kstats().large_pages, st0.large_pages + 2);
    /* A large object sits 48 bytes into its page-aligned block. */
    CHECK(((uintptr_t)b & (PAGE_SIZE - 1)) == 48);
    CHECK_EQ_INT(kmalloc_usable_size(a), SLAB_MAX);
    kfree(a);
    kfree(b);

    /* Tiny objects of the same class are 32 bytes apart in a fresh slab. */
    void *c = kmalloc(1), *d = kmalloc(1);
    CHECK(c != d);
    uintptr_t diff = (uintptr_t)c > (uintptr_t)d ? (uintptr_t)c - (uintptr_t)d
                                                 : (uintptr_t)d - (uintptr_t)c;
    CHECK(diff >= 32 && diff % 32 == 0);
    kfree(d);
    kfree(c);
}

TEST(zero_size_and_null)
{
    void *p[100];

    setup();
    struct kmalloc_stats st0 = kstats();
    for (int i = 0; i < 100; i++) {
        p[i] = kmalloc(0);
        CHECK(p[i] != NULL);
        CHECK(IS_ALIGNED((uintptr_t)p[i], KMALLOC_ALIGN));
        for (int j = 0; j < i; j++)
            CHECK(p[i] != p[j]);
    }
#ifdef TERN_DEBUG
    CHECK_EQ_INT(kmalloc_usable_size(p[0]), 0);     /* the rest is red zone */
#else
    CHECK_EQ_INT(kmalloc_usable_size(p[0]), 16);
#endif
    for (int i = 0; i < 100; i++)
        kfree(p[i]);
    kfree(NULL);
    CHECK_EQ_INT(kmalloc_usable_size(NULL), 0);
    struct kmalloc_stats st = kstats();
    CHECK_EQ_INT(st.allocs - st0.allocs, 100);
    CHECK_EQ_INT(st.frees - st0.frees, 100);
    CHECK_EQ_INT(st.bytes_in_use, st0.bytes_in_use);
}

TEST(random_stress_no_overlap)
{
    enum { SLOTS = 1500, ITERS = 60000 };
    static void *ptr[SLOTS];
    static size_t size[SLOTS];
    static uint64_t key[SLOTS];
    static struct span sp[SLOTS];
    int damaged = 0, overlaps = 0, misaligned = 0, fails = 0;

    setup();
    struct kmalloc_stats st0 = kstats();
    memset(ptr, 0, sizeof(ptr));
    check_rng_seed(0x123456789abcdefULL);

    for (int it = 0; it < ITERS; it++) {
        unsigned s = (unsigned)(rng() % SLOTS);
        if (ptr[s]) {
            if (!verify(ptr[s], size[s], key[s]))
                damaged++;
            kfree(ptr[s]);
            ptr[s] = NULL;
        } else {
            uint64_t r = rng();
            size_t n;
            switch (r % 20) {
            case 0:  n = (r >> 8) % (64 * KiB); break;
            case 1: case 2: case 3: n = (r >> 8) % 4200; break;
            default: n = (r >> 8) % 520; break;
            }
            ptr[s] = kmalloc(n);
            if (!ptr[s]) {
                fails++;
                continue;
            }
            if (!IS_ALIGNED((uintptr_t)ptr[s], KMALLOC_ALIGN))
                misaligned++;
            size[s] = n;
            key[s] = rng();
            fill(ptr[s], n, key[s]);
        }
        if (it % 5000 == 4999) {
            size_t live = 0;
            for (unsigned i = 0; i < SLOTS; i++) {
                if (ptr[i]) {
                    sp[live].start = (uintptr_t)ptr[i];
                    sp[live].end = (uintptr_t)ptr[i] + MAX(size[i], 1);
                    live++;
                }
            }
            overlaps += count_overlaps(sp, live);
            CHECK_EQ_INT(kmalloc_check_all(), live);
        }
    }
    CHECK_EQ_INT(damaged, 0);
    CHECK_EQ_INT(overlaps, 0);
    CHECK_EQ_INT(misaligned, 0);
    CHECK_EQ_INT(fails, 0);

    for (unsigned i = 0; i < SLOTS; i++) {
        if (ptr[i]) {
            CHECK(verify(ptr[i], size[i], key[i]));
            kfree(ptr[i]);
        }
    }
    struct kmalloc_stats st = kstats();
    CHECK_EQ_INT(st.allocs - st0.allocs, st.frees - st0.frees);
    CHECK_EQ_INT(st.bytes_in_use, st0.bytes_in_use);
    CHECK_EQ_INT(st.large_pages, 0);
    CHECK_EQ_INT(kmalloc_check_all(), 0);
}

TEST(kzalloc_zeroes)
{
    static const size_t sizes[] = { 0, 1, 24, 100, 1000, 4064, 5000, 200000 };

    setup();
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        size_t n = sizes[i];
        /* Dirty a slot of the class first, so kzalloc likely reuses it. */
        unsigned char *p = kmalloc(n);
        memset(p, 0xff, n);
        kfree(p);
        unsigned char *q = kzalloc(n);
        CHECK(q != NULL);
        size_t nonzero = 0;
        for (size_t j = 0; j < n; j++)
            nonzero += q[j] != 0;
        CHECK_EQ_INT(nonzero, 0);
        kfree(q);
    }
}

TEST(krealloc_preserves_data)
{
    static const size_t steps[] = { 10, 100, 1000, 4064, 5000, 100000, 3000,
                                    50, 20, 8 };
    size_t prev = 0;

    setup();
    struct kmalloc_stats st0 = kstats();
    unsigned char *p = krealloc(NULL, 8);          /* = kmalloc */
    CHECK(p != NULL);
    fill(p, 8, 77);
    prev = 8;
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        unsigned char *q = krealloc(p, steps[i]);
        CHECK(q != NULL);
        CHECK(IS_ALIGNED((uintptr_t)q, KMALLOC_ALIGN));
        CHECK(verify(q, MIN(prev, steps[i]), 77));
        fill(q, steps[i], 77);
        CHECK_EQ_INT(kstats().bytes_in_use - st0.bytes_in_use, steps[i]);
        p = q;
        prev = steps[i];
    }
    /* Within the same class it stays put. */
    unsigned char *q = krealloc(p, 12);
    CHECK(q == p);
    CHECK(verify(q, 8, 77));
    CHECK(kmalloc_usable_size(q) >= 12);
    CHECK_EQ_INT(kmalloc_check_all(), kstats().allocs - kstats().frees);

    /* krealloc(p, 0) frees and returns NULL. */
    uint64_t frees = kstats().frees;
    CHECK(krealloc(q, 0) == NULL);
    CHECK_EQ_INT(kstats().frees, frees + 1);
    CHECK_EQ_INT(kstats().bytes_in_use, st0.bytes_in_use);
    CHECK_EQ_INT(kstats().allocs - st0.allocs, kstats().frees - st0.frees);

    /* A failed krealloc leaves the object alone. */
    p = kmalloc(40);
    fill(p, 40, 5);
    CHECK(krealloc(p, (size_t)4 * GiB) == NULL);
    CHECK(verify(p, 40, 5));
    kfree(p);
}

TEST(stats_balance_and_slabs_return)
{
    enum { N = 6000 };
    static void *p[N];

    setup();
    struct kmalloc_stats k0 = kstats();
    struct page_stats p0 = pstats();

    for (int i = 0; i < N; i++) {
        size_t n = (i % 7 == 0) ? 3000 : (size_t)(i * 37) % 1500;
        if (i % 500 == 0)
            n = 20000;
        p[i] = kmalloc(n);
        CHECK(p[i] != NULL);
    }
    struct kmalloc_stats k1 = kstats();
    struct page_stats p1 = pstats();
    CHECK(k1.slab_pages > k0.slab_pages + 100);
    CHECK_EQ_INT(k1.large_pages - k0.large_pages, 12 * 8);
    /* Every page kmalloc holds came from the page allocator. */
    CHECK_EQ_INT(p0.free_pages - p1.free_pages,
                 (k1.slab_pages - k0.slab_pages) + (k1.large_pages - k0.large_pages));

    for (int i = N - 1; i >= 0; i -= 2)
        kfree(p[i]);
    for (int i = N - 2; i >= 0; i -= 2)
        kfree(p[i]);

    struct kmalloc_stats k2 = kstats();
    struct page_stats p2 = pstats();
    CHECK_EQ_INT(k2.allocs - k0.allocs, N);
    CHECK_EQ_INT(k2.frees - k0.frees, N);
    CHECK_EQ_INT(k2.bytes_in_use, 0);
    CHECK_EQ_INT(k2.large_pages, 0);
    /* At most one empty slab per class stays cached: 32..512 take one
     * page, 1024 two, 2048 four, 4096 eight. */
    CHECK(k2.slab_pages <= 5 * 1 + 2 + 4 + 8);
    CHECK_EQ_INT(p2.free_pages + k2.slab_pages, p0.free_pages + k0.slab_pages);
    CHECK_EQ_INT(kmalloc_check_all(), 0);
}

TEST(failure_returns_null)
{
    setup();
    uint64_t f0 = kstats().failures;
    CHECK(kmalloc((size_t)-1) == NULL);
    CHECK(kmalloc((size_t)-1 - 100) == NULL);
    CHECK(kmalloc((size_t)2 * GiB) == NULL);
    CHECK(kmalloc(300 * MiB) == NULL);       /* more than the arena */
    CHECK(kzalloc(300 * MiB) == NULL);
    CHECK_EQ_INT(kstats().failures, f0 + 5);
    CHECK_EQ_INT(kstats().bytes_in_use, 0);
}

TEST(double_free_panics)
{
    setup();
    void *a = kmalloc(64), *b = kmalloc(64);
    kfree(a);
    EXPECT_PANIC(kfree(a), "double free");
    CHECK(strstr(check_panic_msg, ptrstr(a)) != NULL);
    CHECK(strstr(check_panic_msg, "kfree") != NULL);

    void *big = kmalloc(50000);
    kfree(big);
    EXPECT_PANIC(kfree(big), "double free");
    EXPECT_PANIC(krealloc(a, 100), "double free");
    EXPECT_PANIC(kmalloc_usable_size(a), "double free");

    /* The heap is intact and the lock free after the panics. */
    CHECK_EQ_INT(kmalloc_check_all(), 1);
    kfree(b);
    CHECK_EQ_INT(kmalloc_check_all(), 0);
}

TEST(invalid_pointer_panics)
{
    _Alignas(16) unsigned char stack[64] = { 0 };

    setup();
    unsigned char *p = kmalloc(256);
    unsigned char *big = kmalloc(20000);
    memset(p, 0, 256);
    memset(big, 0, 20000);

    EXPECT_PANIC(kfree(p + 1), "invalid pointer");
    CHECK(strstr(check_panic_msg, ptrstr(p + 1)) != NULL);
    CHECK(strstr(check_panic_msg, "misaligned") != NULL);
    EXPECT_PANIC(kfree(p + 8), "invalid pointer");
    EXPECT_PANIC(kfree(p + 64), "invalid pointer");
    EXPECT_PANIC(kfree(big + 4096), "invalid pointer");
    EXPECT_PANIC(kfree(stack + 16), "invalid pointer");
    EXPECT_PANIC(krealloc(stack + 32, 10), "invalid pointer");

    kfree(p);
    kfree(big);
    CHECK_EQ_INT(kmalloc_check_all(), 0);
}

#ifdef TERN_DEBUG
TEST(overflow_by_one_byte_panics)
{
    static const size_t sizes[] = { 0, 1, 16, 17, 100, 1000, 4064, 5000, 70000 };

    setup();
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        size_t n = sizes[i];
        unsigned char *p = kmalloc(n);
        memset(p, 0x11, n);                 /* writing all of it is fine */
        volatile unsigned char saved = p[n];
        p[n] = 0;
        EXPECT_PANIC(kmalloc_check_all(), "overflow");
        EXPECT_PANIC(kfree(p), "overflow");
        CHECK(strstr(check_panic_msg, ptrstr(p)) != NULL);
        CHECK(strstr(check_panic_msg, "kmalloc: heap overflow") != NULL);
        p[n] = saved;
        /* Further into the red zone is caught as well. */
        saved = p[n + 15];
        p[n + 15] ^= 1;
        EXPECT_PANIC(kfree(p), "overflow");
        EXPECT_PANIC(krealloc(p, n + 100), "overflow");
        p[n + 15] = saved;
        kfree(p);
    }
    CHECK_EQ_INT(kmalloc_check_all(), 0);
}

TEST(use_after_free_write_detected)
{
    setup();
    /* Both land in the same 4096-byte-class slab (no other object of
     * that class is live), and its free list is LIFO. */
    unsigned char *a = kmalloc(3000), *b = kmalloc(3000);
    kfree(b);
    /* Freed memory is poisoned. */
    CHECK(b[0] == 0x6b && b[2999] == 0x6b);
    b[100] = 'x';
    EXPECT_PANIC(kmalloc_check_all(), "use after free");
    EXPECT_PANIC(kmalloc(3000), "use after free");
    CHECK(strstr(check_panic_msg, ptrstr(b)) != NULL);
    b[100] = 0x6b;
    CHECK_EQ_INT(kmalloc_check_all(), 1);
    unsigned char *c = kmalloc(3000);
    CHECK(c == b);
    kfree(c);
    kfree(a);

    /* A damaged header of a freed slot (e.g. an underflow of the next
     * object, or a write through a stale pointer) is caught too. */
    a = kmalloc(200);
    b = kmalloc(200);
    kfree(b);
    volatile unsigned char saved = b[-16];
    b[-16] ^= 0xff;
    EXPECT_PANIC(kmalloc(200), "damaged");
    b[-16] = saved;
    c = kmalloc(200);
    CHECK(c == b);
    kfree(c);
    kfree(a);
    CHECK_EQ_INT(kmalloc_check_all(), 0);
}
#endif
