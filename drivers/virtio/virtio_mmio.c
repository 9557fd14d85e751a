/*
 * The virtio-mmio transport (Virtio 1.2, 4.2): a device is one block of
 * registers at an address the machine's description gives (the device
 * tree's virtio,mmio nodes on arm virt), with one interrupt line.
 *
 * Version 2 ("modern", 4.2.2) only. QEMU's virtio-mmio devices speak the
 * legacy version 1 unless started with -global
 * virtio-mmio.force-legacy=false (tern run passes it); a legacy device
 * lacks VIRTIO_F_VERSION_1 and the split-address queue registers, and is
 * reported and left alone, as virtio_pci.c does with legacy-only devices.
 *
 * One line serves every queue and configuration changes: the handler reads
 * InterruptStatus, acknowledges it, and runs the driver's handler (which
 * looks at every queue anyway, virtio_net's irq_all). QEMU's virt machine
 * has 32 slots, most empty: DeviceID 0 means nothing is there.
 */
#include <arch/barrier.h>
#include <kern/arch.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include "virtio.h"
#include "virtqueue.h"

/* 4.2.2 MMIO Device Register Layout. */
#define MMIO_MAGIC            0x000
#define MMIO_VERSION          0x004
#define MMIO_DEVICE_ID        0x008
#define MMIO_VENDOR_ID        0x00c
#define MMIO_DEVICE_FEATURES  0x010
#define MMIO_DEVICE_FEAT_SEL  0x014
#define MMIO_DRIVER_FEATURES  0x020
#define MMIO_DRIVER_FEAT_SEL  0x024
#define MMIO_QUEUE_SEL        0x030
#define MMIO_QUEUE_NUM_MAX    0x034
#define MMIO_QUEUE_NUM        0x038
#define MMIO_QUEUE_READY      0x044
#define MMIO_QUEUE_NOTIFY     0x050
#define MMIO_INT_STATUS       0x060
#define MMIO_INT_ACK          0x064
#define MMIO_STATUS           0x070
#define MMIO_QUEUE_DESC_LO    0x080
#define MMIO_QUEUE_DESC_HI    0x084
#define MMIO_QUEUE_DRIVER_LO  0x090
#define MMIO_QUEUE_DRIVER_HI  0x094
#define MMIO_QUEUE_DEVICE_LO  0x0a0
#define MMIO_QUEUE_DEVICE_HI  0x0a4
#define MMIO_CONFIG_GEN       0x0fc
#define MMIO_CONFIG           0x100

#define MMIO_MAGIC_VALUE      0x74726976    /* "virt", little-endian */
#define MMIO_VERSION_MODERN   2

struct virtio_mmio {
    struct virtio_dev vd;
    volatile uint8_t *regs;
    unsigned config_len;
    unsigned line;                  /* the interrupt the machine wired */
    bool edge;
    irq_handler handler;            /* the driver's */
    void *handler_arg;
};

static struct virtio_mmio *vm(struct virtio_dev *vd)
{
    return container_of(vd, struct virtio_mmio, vd);
}

static uint32_t rd32(struct virtio_dev *vd, unsigned off)
{
    return *(volatile uint32_t *)(vm(vd)->regs + off);
}

static void wr32(struct virtio_dev *vd, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(vm(vd)->regs + off) = v;
}

/* ---------------------------------------------------------- status ---- */

static uint8_t mmio_get_status(struct virtio_dev *vd)
{
    return (uint8_t)rd32(vd, MMIO_STATUS);
}

static void mmio_set_status(struct virtio_dev *vd, uint8_t status)
{
    wr32(vd, MMIO_STATUS, status);
}

/* ----------------------------------------------------- configuration ---- */

static uint8_t mmio_config_generation(struct virtio_dev *vd)
{
    return (uint8_t)rd32(vd, MMIO_CONFIG_GEN);
}

/* The device configuration follows the registers, to the region's end. */
static volatile uint8_t *mmio_config_window(struct virtio_dev *vd, uint32_t *len)
{
    *len = vm(vd)->config_len;
    return vm(vd)->regs + MMIO_CONFIG;
}

/* ------------------------------------------------------------- queues ---- */

static unsigned mmio_queue_max(struct virtio_dev *vd, unsigned index)
{
    wr32(vd, MMIO_QUEUE_SEL, index);
    return rd32(vd, MMIO_QUEUE_NUM_MAX);
}

/* 4.2.3.3: writing the queue's index to QueueNotify is the notification.
 * notify_reg points at that register. */
static void mmio_notify(struct virtqueue *vq)
{
    /* The ring writes must reach memory before the device is told. */
    wmb();
    *(volatile uint32_t *)vq->notify_reg = vq->index;
}

static int mmio_queue_select(struct virtio_dev *vd, unsigned index, uint16_t size,
                             unsigned irq)
{
    (void)irq;      /* one line for all queues */
    wr32(vd, MMIO_QUEUE_SEL, index);
    if (rd32(vd, MMIO_QUEUE_READY))
        return -EIO;        /* 4.2.3.2: must be 0 before it is set up */
    if (size > rd32(vd, MMIO_QUEUE_NUM_MAX))
        return -EINVAL;
    wr32(vd, MMIO_QUEUE_NUM, size);
    return 0;
}

static int mmio_queue_notifier(struct virtio_dev *vd, struct virtqueue *vq)
{
    vq->notify_reg = (void *)(vm(vd)->regs + MMIO_QUEUE_NOTIFY);
    vq->notify = mmio_notify;
    return 0;
}

static void mmio_queue_ready(struct virtio_dev *vd)
{
    wr32(vd, MMIO_QUEUE_READY, 1);
}

/* --------------------------------------------------------- interrupts ---- */

/* 4.2.3.4: bit 0 = a used ring was updated, bit 1 = configuration
 * changed; acknowledged by writing the same bits to InterruptACK, which
 * also lowers the line. */
static void mmio_interrupt(void *arg)
{
    struct virtio_mmio *v = arg;
    uint32_t status = rd32(&v->vd, MMIO_INT_STATUS);
    if (!status)
        return;
    wr32(&v->vd, MMIO_INT_ACK, status);
    if (v->handler)
        v->handler(v->handler_arg);
}

static int mmio_irq(struct virtio_dev *vd, unsigned entry, irq_handler handler, void *arg,
                    const char *name)
{
    struct virtio_mmio *v = vm(vd);
    if (entry != 0 || v->handler)
        return -EINVAL;
    v->handler = handler;
    v->handler_arg = arg;
    int r = irq_register(v->line, v->edge ? IRQ_EDGE : IRQ_LEVEL, mmio_interrupt, v, name);
    if (r < 0) {
        v->handler = NULL;
        return r;
    }
    return (int)v->line;
}

/* Configuration changes come on the same line, always. */
static int mmio_config_irq(struct virtio_dev *vd, unsigned entry)
{
    return entry == 0 ? 0 : -EINVAL;
}

static const struct virtio_transport mmio_transport = {
    .read32 = rd32,
    .write32 = wr32,
    .reg = {
        .device_feature_select = MMIO_DEVICE_FEAT_SEL,
        .device_feature = MMIO_DEVICE_FEATURES,
        .driver_feature_select = MMIO_DRIVER_FEAT_SEL,
        .driver_feature = MMIO_DRIVER_FEATURES,
        .queue_desc = MMIO_QUEUE_DESC_LO,
        .queue_driver = MMIO_QUEUE_DRIVER_LO,
        .queue_device = MMIO_QUEUE_DEVICE_LO,
    },
    .get_status = mmio_get_status,
    .set_status = mmio_set_status,
    .config_generation = mmio_config_generation,
    .config_window = mmio_config_window,
    .queue_max = mmio_queue_max,
    .queue_select = mmio_queue_select,
    .queue_notifier = mmio_queue_notifier,
    .queue_ready = mmio_queue_ready,
    .irq = mmio_irq,
    .config_irq = mmio_config_irq,
};

/* ---------------------------------------------------------- discovery ---- */

int virtio_mmio_probe(paddr_t base, uint64_t size, unsigned irq, bool edge)
{
    if (size < MMIO_CONFIG) {
        pr_warn("virtio-mmio %#llx: region of %llu bytes is too small\n",
                (unsigned long long)base, (unsigned long long)size);
        return -EINVAL;
    }
    volatile uint8_t *regs = ioremap(base, size);
    uint32_t magic = *(volatile uint32_t *)(regs + MMIO_MAGIC);
    uint32_t version = *(volatile uint32_t *)(regs + MMIO_VERSION);
    uint32_t type = *(volatile uint32_t *)(regs + MMIO_DEVICE_ID);
    if (magic != MMIO_MAGIC_VALUE) {
        pr_warn("virtio-mmio %#llx: bad magic %#x\n", (unsigned long long)base, magic);
        return -ENODEV;
    }
    if (type == 0)
        return 0;           /* an empty slot */
    if (version != MMIO_VERSION_MODERN) {
        pr_warn("virtio-mmio %#llx: %s with the legacy interface (version %u): not "
                "supported (QEMU: -global virtio-mmio.force-legacy=false)\n",
                (unsigned long long)base, virtio_type_name(type), version);
        return -ENODEV;
    }
    struct virtio_mmio *v = kzalloc(sizeof(*v));
    if (!v)
        return -ENOMEM;
    struct virtio_dev *vd = &v->vd;
    v->regs = regs;
    v->config_len = (unsigned)(size - MMIO_CONFIG);
    v->line = irq;
    v->edge = edge;
    vd->transport = &mmio_transport;
    snprintf(vd->where, sizeof(vd->where), "mmio@%llx", (unsigned long long)base);
    vd->type = type;
    vd->num_irqs = 1;
    virtio_probe_fn probe = virtio_driver_for(type);
    if (!probe) {
        pr_info("virtio %s: %s: no driver\n", vd->where, virtio_type_name(type));
        kfree(v);
        return 0;
    }
    /* num_queues is PCI's; here queues are probed by QueueNumMax. */
    vd->num_queues = 0;
    while (vd->num_queues < 64 && mmio_queue_max(vd, vd->num_queues))
        vd->num_queues++;
    if (probe(vd) < 0) {
        /* The driver said why; leave the device reset and quiet. An
         * interrupt it registered stays with a NULL driver handler. */
        virtio_reset(vd);
        v->handler = NULL;
        return -ENODEV;
    }
    return 0;
}
