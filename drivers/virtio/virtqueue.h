/*
 * Split virtqueues (Virtio 1.2, 2.7), independent of the transport.
 *
 * A driver hands the device chains of buffers by physical address, each
 * with a cookie; when the device has finished with a chain it appears in
 * the used ring and vq_get_used returns that cookie. This is the guarantee
 * zero-copy transmit builds on: until its cookie comes back, the device may
 * still read every buffer of the chain.
 *
 * Not locked: a driver serializes calls on one queue itself. Adding and
 * reclaiming may run on different CPUs only under the driver's lock.
 */
#ifndef DRIVERS_VIRTQUEUE_H
#define DRIVERS_VIRTQUEUE_H

#include <kern/types.h>

/* 2.7.5 The Virtqueue Descriptor Table. */
#define VIRTQ_DESC_F_NEXT      1
#define VIRTQ_DESC_F_WRITE     2   /* device writes (otherwise reads) */
#define VIRTQ_DESC_F_INDIRECT  4   /* the buffer is a table of descriptors */

/* 2.7.6 / 2.7.8: the only flag of each ring. Ignored by the device when
 * VIRTIO_F_EVENT_IDX is negotiated (the event indexes replace them). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

struct virtq_desc {
    uint64_t addr;          /* physical */
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];        /* size entries, then used_event (EVENT_IDX) */
};

struct virtq_used_elem {
    uint32_t id;            /* head of the chain */
    uint32_t len;           /* bytes the device wrote */
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];  /* size entries, then avail_event */
};

/* One physically contiguous piece of a chain. */
struct vq_seg {
    paddr_t addr;
    uint32_t len;
};

/* vq_create flags: what was negotiated with the device. */
#define VQ_INDIRECT   0x1   /* VIRTIO_F_INDIRECT_DESC */
#define VQ_EVENT_IDX  0x2   /* VIRTIO_F_EVENT_IDX */

struct vq_state;

struct virtqueue {
    uint16_t size;              /* a power of two */
    uint16_t index;             /* the device's queue number */
    unsigned flags;
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    paddr_t desc_pa, avail_pa, used_pa;
    paddr_t ring_pa;            /* one block holds all three */
    unsigned ring_order;

    uint16_t free_head;         /* free descriptors, linked by .next */
    uint16_t num_free;
    uint16_t avail_idx;         /* our copy of avail->idx */
    uint16_t kicked_idx;        /* avail_idx at the last notification check */
    uint16_t last_used;         /* next used entry to look at */
    bool cb_disabled;
    bool broken;                /* the device returned nonsense */
    struct vq_state *state;     /* per head: the cookie and chain length */

    /* Indirect tables: indirect_max descriptors per head, when set. */
    struct virtq_desc *indirect;
    paddr_t indirect_pa;
    unsigned indirect_max, indirect_order;

    /* Set by the transport: tell the device there is something new. */
    void (*notify)(struct virtqueue *vq);
    volatile void *notify_reg;

    /* Tests: every lose_every-th notification the device asked for is
     * dropped, as by a device that missed it (net_lose_kicks=N). */
    unsigned lose_every, lose_count;

    /* vq_stood_still: what the previous call saw. */
    uint16_t still_used;
    bool still_held;

    /* statistics */
    uint64_t added, notifies, notifies_suppressed, notifies_forced, notifies_lost;
};

/* A queue of size entries (a power of two, at most 32768) with rings in
 * zeroed, physically contiguous memory; indirect_max > 0 (with
 * VQ_INDIRECT) reserves an indirect table of that many descriptors per
 * ring entry, so a chain of up to indirect_max pieces takes one ring slot.
 * NULL when memory is short. */
struct virtqueue *vq_create(uint16_t size, uint16_t index, unsigned flags,
                            unsigned indirect_max);
void vq_destroy(struct virtqueue *vq);

/* Add a chain: out device-readable pieces, then in device-writable ones.
 * cookie (not NULL) comes back from vq_get_used. Returns 0, -ENOSPC when
 * the ring has not enough free descriptors (nothing was added), -EINVAL
 * for an empty or over-long chain. The device sees it after vq_kick. */
int vq_add(struct virtqueue *vq, const struct vq_seg *sg, unsigned out, unsigned in,
           void *cookie);

/* Free descriptors, and whether a chain of n pieces fits now. */
unsigned vq_num_free(const struct virtqueue *vq);
bool vq_fits(const struct virtqueue *vq, unsigned n);

/* Publish what was added and notify the device unless it said it does not
 * need it (2.7.10). Returns whether it notified. */
bool vq_kick(struct virtqueue *vq);
/* Notify the device whatever it asked for: the way out of a stall where
 * the device waits for a notification it never asked for (virtio_net.c). */
void vq_notify(struct virtqueue *vq);
/* Whether the device held chains at the previous call and still does,
 * having used none in between: a queue standing still over whatever
 * period the caller calls this at. Under the lock that guards the queue. */
bool vq_stood_still(struct virtqueue *vq);

/* The cookie of the next chain the device has finished with, and *len,
 * the bytes it wrote into the chain's writable part; NULL when none. Its
 * descriptors are free again. */
void *vq_get_used(struct virtqueue *vq, uint32_t *len);
bool vq_has_used(const struct virtqueue *vq);

/* Used-buffer notifications (2.7.7): vq_disable_cb asks the device not to
 * interrupt (a hint: it still may); vq_enable_cb asks it to interrupt for
 * the next used chain and returns true when some arrived meanwhile, so the
 * caller must drain again instead of waiting. */
void vq_disable_cb(struct virtqueue *vq);
bool vq_enable_cb(struct virtqueue *vq);

/* Split [va, va+len) of kernel or app memory into physically contiguous
 * pieces, appended to sg[*n..max). App (lower-half) pages must be mapped
 * and stay so until the chain is returned. Returns 0, -EFAULT for an
 * unmapped page, -EMSGSIZE when max pieces are not enough. */
int vq_sg_from_virt(const void *va, size_t len, struct vq_seg *sg, unsigned *n,
                    unsigned max);

#endif
