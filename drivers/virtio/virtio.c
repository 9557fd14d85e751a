/*
 * The transport-independent part of virtio (see virtio.h): device
 * initialization in the order of 3.1.1, feature negotiation, consistent
 * configuration reads, queue set-up, and the table of drivers. Each step reaches the
 * device through its transport's operations.
 */
#include <arch/barrier.h>
#include <arch/irq.h>
#include <kern/errno.h>
#include <kern/string.h>
#include "virtio.h"
#include "virtqueue.h"

/* ---------------------------------------------- the register block ---- */

/* 4.1.3.1, 4.2.2: a 64-bit field as two 32-bit halves, low first. */
static void write64(struct virtio_dev *vd, unsigned lo, uint64_t v)
{
    vd->transport->write32(vd, lo, (uint32_t)v);
    vd->transport->write32(vd, lo + 4, (uint32_t)(v >> 32));
}

/* The feature bits come and go 32 at a time, the select register saying
 * which 32 (4.1.4.3, 4.2.2). */
static uint64_t get_features(struct virtio_dev *vd)
{
    const struct virtio_transport *t = vd->transport;
    t->write32(vd, t->reg.device_feature_select, 0);
    uint64_t lo = t->read32(vd, t->reg.device_feature);
    t->write32(vd, t->reg.device_feature_select, 1);
    uint64_t hi = t->read32(vd, t->reg.device_feature);
    return hi << 32 | lo;
}

static void set_features(struct virtio_dev *vd, uint64_t features)
{
    const struct virtio_transport *t = vd->transport;
    t->write32(vd, t->reg.driver_feature_select, 0);
    t->write32(vd, t->reg.driver_feature, (uint32_t)features);
    t->write32(vd, t->reg.driver_feature_select, 1);
    t->write32(vd, t->reg.driver_feature, (uint32_t)(features >> 32));
}

/* --------------------------------------------------------- the status ---- */

uint8_t virtio_status(struct virtio_dev *vd)
{
    return vd->transport->get_status(vd);
}

static void add_status(struct virtio_dev *vd, uint8_t bits)
{
    vd->transport->set_status(vd, virtio_status(vd) | bits);
}

void virtio_reset(struct virtio_dev *vd)
{
    vd->transport->set_status(vd, 0);
}

void virtio_begin(struct virtio_dev *vd)
{
    /* 2.4: after writing 0 the driver waits until it reads back 0, which
     * means the reset is complete. QEMU resets at once. */
    virtio_reset(vd);
    for (int i = 0; i < 1000000 && virtio_status(vd) != 0; i++)
        arch_cpu_relax();
    add_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
    add_status(vd, VIRTIO_STATUS_DRIVER);
    vd->offered = get_features(vd);
}

void virtio_fail(struct virtio_dev *vd)
{
    add_status(vd, VIRTIO_STATUS_FAILED);
}

void virtio_driver_ok(struct virtio_dev *vd)
{
    add_status(vd, VIRTIO_STATUS_DRIVER_OK);
}

int virtio_negotiate(struct virtio_dev *vd, uint64_t wanted)
{
    if (!(vd->offered & VIRTIO_BIT(VIRTIO_F_VERSION_1)))
        return -ENODEV;     /* only a legacy interface behind the modern one */
    /* Physical addresses are bus addresses here (no IOMMU is set up), so
     * a device that insists on platform DMA translation gets what it asks
     * for by accepting the bit. */
    uint64_t accept = vd->offered &
        (wanted | VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM));
    set_features(vd, accept);
    add_status(vd, VIRTIO_STATUS_FEATURES_OK);
    /* 3.1.1 step 6: the device may refuse the subset. */
    if (!(virtio_status(vd) & VIRTIO_STATUS_FEATURES_OK))
        return -EIO;
    vd->features = accept;
    return 0;
}

/* ----------------------------------------------------- configuration ---- */

/* Reads once, with the natural width for 2 and 4 bytes (4.1.3.1, 4.2.2.2). */
static int window_read(struct virtio_dev *vd, unsigned off, void *buf, unsigned len)
{
    uint32_t cfg_len;
    volatile uint8_t *cfg = vd->transport->config_window(vd, &cfg_len);
    if (!cfg || off + len > cfg_len || off + len < off)
        return -EINVAL;
    uint8_t *out = buf;
    if (len == 2 && !(off & 1)) {
        uint16_t v = *(volatile uint16_t *)(cfg + off);
        memcpy(out, &v, 2);
    } else if (len == 4 && !(off & 3)) {
        uint32_t v = *(volatile uint32_t *)(cfg + off);
        memcpy(out, &v, 4);
    } else {
        for (unsigned i = 0; i < len; i++)
            out[i] = cfg[off + i];
    }
    return 0;
}

int virtio_config_read(struct virtio_dev *vd, unsigned off, void *buf, unsigned len)
{
    const struct virtio_transport *t = vd->transport;
    uint8_t gen;
    do {
        gen = t->config_generation(vd);
        int r = window_read(vd, off, buf, len);
        if (r < 0)
            return r;
    } while (gen != t->config_generation(vd));
    return 0;
}

/* ------------------------------------------------ queues, interrupts ---- */

unsigned virtio_queue_max(struct virtio_dev *vd, unsigned index)
{
    if (index >= vd->num_queues)
        return 0;
    return vd->transport->queue_max(vd, index);
}

int virtio_queue_enable(struct virtio_dev *vd, unsigned index, struct virtqueue *vq,
                        unsigned irq)
{
    const struct virtio_transport *t = vd->transport;
    if (index >= vd->num_queues)
        return -EINVAL;
    /* 4.1.5.1.3, 4.2.3.2: select the queue, tell its size (and where its
     * interrupts go), where its rings are, then enable it. */
    int r = t->queue_select(vd, index, vq->size, irq);
    if (r < 0)
        return r;
    write64(vd, t->reg.queue_desc, vq->desc_pa);
    write64(vd, t->reg.queue_driver, vq->avail_pa);
    write64(vd, t->reg.queue_device, vq->used_pa);
    r = t->queue_notifier(vd, vq);
    if (r < 0)
        return r;
    /* The rings must be in memory before the device may look at them. */
    wmb();
    t->queue_ready(vd);
    return 0;
}

int virtio_irq(struct virtio_dev *vd, unsigned entry, irq_handler handler, void *arg,
               const char *name)
{
    return vd->transport->irq(vd, entry, handler, arg, name);
}

int virtio_config_irq(struct virtio_dev *vd, unsigned entry)
{
    return vd->transport->config_irq(vd, entry);
}

/* ------------------------------------------------------------ drivers ---- */

static const char *const type_names[] = {
    [VIRTIO_ID_NET] = "virtio-net",         [VIRTIO_ID_BLOCK] = "virtio-blk",
    [VIRTIO_ID_CONSOLE] = "virtio-console", [VIRTIO_ID_ENTROPY] = "virtio-rng",
    [VIRTIO_ID_BALLOON] = "virtio-balloon", [VIRTIO_ID_SCSI] = "virtio-scsi",
    [VIRTIO_ID_9P] = "virtio-9p",           [VIRTIO_ID_VSOCK] = "virtio-vsock",
    [VIRTIO_ID_FS] = "virtio-fs",
};

const char *virtio_type_name(unsigned type)
{
    if (type < ARRAY_SIZE(type_names) && type_names[type])
        return type_names[type];
    return "virtio device";
}

static const struct {
    unsigned type;
    virtio_probe_fn probe;
} drivers[] = {
    { VIRTIO_ID_NET, virtio_net_probe },
    { VIRTIO_ID_BLOCK, virtio_blk_probe },
    { VIRTIO_ID_CONSOLE, virtio_console_probe },
    { VIRTIO_ID_ENTROPY, virtio_rng_probe },
};

virtio_probe_fn virtio_driver_for(unsigned type)
{
    for (size_t i = 0; i < ARRAY_SIZE(drivers); i++)
        if (drivers[i].type == type)
            return drivers[i].probe;
    return NULL;
}
