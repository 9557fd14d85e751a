/*
 * CPU discovery on the QEMU x86 machine (kern/plat_cpu.h): the ACPI MADT
 * lists the processors by local APIC id, which is what the x86_64 arch
 * starts them (INIT-SIPI: platform_cpu_start leaves it to the arch) and
 * sends them IPIs with.
 */
#include <kern/acpi.h>
#include <kern/errno.h>
#include <kern/platform.h>
#include <kern/string.h>

/* The MADT's enabled processors: local APIC (type 0) and x2APIC (type 9)
 * entries. Returns how many APIC ids were stored (the boot CPU included). */
int platform_cpu_ids(uint32_t *ids, int max)
{
    const struct acpi_header *madt = acpi_find_table("APIC");
    if (!madt || madt->length < sizeof(*madt) + 8)
        return 0;
    const uint8_t *p = (const uint8_t *)madt + sizeof(*madt) + 8;
    const uint8_t *end = (const uint8_t *)madt + madt->length;
    int n = 0;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end && n < max) {
        uint32_t flags;
        if (p[0] == 0 && p[1] >= 8) {
            memcpy(&flags, p + 4, 4);
            if (flags & 1)
                ids[n++] = p[3];
        } else if (p[0] == 9 && p[1] >= 16) {
            memcpy(&flags, p + 8, 4);
            if (flags & 1)
                memcpy(&ids[n++], p + 4, 4);
        }
        p += p[1];
    }
    return n;
}

/* QEMU's x86 machine starts CPUs the architecture's way: INIT-SIPI. */
int platform_cpu_start(uint32_t id, const struct cpu_start *start)
{
    (void)id;
    (void)start;
    return -ENOSYS;
}
