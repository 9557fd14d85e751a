/* ACPI table lookup (read-only; tables are reached through the direct map).
 * Implemented by platforms whose firmware has ACPI (platform/kvm/acpi.c). */
#ifndef KERN_ACPI_H
#define KERN_ACPI_H

#include <kern/types.h>

struct acpi_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __attribute__((packed));

/* The first table with this signature whose length and checksum are valid,
 * or NULL. Uses boot_info.acpi_rsdp. */
const struct acpi_header *acpi_find_table(const char *signature);

/* Check a table's length bounds and checksum at physical address pa. */
const struct acpi_header *acpi_map_table(uint64_t pa);

#endif
