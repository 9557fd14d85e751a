/*
 * The kernel's final page tables (4 KiB granule, 4 levels, 48-bit VAs),
 * replacing boot.S's early map:
 *   - TTBR1: the kernel image at KERNEL_VBASE with W^X (text read-only and
 *     executable, rodata read-only, data/bss writable, none of it
 *     executable but text; the stacks' guard pages absent), the direct
 *     map of every RAM region (writable, never executable) and the I/O
 *     window (ioremap);
 *   - TTBR0: the lower half, empty but for what apps map (kernel/mm/vm.c
 *     through arch_map), so a NULL dereference faults.
 * Apps run at EL1 in Tern (DESIGN.md), so every mapping is an EL1 one
 * (AP[2:1] = 00 or 10, PXN for "not executable"; UXN always).
 * Page-table pages come from memmap_alloc_early until the page allocator
 * runs.
 */
#include <arch/barrier.h>
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/boot.h>
#include <kern/memmap.h>
#include <kern/page_alloc.h>
#include <kern/panic.h>
#include <kern/printk.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include "aarch64.h"

#define PTE_VALID     (1ULL << 0)
#define PTE_TABLE     (1ULL << 1)       /* levels 0-2: next table; level 3: page */
#define PTE_ATTR(i)   ((uint64_t)(i) << 2)
#define PTE_RDONLY    (1ULL << 7)       /* AP[2] */
#define PTE_SH_INNER  (3ULL << 8)
#define PTE_AF        (1ULL << 10)
#define PTE_PXN       (1ULL << 53)
#define PTE_UXN       (1ULL << 54)
#define PTE_ADDR      0x0000fffffffff000ULL

/* MAIR_EL1 indexes (boot.S sets MAIR). */
#define ATTR_NORMAL   0
#define ATTR_DEVICE   1

#define KERNEL_RO_X   (PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_RDONLY | PTE_UXN)
#define KERNEL_RO     (KERNEL_RO_X | PTE_PXN)
#define KERNEL_RW     (PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_PXN | PTE_UXN)
#define DEVICE_RW     (PTE_ATTR(ATTR_DEVICE) | PTE_AF | PTE_PXN | PTE_UXN)

/* Early page tables must lie in boot.S's early direct map. */
#define EARLY_LIMIT   (64ULL << 30)
/* boot.S's early Device window: [0, 1 GiB) through the direct map. */
#define EARLY_IO_END  (1ULL << 30)

#define MAX_GUARDS 16
static uintptr_t guards[MAX_GUARDS];
static unsigned nr_guards;
static uint64_t *root_hi, *root_lo;     /* TTBR1's and TTBR0's level 0 */
static bool early_io_kept;
static uint64_t pages_4k, pages_2m, mapped_bytes;

extern char _text[], _etext[], _rodata[], _erodata[], _data[], _kernel_end[];

void paging_add_guard(uintptr_t va)
{
    BUG_ON(nr_guards == MAX_GUARDS);
    guards[nr_guards++] = va;
}

bool arch_is_guard_page(uintptr_t va)
{
    for (unsigned i = 0; i < nr_guards; i++)
        if (guards[i] == va)
            return true;
    return false;
}

static paddr_t alloc_table_page(void)
{
    if (!page_alloc_ready())
        return memmap_alloc_early(PAGE_SIZE, EARLY_LIMIT);
    paddr_t pa = page_alloc(0);
    if (!pa)
        panic("paging: out of memory for a page table");
    memset(phys_to_virt(pa), 0, PAGE_SIZE);
    return pa;
}

static uint64_t *root_for(uintptr_t va)
{
    return (va >> 63) ? root_hi : root_lo;
}

static uint64_t *table_at(uint64_t *table, unsigned idx)
{
    if (!(table[idx] & PTE_VALID)) {
        paddr_t pa = alloc_table_page();
        /* The walker must see the zeroed table before the entry. */
        __asm__ volatile("dsb ishst" : : : "memory");
        table[idx] = pa | PTE_VALID | PTE_TABLE;
    }
    BUG_ON(!(table[idx] & PTE_TABLE));
    return phys_to_virt(table[idx] & PTE_ADDR);
}

static void map_one(uintptr_t va, paddr_t pa, uint64_t attrs, bool large)
{
    uint64_t *l1 = table_at(root_for(va), (va >> 39) & 511);
    uint64_t *l2 = table_at(l1, (va >> 30) & 511);
    if (large) {
        l2[(va >> 21) & 511] = pa | attrs | PTE_VALID;     /* a 2 MiB block */
        pages_2m++;
        return;
    }
    uint64_t *l3 = table_at(l2, (va >> 21) & 511);
    l3[(va >> 12) & 511] = pa | attrs | PTE_VALID | PTE_TABLE;
    pages_4k++;
}

static void map_range(uintptr_t va, paddr_t pa, uint64_t size, uint64_t attrs)
{
    while (size) {
        bool large = IS_ALIGNED(va, LARGE_PAGE_SIZE) && IS_ALIGNED(pa, LARGE_PAGE_SIZE) &&
                     size >= LARGE_PAGE_SIZE;
        uint64_t step = large ? LARGE_PAGE_SIZE : PAGE_SIZE;
        map_one(va, pa, attrs, large);
        va += step;
        pa += step;
        size -= step;
    }
}

static void map_kernel(uintptr_t start, uintptr_t end, uint64_t attrs)
{
    for (uintptr_t va = ALIGN_DOWN(start, PAGE_SIZE); va < ALIGN_UP(end, PAGE_SIZE);
         va += PAGE_SIZE)
        if (!arch_is_guard_page(va))
            map_one(va, va - KERNEL_VBASE + arch_kernel_phys_base, attrs, false);
}

static void flush_page(uintptr_t va)
{
    __asm__ volatile("dsb ishst\n\t"
                     "tlbi vaae1is, %0\n\t"
                     "dsb ish\n\t"
                     "isb" : : "r"((va >> 12) & 0xfffffffffffULL) : "memory");
}

static void flush_all_local(void)
{
    __asm__ volatile("dsb ishst; tlbi vmalle1; dsb nsh; isb" : : : "memory");
}

void arch_paging_init(void)
{
    root_hi = phys_to_virt(memmap_alloc_early(PAGE_SIZE, EARLY_LIMIT));
    root_lo = phys_to_virt(memmap_alloc_early(PAGE_SIZE, EARLY_LIMIT));

    map_kernel((uintptr_t)_text, (uintptr_t)_etext, KERNEL_RO_X);
    map_kernel((uintptr_t)_rodata, (uintptr_t)_erodata, KERNEL_RO);
    map_kernel((uintptr_t)_data, (uintptr_t)_kernel_end, KERNEL_RW);

    /* Memory, not devices: device registers get ioremap's mappings. */
    bool ram_in_early_io = false;
    for (unsigned i = 0; i < boot_info.nr_regions; i++) {
        const struct mem_region *r = &boot_info.regions[i];
        if (r->type != MEM_RAM && r->type != MEM_ACPI)
            continue;
        paddr_t start = ALIGN_DOWN(r->start, PAGE_SIZE);
        paddr_t end = ALIGN_UP(r->end, PAGE_SIZE);
        map_range(DIRECT_MAP_BASE + start, start, end - start, KERNEL_RW);
        mapped_bytes += end - start;
        if (start < EARLY_IO_END)
            ram_in_early_io = true;
    }
    /* Device registers mapped before this (the console's, ioremap below)
     * point into boot.S's Device window of the direct map; keep it, as a
     * 1 GiB Device block, where no RAM lies in it (QEMU's virt: RAM from
     * 1 GiB). */
    if (!ram_in_early_io) {
        uint64_t *l1 = table_at(root_hi, (DIRECT_MAP_BASE >> 39) & 511);
        l1[(DIRECT_MAP_BASE >> 30) & 511] = 0 | DEVICE_RW | PTE_VALID;
        early_io_kept = true;
    }

    __asm__ volatile("dsb ishst" : : : "memory");
    WRITE_SYSREG(ttbr0_el1, virt_to_phys(root_lo));
    WRITE_SYSREG(ttbr1_el1, virt_to_phys(root_hi));
    __asm__ volatile("isb" : : : "memory");
    flush_all_local();
    pr_info("paging: kernel W^X, direct map of %llu MiB (%llu 2M + %llu 4K pages)%s\n",
            (unsigned long long)mapped_bytes / MiB, (unsigned long long)pages_2m,
            (unsigned long long)pages_4k, early_io_kept ? ", early device window kept" : "");
}

/* The physical address behind va in the live tables, or ~0. */
static paddr_t walk(uintptr_t va)
{
    const uint64_t *t = root_for(va);
    for (int level = 0, shift = 39; level < 4; level++, shift -= 9) {
        uint64_t e = t[(va >> shift) & 511];
        if (!(e & PTE_VALID))
            return ~(paddr_t)0;
        if (level == 3 || !(e & PTE_TABLE)) {
            uint64_t mask = (1ULL << shift) - 1;
            return (e & PTE_ADDR & ~mask) | (va & mask);
        }
        t = phys_to_virt(e & PTE_ADDR);
    }
    return ~(paddr_t)0;
}

paddr_t arch_virt_to_phys(uintptr_t va)
{
    if (!root_hi)
        return virt_to_phys((const void *)va);
    paddr_t pa = walk(va);
    BUG_ON(pa == ~(paddr_t)0);
    return pa;
}

static spinlock_t map_lock = SPINLOCK_INIT;

void *phys_map(paddr_t pa, size_t len)
{
    if (!root_hi)
        return pa + len <= EARLY_LIMIT ? phys_to_virt(pa) : NULL;
    if (pa + len < pa)
        return NULL;
    unsigned long flags = spin_lock_irqsave(&map_lock);
    for (paddr_t p = ALIGN_DOWN(pa, PAGE_SIZE); p < pa + len; p += PAGE_SIZE) {
        uintptr_t va = DIRECT_MAP_BASE + p;
        if (walk(va) == ~(paddr_t)0) {
            map_one(va, p, KERNEL_RW, false);
            flush_page(va);
        }
    }
    spin_unlock_irqrestore(&map_lock, flags);
    return phys_to_virt(pa);
}

static uint64_t pte_attrs(unsigned flags)
{
    uint64_t a = PTE_AF | PTE_UXN;
    a |= (flags & MAP_UNCACHED) ? PTE_ATTR(ATTR_DEVICE) : PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER;
    if (!(flags & MAP_WRITE))
        a |= PTE_RDONLY;
    if (!(flags & MAP_EXEC))
        a |= PTE_PXN;
    return a;
}

/* The level-3 entry for va, or NULL when a level above is missing or a
 * block. Callers hold map_lock. */
static uint64_t *leaf_entry(uintptr_t va)
{
    uint64_t *t = root_for(va);
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t e = t[(va >> shift) & 511];
        if (!(e & PTE_VALID) || !(e & PTE_TABLE))
            return NULL;
        t = phys_to_virt(e & PTE_ADDR);
    }
    return &t[(va >> 12) & 511];
}

void arch_map(uintptr_t va, paddr_t pa, size_t len, unsigned flags)
{
    BUG_ON(!IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(pa, PAGE_SIZE));
    unsigned long irq = spin_lock_irqsave(&map_lock);
    for (size_t off = 0; off < ALIGN_UP(len, PAGE_SIZE); off += PAGE_SIZE) {
        uint64_t *pte = leaf_entry(va + off);
        /* Break before make: a live entry is cleared and flushed before
         * it takes another page (ARM ARM D8.14.1). */
        if (pte && (*pte & PTE_VALID)) {
            *pte = 0;
            flush_page(va + off);
        }
        map_one(va + off, pa + off, pte_attrs(flags), false);
    }
    __asm__ volatile("dsb ishst; isb" : : : "memory");
    spin_unlock_irqrestore(&map_lock, irq);
}

void arch_unmap(uintptr_t va, size_t len)
{
    unsigned long irq = spin_lock_irqsave(&map_lock);
    for (uintptr_t v = va; v < va + len; v += PAGE_SIZE) {
        uint64_t *pte = leaf_entry(v);
        if (pte && (*pte & PTE_VALID)) {
            *pte = 0;
            flush_page(v);              /* broadcast (tlbi ...is) to every CPU */
        }
    }
    spin_unlock_irqrestore(&map_lock, irq);
}

bool arch_lookup(uintptr_t va, paddr_t *pa, unsigned *flags)
{
    unsigned long irq = spin_lock_irqsave(&map_lock);
    uint64_t *pte = leaf_entry(va);
    uint64_t e = pte ? *pte : 0;
    spin_unlock_irqrestore(&map_lock, irq);
    if (!(e & PTE_VALID))
        return false;
    if (pa)
        *pa = e & PTE_ADDR;
    if (flags)
        *flags = ((e & PTE_RDONLY) ? 0 : MAP_WRITE) | ((e & PTE_PXN) ? 0 : MAP_EXEC);
    return true;
}

void arch_protect(uintptr_t va, size_t len, unsigned flags)
{
    unsigned long irq = spin_lock_irqsave(&map_lock);
    for (uintptr_t v = va; v < va + len; v += PAGE_SIZE) {
        uint64_t *pte = leaf_entry(v);
        if (pte && (*pte & PTE_VALID)) {
            uint64_t pa = *pte & PTE_ADDR;
            *pte = 0;
            flush_page(v);
            *pte = pa | pte_attrs(flags) | PTE_VALID | PTE_TABLE;
        }
    }
    __asm__ volatile("dsb ishst; isb" : : : "memory");
    spin_unlock_irqrestore(&map_lock, irq);
}

/* The I/O window: device mappings are handed out upwards from here and
 * never reused (drivers map their registers once). */
#define IOREMAP_BASE 0xffffd00000000000UL
#define IOREMAP_SIZE (64UL << 30)

void *ioremap(paddr_t pa, size_t len)
{
    /* Before the final tables: boot.S's Device window, which
     * arch_paging_init keeps. */
    if (!root_hi) {
        if (pa + len > EARLY_IO_END)
            panic("ioremap: %#llx before paging is outside the early device window",
                  (unsigned long long)pa);
        return phys_to_virt(pa);
    }
    static uintptr_t next = IOREMAP_BASE;
    paddr_t start = ALIGN_DOWN(pa, PAGE_SIZE);
    size_t size = ALIGN_UP(pa + len, PAGE_SIZE) - start;

    unsigned long irq = spin_lock_irqsave(&map_lock);
    uintptr_t va = next;
    next += size;
    spin_unlock_irqrestore(&map_lock, irq);
    if (next > IOREMAP_BASE + IOREMAP_SIZE)
        panic("ioremap: I/O window exhausted");
    arch_map(va, start, size, MAP_WRITE | MAP_UNCACHED);
    return (void *)(va + (pa - start));
}
