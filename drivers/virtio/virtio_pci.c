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
 * Interrupts are MSI-X where the platform delivers MSIs: a driver asks for
 * one table entry per queue (and one for configuration changes), or shares
 * one between all of them. Elsewhere (arm virt: MSI would need the GICv3
 * ITS or GICv2m) the device's legacy INTx line serves everything, shared
 * with other devices; the ISR register says whether it was this one.
 */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <pci/pci.h>
#include "virtio.h"
#include "virtqueue.h"

/* 4.1.2 PCI Device Discovery: vendor 0x1af4; transitional devices use ids
 * 0x1000..0x103f (the virtio type in the subsystem id), modern-only ones
 * 0x1040 + type. */
#define VIRTIO_PCI_VENDOR          0x1af4
#define VIRTIO_PCI_TRANSITIONAL_LO 0x1000
#define VIRTIO_PCI_TRANSITIONAL_HI 0x103f
#define VIRTIO_PCI_MODERN_BASE     0x1040
#define VIRTIO_PCI_MODERN_HI       0x107f

/* 4.1.4 Virtio Structure PCI Capabilities: vendor-specific capabilities
 * (id 0x09) whose cfg_type says which structure they locate. */
#define VIRTIO_PCI_CAP_COMMON_CFG  1
#define VIRTIO_PCI_CAP_NOTIFY_CFG  2
#define VIRTIO_PCI_CAP_ISR_CFG     3
#define VIRTIO_PCI_CAP_DEVICE_CFG  4
#define VIRTIO_PCI_CAP_PCI_CFG     5

/* Offsets in the capability (struct virtio_pci_cap). */
#define VIRTIO_PCI_CAP_CFG_TYPE    3
#define VIRTIO_PCI_CAP_BAR         4
#define VIRTIO_PCI_CAP_OFFSET      8
#define VIRTIO_PCI_CAP_LENGTH      12
#define VIRTIO_PCI_NOTIFY_MULT     16    /* notify cap: notify_off_multiplier */

/* 4.1.4.3 Common configuration structure layout (byte offsets). */
#define VIRTIO_COMMON_DFSELECT     0x00  /* le32 device_feature_select */
#define VIRTIO_COMMON_DF           0x04  /* le32 device_feature */
#define VIRTIO_COMMON_GFSELECT     0x08  /* le32 driver_feature_select */
#define VIRTIO_COMMON_GF           0x0c  /* le32 driver_feature */
#define VIRTIO_COMMON_MSIX         0x10  /* le16 config_msix_vector */
#define VIRTIO_COMMON_NUMQ         0x12  /* le16 num_queues */
#define VIRTIO_COMMON_STATUS       0x14  /* u8 device_status */
#define VIRTIO_COMMON_CFGGEN       0x15  /* u8 config_generation */
#define VIRTIO_COMMON_Q_SELECT     0x16  /* le16 queue_select */
#define VIRTIO_COMMON_Q_SIZE       0x18  /* le16 queue_size */
#define VIRTIO_COMMON_Q_MSIX       0x1a  /* le16 queue_msix_vector */
#define VIRTIO_COMMON_Q_ENABLE     0x1c  /* le16 queue_enable */
#define VIRTIO_COMMON_Q_NOFF       0x1e  /* le16 queue_notify_off */
#define VIRTIO_COMMON_Q_DESCLO     0x20  /* le64 queue_desc */
#define VIRTIO_COMMON_Q_DESCHI     0x24
#define VIRTIO_COMMON_Q_AVAILLO    0x28  /* le64 queue_driver */
#define VIRTIO_COMMON_Q_AVAILHI    0x2c
#define VIRTIO_COMMON_Q_USEDLO     0x30  /* le64 queue_device */
#define VIRTIO_COMMON_Q_USEDHI     0x34
#define VIRTIO_COMMON_MIN_LEN      0x38

/* 4.1.4.3: "no vector" for config_msix_vector / queue_msix_vector. */
#define VIRTIO_MSI_NO_VECTOR       0xffff

/* A virtio device on PCI: the generic part drivers see, and where its
 * register blocks are. */
struct virtio_pci {
    struct virtio_dev vd;
    struct pci_dev *pci;
    volatile uint8_t *common;       /* 4.1.4.3 */
    volatile uint8_t *notify;       /* 4.1.4.4 */
    uint32_t notify_mult, notify_len;
    volatile uint8_t *isr;          /* 4.1.4.5 (INTx only) */
    bool intx;                      /* no MSI-X: one shared INTx line */
    irq_handler handler;            /* INTx: the driver's */
    void *handler_arg;
    volatile uint8_t *devcfg;       /* 4.1.4.6, device-specific */
    uint32_t devcfg_len;
};

static struct virtio_pci *vp(struct virtio_dev *vd)
{
    return container_of(vd, struct virtio_pci, vd);
}

/* ------------------------------------------------- register accessors ---- */

static uint8_t common_read8(struct virtio_dev *vd, unsigned off)
{
    return *(volatile uint8_t *)(vp(vd)->common + off);
}

static uint16_t common_read16(struct virtio_dev *vd, unsigned off)
{
    return *(volatile uint16_t *)(vp(vd)->common + off);
}

static uint32_t common_read32(struct virtio_dev *vd, unsigned off)
{
    return *(volatile uint32_t *)(vp(vd)->common + off);
}

static void common_write8(struct virtio_dev *vd, unsigned off, uint8_t v)
{
    *(volatile uint8_t *)(vp(vd)->common + off) = v;
}

static void common_write16(struct virtio_dev *vd, unsigned off, uint16_t v)
{
    *(volatile uint16_t *)(vp(vd)->common + off) = v;
}

static void common_write32(struct virtio_dev *vd, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(vp(vd)->common + off) = v;
}

/* ---------------------------------------------------------- status ---- */

static uint8_t pci_get_status(struct virtio_dev *vd)
{
    return common_read8(vd, VIRTIO_COMMON_STATUS);
}

static void pci_set_status(struct virtio_dev *vd, uint8_t status)
{
    common_write8(vd, VIRTIO_COMMON_STATUS, status);
}

/* ----------------------------------------------------- configuration ---- */

static uint8_t pci_config_generation(struct virtio_dev *vd)
{
    return common_read8(vd, VIRTIO_COMMON_CFGGEN);
}

/* 4.1.4.6: the window of the device-specific configuration capability
 * (NULL when the device has none). */
static volatile uint8_t *pci_config_window(struct virtio_dev *vd, uint32_t *len)
{
    *len = vp(vd)->devcfg_len;
    return vp(vd)->devcfg;
}

/* ------------------------------------------------------------- queues ---- */

static unsigned pci_queue_max(struct virtio_dev *vd, unsigned index)
{
    common_write16(vd, VIRTIO_COMMON_Q_SELECT, (uint16_t)index);
    return common_read16(vd, VIRTIO_COMMON_Q_SIZE);
}

/* 4.1.4.4: the queue's notification address; writing its index there is
 * the notification (without VIRTIO_F_NOTIFICATION_DATA). */
static void pci_notify(struct virtqueue *vq)
{
    *(volatile uint16_t *)vq->notify_reg = vq->index;
}

static int pci_queue_select(struct virtio_dev *vd, unsigned index, uint16_t size, unsigned irq)
{
    unsigned msix_entry = irq == VIRTIO_NO_IRQ || vp(vd)->intx ? VIRTIO_MSI_NO_VECTOR : irq;
    common_write16(vd, VIRTIO_COMMON_Q_SELECT, (uint16_t)index);
    common_write16(vd, VIRTIO_COMMON_Q_SIZE, size);
    common_write16(vd, VIRTIO_COMMON_Q_MSIX, (uint16_t)msix_entry);
    /* 4.1.5.1.2: the device answers NO_VECTOR when it could not take it. */
    if (msix_entry != VIRTIO_MSI_NO_VECTOR &&
        common_read16(vd, VIRTIO_COMMON_Q_MSIX) == VIRTIO_MSI_NO_VECTOR)
        return -EIO;
    return 0;
}

/* The selected queue's notification address: its queue_notify_off times
 * the capability's multiplier into the notify window. */
static int pci_queue_notifier(struct virtio_dev *vd, struct virtqueue *vq)
{
    size_t noff = (size_t)common_read16(vd, VIRTIO_COMMON_Q_NOFF) * vp(vd)->notify_mult;
    if (noff + 2 > vp(vd)->notify_len)
        return -EIO;
    vq->notify_reg = vp(vd)->notify + noff;
    vq->notify = pci_notify;
    return 0;
}

static void pci_queue_ready(struct virtio_dev *vd)
{
    common_write16(vd, VIRTIO_COMMON_Q_ENABLE, 1);
}

/* --------------------------------------------------------- interrupts ---- */

/* 4.1.4.5.1: reading the ISR status returns it and clears it, which lowers
 * the INTx line; nonzero means this device raised it (bit 0: a queue,
 * bit 1: configuration). */
static void intx_interrupt(void *arg)
{
    struct virtio_pci *v = arg;
    if (*v->isr && v->handler)
        v->handler(v->handler_arg);
}

static int pci_irq(struct virtio_dev *vd, unsigned entry, irq_handler handler, void *arg,
                   const char *name)
{
    struct pci_dev *pci = vp(vd)->pci;
    if (vp(vd)->intx) {
        if (entry != 0 || vp(vd)->handler)
            return -EINVAL;
        vp(vd)->handler = handler;
        vp(vd)->handler_arg = arg;
        int r = pci_intx_attach(pci, intx_interrupt, vp(vd), name);
        if (r < 0)
            vp(vd)->handler = NULL;
        return r;
    }
    if (!pci->msix_table && pci_msix_enable(pci) < 0)
        return -ENODEV;
    int vector = irq_alloc(handler, arg, name);
    if (vector < 0)
        return -EBUSY;
    int r = pci_msix_route(pci, entry, vector, IRQ_DEVICE_CPU);
    return r < 0 ? r : vector;
}

static int pci_config_irq(struct virtio_dev *vd, unsigned entry)
{
    if (vp(vd)->intx)
        return entry == 0 ? 0 : -EINVAL;   /* always on the one line */
    common_write16(vd, VIRTIO_COMMON_MSIX, (uint16_t)entry);
    if (common_read16(vd, VIRTIO_COMMON_MSIX) != entry)
        return -EIO;
    return 0;
}

/* ---------------------------------------------------------- discovery ---- */

static const struct virtio_transport pci_transport = {
    .read32 = common_read32,
    .write32 = common_write32,
    .reg = {
        .device_feature_select = VIRTIO_COMMON_DFSELECT,
        .device_feature = VIRTIO_COMMON_DF,
        .driver_feature_select = VIRTIO_COMMON_GFSELECT,
        .driver_feature = VIRTIO_COMMON_GF,
        .queue_desc = VIRTIO_COMMON_Q_DESCLO,
        .queue_driver = VIRTIO_COMMON_Q_AVAILLO,
        .queue_device = VIRTIO_COMMON_Q_USEDLO,
    },
    .get_status = pci_get_status,
    .set_status = pci_set_status,
    .config_generation = pci_config_generation,
    .config_window = pci_config_window,
    .queue_max = pci_queue_max,
    .queue_select = pci_queue_select,
    .queue_notifier = pci_queue_notifier,
    .queue_ready = pci_queue_ready,
    .irq = pci_irq,
    .config_irq = pci_config_irq,
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
static bool find_windows(struct virtio_pci *v)
{
    struct pci_dev *pci = v->pci;
    for (unsigned cap = pci_find_cap(pci, PCI_CAP_VENDOR, 0); cap;
         cap = pci_find_cap(pci, PCI_CAP_VENDOR, cap)) {
        uint8_t type = pci_read8(pci, cap + VIRTIO_PCI_CAP_CFG_TYPE);
        uint32_t len;
        volatile uint8_t *w;
        switch (type) {
        case VIRTIO_PCI_CAP_COMMON_CFG:
            if (!v->common && (w = cap_window(pci, cap, &len)) && len >= VIRTIO_COMMON_MIN_LEN)
                v->common = w;
            break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG:
            if (!v->notify && (w = cap_window(pci, cap, &len)) && len >= 2) {
                v->notify = w;
                v->notify_len = len;
                v->notify_mult = pci_read32(pci, cap + VIRTIO_PCI_NOTIFY_MULT);
            }
            break;
        case VIRTIO_PCI_CAP_ISR_CFG:
            if (!v->isr && (w = cap_window(pci, cap, &len)) && len >= 1)
                v->isr = w;
            break;
        case VIRTIO_PCI_CAP_DEVICE_CFG:
            if (!v->devcfg && (w = cap_window(pci, cap, &len))) {
                v->devcfg = w;
                v->devcfg_len = len;
            }
            break;
        default:
            break;
        }
    }
    return v->common && v->notify;
}

static void attach(struct pci_dev *pci)
{
    char name[16];
    unsigned type = pci->device >= VIRTIO_PCI_MODERN_BASE ? pci->device - VIRTIO_PCI_MODERN_BASE
                                                           : pci->subsys_id;
    struct virtio_pci *v = kzalloc(sizeof(*v));
    if (!v)
        return;
    struct virtio_dev *vd = &v->vd;
    v->pci = pci;
    vd->transport = &pci_transport;
    snprintf(vd->where, sizeof(vd->where), "%s", pci_name(pci, name));
    vd->type = type;
    vd->num_irqs = pci->msix_entries;
    if ((!irq_msi_available() || !pci->msix_entries) && pci_intx_irq(pci) >= 0) {
        v->intx = true;
        vd->num_irqs = 1;
    }
    if (!find_windows(v) || (v->intx && !v->isr)) {
        pr_warn("virtio %s: %s with only the legacy (virtio 0.9) interface: not "
                "supported (QEMU: use disable-modern=off)\n",
                vd->where, virtio_type_name(type));
        kfree(v);
        return;
    }
    virtio_probe_fn probe = virtio_driver_for(type);
    if (!probe) {
        pr_info("virtio %s: %s: no driver\n", vd->where, virtio_type_name(type));
        kfree(v);
        return;
    }
    pci_enable(pci);
    vd->num_queues = common_read16(vd, VIRTIO_COMMON_NUMQ);
    pci->claimed = true;
    if (probe(vd) < 0) {
        /* The driver said why; leave the device reset and quiet. */
        virtio_reset(vd);
        pci->claimed = false;
        kfree(v);
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
