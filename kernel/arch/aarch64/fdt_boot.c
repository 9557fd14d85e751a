/*
 * The boot protocol's half of the device tree: what kern/boot.h carries
 * (memory, the command line, the initrd as boot module 0, the loader's
 * random seed), the arm64
 * counterpart of x86_64's pvh.c. The devices are the platform's
 * (platform/kvm/dt_arm64.c reads them into its own table).
 *
 * Parsed with Debian's libfdt.a (arm64), which the compiler built with
 * SIMD and -fstack-protector: it may use q/v registers and checks
 * __stack_chk_guard (stack_protector.c). So it runs only here, from
 * aarch64_boot, before any thread exists (no vector state to clobber)
 * and with FP/SIMD enabled by boot.S (CPACR_EL1.FPEN); the tree is read
 * through the early direct map.
 */
#include <arch/mm.h>
#include <kern/boot.h>
#include <kern/string.h>
#include <libfdt.h>
#include "aarch64.h"

/* Early direct map: boot.S maps the first 64 GiB. */
#define EARLY_DIRECT_LIMIT (64ULL << 30)

static uint64_t read_cells(const fdt32_t *p, int cells)
{
    uint64_t v = 0;
    for (int i = 0; i < cells; i++)
        v = (v << 32) | fdt32_to_cpu(p[i]);
    return v;
}

static int root_cells(const void *fdt, const char *name, int dflt)
{
    int len;
    const fdt32_t *p = fdt_getprop(fdt, 0, name, &len);
    return p && len == 4 ? (int)fdt32_to_cpu(*p) : dflt;
}

static const char *parse_memory(const void *fdt)
{
    int ac = root_cells(fdt, "#address-cells", 2), sc = root_cells(fdt, "#size-cells", 1);
    if (ac < 1 || ac > 2 || sc < 1 || sc > 2)
        return "root #address-cells/#size-cells out of range";
    for (int node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", 7);
         node >= 0;
         node = fdt_node_offset_by_prop_value(fdt, node, "device_type", "memory", 7)) {
        int len;
        const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
        if (!reg || len % (4 * (ac + sc)))
            return "a memory node has a malformed reg";
        for (int i = 0; i < len / (4 * (ac + sc)); i++) {
            uint64_t base = read_cells(reg + i * (ac + sc), ac);
            uint64_t size = read_cells(reg + i * (ac + sc) + ac, sc);
            if (!size || base + size < base)
                continue;
            if (boot_info.nr_regions == BOOT_MAX_REGIONS)
                return "more memory ranges than supported";
            struct mem_region *r = &boot_info.regions[boot_info.nr_regions++];
            r->start = base;
            r->end = base + size;
            r->type = MEM_RAM;
        }
    }
    if (!boot_info.nr_regions)
        return "no memory node";
    return NULL;
}

/* linux,initrd-start/end are 32 or 64 bits, whatever the loader wrote. */
static bool chosen_addr(const void *fdt, int node, const char *name, uint64_t *out)
{
    int len;
    const fdt32_t *p = fdt_getprop(fdt, node, name, &len);
    if (!p || (len != 4 && len != 8))
        return false;
    *out = read_cells(p, len / 4);
    return true;
}

static const char *parse_chosen(const void *fdt)
{
    int node = fdt_path_offset(fdt, "/chosen");
    if (node < 0)
        return NULL;
    int len;
    const char *args = fdt_getprop(fdt, node, "bootargs", &len);
    if (args && len > 0) {
        size_t n = strnlen(args, (size_t)len);
        boot_info.cmdline_truncated = n >= sizeof(boot_info.cmdline);
        strlcpy(boot_info.cmdline, args, MIN(n + 1, sizeof(boot_info.cmdline)));
    }
    uint64_t start, end;
    if (chosen_addr(fdt, node, "linux,initrd-start", &start) &&
        chosen_addr(fdt, node, "linux,initrd-end", &end)) {
        if (end <= start)
            return "/chosen's initrd ends before it starts";
        boot_info.modules[0].start = start;
        boot_info.modules[0].end = end;
        strlcpy(boot_info.modules[0].cmdline, "initrd", sizeof(boot_info.modules[0].cmdline));
        boot_info.nr_modules = 1;
    }
    return NULL;
}

/* Take /chosen's random seeds (QEMU's virt board puts 32 bytes in
 * rng-seed and 8 in kaslr-seed) into boot_info.seed and wipe them in the
 * tree, as Linux does: the platform and anyone reading the tree later
 * (a dump, a debugger) must not see what keyed the generator. rng-seed
 * goes (its bytes zeroed, then the property turned into a NOP); kaslr-seed
 * stays, as 0, the value that says "no seed". */
static void take_seeds(void *fdt)
{
    int node = fdt_path_offset(fdt, "/chosen");
    if (node < 0)
        return;
    static const char *const names[] = { "rng-seed", "kaslr-seed" };
    for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
        int len;
        void *p = fdt_getprop_w(fdt, node, names[i], &len);
        if (!p || len <= 0)
            continue;
        unsigned n = MIN((unsigned)len, BOOT_SEED_MAX - boot_info.seed_len);
        memcpy(boot_info.seed + boot_info.seed_len, p, n);
        boot_info.seed_len += n;
        memset(p, 0, (size_t)len);
        if (i == 0)
            fdt_nop_property(fdt, node, names[i]);
    }
    if (boot_info.seed_len)
        boot_info.seed_from = "device tree rng-seed";
}

const char *fdt_boot_parse(uint64_t fdt_pa)
{
    boot_info.loader = "fdt";
    if (!fdt_pa)
        return "the loader passed none (x0 = 0)";
    if (fdt_pa + sizeof(struct fdt_header) > EARLY_DIRECT_LIMIT)
        return "it lies above the early direct map (64 GiB)";
    void *fdt = phys_to_virt(fdt_pa);
    int err = fdt_check_header(fdt);
    if (err)
        return fdt_strerror(err);
    if (fdt_pa + fdt_totalsize(fdt) > EARLY_DIRECT_LIMIT)
        return "it lies above the early direct map (64 GiB)";
    const char *e = parse_memory(fdt);
    if (!e)
        e = parse_chosen(fdt);
    if (!e)
        take_seeds(fdt);
    return e;
}
