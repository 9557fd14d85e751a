/* The kernel's own symbol table, embedded at build time (scripts/
 * gen-ksyms.sh) so that backtraces print function names. */
#ifndef KERN_KSYMS_H
#define KERN_KSYMS_H

#include <kern/types.h>

/* The function containing addr, or NULL. *offset gets addr - its start. */
const char *ksym_lookup(uintptr_t addr, uintptr_t *offset);

/* Format "name+0xoff" (or the bare hex address) into buf. */
void ksym_format(char *buf, size_t size, uintptr_t addr);

/* The table (generated assembly). For host tests a test may provide one. */
struct ksym_table {
    uint64_t count;
    const uint64_t *addrs;          /* sorted ascending */
    const uint32_t *name_offsets;
    const char *names;
    uintptr_t text_end;             /* symbols beyond this are not text */
};
const char *ksym_table_lookup(const struct ksym_table *t, uintptr_t addr,
                              uintptr_t *offset);

#endif
