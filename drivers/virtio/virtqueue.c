/*
 * Split virtqueues (see virtqueue.h; Virtio 1.2, 2.7).
 *
 * The three parts of a queue live in one zeroed block of pages:
 *
 *   descriptor table  16 * size bytes, 16-byte aligned
 *   available ring    flags, idx, ring[size], used_event
 *   used ring         flags, idx, ring[size] of {id, len}, avail_event,
 *                     4-byte aligned
 *
 * Free descriptors form a list through their next fields, which the device
 * never reads for a descriptor without VIRTQ_DESC_F_NEXT. The cookie and
 * length of each chain are kept by head index outside the shared memory,
 * so a confused device cannot make us free the wrong thing: a used entry
 * naming a head we did not hand out marks the queue broken.
 */
#include <arch/barrier.h>
#include <arch/mm.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/page_alloc.h>
#include <kern/printk.h>
#include <kern/string.h>
#include "virtqueue.h"

struct vq_state {
    void *cookie;           /* NULL: the head is not in use */
    uint16_t ndesc;         /* ring descriptors the chain holds */
};

#define VQ_MAX_SIZE 32768

static volatile uint16_t *used_event(struct virtqueue *vq)
{
    return &vq->avail->ring[vq->size];
}

static volatile uint16_t *avail_event(struct virtqueue *vq)
{
    return (volatile uint16_t *)&vq->used->ring[vq->size];
}

struct virtqueue *vq_create(uint16_t size, uint16_t index, unsigned flags,
                            unsigned indirect_max)
{
    if (size == 0 || size > VQ_MAX_SIZE || (size & (size - 1)))
        return NULL;
    struct virtqueue *vq = kzalloc(sizeof(*vq));
    if (!vq)
        return NULL;
    vq->size = size;
    vq->index = index;
    vq->flags = flags;

    size_t desc_bytes = 16ul * size;
    size_t avail_bytes = 6 + 2ul * size;
    size_t used_off = ALIGN_UP(desc_bytes + avail_bytes, 4);
    size_t total = used_off + 6 + 8ul * size;
    vq->ring_order = page_order_for(total);
    vq->ring_pa = page_alloc(vq->ring_order);
    vq->state = kzalloc(sizeof(struct vq_state) * size);
    if (!vq->ring_pa || !vq->state)
        goto fail;
    uint8_t *base = phys_to_virt(vq->ring_pa);
    memset(base, 0, PAGE_SIZE << vq->ring_order);
    vq->desc = (volatile struct virtq_desc *)base;
    vq->avail = (volatile struct virtq_avail *)(base + desc_bytes);
    vq->used = (volatile struct virtq_used *)(base + used_off);
    vq->desc_pa = vq->ring_pa;
    vq->avail_pa = vq->ring_pa + desc_bytes;
    vq->used_pa = vq->ring_pa + used_off;

    if ((flags & VQ_INDIRECT) && indirect_max > 1) {
        if (indirect_max > size)
            indirect_max = size;    /* 2.7.5.3.1: no chain longer than the queue */
        vq->indirect_order = page_order_for(sizeof(struct virtq_desc) * indirect_max * size);
        vq->indirect_pa = page_alloc(vq->indirect_order);
        if (!vq->indirect_pa)
            goto fail;
        vq->indirect = phys_to_virt(vq->indirect_pa);
        vq->indirect_max = indirect_max;
    }

    for (unsigned i = 0; i + 1 < size; i++)
        vq->desc[i].next = (uint16_t)(i + 1);
    vq->free_head = 0;
    vq->num_free = size;
    return vq;

fail:
    vq_destroy(vq);
    return NULL;
}

void vq_destroy(struct virtqueue *vq)
{
    if (!vq)
        return;
    if (vq->ring_pa)
        page_free(vq->ring_pa, vq->ring_order);
    if (vq->indirect_pa)
        page_free(vq->indirect_pa, vq->indirect_order);
    kfree(vq->state);
    kfree(vq);
}

unsigned vq_num_free(const struct virtqueue *vq)
{
    return vq->num_free;
}

static bool use_indirect(const struct virtqueue *vq, unsigned n)
{
    return vq->indirect && n > 1 && n <= vq->indirect_max;
}

bool vq_fits(const struct virtqueue *vq, unsigned n)
{
    return use_indirect(vq, n) ? vq->num_free >= 1 : vq->num_free >= n;
}

static void fill_desc(volatile struct virtq_desc *d, const struct vq_seg *s, bool write,
                      bool more)
{
    d->addr = s->addr;
    d->len = s->len;
    d->flags = (uint16_t)((write ? VIRTQ_DESC_F_WRITE : 0) | (more ? VIRTQ_DESC_F_NEXT : 0));
}

int vq_add(struct virtqueue *vq, const struct vq_seg *sg, unsigned out, unsigned in,
           void *cookie)
{
    unsigned n = out + in;
    if (n == 0 || !cookie || vq->broken)
        return -EINVAL;
    if (!use_indirect(vq, n) && n > vq->size)
        return -EINVAL;
    if (!vq_fits(vq, n))
        return -ENOSPC;

    uint16_t head = vq->free_head;
    if (use_indirect(vq, n)) {
        /* 2.7.5.3: one ring descriptor pointing at a table of n. */
        struct virtq_desc *table = vq->indirect + (size_t)head * vq->indirect_max;
        for (unsigned i = 0; i < n; i++) {
            fill_desc(&table[i], &sg[i], i >= out, i + 1 < n);
            table[i].next = (uint16_t)(i + 1);
        }
        volatile struct virtq_desc *d = &vq->desc[head];
        d->addr = vq->indirect_pa + (paddr_t)head * vq->indirect_max * sizeof(*table);
        d->len = (uint32_t)(n * sizeof(*table));
        d->flags = VIRTQ_DESC_F_INDIRECT;
        vq->free_head = d->next;
        vq->num_free--;
        vq->state[head].ndesc = 1;
    } else {
        /* Free descriptors are already linked; the chain follows the list
         * and its last descriptor keeps the link to the rest of it. */
        uint16_t i = head;
        for (unsigned k = 0; k < n; k++) {
            fill_desc(&vq->desc[i], &sg[k], k >= out, k + 1 < n);
            i = vq->desc[i].next;
        }
        vq->free_head = i;
        vq->num_free = (uint16_t)(vq->num_free - n);
        vq->state[head].ndesc = (uint16_t)n;
    }
    vq->state[head].cookie = cookie;

    /* 2.7.13: the descriptors and the ring entry must be visible before the
     * index that hands them over. */
    vq->avail->ring[vq->avail_idx & (vq->size - 1)] = head;
    wmb();
    vq->avail_idx++;
    vq->avail->idx = vq->avail_idx;
    vq->added++;
    return 0;
}

bool vq_kick(struct virtqueue *vq)
{
    /* The new avail->idx must be visible before we read whether the device
     * wants a notification; otherwise it might go to sleep having seen the
     * old index while we see its old "no notification" and stay silent. */
    mb();
    uint16_t new_idx = vq->avail_idx, old_idx = vq->kicked_idx;
    vq->kicked_idx = new_idx;
    if (new_idx == old_idx)
        return false;
    bool need;
    if (vq->flags & VQ_EVENT_IDX) {
        /* 2.7.10: notify when avail_event lies in [old_idx, new_idx). */
        uint16_t ev = *avail_event(vq);
        need = (uint16_t)(new_idx - ev - 1) < (uint16_t)(new_idx - old_idx);
    } else {
        need = !(vq->used->flags & VIRTQ_USED_F_NO_NOTIFY);
    }
    if (need && vq->lose_every && ++vq->lose_count % vq->lose_every == 0) {
        vq->notifies_lost++;
        return false;
    }
    if (need) {
        vq->notifies++;
        vq->notify(vq);
    } else {
        vq->notifies_suppressed++;
    }
    return need;
}

void vq_notify(struct virtqueue *vq)
{
    mb();
    vq->kicked_idx = vq->avail_idx;
    vq->notifies_forced++;
    vq->notify(vq);
}

bool vq_stood_still(struct virtqueue *vq)
{
    uint16_t used = vq->used->idx;
    bool held = vq->avail_idx != used;
    bool still = held && vq->still_held && used == vq->still_used;
    vq->still_used = used;
    vq->still_held = held;
    return still;
}

bool vq_has_used(const struct virtqueue *vq)
{
    return !vq->broken && vq->used->idx != vq->last_used;
}

static void *broken(struct virtqueue *vq, const char *why, unsigned value)
{
    vq->broken = true;
    pr_err("virtqueue %u: %s (%u); queue stopped\n", vq->index, why, value);
    return NULL;
}

void *vq_get_used(struct virtqueue *vq, uint32_t *len)
{
    if (vq->broken)
        return NULL;
    uint16_t used_idx = vq->used->idx;
    if (used_idx == vq->last_used)
        return NULL;
    if ((uint16_t)(used_idx - vq->last_used) > vq->size)
        return broken(vq, "used index jumped", used_idx);
    /* The entry is valid only once the index says so: read it after. */
    rmb();
    volatile struct virtq_used_elem *e = &vq->used->ring[vq->last_used & (vq->size - 1)];
    uint32_t id = e->id, written = e->len;
    vq->last_used++;
    if (id >= vq->size || !vq->state[id].cookie)
        return broken(vq, "device returned a chain we did not give it, head", id);

    void *cookie = vq->state[id].cookie;
    unsigned n = vq->state[id].ndesc;
    vq->state[id].cookie = NULL;
    uint16_t last = (uint16_t)id;
    for (unsigned k = 1; k < n; k++)
        last = vq->desc[last].next;
    vq->desc[last].next = vq->free_head;
    vq->free_head = (uint16_t)id;
    vq->num_free = (uint16_t)(vq->num_free + n);
    if (len)
        *len = written;
    return cookie;
}

void vq_disable_cb(struct virtqueue *vq)
{
    if (vq->cb_disabled)
        return;
    vq->cb_disabled = true;
    /* With EVENT_IDX the flag is ignored; the device then interrupts once
     * more at most, when it passes the used_event we left, and no more
     * until vq_enable_cb moves it. */
    if (!(vq->flags & VQ_EVENT_IDX))
        vq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
}

bool vq_enable_cb(struct virtqueue *vq)
{
    vq->cb_disabled = false;
    if (vq->flags & VQ_EVENT_IDX)
        *used_event(vq) = vq->last_used;    /* interrupt for the next one */
    else
        vq->avail->flags = 0;
    /* Our request must be visible before we look for used entries, or one
     * added in between would get neither an interrupt nor our attention. */
    mb();
    return vq_has_used(vq);
}

int vq_sg_from_virt(const void *va, size_t len, struct vq_seg *sg, unsigned *n,
                    unsigned max)
{
    uintptr_t p = (uintptr_t)va, end = p + len;
    if (end < p)
        return -EFAULT;
    while (p < end) {
        size_t chunk = MIN(end, ALIGN_DOWN(p, PAGE_SIZE) + PAGE_SIZE) - p;
        paddr_t pa;
        if ((intptr_t)p >= 0) {
            /* App memory (the lower half): only its mapped pages count;
             * the caller keeps them mapped until the chain comes back. */
            if (!arch_lookup(ALIGN_DOWN(p, PAGE_SIZE), &pa, NULL))
                return -EFAULT;
            pa += p & (PAGE_SIZE - 1);
        } else {
            pa = arch_virt_to_phys(p);
        }
        struct vq_seg *prev = *n ? &sg[*n - 1] : NULL;
        if (prev && prev->addr + prev->len == pa && prev->len + chunk <= UINT32_MAX) {
            prev->len += (uint32_t)chunk;   /* physically contiguous: one piece */
        } else {
            if (*n >= max)
                return -EMSGSIZE;
            sg[*n].addr = pa;
            sg[*n].len = (uint32_t)chunk;
            (*n)++;
        }
        p += chunk;
    }
    return 0;
}
