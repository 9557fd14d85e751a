/* What the boot path hands the portable kernel: everything the loader told
 * us (memory map, command line, modules, firmware tables), already copied
 * into kernel memory and independent of the boot protocol (PVH today,
 * a device tree on aarch64). */
#ifndef KERN_BOOT_H
#define KERN_BOOT_H

#include <kern/types.h>

enum mem_type {
    MEM_RAM = 1,        /* usable */
    MEM_RESERVED,
    MEM_ACPI,           /* ACPI tables, reclaimable after parsing */
    MEM_NVS,
    MEM_UNUSABLE,
};

struct mem_region {
    paddr_t start;
    paddr_t end;        /* exclusive */
    enum mem_type type;
};

struct boot_module {
    paddr_t start;
    paddr_t end;
    char cmdline[64];
};

#define BOOT_MAX_REGIONS  64
#define BOOT_MAX_MODULES  4
#define BOOT_CMDLINE_MAX  4096
#define BOOT_SEED_MAX     64

struct boot_info {
    const char *loader;                 /* "pvh", "xen-pvh", "fdt" */
    struct mem_region regions[BOOT_MAX_REGIONS];
    unsigned nr_regions;
    struct boot_module modules[BOOT_MAX_MODULES];
    unsigned nr_modules;
    char cmdline[BOOT_CMDLINE_MAX];
    bool cmdline_truncated;
    paddr_t acpi_rsdp;                  /* 0 when the loader gave none */
    paddr_t fdt;                        /* the flattened device tree (arm64's
                                         * x0), 0 when none; the platform
                                         * reads its devices from it */
    paddr_t kernel_start, kernel_end;   /* the loaded image, physical */
    /* Random bytes the loader handed over (the device tree's
     * /chosen/rng-seed and kaslr-seed), for kernel/lib/random.c, which
     * kernel_main feeds them to and then wipes; the loader's own copy is
     * wiped by the boot path. seed_from names the source. */
    uint8_t seed[BOOT_SEED_MAX];
    unsigned seed_len;
    const char *seed_from;
};

extern struct boot_info boot_info;

/* The portable kernel entry, called by arch code once it runs C on a
 * kernel stack with the boot_info filled in. */
void kernel_main(void) __noreturn;

const char *mem_type_name(enum mem_type type);

#endif
