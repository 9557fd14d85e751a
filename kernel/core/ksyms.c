/*
 * Symbol lookup over the table that scripts/gen-ksyms.sh generates from the
 * first link of the kernel (see the Makefile's two-pass link).
 */
#include <kern/ksyms.h>
#include <kern/printf.h>

const char *ksym_table_lookup(const struct ksym_table *t, uintptr_t addr,
                              uintptr_t *offset)
{
    if (t->count == 0 || addr < t->addrs[0] || addr >= t->text_end)
        return NULL;
    /* The last symbol whose address is <= addr. */
    uint64_t lo = 0, hi = t->count;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (t->addrs[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    if (offset)
        *offset = addr - t->addrs[lo];
    return t->names + t->name_offsets[lo];
}

#ifndef TERN_HOST_TEST
/* Defined by the generated ksyms.S and the linker script. */
extern const uint64_t ksyms_count;
extern const uint64_t ksyms_addrs[];
extern const uint32_t ksyms_name_offsets[];
extern const char ksyms_names[];
extern const char _etext[];

const char *ksym_lookup(uintptr_t addr, uintptr_t *offset)
{
    struct ksym_table t = {
        .count = ksyms_count,
        .addrs = ksyms_addrs,
        .name_offsets = ksyms_name_offsets,
        .names = ksyms_names,
        .text_end = (uintptr_t)_etext,
    };
    return ksym_table_lookup(&t, addr, offset);
}

void ksym_format(char *buf, size_t size, uintptr_t addr)
{
    uintptr_t off;
    const char *name = ksym_lookup(addr, &off);
    if (name)
        snprintf(buf, size, "%s+0x%lx", name, (unsigned long)off);
    else
        snprintf(buf, size, "0x%lx", (unsigned long)addr);
}
#endif
