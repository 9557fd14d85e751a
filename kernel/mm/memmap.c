/*
 * The physical memory map. The loader's regions are copied into boot_info;
 * here they become a list of free RAM ranges from which the kernel image,
 * the boot modules and the first megabyte (firmware data, real-mode IVT) are
 * cut out. Before the page allocator exists, page tables come from
 * memmap_alloc_early, which also cuts from this list.
 */
#include <arch/mm.h>
#include <kern/boot.h>
#include <kern/memmap.h>
#include <kern/panic.h>
#include <kern/printk.h>
#include <kern/string.h>

#define MAX_FREE 128

static struct mem_region free_ranges[MAX_FREE];
static unsigned nr_free;
static uint64_t early_bytes;

const char *mem_type_name(enum mem_type type)
{
    switch (type) {
    case MEM_RAM:      return "usable";
    case MEM_RESERVED: return "reserved";
    case MEM_ACPI:     return "ACPI data";
    case MEM_NVS:      return "ACPI NVS";
    case MEM_UNUSABLE: return "unusable";
    }
    return "unknown";
}

static void add_free(paddr_t start, paddr_t end)
{
    start = ALIGN_UP(start, PAGE_SIZE);
    end = ALIGN_DOWN(end, PAGE_SIZE);
    if (start >= end)
        return;
    if (nr_free == MAX_FREE) {
        pr_warn("memmap: too many ranges, ignoring %llx-%llx\n",
                (unsigned long long)start, (unsigned long long)end);
        return;
    }
    free_ranges[nr_free].start = start;
    free_ranges[nr_free].end = end;
    free_ranges[nr_free].type = MEM_RAM;
    nr_free++;
}

void memmap_reserve(paddr_t start, paddr_t end, const char *why)
{
    start = ALIGN_DOWN(start, PAGE_SIZE);
    end = ALIGN_UP(end, PAGE_SIZE);
    pr_debug("memmap: reserve %llx-%llx (%s)\n", (unsigned long long)start,
             (unsigned long long)end, why);
    for (unsigned i = 0; i < nr_free; i++) {
        struct mem_region *r = &free_ranges[i];
        if (end <= r->start || start >= r->end)
            continue;
        paddr_t old_end = r->end;
        if (start > r->start) {
            r->end = start;                 /* keep the low part here */
            if (end < old_end)
                add_free(end, old_end);     /* and the high part */
        } else if (end < r->end) {
            r->start = end;                 /* keep the high part */
        } else {
            r->start = r->end = 0;          /* swallowed whole */
        }
    }
    /* Drop emptied entries. */
    unsigned j = 0;
    for (unsigned i = 0; i < nr_free; i++)
        if (free_ranges[i].start < free_ranges[i].end)
            free_ranges[j++] = free_ranges[i];
    nr_free = j;
}

void memmap_init(void)
{
    for (unsigned i = 0; i < boot_info.nr_regions; i++)
        if (boot_info.regions[i].type == MEM_RAM)
            add_free(boot_info.regions[i].start, boot_info.regions[i].end);

    memmap_reserve(0, 1 * MiB, "first megabyte: firmware data");
    memmap_reserve(boot_info.kernel_start, boot_info.kernel_end, "kernel image");
    for (unsigned i = 0; i < boot_info.nr_modules; i++)
        memmap_reserve(boot_info.modules[i].start, boot_info.modules[i].end,
                       "boot module");
    if (nr_free == 0)
        panic("memmap: the loader reported no usable RAM");
}

paddr_t memmap_alloc_early(size_t bytes, paddr_t limit)
{
    bytes = ALIGN_UP(bytes, PAGE_SIZE);
    /* Take from the top of the lowest range that fits, leaving low memory
     * contiguous for the page allocator's first blocks. */
    for (unsigned i = 0; i < nr_free; i++) {
        struct mem_region *r = &free_ranges[i];
        paddr_t end = MIN(r->end, limit);
        if (end <= r->start || end - r->start < bytes)
            continue;
        paddr_t pa = end - bytes;
        memmap_reserve(pa, pa + bytes, "early allocation");
        memset(phys_to_virt(pa), 0, bytes);
        early_bytes += bytes;
        return pa;
    }
    panic("memmap: out of memory for early allocation of %zu bytes below %llx",
          bytes, (unsigned long long)limit);
}

unsigned memmap_free_regions(struct mem_region *out, unsigned max)
{
    unsigned n = MIN(nr_free, max);
    memcpy(out, free_ranges, n * sizeof(*out));
    return n;
}

void memmap_print(void)
{
    uint64_t ram = 0;
    pr_info("memory map (%s):\n", boot_info.loader);
    for (unsigned i = 0; i < boot_info.nr_regions; i++) {
        const struct mem_region *r = &boot_info.regions[i];
        pr_info("  %016llx-%016llx %8llu KiB  %s\n",
                (unsigned long long)r->start, (unsigned long long)r->end - 1,
                (unsigned long long)(r->end - r->start) / KiB, mem_type_name(r->type));
        if (r->type == MEM_RAM)
            ram += r->end - r->start;
    }
    uint64_t avail = 0;
    for (unsigned i = 0; i < nr_free; i++)
        avail += free_ranges[i].end - free_ranges[i].start;
    pr_info("memory: %llu KiB RAM, %llu KiB free after kernel and boot data "
            "(%llu KiB early page tables)\n", (unsigned long long)ram / KiB,
            (unsigned long long)avail / KiB, (unsigned long long)early_bytes / KiB);
}
