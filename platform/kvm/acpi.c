/*
 * ACPI table lookup (kern/acpi.h): RSDP -> XSDT (or RSDT) -> tables. Every
 * table is checksummed before use; firmware tables are input like any
 * other. The RSDP comes from the boot loader (boot_info.acpi_rsdp).
 */
#include <kern/arch.h>
#include <kern/acpi.h>
#include <kern/boot.h>
#include <kern/string.h>

struct rsdp {
    char signature[8];          /* "RSD PTR " */
    uint8_t checksum;           /* over the first 20 bytes */
    char oem_id[6];
    uint8_t revision;           /* 0: ACPI 1.0 (RSDT only), 2+: XSDT */
    uint32_t rsdt_address;
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum;  /* over length bytes */
    uint8_t reserved[3];
} __attribute__((packed));

/* No table of ours is bigger; a larger length means a corrupt header. */
#define ACPI_MAX_TABLE (16 * MiB)

static bool checksum_ok(const void *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += ((const uint8_t *)p)[i];
    return sum == 0;
}

const struct acpi_header *acpi_map_table(uint64_t pa)
{
    if (pa == 0)
        return NULL;
    const struct acpi_header *h = phys_map(pa, sizeof(*h));
    if (!h || h->length < sizeof(*h) || h->length > ACPI_MAX_TABLE)
        return NULL;
    if (!phys_map(pa, h->length))
        return NULL;
    if (!checksum_ok(h, h->length))
        return NULL;
    return h;
}

const struct acpi_header *acpi_find_table(const char *signature)
{
    if (!boot_info.acpi_rsdp)
        return NULL;
    const struct rsdp *rsdp = phys_map(boot_info.acpi_rsdp, sizeof(struct rsdp));
    if (!rsdp || memcmp(rsdp->signature, "RSD PTR ", 8) != 0 || !checksum_ok(rsdp, 20))
        return NULL;

    bool use_xsdt = rsdp->revision >= 2 && rsdp->xsdt_address &&
                    rsdp->length >= sizeof(*rsdp) && checksum_ok(rsdp, rsdp->length);
    const struct acpi_header *root =
        acpi_map_table(use_xsdt ? rsdp->xsdt_address : rsdp->rsdt_address);
    if (!root)
        return NULL;
    size_t entry_size = use_xsdt ? 8 : 4;
    size_t n = (root->length - sizeof(*root)) / entry_size;
    const uint8_t *entries = (const uint8_t *)(root + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t pa = 0;
        memcpy(&pa, entries + i * entry_size, entry_size);
        const struct acpi_header *t = acpi_map_table(pa);
        if (t && memcmp(t->signature, signature, 4) == 0)
            return t;
    }
    return NULL;
}
