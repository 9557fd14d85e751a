/*
 * Grant tables, v1 (gnttab.h). The table is an array of 8-byte entries
 * (flags, domid, frame) in frames that Xen owns; we place them into our
 * physical address space with XENMEM_add_to_physmap(XENMAPSPACE_grant_
 * table, idx = frame number) at a range above RAM and above 4 GiB, where
 * nothing else is (the PVH memory map puts RAM below, the console and
 * xenstore pages and the MMIO hole under 4 GiB), and reach them through
 * phys_map as the console's page. Xen grows the table itself when we map a
 * frame index past its current size, up to max_nr_frames (query_size), so
 * the table grows by one frame whenever the free list runs dry.
 *
 * Free refs form a singly linked list threaded through next[] (one word a
 * ref, for the table's largest size, allocated once). Refs below
 * GNTTAB_NR_RESERVED_ENTRIES are the toolstack's (console, xenstore).
 *
 * Ending a grant follows the v1 rule: the peer sets GTF_reading/GTF_writing
 * in the entry's flags while it has the frame mapped or is copying, so we
 * clear GTF_permit_access only with a compare-and-swap on the 16-bit flags
 * from a value without those bits; if they are set, or appear between our
 * read and the swap, the grant stays and the caller is told -EBUSY.
 */
#include <arch/barrier.h>
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/boot.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/ktest.h>
#include <kern/printk.h>
#include <kern/spinlock.h>
#include "gnttab.h"
#include "xen.h"
#include <xen/grant_table.h>

#define ENTRIES_PER_FRAME (PAGE_SIZE / sizeof(grant_entry_v1_t))
#define REF_NONE          0xffffffffu
#define REF_USED          0xfffffffeu
#define GIB               (1ULL << 30)

static spinlock_t lock = SPINLOCK_INIT;
static paddr_t table_pa;            /* where frame 0 is placed */
static unsigned frames, max_frames;
static uint32_t *next;              /* per ref: the next free one, or REF_USED */
static grant_entry_v1_t **frame_va; /* per frame: where phys_map put it */
static uint32_t free_head = REF_NONE;
static unsigned in_use;

static grant_entry_v1_t *entry(grant_ref_t ref)
{
    return &frame_va[ref / ENTRIES_PER_FRAME][ref % ENTRIES_PER_FRAME];
}

/* Above the highest address the memory map names and above 4 GiB, on a
 * 1 GiB boundary: no RAM, no firmware table, no special page there. */
static paddr_t pick_table_pa(void)
{
    paddr_t top = 4 * GIB;
    for (unsigned i = 0; i < boot_info.nr_regions; i++)
        if (boot_info.regions[i].end > top)
            top = boot_info.regions[i].end;
    return ALIGN_UP(top, GIB);
}

/* Map one more frame and put its entries on the free list. lock held. */
static int grow(void)
{
    if (frames >= max_frames)
        return -ENOSPC;
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_grant_table,
        .idx = frames,
        .gpfn = (table_pa >> PAGE_SHIFT) + frames,
    };
    long rc = HYPERCALL2(memory_op, XENMEM_add_to_physmap, &xatp);
    if (rc) {
        pr_warn("xen: grant table frame %u: XENMEM_add_to_physmap failed (%ld)\n", frames, rc);
        return -ENOSPC;
    }
    frame_va[frames] = phys_map(table_pa + (paddr_t)frames * PAGE_SIZE, PAGE_SIZE);
    if (!frame_va[frames])
        return -ENOMEM;
    uint32_t first = frames == 0 ? GNTTAB_NR_RESERVED_ENTRIES : frames * ENTRIES_PER_FRAME;
    uint32_t end = (frames + 1) * ENTRIES_PER_FRAME;
    for (uint32_t r = end; r-- > first;) {
        next[r] = free_head;
        free_head = r;
    }
    frames++;
    return 0;
}

int gnttab_init(void)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    long rc = HYPERCALL3(grant_table_op, GNTTABOP_query_size, &q, 1);
    if (rc || q.status != GNTST_okay) {
        pr_err("xen: GNTTABOP_query_size failed (%ld, status %d)\n", rc, q.status);
        return -EIO;
    }
    max_frames = q.max_nr_frames;
    next = kmalloc(sizeof(*next) * max_frames * ENTRIES_PER_FRAME);
    frame_va = kzalloc(sizeof(*frame_va) * max_frames);
    if (!next || !frame_va) {
        kfree(next);
        next = NULL;
        return -ENOMEM;
    }
    table_pa = pick_table_pa();
    unsigned long flags = spin_lock_irqsave(&lock);
    int err = grow();
    spin_unlock_irqrestore(&lock, flags);
    if (err)
        return err;
    pr_info("xen: grant table v1 at %#lx, %u of at most %u frames (%u refs each)\n",
            (unsigned long)table_pa, frames, max_frames, (unsigned)ENTRIES_PER_FRAME);
    return 0;
}

int gnttab_grant(uint16_t dom, uint64_t paddr, bool readonly)
{
    if (paddr & (PAGE_SIZE - 1))
        return -EINVAL;
    unsigned long flags = spin_lock_irqsave(&lock);
    if (free_head == REF_NONE) {
        int err = next ? grow() : -EIO;
        if (err) {
            spin_unlock_irqrestore(&lock, flags);
            return err;
        }
    }
    grant_ref_t ref = free_head;
    free_head = next[ref];
    next[ref] = REF_USED;
    in_use++;
    spin_unlock_irqrestore(&lock, flags);

    grant_entry_v1_t *e = entry(ref);
    e->domid = dom;
    e->frame = (uint32_t)(paddr >> PAGE_SHIFT);
    /* The peer trusts frame and domid once it sees the flags. */
    wmb();
    __atomic_store_n(&e->flags, (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)),
                     __ATOMIC_RELEASE);
    return (int)ref;
}

int gnttab_end(grant_ref_t ref)
{
    if (!next || ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= frames * ENTRIES_PER_FRAME ||
        next[ref] != REF_USED)
        return -EINVAL;
    grant_entry_v1_t *e = entry(ref);
    uint16_t f = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
    do {
        if (f & (GTF_reading | GTF_writing))
            return -EBUSY;
    } while (!__atomic_compare_exchange_n(&e->flags, &f, 0, false, __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    unsigned long flags = spin_lock_irqsave(&lock);
    next[ref] = free_head;
    free_head = ref;
    in_use--;
    spin_unlock_irqrestore(&lock, flags);
    return 0;
}

void gnttab_stats(struct gnttab_stats *st)
{
    unsigned long flags = spin_lock_irqsave(&lock);
    st->in_use = in_use;
    st->table_pa = table_pa;
    st->frames = frames;
    st->max_frames = max_frames;
    st->capacity = frames * ENTRIES_PER_FRAME - GNTTAB_NR_RESERVED_ENTRIES;
    st->max_capacity = max_frames * ENTRIES_PER_FRAME - GNTTAB_NR_RESERVED_ENTRIES;
    spin_unlock_irqrestore(&lock, flags);
}
