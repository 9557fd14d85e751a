/*
 * Grant tables, v1 (xen/grant_table.h): this domain lets another one (a
 * backend) map or copy one of its 4 KiB frames. The table's frames are
 * Xen's, placed into our physical address space with XENMEM_add_to_physmap
 * (XENMAPSPACE_grant_table) above RAM, one more each time the free refs run
 * out, up to GNTTABOP_query_size's max_nr_frames.
 *
 * Thread or interrupt context; never sleeps.
 */
#ifndef PLATFORM_XEN_GNTTAB_H
#define PLATFORM_XEN_GNTTAB_H

#include <kern/types.h>

typedef uint32_t grant_ref_t;

/* Find the table's size limit and map its first frame (platform_late_init,
 * before any driver). 0 or -errno. */
int gnttab_init(void);

/* Grant domain dom access to the 4 KiB frame at physical address paddr
 * (page-aligned); readonly for what the peer only reads (TX, writes to a
 * disk). Returns the ref (>= 0), or a negative errno: -ENOSPC when the
 * table is full and cannot grow, -EINVAL for an unaligned paddr. */
int gnttab_grant(uint16_t dom, uint64_t paddr, bool readonly);

/* End a grant. Returns 0 when ended: the ref is back on the free list (do
 * not use it again) and the frame may be reused. -EBUSY while the peer
 * still has the frame mapped (GTF_reading/GTF_writing set): nothing
 * changed, the grant stays valid; retry later, and never reuse the frame
 * before 0. -EINVAL for a ref that is not granted. */
int gnttab_end(grant_ref_t ref);

/* Refs in use and the table's current/maximum size, for tests and logs. */
struct gnttab_stats {
    unsigned in_use, capacity, max_capacity, frames, max_frames;
    uint64_t table_pa;      /* where frame 0 is; the GiB above it is free */
};
void gnttab_stats(struct gnttab_stats *st);

#endif
