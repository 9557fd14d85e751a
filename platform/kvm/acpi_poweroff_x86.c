/*
 * Power off through ACPI fixed hardware: write SLP_TYPa(S5) | SLP_EN to the
 * PM1a control block named by the FADT. SLP_TYPa for S5 comes from the \_S5_
 * package in the DSDT's AML, found by a byte search (full AML interpretation
 * is not needed for one constant package).
 */
#include <arch/io.h>
#include <kern/acpi.h>
#include <kern/string.h>
#include "kvm.h"

#define FADT_DSDT_OFFSET      40
#define FADT_PM1A_CNT_OFFSET  64
#define FADT_X_DSDT_OFFSET    140
#define SLP_EN                (1u << 13)

/* Returns SLP_TYPa of \_S5_ or -1. AML: NameOp '_S5_' PackageOp PkgLength
 * NumElements (BytePrefix n | ZeroOp | OneOp) ... */
static int find_s5_slp_typ(const struct acpi_header *dsdt)
{
    const uint8_t *p = (const uint8_t *)dsdt;
    size_t len = dsdt->length;
    for (size_t i = sizeof(*dsdt); i + 4 < len; i++) {
        if (memcmp(p + i, "_S5_", 4) != 0)
            continue;
        if (i < 1 || (p[i - 1] != 0x08 && !(i >= 2 && p[i - 1] == '\\' && p[i - 2] == 0x08)))
            continue;
        size_t j = i + 4;
        if (j >= len || p[j] != 0x12)           /* PackageOp */
            continue;
        j++;
        if (j >= len)
            return -1;
        j += 1 + (p[j] >> 6);                   /* PkgLength bytes */
        j++;                                    /* NumElements */
        if (j >= len)
            return -1;
        if (p[j] == 0x0a)                       /* BytePrefix */
            return j + 1 < len ? p[j + 1] : -1;
        if (p[j] == 0x00 || p[j] == 0x01)       /* ZeroOp, OneOp */
            return p[j];
        return -1;
    }
    return -1;
}

void acpi_poweroff(void)
{
    const struct acpi_header *fadt = acpi_find_table("FACP");
    if (!fadt || fadt->length < FADT_PM1A_CNT_OFFSET + 4)
        return;
    const uint8_t *f = (const uint8_t *)fadt;
    uint32_t pm1a_cnt, dsdt32 = 0;
    uint64_t dsdt_pa = 0;
    memcpy(&pm1a_cnt, f + FADT_PM1A_CNT_OFFSET, 4);
    memcpy(&dsdt32, f + FADT_DSDT_OFFSET, 4);
    if (fadt->length >= FADT_X_DSDT_OFFSET + 8)
        memcpy(&dsdt_pa, f + FADT_X_DSDT_OFFSET, 8);
    if (!dsdt_pa)
        dsdt_pa = dsdt32;
    const struct acpi_header *dsdt = acpi_map_table(dsdt_pa);
    if (!dsdt || !pm1a_cnt || pm1a_cnt > 0xffff)
        return;
    int slp_typ = find_s5_slp_typ(dsdt);
    if (slp_typ < 0)
        return;
    outw((uint16_t)pm1a_cnt, (uint16_t)((slp_typ << 10) | SLP_EN));
}
