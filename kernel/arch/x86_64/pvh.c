/*
 * The PVH start_info (struct hvm_start_info, Xen public header
 * arch-x86/hvm/start_info.h): memory map, command line, modules and the
 * ACPI RSDP, copied into boot_info. Runs before the console exists, so it
 * returns an error string for kernel_main to report instead of printing.
 *
 * Everything the loader points at must lie in the boot page tables' direct
 * map (the first 4 GiB); anything else is rejected rather than touched.
 */
#include <arch/mm.h>
#include <kern/boot.h>
#include <kern/string.h>
#include <xen/arch-x86/hvm/start_info.h>
#include "x86_64.h"

#define BOOT_MAPPED_LIMIT (4ULL << 30)

static bool reachable(uint64_t pa, uint64_t len)
{
    return pa + len >= pa && pa + len <= BOOT_MAPPED_LIMIT;
}

static enum mem_type memmap_type(uint32_t type)
{
    switch (type) {
    case XEN_HVM_MEMMAP_TYPE_RAM:      return MEM_RAM;
    case XEN_HVM_MEMMAP_TYPE_ACPI:     return MEM_ACPI;
    case XEN_HVM_MEMMAP_TYPE_NVS:      return MEM_NVS;
    case XEN_HVM_MEMMAP_TYPE_UNUSABLE: return MEM_UNUSABLE;
    default:                           return MEM_RESERVED;
    }
}

/* Copy a NUL-terminated string of unknown length from physical memory. */
static bool copy_string(char *dst, size_t size, uint64_t pa)
{
    if (!reachable(pa, 1)) {
        dst[0] = 0;
        return true;
    }
    const char *src = phys_to_virt(pa);
    size_t room = MIN((uint64_t)size - 1, BOOT_MAPPED_LIMIT - pa);
    size_t n = strnlen(src, room);
    memcpy(dst, src, n);
    dst[n] = 0;
    return n < room || src[n] == 0;
}

/* The legacy BIOS places the RSDP on a 16-byte boundary in 0xe0000-0xfffff;
 * QEMU's PVH option ROM passes rsdp_paddr, but older loaders do not. */
static uint64_t scan_bios_rsdp(void)
{
    for (uint64_t pa = 0xe0000; pa < 0x100000; pa += 16)
        if (memcmp(phys_to_virt(pa), "RSD PTR ", 8) == 0)
            return pa;
    return 0;
}

const char *pvh_parse(uint64_t pa)
{
    if (!reachable(pa, sizeof(struct hvm_start_info)))
        return "PVH start_info is not in the first 4 GiB";
    const struct hvm_start_info *si = phys_to_virt(pa);
    if (si->magic != XEN_HVM_START_MAGIC_VALUE)
        return "PVH start_info has a bad magic (not booted through PVH?)";
    boot_info.loader = "pvh";

    if (si->cmdline_paddr)
        boot_info.cmdline_truncated =
            !copy_string(boot_info.cmdline, sizeof(boot_info.cmdline), si->cmdline_paddr);

    if (si->nr_modules > BOOT_MAX_MODULES)
        return "PVH start_info lists more boot modules than supported";
    if (si->nr_modules) {
        size_t len = si->nr_modules * sizeof(struct hvm_modlist_entry);
        if (!reachable(si->modlist_paddr, len))
            return "PVH module list is not in the first 4 GiB";
        const struct hvm_modlist_entry *m = phys_to_virt(si->modlist_paddr);
        for (uint32_t i = 0; i < si->nr_modules; i++) {
            struct boot_module *bm = &boot_info.modules[i];
            if (m[i].paddr + m[i].size < m[i].paddr)
                return "PVH module has an impossible size";
            bm->start = m[i].paddr;
            bm->end = m[i].paddr + m[i].size;
            if (m[i].cmdline_paddr)
                copy_string(bm->cmdline, sizeof(bm->cmdline), m[i].cmdline_paddr);
        }
        boot_info.nr_modules = si->nr_modules;
    }

    boot_info.acpi_rsdp = si->rsdp_paddr ? si->rsdp_paddr : scan_bios_rsdp();

    if (si->version < 1 || si->memmap_entries == 0)
        return "PVH start_info has no memory map (version 0 loader)";
    if (si->memmap_entries > BOOT_MAX_REGIONS)
        return "PVH memory map has more entries than supported";
    size_t len = si->memmap_entries * sizeof(struct hvm_memmap_table_entry);
    if (!reachable(si->memmap_paddr, len))
        return "PVH memory map is not in the first 4 GiB";
    const struct hvm_memmap_table_entry *e = phys_to_virt(si->memmap_paddr);
    for (uint32_t i = 0; i < si->memmap_entries; i++) {
        if (e[i].size == 0 || e[i].addr + e[i].size < e[i].addr)
            continue;
        struct mem_region *r = &boot_info.regions[boot_info.nr_regions++];
        r->start = e[i].addr;
        r->end = e[i].addr + e[i].size;
        r->type = memmap_type(e[i].type);
    }
    return NULL;
}
