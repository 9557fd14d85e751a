/*
 * The app's address space: the lower half of the one set of page tables,
 * described by a sorted list of areas (like Linux's VMAs). Pages are mapped
 * on first touch (demand paging): anonymous areas get zeroed pages, file
 * areas map the ROFS image's own pages in place and copy a page only when
 * a private writable mapping writes it. The app runs at kernel privilege,
 * so every page is a supervisor page; protection comes from the W and NX
 * bits and from what is mapped at all.
 *
 * All functions take addresses in the lower half and return 0 or -errno.
 */
#ifndef KERN_VM_H
#define KERN_VM_H

#include <arch/linux_abi.h>
#include <kern/types.h>

#define PROT_NONE  0x0
#define PROT_READ  0x1
#define PROT_WRITE 0x2
#define PROT_EXEC  0x4

/* vm_map flags */
#define VM_FIXED        0x1     /* exactly at addr, replacing what is there */
#define VM_NOREPLACE    0x2     /* with VM_FIXED: -EEXIST if anything is there */
#define VM_STACK        0x4     /* a stack: faults just below it are overflows */
#define VM_POPULATE     0x8     /* map every page now */

/* Where the app may live: the arch's layout (arch/linux_abi.h). */
#define VM_USER_START   LINUX_USER_START
#define VM_USER_END     LINUX_USER_END

/* A file's bytes, in place (vfs_map), for file-backed areas. */
struct vm_file {
    const uint8_t *data;    /* page-aligned; NULL for an empty file */
    uint64_t size;
};

void vm_init(void);

/* Map len bytes (rounded up to pages) with prot. Without VM_FIXED, addr
 * is a hint and the area goes where there is room (top down from the
 * mmap base). file (or NULL: anonymous) is mapped from offset off (page
 * aligned); its pages are private (writes copy them). *out gets the
 * address. */
int vm_map(uintptr_t addr, size_t len, unsigned prot, unsigned flags,
           const struct vm_file *file, uint64_t off, uintptr_t *out);
int vm_unmap(uintptr_t addr, size_t len);
int vm_protect(uintptr_t addr, size_t len, unsigned prot);
/* Drop the pages of [addr, addr+len), keeping the areas: the next touch
 * sees zeroes (anonymous) or the file again (MADV_DONTNEED). -ENOMEM when
 * part of the range is not mapped (the rest is still dropped). */
int vm_discard(uintptr_t addr, size_t len);
/* mremap: MREMAP_MAYMOVE 1, MREMAP_FIXED 2 (Linux values). */
int vm_remap(uintptr_t old, size_t old_len, size_t new_len, unsigned flags,
             uintptr_t new_addr, uintptr_t *out);

/* Resolve a page fault at addr (access: PROT_READ/WRITE/EXEC) by mapping
 * a page: 0, -EFAULT when the access is not allowed (a real fault), or
 * -ENOMEM when no page was free. */
int vm_fault(uintptr_t addr, unsigned access);

/* True when [addr, addr+len) lies in areas that allow access (PROT_*). */
bool vm_range_ok(uintptr_t addr, size_t len, unsigned access);

/* What is at addr, for fault reports: "in an area rw- ...", "below the
 * stack (stack overflow)", "not mapped". */
void vm_describe(uintptr_t addr, char *buf, size_t size);

/* Randomized bases, chosen once by vm_init. */
uintptr_t vm_pie_base(void);
uintptr_t vm_stack_top(void);

/* Pages mapped for the app, for statistics. */
uint64_t vm_mapped_pages(void);

#endif
