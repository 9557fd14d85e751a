/*
 * virtio-rng, the entropy device (Virtio 1.2, 5.4): one queue, requestq,
 * on which the driver posts device-writable buffers and the device fills
 * them with random bytes from the host (QEMU: -object rng-random reading
 * the host's /dev/urandom).
 *
 * Read once at probe, before anything has drawn on kernel/lib/random.c
 * for a secret: SEED_BYTES hashed into its key (random_add_seed), so the
 * guest's keys, ISNs and getrandom() do not rest on the cycle counter
 * when the CPU has no RDRAND/RNDR (TCG's cortex-a72, older x86 models).
 * The queue is polled: a single read at boot does not need an interrupt,
 * and the device answers within microseconds. The device stays set up
 * but idle afterwards; the generator rekeys from its own output.
 */
#include <arch/irq.h>
#include <arch/mm.h>
#include <kern/errno.h>
#include <kern/page_alloc.h>
#include <kern/printk.h>
#include <kern/random.h>
#include <kern/string.h>
#include <kern/timer.h>
#include "virtio.h"
#include "virtqueue.h"

#define REQUEST_QUEUE 0
#define SEED_BYTES    64
/* How long to wait for the host: QEMU answers at once unless its backend
 * is starved (rng-random on a blocking /dev/random). */
#define WAIT_NS       (1000ull * 1000 * 1000)

/* Read up to n bytes from the device into buf (physically contiguous,
 * within a page); how many it gave, or an error. */
static int read_once(struct virtqueue *vq, uint8_t *buf, uint32_t n)
{
    struct vq_seg sg = { virt_to_phys(buf), n };
    int r = vq_add(vq, &sg, 0, 1, buf);
    if (r < 0)
        return r;
    vq_kick(vq);
    uint64_t deadline = clock_monotonic_ns() + WAIT_NS;
    uint32_t len;
    while (!vq_get_used(vq, &len)) {
        if (clock_monotonic_ns() > deadline)
            return -ETIMEDOUT;
        arch_cpu_relax();
    }
    return (int)MIN(len, n);
}

int virtio_rng_probe(struct virtio_dev *vd)
{
    virtio_begin(vd);
    int r = virtio_negotiate(vd, 0);
    if (r < 0) {
        virtio_fail(vd);
        return r;
    }
    unsigned max = virtio_queue_max(vd, REQUEST_QUEUE);
    paddr_t pa = page_alloc(0);
    struct virtqueue *vq = max ? vq_create(max >= 4 ? 4 : (uint16_t)max, REQUEST_QUEUE, 0, 0)
                               : NULL;
    if (!pa || !vq) {
        pr_err("virtio-rng %s: %s\n", vd->where, max ? "out of memory" : "no request queue");
        virtio_fail(vd);
        return max ? -ENOMEM : -ENODEV;
    }
    if ((r = virtio_queue_enable(vd, REQUEST_QUEUE, vq, VIRTIO_NO_IRQ)) < 0) {
        pr_err("virtio-rng %s: queue setup failed (%d)\n", vd->where, r);
        virtio_fail(vd);
        return r;
    }
    virtio_driver_ok(vd);

    /* The device may hand out fewer bytes than asked (5.4.6.1): ask again
     * until SEED_BYTES have come, or it stops answering. */
    uint8_t *buf = phys_to_virt(pa);
    uint32_t got = 0;
    while (got < SEED_BYTES) {
        r = read_once(vq, buf + got, SEED_BYTES - got);
        if (r <= 0)
            break;
        got += (uint32_t)r;
    }
    if (got)
        random_add_seed("virtio-rng", buf, got);
    memset(buf, 0, SEED_BYTES);
    if (got < SEED_BYTES) {
        /* A buffer may still be the device's: leave the page and queue. */
        pr_warn("virtio-rng at %s: the device gave %u of %u bytes (%d)\n", vd->where, got,
                SEED_BYTES, r);
        return got ? 0 : -EIO;
    }
    pr_info("virtio-rng at %s: %u bytes of host entropy\n", vd->where, got);
    return 0;
}
