/*
 * The virtio PCI transport, modern interface only (Virtio 1.2, 4.1).
 *
 * A modern device describes its register blocks with vendor-specific PCI
 * capabilities (common configuration, notification, ISR, device
 * configuration), each a window into one of its BARs. QEMU's devices are
 * transitional by default: they offer this interface beside the legacy
 * I/O-port one, and we use only this one. A device without the
 * capabilities (legacy-only) is reported and left alone.
 *
 * Interrupts are MSI-X only: a driver asks for one table entry per queue
 * (and one for configuration changes), or shares one between all of them.
 */
#include <arch/barrier.h>
#include <arch/irq.h>
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <pci/pci.h>
#include "virtio.h"
#include "virtqueue.h"

/* ------------------------------------------------- register accessors ---- */

static uint8_t common_read8(struct virtio_dev *vd, unsigned off)
{
    return *(volatile uint8_t *)(vd->common + off);
}

static uint16_t common_read16(struct virtio_dev *vd, unsigned off)
{
    return *(volatile uint16_t *)(vd->common + off);
}

static uint32_t common_read32(struct virtio_dev *vd, unsigned off)
{
    return *(volatile uint32_t *)(vd->common + off);
}

static void common_write8(struct virtio_dev *vd, unsigned off, uint8_t v)
{
    *(volatile uint8_t *)(vd->common + off) = v;
}

static void common_write16(struct virtio_dev *vd, unsigned off, uint16_t v)
{
    *(volatile uint16_t *)(vd->common + off) = v;
}

static void common_write32(struct virtio_dev *vd, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(vd->common + off) = v;
}

/* 4.1.3.1: 64-bit fields may be written as two 32-bit halves, low first. */
static void common_write64(struct virtio_dev *vd, unsigned off, uint64_t v)
{
    common_write32(vd, off, (uint32_t)v);
    common_write32(vd, off + 4, (uint32_t)(v >> 32));
}

/* --------------------------------------------------------- the status ---- */

uint8_t virtio_status(struct virtio_dev *vd)
{
    return common_read8(vd, VIRTIO_COMMON_STATUS);
}

static void add_status(struct virtio_dev *vd, uint8_t bits)
{
    common_write8(vd, VIRTIO_COMMON_STATUS, virtio_status(vd) | bits);
}

static uint64_t read_features(struct virtio_dev *vd)
{
    common_write32(vd, VIRTIO_COMMON_DFSELECT, 0);
    uint64_t lo = common_read32(vd, VIRTIO_COMMON_DF);
    common_write32(vd, VIRTIO_COMMON_DFSELECT, 1);
    uint64_t hi = common_read32(vd, VIRTIO_COMMON_DF);
    return hi << 32 | lo;
}

void virtio_begin(struct virtio_dev *vd)
{
    /* 4.1.4.3.2: after writing 0 the driver waits until it reads back 0,
     * which means the reset is complete. QEMU resets at once. */
    common_write8(vd, VIRTIO_COMMON_STATUS, 0);
    for (int i = 0; i < 1000000 && virtio_status(vd) != 0; i++)
        arch_cpu_relax();
    add_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
    add_status(vd, VIRTIO_STATUS_DRIVER);
    vd->offered = read_features(vd);
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
    common_write32(vd, VIRTIO_COMMON_GFSELECT, 0);
    common_write32(vd, VIRTIO_COMMON_GF, (uint32_t)accept);
    common_write32(vd, VIRTIO_COMMON_GFSELECT, 1);
    common_write32(vd, VIRTIO_COMMON_GF, (uint32_t)(accept >> 32));
    add_status(vd, VIRTIO_STATUS_FEATURES_OK);
    /* 3.1.1 step 6: the device may refuse the subset. */
    if (!(virtio_status(vd) & VIRTIO_STATUS_FEATURES_OK))
        return -EIO;
    vd->features = accept;
    return 0;
}

/* ----------------------------------------------------- configuration ---- */

int virtio_config_read(struct virtio_dev *vd, unsigned off, void *buf, unsigned len)
{
    if (!vd->devcfg || off + len > vd->devcfg_len || off + len < off)
        return -EINVAL;
    uint8_t gen, *out = buf;
    do {
        gen = common_read8(vd, VIRTIO_COMMON_CFGGEN);
        /* 4.1.3.1: fields are read with their natural width. */
        if (len == 2 && !(off & 1)) {
            uint16_t v = *(volatile uint16_t *)(vd->devcfg + off);
            memcpy(out, &v, 2);
        } else if (len == 4 && !(off & 3)) {
            uint32_t v = *(volatile uint32_t *)(vd->devcfg + off);
            memcpy(out, &v, 4);
        } else {
            for (unsigned i = 0; i < len; i++)
                out[i] = vd->devcfg[off + i];
        }
    } while (gen != common_read8(vd, VIRTIO_COMMON_CFGGEN));
    return 0;
}

/* ------------------------------------------------------------- queues ---- */

unsigned virtio_queue_max(struct virtio_dev *vd, unsigned index)
{
    if (index >= vd->num_queues)
        return 0;
    common_write16(vd, VIRTIO_COMMON_Q_SELECT, (uint16_t)index);
    return common_read16(vd, VIRTIO_COMMON_Q_SIZE);
}

/* 4.1.4.4: the queue's notification address; writing its index there is
 * the notification (without VIRTIO_F_NOTIFICATION_DATA). */
static void pci_notify(struct virtqueue *vq)
{
    *(volatile uint16_t *)vq->notify_reg = vq->index;
}

int virtio_queue_enable(struct virtio_dev *vd, unsigned index, struct virtqueue *vq,
                        unsigned msix_entry)
{
    if (index >= vd->num_queues)
        return -EINVAL;
    common_write16(vd, VIRTIO_COMMON_Q_SELECT, (uint16_t)index);
    common_write16(vd, VIRTIO_COMMON_Q_SIZE, vq->size);
    common_write16(vd, VIRTIO_COMMON_Q_MSIX, (uint16_t)msix_entry);
    /* 4.1.5.1.2: the device answers NO_VECTOR when it could not take it. */
    if (msix_entry != VIRTIO_MSI_NO_VECTOR &&
        common_read16(vd, VIRTIO_COMMON_Q_MSIX) == VIRTIO_MSI_NO_VECTOR)
        return -EIO;
    common_write64(vd, VIRTIO_COMMON_Q_DESCLO, vq->desc_pa);
    common_write64(vd, VIRTIO_COMMON_Q_AVAILLO, vq->avail_pa);
    common_write64(vd, VIRTIO_COMMON_Q_USEDLO, vq->used_pa);
    size_t noff = (size_t)common_read16(vd, VIRTIO_COMMON_Q_NOFF) * vd->notify_mult;
    if (noff + 2 > vd->notify_len)
        return -EIO;
    vq->notify_reg = vd->notify + noff;
    vq->notify = pci_notify;
    /* The rings must be in memory before the device may look at them. */
    wmb();
    common_write16(vd, VIRTIO_COMMON_Q_ENABLE, 1);
    return 0;
}

/* --------------------------------------------------------- interrupts ---- */

int virtio_irq(struct virtio_dev *vd, unsigned entry, irq_handler handler, void *arg,
               const char *name)
{
    struct pci_dev *pci = vd->pci;
    if (!pci->msix_table && pci_msix_enable(pci) < 0)
        return -ENODEV;
    int vector = irq_alloc(handler, arg, name);
    if (vector < 0)
        return -EBUSY;
    /* Every device interrupt goes to the boot CPU for now. */
    int r = pci_msix_route(pci, entry, vector, 0);
    return r < 0 ? r : vector;
}

int virtio_config_irq(struct virtio_dev *vd, unsigned entry)
{
    common_write16(vd, VIRTIO_COMMON_MSIX, (uint16_t)entry);
    if (common_read16(vd, VIRTIO_COMMON_MSIX) != entry)
        return -EIO;
    return 0;
}

/* ---------------------------------------------------------- discovery ---- */

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
};

/* The window a capability points at, mapped; NULL when it lies outside
 * its BAR. */
static volatile uint8_t *cap_window(struct pci_dev *pci, unsigned cap, uint32_t *len)
{
    unsigned bar = pci_read8(pci, cap + VIRTIO_PCI_CAP_BAR);
    uint32_t off = pci_read32(pci, cap + VIRTIO_PCI_CAP_OFFSET);
    *len = pci_read32(pci, cap + VIRTIO_PCI_CAP_LENGTH);
    if (bar >= PCI_NUM_BARS || (uint64_t)off + *len > pci->bar[bar].size)
        return NULL;
    uint8_t *base = pci_map_bar(pci, bar);
    return base ? base + off : NULL;
}

/* Locate the modern register blocks. 4.1.4: the first capability of each
 * type that the driver can use is the one to use. */
static bool find_windows(struct virtio_dev *vd)
{
    struct pci_dev *pci = vd->pci;
    for (unsigned cap = pci_find_cap(pci, PCI_CAP_VENDOR, 0); cap;
         cap = pci_find_cap(pci, PCI_CAP_VENDOR, cap)) {
        uint8_t type = pci_read8(pci, cap + VIRTIO_PCI_CAP_CFG_TYPE);
        uint32_t len;
        volatile uint8_t *w;
        switch (type) {
        case VIRTIO_PCI_CAP_COMMON_CFG:
            if (!vd->common && (w = cap_window(pci, cap, &len)) && len >= VIRTIO_COMMON_MIN_LEN)
                vd->common = w;
            break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG:
            if (!vd->notify && (w = cap_window(pci, cap, &len)) && len >= 2) {
                vd->notify = w;
                vd->notify_len = len;
                vd->notify_mult = pci_read32(pci, cap + VIRTIO_PCI_NOTIFY_MULT);
            }
            break;
        case VIRTIO_PCI_CAP_ISR_CFG:
            if (!vd->isr && (w = cap_window(pci, cap, &len)) && len >= 1)
                vd->isr = w;
            break;
        case VIRTIO_PCI_CAP_DEVICE_CFG:
            if (!vd->devcfg && (w = cap_window(pci, cap, &len))) {
                vd->devcfg = w;
                vd->devcfg_len = len;
            }
            break;
        default:
            break;
        }
    }
    return vd->common && vd->notify;
}

static void attach(struct pci_dev *pci)
{
    char name[16];
    unsigned type = pci->device >= VIRTIO_PCI_MODERN_BASE ? pci->device - VIRTIO_PCI_MODERN_BASE
                                                           : pci->subsys_id;
    struct virtio_dev *vd = kzalloc(sizeof(*vd));
    if (!vd)
        return;
    vd->pci = pci;
    vd->type = type;
    vd->msix_entries = pci->msix_entries;
    if (!find_windows(vd)) {
        pr_warn("virtio %s: %s with only the legacy (virtio 0.9) interface: not "
                "supported (QEMU: use disable-modern=off)\n",
                pci_name(pci, name), virtio_type_name(type));
        kfree(vd);
        return;
    }
    virtio_probe_fn probe = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(drivers); i++)
        if (drivers[i].type == type)
            probe = drivers[i].probe;
    if (!probe) {
        pr_info("virtio %s: %s: no driver\n", pci_name(pci, name), virtio_type_name(type));
        kfree(vd);
        return;
    }
    pci_enable(pci);
    vd->num_queues = common_read16(vd, VIRTIO_COMMON_NUMQ);
    pci->claimed = true;
    if (probe(vd) < 0) {
        /* The driver said why; leave the device reset and quiet. */
        common_write8(vd, VIRTIO_COMMON_STATUS, 0);
        pci->claimed = false;
        kfree(vd);
    }
}

void virtio_pci_init(void)
{
    for (struct pci_dev *d = pci_next(NULL); d; d = pci_next(d)) {
        if (d->vendor != VIRTIO_PCI_VENDOR || d->device < VIRTIO_PCI_TRANSITIONAL_LO ||
            d->device > VIRTIO_PCI_MODERN_HI || d->claimed)
            continue;
        attach(d);
    }
}
