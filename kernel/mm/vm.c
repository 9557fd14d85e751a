/*
 * The app's address space (kern/vm.h): a sorted list of areas in the lower
 * half, and demand paging over them.
 *
 * One mutex guards the list and every lower-half page table change. Page
 * faults come from app code and from kernel code touching app memory in a
 * system call, both with interrupts enabled, and the fault handler may
 * sleep on the mutex (it runs on the thread's own trap stack). So nothing
 * may touch app memory while holding the mutex or any spinlock: new pages
 * are zeroed and copied through the direct map. A mutex, not a spinlock,
 * also because unmapping waits for the other CPUs' TLB flushes, which
 * needs their interrupts.
 *
 * Which pages to free: a file area's pages are either the ROFS image's own
 * (in place: never freed) or private copies (from the page allocator); the
 * physical address tells them apart. Anonymous pages are always private.
 */
#include <arch/linux_abi.h>
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/list.h>
#include <kern/page_alloc.h>
#include <kern/panic.h>
#include <kern/printf.h>
#include <kern/random.h>
#include <kern/waitq.h>
#include <kern/string.h>
#include <kern/vm.h>

struct area {
    struct list_head link;
    uintptr_t start, end;
    unsigned prot;
    unsigned flags;             /* VM_STACK */
    struct vm_file file;        /* data NULL: anonymous */
    uint64_t file_off;          /* file offset of start */
};

/* A fault this far below a stack area counts as a stack overflow. */
#define STACK_GUARD_GAP (1UL << 20)

static struct mutex lock = MUTEX_INIT(lock);
static struct list_head areas = LIST_HEAD_INIT(areas);
static uintptr_t mmap_top, stack_top, pie_base;
static uint64_t mapped_pages;

/* The arch's layout (arch/linux_abi.h): where mmap, the stack and PIE
 * programs go, each moved by as many random bits as Linux uses there. */
_Static_assert(LINUX_MMAP_RND_BITS + LINUX_STACK_RND_BITS <= 64, "one random word for both");

static uint64_t low_bits(uint64_t r, unsigned bits)
{
    return r & ((1ULL << bits) - 1);
}

void vm_init(void)
{
    uint64_t r = random_u64();
    mmap_top = LINUX_MMAP_TOP - (low_bits(r, LINUX_MMAP_RND_BITS) << 12);
    stack_top = LINUX_STACK_TOP - (low_bits(r >> LINUX_MMAP_RND_BITS, LINUX_STACK_RND_BITS) << 16);
    pie_base = LINUX_PIE_BASE + (low_bits(random_u64(), LINUX_PIE_RND_BITS) << 12);
}

uintptr_t vm_pie_base(void)  { return pie_base; }
uintptr_t vm_stack_top(void) { return stack_top; }
uint64_t vm_mapped_pages(void) { return __atomic_load_n(&mapped_pages, __ATOMIC_RELAXED); }

static unsigned map_flags(unsigned prot)
{
    return ((prot & PROT_WRITE) ? MAP_WRITE : 0) | ((prot & PROT_EXEC) ? MAP_EXEC : 0);
}

/* What the hardware lets through for an area: a writable or executable
 * page is readable too (x86_64 and arm64 page tables have no write-only or
 * execute-only kernel pages); PROT_NONE allows nothing. */
static unsigned allowed(const struct area *a)
{
    return a->prot ? a->prot | PROT_READ : 0;
}

static struct area *find_area(uintptr_t addr)
{
    struct list_head *pos;
    list_for_each(pos, &areas) {
        struct area *a = list_entry(pos, struct area, link);
        if (addr < a->start)
            return NULL;
        if (addr < a->end)
            return a;
    }
    return NULL;
}

static bool is_file_page(const struct area *a, paddr_t pa)
{
    if (!a->file.data)
        return false;
    paddr_t base = virt_to_phys(a->file.data);
    return pa >= base && pa < base + ALIGN_UP(a->file.size, PAGE_SIZE);
}

/* Unmap [start, end) inside area a, freeing private pages. */
static void drop_pages(const struct area *a, uintptr_t start, uintptr_t end)
{
    for (uintptr_t v = start; v < end; v += PAGE_SIZE) {
        paddr_t pa;
        if (arch_lookup(v, &pa, NULL)) {
            if (!is_file_page(a, pa))
                page_free(pa, 0);
            mapped_pages--;
        }
    }
    arch_unmap(start, end - start);
}

static void insert_sorted(struct area *n)
{
    struct list_head *pos;
    list_for_each(pos, &areas) {
        struct area *a = list_entry(pos, struct area, link);
        if (a->start >= n->end) {
            list_add_tail(&n->link, pos);       /* before a */
            return;
        }
    }
    list_add_tail(&n->link, &areas);
}

/* Can b continue a (a just below it)? Anonymous areas with the same
 * protection can be one: brk and malloc grow the heap a piece at a time,
 * and the list should not grow with it. */
static bool mergeable(const struct area *a, const struct area *b)
{
    return a->end == b->start && !a->file.data && !b->file.data && a->prot == b->prot &&
           a->flags == b->flags;
}

/* Merge n with the areas on either side when they continue each other. */
static void merge_neighbours(struct area *n)
{
    if (n->link.prev != &areas) {
        struct area *prev = list_entry(n->link.prev, struct area, link);
        if (mergeable(prev, n)) {
            prev->end = n->end;
            list_del(&n->link);
            kfree(n);
            n = prev;
        }
    }
    if (n->link.next != &areas) {
        struct area *next = list_entry(n->link.next, struct area, link);
        if (mergeable(n, next)) {
            n->end = next->end;
            list_del(&next->link);
            kfree(next);
        }
    }
}

/* Split a at addr (a->start < addr < a->end): a keeps the lower part, the
 * new area (returned, already in the list) the upper. NULL on no memory. */
static struct area *split(struct area *a, uintptr_t addr)
{
    struct area *hi = kmalloc(sizeof(*hi));
    if (!hi)
        return NULL;
    *hi = *a;
    hi->start = addr;
    if (hi->file.data)
        hi->file_off += addr - a->start;
    a->end = addr;
    list_add(&hi->link, &a->link);
    return hi;
}

/* Remove [start, end) from every area, splitting at the edges. -ENOMEM
 * only when a split needs memory, before anything was changed. */
static int remove_range(uintptr_t start, uintptr_t end)
{
    /* First make sure both edges can be split (the only failure). */
    struct area *first = find_area(start);
    struct area *last = find_area(end - 1);
    if (first && first->start < start && first->end > end) {
        /* One area covers more than the range on both sides. */
        struct area *hi = split(first, start);
        if (!hi)
            return -ENOMEM;
        if (!split(hi, end)) {
            /* undo: merge back */
            first->end = hi->end;
            list_del(&hi->link);
            kfree(hi);
            return -ENOMEM;
        }
    } else {
        if (first && first->start < start && !split(first, start))
            return -ENOMEM;
        if (last && last->end > end && last->start < end && !split(last, end))
            return -ENOMEM;
    }
    struct list_head *pos, *tmp;
    list_for_each_safe(pos, tmp, &areas) {
        struct area *a = list_entry(pos, struct area, link);
        if (a->end <= start)
            continue;
        if (a->start >= end)
            break;
        drop_pages(a, a->start, a->end);
        list_del(&a->link);
        kfree(a);
    }
    return 0;
}

static bool range_free(uintptr_t start, uintptr_t end)
{
    struct list_head *pos;
    list_for_each(pos, &areas) {
        struct area *a = list_entry(pos, struct area, link);
        if (a->start < end && a->end > start)
            return false;
    }
    return true;
}

/* Highest free gap of len bytes below top (first fit, top down). A stack
 * keeps STACK_GUARD_GAP free below it. 0 when there is none. */
static uintptr_t find_gap(size_t len, uintptr_t top)
{
    uintptr_t end = top;
    for (struct list_head *pos = areas.prev; pos != &areas; pos = pos->prev) {
        struct area *a = list_entry(pos, struct area, link);
        uintptr_t lo = a->start - ((a->flags & VM_STACK) ? STACK_GUARD_GAP : 0);
        if (lo >= end)
            continue;                   /* entirely above the candidate */
        if (end - VM_USER_START >= len && a->end <= end - len)
            break;                      /* [end - len, end) is free */
        end = lo;
    }
    if (end < VM_USER_START || end - VM_USER_START < len)
        return 0;
    return end - len;
}

int vm_map(uintptr_t addr, size_t len, unsigned prot, unsigned flags,
           const struct vm_file *file, uint64_t off, uintptr_t *out)
{
    if (!len || (addr & (PAGE_SIZE - 1)) || (off & (PAGE_SIZE - 1)))
        return -EINVAL;
    if (len > VM_USER_END)
        return -ENOMEM;
    len = ALIGN_UP(len, PAGE_SIZE);
    if ((flags & VM_FIXED) &&
        (addr < VM_USER_START || addr >= VM_USER_END || len > VM_USER_END - addr))
        return (flags & VM_NOREPLACE) ? -EEXIST : -ENOMEM;

    struct area *n = kmalloc(sizeof(*n));
    if (!n)
        return -ENOMEM;
    memset(n, 0, sizeof(*n));
    n->prot = prot;
    n->flags = flags & VM_STACK;
    if (file) {
        n->file = *file;
        n->file_off = off;
    }

    mutex_lock(&lock);
    if (flags & VM_FIXED) {
        if (!range_free(addr, addr + len)) {
            int err = (flags & VM_NOREPLACE) ? -EEXIST : remove_range(addr, addr + len);
            if (err) {
                mutex_unlock(&lock);
                kfree(n);
                return err;
            }
        }
    } else {
        uintptr_t hint = addr;
        if (!(hint >= VM_USER_START && hint < VM_USER_END && len <= VM_USER_END - hint &&
              range_free(hint, hint + len)))
            hint = find_gap(len, mmap_top);
        if (!hint) {
            mutex_unlock(&lock);
            kfree(n);
            return -ENOMEM;
        }
        addr = hint;
    }
    n->start = addr;
    n->end = addr + len;
    insert_sorted(n);
    merge_neighbours(n);
    mutex_unlock(&lock);

    if (flags & VM_POPULATE)
        for (uintptr_t v = addr; v < addr + len; v += PAGE_SIZE)
            vm_fault(v, PROT_READ);
    *out = addr;
    return 0;
}

int vm_unmap(uintptr_t addr, size_t len)
{
    if ((addr & (PAGE_SIZE - 1)) || !len || addr >= VM_USER_END || len > VM_USER_END - addr)
        return -EINVAL;
    len = ALIGN_UP(len, PAGE_SIZE);
    mutex_lock(&lock);
    int err = remove_range(addr, addr + len);
    mutex_unlock(&lock);
    return err;
}

int vm_protect(uintptr_t addr, size_t len, unsigned prot)
{
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    if (!len)
        return 0;
    if (addr >= VM_USER_END || len > VM_USER_END - addr)
        return -ENOMEM;
    uintptr_t end = addr + ALIGN_UP(len, PAGE_SIZE);
    mutex_lock(&lock);
    /* Linux: -ENOMEM when part of the range is not mapped. */
    for (uintptr_t v = addr; v < end;) {
        struct area *a = find_area(v);
        if (!a) {
            mutex_unlock(&lock);
            return -ENOMEM;
        }
        v = a->end;
    }
    struct area *first = find_area(addr);
    if (first->start < addr && !split(first, addr))
        goto nomem;
    struct area *last = find_area(end - 1);
    if (last->end > end && !split(last, end))
        goto nomem;
    struct list_head *pos;
    list_for_each(pos, &areas) {
        struct area *a = list_entry(pos, struct area, link);
        if (a->end <= addr)
            continue;
        if (a->start >= end)
            break;
        a->prot = prot;
        if (prot == PROT_NONE) {
            drop_pages(a, a->start, a->end);
            continue;
        }
        if (!a->file.data) {
            arch_protect(a->start, a->end - a->start, map_flags(prot));
            continue;
        }
        /* Private file pages stay read-only until written (copy on
         * write), so only private copies get W. */
        for (uintptr_t v = a->start; v < a->end; v += PAGE_SIZE) {
            paddr_t pa;
            if (!arch_lookup(v, &pa, NULL))
                continue;
            unsigned f = map_flags(prot);
            if (is_file_page(a, pa))
                f &= ~MAP_WRITE;
            arch_protect(v, PAGE_SIZE, f);
        }
    }
    mutex_unlock(&lock);
    return 0;
nomem:
    mutex_unlock(&lock);
    return -ENOMEM;
}

int vm_discard(uintptr_t addr, size_t len)
{
    if ((addr & (PAGE_SIZE - 1)) || addr >= VM_USER_END || len > VM_USER_END - addr)
        return -EINVAL;
    uintptr_t end = addr + ALIGN_UP(len, PAGE_SIZE);
    int err = 0;
    mutex_lock(&lock);
    for (uintptr_t v = addr; v < end;) {
        struct area *a = find_area(v);
        if (!a) {
            err = -ENOMEM;
            v += PAGE_SIZE;
            continue;
        }
        uintptr_t stop = MIN(end, a->end);
        drop_pages(a, v, stop);
        v = stop;
    }
    mutex_unlock(&lock);
    return err;
}

int vm_remap(uintptr_t old, size_t old_len, size_t new_len, unsigned flags,
             uintptr_t new_addr, uintptr_t *out)
{
    enum { MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2 };
    if ((old & (PAGE_SIZE - 1)) || !new_len || (flags & ~3u) ||
        ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
        return -EINVAL;
    old_len = ALIGN_UP(old_len, PAGE_SIZE);
    new_len = ALIGN_UP(new_len, PAGE_SIZE);
    if (flags & MREMAP_FIXED)
        return -EINVAL;                 /* not supported yet: say so clearly */

    mutex_lock(&lock);
    struct area *a = find_area(old);
    if (!a || old + old_len > a->end) {
        mutex_unlock(&lock);
        return -EFAULT;
    }
    if (new_len <= old_len) {
        int err = new_len < old_len ? remove_range(old + new_len, old + old_len) : 0;
        mutex_unlock(&lock);
        *out = old;
        return err;
    }
    /* Grow in place when the area ends here and the space above is free. */
    if (a->end == old + old_len && range_free(a->end, old + new_len) &&
        old + new_len <= VM_USER_END) {
        a->end = old + new_len;
        mutex_unlock(&lock);
        *out = old;
        return 0;
    }
    if (!(flags & MREMAP_MAYMOVE)) {
        mutex_unlock(&lock);
        return -ENOMEM;
    }
    /* Move: a new area, the page table entries carried over. */
    uintptr_t dest = find_gap(new_len, mmap_top);
    struct area *n = dest ? kmalloc(sizeof(*n)) : NULL;
    if (!n) {
        mutex_unlock(&lock);
        return -ENOMEM;
    }
    if (a->start < old && !split(a, old)) {
        mutex_unlock(&lock);
        kfree(n);
        return -ENOMEM;
    }
    a = find_area(old);
    if (a->end > old + old_len && !split(a, old + old_len)) {
        mutex_unlock(&lock);
        kfree(n);
        return -ENOMEM;
    }
    *n = *a;
    n->start = dest;
    n->end = dest + new_len;
    for (uintptr_t off = 0; off < old_len; off += PAGE_SIZE) {
        paddr_t pa;
        unsigned f;
        if (arch_lookup(old + off, &pa, &f))
            arch_map(dest + off, pa, PAGE_SIZE, f);
    }
    arch_unmap(old, old_len);
    list_del(&a->link);
    kfree(a);
    insert_sorted(n);
    mutex_unlock(&lock);
    *out = dest;
    return 0;
}

/* A fresh page for area a at page address v: zeroes, or the file's bytes
 * (with zeroes past the end of the file). */
static paddr_t private_page(const struct area *a, uintptr_t v)
{
    paddr_t pa = page_alloc(0);
    if (!pa)
        return 0;
    uint8_t *p = phys_to_virt(pa);
    memset(p, 0, PAGE_SIZE);
    if (a->file.data) {
        uint64_t off = a->file_off + (v - a->start);
        if (off < a->file.size) {
            size_t n = MIN((uint64_t)PAGE_SIZE, a->file.size - off);
            memcpy(p, a->file.data + off, n);
        }
    }
    return pa;
}

int vm_fault(uintptr_t addr, unsigned access)
{
    if (addr < VM_USER_START || addr >= VM_USER_END)
        return -EFAULT;
    uintptr_t v = ALIGN_DOWN(addr, PAGE_SIZE);
    int err = -EFAULT;
    mutex_lock(&lock);
    struct area *a = find_area(addr);
    if (!a || (access & ~allowed(a)))
        goto out;
    paddr_t pa;
    unsigned flags = map_flags(a->prot);
    if (arch_lookup(v, &pa, NULL)) {
        /* Present: a write to a private file page (copy on write), or a
         * fault another CPU resolved meanwhile. */
        if ((access & PROT_WRITE) && is_file_page(a, pa)) {
            paddr_t copy = private_page(a, v);
            err = -ENOMEM;
            if (!copy)
                goto out;
            arch_map(v, copy, PAGE_SIZE, flags);
            /* Other CPUs may still hold the read-only file page. */
            arch_tlb_shootdown();
        } else if (access & PROT_WRITE) {
            arch_map(v, pa, PAGE_SIZE, flags);  /* after mprotect(PROT_WRITE) */
        }
        err = 0;
        goto out;
    }
    if (a->file.data) {
        uint64_t off = a->file_off + (v - a->start);
        /* Map the image's page in place, read-only, unless this access
         * writes it or the file ends inside it (its tail must read as
         * zeroes, and the image page may hold the next file's bytes). */
        if (!(access & PROT_WRITE) && off + PAGE_SIZE <= a->file.size) {
            arch_map(v, virt_to_phys(a->file.data + off), PAGE_SIZE, flags & ~MAP_WRITE);
            mapped_pages++;
            err = 0;
            goto out;
        }
    }
    pa = private_page(a, v);
    err = -ENOMEM;
    if (!pa)
        goto out;
    arch_map(v, pa, PAGE_SIZE, flags);
    mapped_pages++;
    err = 0;
out:
    mutex_unlock(&lock);
    return err;
}

bool vm_range_ok(uintptr_t addr, size_t len, unsigned access)
{
    if (addr < VM_USER_START || addr >= VM_USER_END || len > VM_USER_END - addr)
        return false;
    if (!len)
        return true;
    bool ok = true;
    mutex_lock(&lock);
    for (uintptr_t v = addr; v < addr + len;) {
        struct area *a = find_area(v);
        if (!a || (access & ~allowed(a)) || a->prot == PROT_NONE) {
            ok = false;
            break;
        }
        v = a->end;
    }
    mutex_unlock(&lock);
    return ok;
}

void vm_describe(uintptr_t addr, char *buf, size_t size)
{
    mutex_lock(&lock);
    struct area *a = find_area(addr);
    if (a) {
        snprintf(buf, size, "in a %s area %c%c%c [%lx-%lx)%s",
                 a->file.data ? "file" : "anonymous",
                 (a->prot & PROT_READ) ? 'r' : '-', (a->prot & PROT_WRITE) ? 'w' : '-',
                 (a->prot & PROT_EXEC) ? 'x' : '-', (unsigned long)a->start,
                 (unsigned long)a->end,
                 a->prot == PROT_NONE ? ": a guard area (PROT_NONE), e.g. a thread stack overflow"
                                      : "");
        mutex_unlock(&lock);
        return;
    }
    struct list_head *pos;
    list_for_each(pos, &areas) {
        struct area *s = list_entry(pos, struct area, link);
        if ((s->flags & VM_STACK) && addr < s->start && addr >= s->start - STACK_GUARD_GAP) {
            snprintf(buf, size, "just below the stack [%lx-%lx): stack overflow",
                     (unsigned long)s->start, (unsigned long)s->end);
            mutex_unlock(&lock);
            return;
        }
    }
    mutex_unlock(&lock);
    if (addr < VM_USER_START)
        snprintf(buf, size, "not mapped: a NULL pointer dereference");
    else
        snprintf(buf, size, "not mapped");
}
