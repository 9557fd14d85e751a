/*
 * The kernel's final page tables, replacing boot.S's 2 MiB identity maps:
 *   - kernel image at KERNEL_VBASE with W^X: text read-only and executable,
 *     rodata read-only NX, data/bss writable NX, stack guard pages absent;
 *   - the direct map of every region in the memory map, writable NX;
 *   - nothing at all in the lower half (page 0 included), which is left for
 *     apps, so a NULL dereference faults.
 * Page-table pages come from memmap_alloc_early (the page allocator is
 * initialized after this, over the direct map built here).
 */
#include <arch/cpu.h>
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/boot.h>
#include <kern/memmap.h>
#include <kern/panic.h>
#include <kern/page_alloc.h>
#include <kern/printk.h>
#include <kern/spinlock.h>
#include <kern/string.h>
#include "x86_64.h"

#define PTE_P     (1ULL << 0)
#define PTE_W     (1ULL << 1)
#define PTE_PWT   (1ULL << 3)
#define PTE_PCD   (1ULL << 4)
#define PTE_PS    (1ULL << 7)
#define PTE_G     (1ULL << 8)
#define PTE_NX    (1ULL << 63)
#define PTE_ADDR  0x000ffffffffff000ULL

/* Early page tables must lie in the boot direct map (first 4 GiB). */
#define EARLY_LIMIT (4ULL << 30)

#define MAX_GUARDS 16
static uintptr_t guards[MAX_GUARDS];
static unsigned nr_guards;
static uint64_t *pml4;
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

/* Page-table pages: from the early allocator until the page allocator runs. */
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

static uint64_t *table_at(uint64_t *table, unsigned idx)
{
    if (!(table[idx] & PTE_P)) {
        paddr_t pa = alloc_table_page();
        table[idx] = pa | PTE_P | PTE_W;
    }
    BUG_ON(table[idx] & PTE_PS);
    return phys_to_virt(table[idx] & PTE_ADDR);
}

static void map_one(uintptr_t va, paddr_t pa, uint64_t flags, bool large)
{
    uint64_t *pdpt = table_at(pml4, (va >> 39) & 511);
    uint64_t *pd = table_at(pdpt, (va >> 30) & 511);
    if (large) {
        pd[(va >> 21) & 511] = pa | flags | PTE_PS;
        pages_2m++;
        return;
    }
    uint64_t *pt = table_at(pd, (va >> 21) & 511);
    pt[(va >> 12) & 511] = pa | flags;
    pages_4k++;
}

/* Map [va, va+size) to pa, with 2 MiB pages wherever both addresses and the
 * remaining size allow. */
static void map_range(uintptr_t va, paddr_t pa, uint64_t size, uint64_t flags)
{
    while (size) {
        bool large = IS_ALIGNED(va, LARGE_PAGE_SIZE) && IS_ALIGNED(pa, LARGE_PAGE_SIZE) &&
                     size >= LARGE_PAGE_SIZE;
        uint64_t step = large ? LARGE_PAGE_SIZE : PAGE_SIZE;
        map_one(va, pa, flags, large);
        va += step;
        pa += step;
        size -= step;
    }
}

static void map_kernel(uintptr_t start, uintptr_t end, uint64_t flags)
{
    for (uintptr_t va = ALIGN_DOWN(start, PAGE_SIZE); va < ALIGN_UP(end, PAGE_SIZE);
         va += PAGE_SIZE)
        if (!arch_is_guard_page(va))
            map_one(va, va - KERNEL_VBASE, flags, false);
}

void arch_paging_init(void)
{
    pml4 = phys_to_virt(memmap_alloc_early(PAGE_SIZE, EARLY_LIMIT));

    map_kernel((uintptr_t)_text, (uintptr_t)_etext, PTE_P | PTE_G);
    map_kernel((uintptr_t)_rodata, (uintptr_t)_erodata, PTE_P | PTE_G | PTE_NX);
    map_kernel((uintptr_t)_data, (uintptr_t)_kernel_end, PTE_P | PTE_W | PTE_G | PTE_NX);

    /* Memory, not devices: RAM and ACPI regions, plus the first megabyte
     * (BIOS data where the RSDP may live). "Reserved" regions are often
     * device windows (MMCONFIG, a 1 TiB HyperTransport hole on AMD hosts)
     * that want uncached mappings made by their drivers. */
    for (unsigned i = 0; i < boot_info.nr_regions; i++) {
        const struct mem_region *r = &boot_info.regions[i];
        paddr_t start = ALIGN_DOWN(r->start, PAGE_SIZE);
        paddr_t end = ALIGN_UP(r->end, PAGE_SIZE);
        if (r->type == MEM_RESERVED || r->type == MEM_UNUSABLE) {
            if (start >= 1 * MiB)
                continue;
            end = MIN(end, 1 * MiB);
        }
        map_range(DIRECT_MAP_BASE + start, start, end - start, PTE_P | PTE_W | PTE_NX);
        mapped_bytes += end - start;
    }

    write_cr4(read_cr4() | CR4_PGE);
    write_cr3(virt_to_phys(pml4));
    pr_info("paging: kernel W^X, direct map of %llu MiB (%llu 2M + %llu 4K pages)\n",
            (unsigned long long)mapped_bytes / MiB, (unsigned long long)pages_2m,
            (unsigned long long)pages_4k);
}

/* Walk the final tables: the physical address behind va, or ~0 when it is
 * not mapped. Large pages count. */
static paddr_t walk(uintptr_t va)
{
    const uint64_t *t = pml4;
    for (int shift = 39; shift >= 12; shift -= 9) {
        uint64_t e = t[(va >> shift) & 511];
        if (!(e & PTE_P))
            return ~(paddr_t)0;
        if (shift == 12 || (e & PTE_PS)) {
            uint64_t page_mask = (1ULL << shift) - 1;
            return (e & PTE_ADDR & ~page_mask) | (va & page_mask);
        }
        t = phys_to_virt(e & PTE_ADDR);
    }
    return ~(paddr_t)0;
}

static bool is_mapped(uintptr_t va)
{
    return walk(va) != ~(paddr_t)0;
}

paddr_t arch_virt_to_phys(uintptr_t va)
{
    paddr_t pa = walk(va);
    BUG_ON(pa == ~(paddr_t)0);
    return pa;
}

/*
 * Make [pa, pa+len) reachable through the direct map, cached (it is for
 * memory the firmware left for us, like ACPI tables in "reserved" regions,
 * not for device registers). Before arch_paging_init the boot tables
 * already map the first 4 GiB.
 */
void *phys_map(paddr_t pa, size_t len)
{
    static spinlock_t lock = SPINLOCK_INIT;

    if (!pml4)
        return pa + len <= EARLY_LIMIT ? phys_to_virt(pa) : NULL;
    if (pa + len < pa)
        return NULL;
    unsigned long flags = spin_lock_irqsave(&lock);
    for (paddr_t p = ALIGN_DOWN(pa, PAGE_SIZE); p < pa + len; p += PAGE_SIZE) {
        uintptr_t va = DIRECT_MAP_BASE + p;
        if (!is_mapped(va)) {
            map_one(va, p, PTE_P | PTE_W | PTE_NX, false);
            invlpg(va);
        }
    }
    spin_unlock_irqrestore(&lock, flags);
    return phys_to_virt(pa);
}

static uint64_t pte_flags(unsigned flags)
{
    uint64_t f = PTE_P;
    if (flags & MAP_WRITE)
        f |= PTE_W;
    if (!(flags & MAP_EXEC))
        f |= PTE_NX;
    if (flags & MAP_UNCACHED)
        f |= PTE_PCD | PTE_PWT;
    return f;
}

static spinlock_t map_lock = SPINLOCK_INIT;

/* The leaf entry for va (4 KiB pages only), or NULL when a level above is
 * missing. Callers hold map_lock. */
static uint64_t *leaf_entry(uintptr_t va)
{
    uint64_t *t = pml4;
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t e = t[(va >> shift) & 511];
        if (!(e & PTE_P) || (e & PTE_PS))
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
        map_one(va + off, pa + off, pte_flags(flags), false);
        invlpg(va + off);
    }
    spin_unlock_irqrestore(&map_lock, irq);
}

void arch_unmap(uintptr_t va, size_t len)
{
    unsigned long irq = spin_lock_irqsave(&map_lock);
    for (uintptr_t v = va; v < va + len; v += PAGE_SIZE) {
        uint64_t *pte = leaf_entry(v);      /* only 4K mappings are unmapped */
        if (pte && (*pte & PTE_P)) {
            *pte = 0;
            invlpg(v);
        }
    }
    spin_unlock_irqrestore(&map_lock, irq);
    arch_tlb_shootdown();
}

bool arch_lookup(uintptr_t va, paddr_t *pa, unsigned *flags)
{
    unsigned long irq = spin_lock_irqsave(&map_lock);
    uint64_t *pte = leaf_entry(va);
    uint64_t e = pte ? *pte : 0;
    spin_unlock_irqrestore(&map_lock, irq);
    if (!(e & PTE_P))
        return false;
    if (pa)
        *pa = e & PTE_ADDR;
    if (flags)
        *flags = ((e & PTE_W) ? MAP_WRITE : 0) | ((e & PTE_NX) ? 0 : MAP_EXEC);
    return true;
}

void arch_protect(uintptr_t va, size_t len, unsigned flags)
{
    unsigned long irq = spin_lock_irqsave(&map_lock);
    for (uintptr_t v = va; v < va + len; v += PAGE_SIZE) {
        uint64_t *pte = leaf_entry(v);
        if (pte && (*pte & PTE_P)) {
            *pte = (*pte & PTE_ADDR) | pte_flags(flags);
            invlpg(v);
        }
    }
    spin_unlock_irqrestore(&map_lock, irq);
    arch_tlb_shootdown();
}

/* The I/O window: device mappings are handed out upwards from here and
 * never reused (drivers map their registers once). */
#define IOREMAP_BASE 0xffffd00000000000UL
#define IOREMAP_SIZE (64UL << 30)

void *ioremap(paddr_t pa, size_t len)
{
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
