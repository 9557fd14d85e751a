/*
 * Kernel heap.
 *
 * Small objects come from slabs: a slab is one buddy block cut into equal
 * slots of a power-of-two size class (32 to 4096 bytes, header included).
 * The block is naturally aligned, so the slab header that starts it is
 * found from any object by rounding down to the slab size. Larger objects
 * get a buddy block each, with a header at its start; those blocks are
 * kept on a list so kmalloc_check_all can walk them.
 *
 * Every object is preceded by a 16-byte header with a magic word that says
 * whether it is allocated or freed; that is how kfree catches double frees
 * and pointers that never came from kmalloc. Debug builds (TERN_DEBUG) also
 * put a red zone of at least 16 bytes right after the size asked for,
 * checked when the object is freed (heap overflow), and fill freed slots
 * with POISON_FREE, checked when a slot is handed out again (use after
 * free).
 *
 * Per class there is a list of partial slabs (allocation takes from its
 * head), a list of full slabs (kept only so they can be walked), and at
 * most one cached empty slab; further slabs that empty out go back to the
 * page allocator, and the cache keeps a class that hovers around a slab
 * boundary from allocating and freeing a block on every call.
 *
 * One spinlock covers it all. It is taken before the page allocator's
 * lock, never after.
 */
#include <kern/kmalloc.h>
#include <kern/page_alloc.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include <arch/mm.h>

#define OBJ_ALLOCATED   0xa110ca7eU
#define OBJ_FREED       0xdeadf4eeU
#define SLAB_MAGIC      0x51ab7e2aU
#define LARGE_MAGIC     0x1a26e7e2U

#define NR_CLASSES      8           /* 32, 64, ..., 4096 */
#define MIN_CLASS_SHIFT 5
#define MAX_CLASS_SIZE  (1U << (MIN_CLASS_SHIFT + NR_CLASSES - 1))
#define CLASS_LARGE     0xffff
#define SLOT_NONE       0xffff

#define POISON_FREE     0x6b        /* freed slab slots (debug) */
#define POISON_RED      0xbb        /* red zones (debug) */

#ifdef TERN_DEBUG
#define REDZONE_MIN     16
#else
#define REDZONE_MIN     0
#endif

/* In front of every object. */
struct obj_hdr {
    uint32_t magic;                 /* OBJ_ALLOCATED or OBJ_FREED */
    uint16_t cls;                   /* size class index, or CLASS_LARGE */
    uint16_t next_free;             /* freed slab slot: next free slot */
    uint64_t size;                  /* the size asked for */
};

/* At the start of each slab block; the slots follow it. */
struct slab {
    uint32_t magic;
    uint16_t cls;
    uint16_t nobjs;
    uint16_t nfree;
    uint16_t free_slot;             /* head of the free slots, or SLOT_NONE */
    uint32_t pad;
    paddr_t pa;                     /* the block, for page_free */
    struct slab *next, *prev;       /* on the class's partial or full list */
    uint64_t pad2;
};

/* At the start of a large object's block, before its obj_hdr. */
struct large_hdr {
    uint32_t magic;
    uint32_t order;
    paddr_t pa;
    struct large_hdr *next, *prev;
};

_Static_assert(sizeof(struct obj_hdr) == KMALLOC_ALIGN, "object header size");
_Static_assert(sizeof(struct slab) % KMALLOC_ALIGN == 0, "slab header size");
_Static_assert(sizeof(struct large_hdr) % KMALLOC_ALIGN == 0, "large header size");

#define HDR             sizeof(struct obj_hdr)
#define LARGE_OVERHEAD  (sizeof(struct large_hdr) + HDR)
/* Anything bigger cannot fit in the largest buddy block. */
#define KMALLOC_MAX     (((size_t)PAGE_SIZE << PAGE_ALLOC_MAX_ORDER) - \
                         LARGE_OVERHEAD - REDZONE_MIN - KMALLOC_ALIGN)

struct size_class {
    struct slab *partial;
    struct slab *full;
    struct slab *empty;             /* the one cached empty slab, or NULL */
    uint64_t nslabs;
};

static spinlock_t lock = SPINLOCK_INIT;
static unsigned long lock_flags;    /* saved by km_lock, valid while held */
static struct size_class classes[NR_CLASSES];
static struct large_hdr *large_list;
static struct kmalloc_stats stats;

static void km_lock(void)
{
    unsigned long flags = spin_lock_irqsave(&lock);
    lock_flags = flags;
}

static void km_unlock(void)
{
    spin_unlock_irqrestore(&lock, lock_flags);
}

/* Panic with the lock released, so that code running after the panic (a
 * backtrace, the host unit tests) can still use the heap. */
#define KM_PANIC(...) do { \
        km_unlock(); \
        panic(__VA_ARGS__); \
    } while (0)

static inline size_t class_size(unsigned cls)
{
    return (size_t)1 << (cls + MIN_CLASS_SHIFT);
}

static inline size_t slab_bytes(unsigned cls)
{
    return MAX((size_t)PAGE_SIZE, 8 * class_size(cls));
}

static inline unsigned slab_order(unsigned cls)
{
    return page_order_for(slab_bytes(cls));
}

/* Header, payload and red zone: the red zone runs from the end of the
 * payload to the next 16-byte boundary at least REDZONE_MIN bytes on. */
static inline size_t obj_total(size_t size)
{
    return HDR + ALIGN_UP(size + REDZONE_MIN, (size_t)KMALLOC_ALIGN);
}

static inline unsigned class_for(size_t total)
{
    unsigned cls = 0;

    while (class_size(cls) < total)
        cls++;
    return cls;
}

static inline struct obj_hdr *slot_hdr(struct slab *s, unsigned i)
{
    return (struct obj_hdr *)((char *)(s + 1) + (size_t)i * class_size(s->cls));
}

static inline void *hdr_obj(struct obj_hdr *h)
{
    return h + 1;
}

/* Bytes after the header that a slot holds; all of it is poisoned while
 * the slot is free. */
static inline size_t slot_payload(unsigned cls)
{
    return class_size(cls) - HDR;
}

/* --- lists -------------------------------------------------------------- */

static void slab_link(struct slab **head, struct slab *s)
{
    s->prev = NULL;
    s->next = *head;
    if (s->next)
        s->next->prev = s;
    *head = s;
}

static void slab_unlink(struct slab **head, struct slab *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        *head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

/* --- debug checks -------------------------------------------------------- */

#ifdef TERN_DEBUG
static void redzone_fill(struct obj_hdr *h)
{
    unsigned char *p = hdr_obj(h);
    size_t end = ALIGN_UP(h->size + REDZONE_MIN, (size_t)KMALLOC_ALIGN);

    memset(p + h->size, POISON_RED, end - h->size);
}

static void redzone_check(struct obj_hdr *h)
{
    unsigned char *p = hdr_obj(h);
    size_t end = ALIGN_UP(h->size + REDZONE_MIN, (size_t)KMALLOC_ALIGN);

    for (size_t i = h->size; i < end; i++) {
        if (p[i] != POISON_RED)
            KM_PANIC("kmalloc: heap overflow past object %p (size %zu): "
                     "red zone byte %zu is %#x", (void *)p, (size_t)h->size,
                     i - (size_t)h->size, p[i]);
    }
}

static void poison_fill(struct obj_hdr *h)
{
    memset(hdr_obj(h), POISON_FREE, slot_payload(h->cls));
}

static void poison_check(struct obj_hdr *h)
{
    const uint64_t pat = 0x0101010101010101ULL * POISON_FREE;
    const uint64_t *w = hdr_obj(h);
    size_t n = slot_payload(h->cls) / sizeof(*w);

    for (size_t i = 0; i < n; i++) {
        if (w[i] != pat) {
            const unsigned char *b = (const unsigned char *)&w[i];
            size_t j = 0;
            while (b[j] == POISON_FREE)
                j++;
            KM_PANIC("kmalloc: use after free: freed object %p (size %zu) "
                     "was written at offset %zu (%#x)", hdr_obj(h),
                     (size_t)h->size, i * sizeof(*w) + j, b[j]);
        }
    }
}
#else
static inline void redzone_fill(struct obj_hdr *h) { (void)h; }
static inline void redzone_check(struct obj_hdr *h) { (void)h; }
static inline void poison_fill(struct obj_hdr *h) { (void)h; }
static inline void poison_check(struct obj_hdr *h) { (void)h; }
#endif

/* --- slabs --------------------------------------------------------------- */

static struct slab *slab_create(unsigned cls)
{
    unsigned order = slab_order(cls);
    paddr_t pa = page_alloc(order);
    struct slab *s;

    if (pa == 0)
        return NULL;
    s = phys_to_virt(pa);
    /* Finding the slab from an object relies on the mapping keeping the
     * block's natural alignment (the direct map is aligned far beyond). */
    if (!IS_ALIGNED((uintptr_t)s, slab_bytes(cls)))
        KM_PANIC("kmalloc: slab %p for class %zu is not aligned to %zu",
                 (void *)s, class_size(cls), slab_bytes(cls));

    memset(s, 0, sizeof(*s));
    s->magic = SLAB_MAGIC;
    s->cls = (uint16_t)cls;
    s->nobjs = (uint16_t)((slab_bytes(cls) - sizeof(*s)) / class_size(cls));
    s->nfree = s->nobjs;
    s->free_slot = 0;
    s->pa = pa;
    for (unsigned i = 0; i < s->nobjs; i++) {
        struct obj_hdr *h = slot_hdr(s, i);
        h->magic = OBJ_FREED;
        h->cls = (uint16_t)cls;
        h->next_free = (uint16_t)(i + 1 < s->nobjs ? i + 1 : SLOT_NONE);
        h->size = 0;
        poison_fill(h);
    }
    classes[cls].nslabs++;
    stats.slab_pages += 1ULL << order;
    return s;
}

static void slab_destroy(struct slab *s)
{
    unsigned order = slab_order(s->cls);

    classes[s->cls].nslabs--;
    stats.slab_pages -= 1ULL << order;
    s->magic = 0;
    page_free(s->pa, order);
}

static void *slab_alloc(size_t size, unsigned cls)
{
    struct size_class *c = &classes[cls];
    struct slab *s;
    struct obj_hdr *h;

    s = c->partial;
    if (!s) {
        if (c->empty) {
            s = c->empty;
            c->empty = NULL;
        } else {
            s = slab_create(cls);
            if (!s)
                return NULL;
        }
        slab_link(&c->partial, s);
    }

    h = slot_hdr(s, s->free_slot);
    if (s->free_slot >= s->nobjs || h->magic != OBJ_FREED || h->cls != cls)
        KM_PANIC("kmalloc: free list of slab %p (class %zu) is damaged at "
                 "slot %u: use after free or overflow?", (void *)s,
                 class_size(cls), s->free_slot);
    poison_check(h);

    s->free_slot = h->next_free;
    s->nfree--;
    if (s->nfree == 0) {
        slab_unlink(&c->partial, s);
        slab_link(&c->full, s);
    }
    h->magic = OBJ_ALLOCATED;
    h->next_free = SLOT_NONE;
    h->size = size;
    redzone_fill(h);
    return hdr_obj(h);
}

static void slab_free(struct slab *s, struct obj_hdr *h)
{
    struct size_class *c = &classes[s->cls];
    unsigned idx = (unsigned)(((char *)h - (char *)(s + 1)) / class_size(s->cls));

    h->magic = OBJ_FREED;           /* the size stays, for messages */
    h->next_free = s->free_slot;
    s->free_slot = (uint16_t)idx;
    poison_fill(h);

    s->nfree++;
    if (s->nfree == 1) {
        slab_unlink(&c->full, s);
        slab_link(&c->partial, s);
    }
    if (s->nfree == s->nobjs) {
        slab_unlink(&c->partial, s);
        if (!c->empty)
            c->empty = s;
        else
            slab_destroy(s);
    }
}

/* --- large objects ------------------------------------------------------- */

static void *large_alloc(size_t size)
{
    unsigned order = page_order_for(LARGE_OVERHEAD +
                                    ALIGN_UP(size + REDZONE_MIN,
                                             (size_t)KMALLOC_ALIGN));
    paddr_t pa = page_alloc(order);
    struct large_hdr *lh;
    struct obj_hdr *h;

    if (pa == 0)
        return NULL;
    lh = phys_to_virt(pa);
    lh->magic = LARGE_MAGIC;
    lh->order = order;
    lh->pa = pa;
    lh->prev = NULL;
    lh->next = large_list;
    if (lh->next)
        lh->next->prev = lh;
    large_list = lh;

    h = (struct obj_hdr *)(lh + 1);
    h->magic = OBJ_ALLOCATED;
    h->cls = CLASS_LARGE;
    h->next_free = SLOT_NONE;
    h->size = size;
    redzone_fill(h);
    stats.large_pages += 1ULL << order;
    return hdr_obj(h);
}

static void large_free(struct large_hdr *lh, struct obj_hdr *h)
{
    if (lh->prev)
        lh->prev->next = lh->next;
    else
        large_list = lh->next;
    if (lh->next)
        lh->next->prev = lh->prev;
    /* The object header is past the page allocator's free-list node, so
     * the FREED magic usually survives to catch a second kfree. */
    h->magic = OBJ_FREED;
    lh->magic = 0;
    stats.large_pages -= 1ULL << lh->order;
    page_free(lh->pa, lh->order);
}

/* --- lookup -------------------------------------------------------------- */

struct obj_ref {
    struct obj_hdr *h;
    struct slab *slab;              /* for slab objects */
    struct large_hdr *large;        /* for large objects */
};

/* Validate a pointer passed to kfree and friends and find its metadata;
 * panics (lock released) when it is not a live heap object. */
static void obj_lookup(const char *who, const void *p, struct obj_ref *r)
{
    struct obj_hdr *h = (struct obj_hdr *)p - 1;

    if (!IS_ALIGNED((uintptr_t)p, KMALLOC_ALIGN))
        KM_PANIC("%s: invalid pointer %p (misaligned)", who, p);
    if (h->magic == OBJ_FREED)
        KM_PANIC("%s: double free of %p (size %zu)", who, p, (size_t)h->size);
    if (h->magic != OBJ_ALLOCATED)
        KM_PANIC("%s: invalid pointer %p (no object header: magic %#x)",
                 who, p, h->magic);

    r->h = h;
    r->slab = NULL;
    r->large = NULL;
    if (h->cls < NR_CLASSES) {
        struct slab *s = (struct slab *)ALIGN_DOWN((uintptr_t)h,
                                                   slab_bytes(h->cls));
        uintptr_t first = (uintptr_t)(s + 1);
        uintptr_t off = (uintptr_t)h - first;
        if (s->magic != SLAB_MAGIC || s->cls != h->cls)
            KM_PANIC("%s: invalid pointer %p (not in a slab)", who, p);
        if ((uintptr_t)h < first || off % class_size(h->cls) != 0 ||
            off / class_size(h->cls) >= s->nobjs)
            KM_PANIC("%s: invalid pointer %p (not the start of an object)",
                     who, p);
        r->slab = s;
    } else if (h->cls == CLASS_LARGE) {
        struct large_hdr *lh = (struct large_hdr *)h - 1;
        if (!IS_ALIGNED((uintptr_t)lh, PAGE_SIZE) || lh->magic != LARGE_MAGIC)
            KM_PANIC("%s: invalid pointer %p (damaged large object header)",
                     who, p);
        r->large = lh;
    } else {
        KM_PANIC("%s: invalid pointer %p (bad size class %u)", who, p, h->cls);
    }
}

/* --- the API ------------------------------------------------------------- */

void *kmalloc(size_t size)
{
    void *p;

    km_lock();
    if (size > KMALLOC_MAX)
        p = NULL;
    else if (obj_total(size) <= MAX_CLASS_SIZE)
        p = slab_alloc(size, class_for(obj_total(size)));
    else
        p = large_alloc(size);
    if (p) {
        stats.allocs++;
        stats.bytes_in_use += size;
    } else {
        stats.failures++;
    }
    km_unlock();
    return p;
}

void *kzalloc(size_t size)
{
    void *p = kmalloc(size);

    if (p)
        memset(p, 0, size);
    return p;
}

void kfree(void *p)
{
    struct obj_ref r;
    size_t size;

    if (!p)
        return;
    km_lock();
    obj_lookup("kfree", p, &r);
    redzone_check(r.h);
    size = r.h->size;
    if (r.slab)
        slab_free(r.slab, r.h);
    else
        large_free(r.large, r.h);
    stats.frees++;
    stats.bytes_in_use -= size;
    km_unlock();
}

void *krealloc(void *p, size_t size)
{
    struct obj_ref r;
    size_t old;
    bool fits;
    void *q;

    if (!p)
        return kmalloc(size);
    if (size == 0) {
        kfree(p);
        return NULL;
    }

    km_lock();
    obj_lookup("krealloc", p, &r);
    redzone_check(r.h);
    old = r.h->size;
    /* Stay in place when the new size needs the same slot or block;
     * shrinking into a smaller class moves, to give the memory back. */
    if (size > KMALLOC_MAX)
        fits = false;
    else if (r.slab)
        fits = obj_total(size) <= MAX_CLASS_SIZE &&
               class_for(obj_total(size)) == r.h->cls;
    else
        fits = obj_total(size) > MAX_CLASS_SIZE &&
               page_order_for(LARGE_OVERHEAD +
                              ALIGN_UP(size + REDZONE_MIN,
                                       (size_t)KMALLOC_ALIGN)) == r.large->order;
    if (fits) {
        r.h->size = size;
        redzone_fill(r.h);
        stats.bytes_in_use = stats.bytes_in_use - old + size;
        km_unlock();
        return p;
    }
    km_unlock();

    q = kmalloc(size);
    if (!q)
        return NULL;                /* p is left as it was */
    memcpy(q, p, MIN(old, size));
    kfree(p);
    return q;
}

size_t kmalloc_usable_size(const void *p)
{
    struct obj_ref r;
    size_t n;

    if (!p)
        return 0;
    km_lock();
    obj_lookup("kmalloc_usable_size", p, &r);
#ifdef TERN_DEBUG
    /* Everything past the size asked for is red zone in debug builds. */
    n = r.h->size;
#else
    if (r.slab)
        n = slot_payload(r.h->cls);
    else
        n = ((size_t)PAGE_SIZE << r.large->order) - LARGE_OVERHEAD;
#endif
    km_unlock();
    return n;
}

void kmalloc_stats(struct kmalloc_stats *st)
{
    km_lock();
    *st = stats;
    km_unlock();
}

void kmalloc_print_stats(void)
{
    struct kmalloc_stats st;
    uint64_t nslabs[NR_CLASSES];
    char line[24 * NR_CLASSES];
    size_t len = 0;

    km_lock();
    st = stats;
    for (unsigned c = 0; c < NR_CLASSES; c++)
        nslabs[c] = classes[c].nslabs;
    km_unlock();

    pr_info("kmalloc: %llu live objects, %llu bytes in use, %llu slab pages, "
            "%llu large pages; %llu allocs, %llu frees, %llu failures\n",
            (unsigned long long)(st.allocs - st.frees),
            (unsigned long long)st.bytes_in_use,
            (unsigned long long)st.slab_pages,
            (unsigned long long)st.large_pages,
            (unsigned long long)st.allocs, (unsigned long long)st.frees,
            (unsigned long long)st.failures);

    line[0] = 0;
    for (unsigned c = 0; c < NR_CLASSES; c++) {
        if (nslabs[c] == 0)
            continue;
        int w = snprintf(line + len, sizeof(line) - len, " %zu:%llu",
                         class_size(c), (unsigned long long)nslabs[c]);
        if (w < 0 || (size_t)w >= sizeof(line) - len)
            break;
        len += (size_t)w;
    }
    pr_info("kmalloc: slabs by class size:%s\n", len ? line : " none");
}

static size_t check_slab(struct slab *s, unsigned cls, bool want_full)
{
    size_t live = 0, nfree = 0;

    if (s->magic != SLAB_MAGIC || s->cls != cls)
        KM_PANIC("kmalloc: slab %p of class %zu has a damaged header "
                 "(overflow from the block below?)", (void *)s,
                 class_size(cls));
    for (unsigned i = 0; i < s->nobjs; i++) {
        struct obj_hdr *h = slot_hdr(s, i);
        if (h->magic == OBJ_ALLOCATED && h->cls == cls) {
            redzone_check(h);
            live++;
        } else if (h->magic == OBJ_FREED && h->cls == cls) {
            poison_check(h);
            nfree++;
        } else {
            KM_PANIC("kmalloc: object header %p in slab %p is damaged "
                     "(magic %#x): heap overflow from the object before it?",
                     (void *)h, (void *)s, h->magic);
        }
    }
    if (nfree != s->nfree || (want_full && nfree != 0) ||
        (!want_full && nfree == 0))
        KM_PANIC("kmalloc: slab %p of class %zu counts %u free objects, "
                 "holds %zu", (void *)s, class_size(cls), s->nfree, nfree);
    return live;
}

size_t kmalloc_check_all(void)
{
    size_t live = 0;

    km_lock();
    for (unsigned c = 0; c < NR_CLASSES; c++) {
        for (struct slab *s = classes[c].partial; s; s = s->next)
            live += check_slab(s, c, false);
        for (struct slab *s = classes[c].full; s; s = s->next)
            live += check_slab(s, c, true);
        if (classes[c].empty)
            live += check_slab(classes[c].empty, c, false);
    }
    for (struct large_hdr *lh = large_list; lh; lh = lh->next) {
        struct obj_hdr *h = (struct obj_hdr *)(lh + 1);
        if (lh->magic != LARGE_MAGIC || h->magic != OBJ_ALLOCATED ||
            h->cls != CLASS_LARGE)
            KM_PANIC("kmalloc: large object %p has a damaged header "
                     "(underflow?)", hdr_obj(h));
        redzone_check(h);
        live++;
    }
    if (live != stats.allocs - stats.frees)
        KM_PANIC("kmalloc: found %zu live objects, the counters say %llu",
                 live, (unsigned long long)(stats.allocs - stats.frees));
    km_unlock();
    return live;
}
