/*
 * Virtio devices, modern (1.0+) interface, whatever the transport: the
 * constants of the spec that the transports and the drivers share, the
 * calls drivers use, and what a transport implements. Section numbers are
 * those of the Virtio 1.2 specification (OASIS, 2022); the values are the
 * same in 1.1. Everything in the shared
 * structures is little-endian, as is every CPU Tern runs on, so fields
 * are read and written as they are.
 */
#ifndef DRIVERS_VIRTIO_H
#define DRIVERS_VIRTIO_H

#include <kern/irq.h>
#include <kern/types.h>

struct virtqueue;

/* 2.1 Device Status Field. */
#define VIRTIO_STATUS_ACKNOWLEDGE        1
#define VIRTIO_STATUS_DRIVER             2
#define VIRTIO_STATUS_DRIVER_OK          4
#define VIRTIO_STATUS_FEATURES_OK        8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED             128

/* 6 Reserved Feature Bits (bit numbers). */
#define VIRTIO_F_INDIRECT_DESC   28
#define VIRTIO_F_EVENT_IDX       29
#define VIRTIO_F_VERSION_1       32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED     34
#define VIRTIO_F_IN_ORDER        35

#define VIRTIO_BIT(n) (1ULL << (n))

/* 5 Device Types: the ones named in messages. */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_ENTROPY 4
#define VIRTIO_ID_BALLOON 5
#define VIRTIO_ID_SCSI    8
#define VIRTIO_ID_9P      9
#define VIRTIO_ID_VSOCK   19
#define VIRTIO_ID_FS      26

/* "No interrupt" for virtio_queue_enable: the driver polls that queue. */
#define VIRTIO_NO_IRQ 0xffff

struct virtio_transport;

/* A virtio device as its transport (virtio_pci.c, virtio_mmio.c)
 * hands it to a driver. Drivers see only this and the calls below, never
 * the bus the device sits on. */
struct virtio_dev {
    const struct virtio_transport *transport;
    char where[24];                 /* where it sits, for messages ("00:03.0") */
    unsigned type;                  /* VIRTIO_ID_* */
    uint64_t offered;               /* device feature bits */
    uint64_t features;              /* negotiated */
    unsigned num_queues;
    /* Separate interrupts the transport can raise (the MSI-X table size on
     * PCI); 0 when it has none a driver can use. */
    unsigned num_irqs;
};

/* What a driver registers for one device type (virtio.c's table). */
typedef int (*virtio_probe_fn)(struct virtio_dev *vd);

/* The driver for a device type, NULL when Tern has none. */
virtio_probe_fn virtio_driver_for(unsigned type);

/* "virtio-net" etc., for messages. */
const char *virtio_type_name(unsigned type);

/* 3.1.1 Driver Requirements: Device Initialization, in order:
 * virtio_begin resets the device, sets ACKNOWLEDGE | DRIVER and reads the
 * offered features into vd->offered; virtio_negotiate accepts wanted &
 * offered (-ENODEV without VERSION_1, -EIO when the device refuses) and
 * checks FEATURES_OK; queues and interrupts are set up; virtio_driver_ok
 * lets the device run. virtio_fail marks it FAILED, for errors on the way. */
void virtio_begin(struct virtio_dev *vd);
int virtio_negotiate(struct virtio_dev *vd, uint64_t wanted);
void virtio_driver_ok(struct virtio_dev *vd);
void virtio_fail(struct virtio_dev *vd);
uint8_t virtio_status(struct virtio_dev *vd);

static inline bool virtio_has(const struct virtio_dev *vd, unsigned bit)
{
    return (vd->features & VIRTIO_BIT(bit)) != 0;
}

/* Read len bytes of device config at off, retried until the device's
 * config generation is stable (2.5.1), so multi-byte fields are
 * consistent. Returns -EINVAL when out of range. */
int virtio_config_read(struct virtio_dev *vd, unsigned off, void *buf, unsigned len);

/* The largest size queue index allows, 0 when it does not exist. */
unsigned virtio_queue_max(struct virtio_dev *vd, unsigned index);

/* Tell the device where vq lives, send its interrupts to interrupt irq
 * (0 .. num_irqs-1, set up by virtio_irq; VIRTIO_NO_IRQ: none), set vq's
 * notify hook, and enable it. */
int virtio_queue_enable(struct virtio_dev *vd, unsigned index, struct virtqueue *vq,
                        unsigned irq);

/* Run handler(arg) on the device's interrupt number entry (0 ..
 * num_irqs-1; on PCI an MSI-X table entry, whose MSI-X is turned on by the
 * first call). Returns the vector (>= 0) or an error. */
int virtio_irq(struct virtio_dev *vd, unsigned entry, irq_handler handler, void *arg,
               const char *name);

/* Send configuration-change interrupts to interrupt entry. */
int virtio_config_irq(struct virtio_dev *vd, unsigned entry);

/* Reset the device (status 0), e.g. after its driver failed. */
void virtio_reset(struct virtio_dev *vd);

/* Drivers (one probe per device type). */
int virtio_net_probe(struct virtio_dev *vd);
int virtio_blk_probe(struct virtio_dev *vd);
int virtio_console_probe(struct virtio_dev *vd);
int virtio_rng_probe(struct virtio_dev *vd);

/* ----------------------------------------------------- transports ---- */

/* What a transport implements; virtio.c drives the generic steps through
 * it. Both transports have one block of registers (PCI: the common
 * configuration structure, 4.1.4.3; MMIO: the device's registers, 4.2.2)
 * that holds the 64-bit feature words, a 32-bit half at a time behind a
 * select register, and the queues' 64-bit ring addresses as two 32-bit
 * halves, low first: read32/write32 reach it, reg names the offsets, and
 * virtio.c does the rest. config_window is where the device configuration
 * is mapped (NULL when it has none); queue_select selects a queue and
 * gives it its size and interrupt (checking what the transport must);
 * queue_notifier sets vq->notify and vq->notify_reg; queue_ready enables
 * the selected queue. */
struct virtio_transport {
    uint32_t (*read32)(struct virtio_dev *vd, unsigned off);
    void (*write32)(struct virtio_dev *vd, unsigned off, uint32_t v);
    struct {
        unsigned device_feature_select, device_feature;
        unsigned driver_feature_select, driver_feature;
        unsigned queue_desc, queue_driver, queue_device;    /* the low halves */
    } reg;
    uint8_t (*get_status)(struct virtio_dev *vd);
    void (*set_status)(struct virtio_dev *vd, uint8_t status);
    uint8_t (*config_generation)(struct virtio_dev *vd);
    volatile uint8_t *(*config_window)(struct virtio_dev *vd, uint32_t *len);
    unsigned (*queue_max)(struct virtio_dev *vd, unsigned index);
    int (*queue_select)(struct virtio_dev *vd, unsigned index, uint16_t size, unsigned irq);
    int (*queue_notifier)(struct virtio_dev *vd, struct virtqueue *vq);
    void (*queue_ready)(struct virtio_dev *vd);
    int (*irq)(struct virtio_dev *vd, unsigned entry, irq_handler handler, void *arg,
               const char *name);
    int (*config_irq)(struct virtio_dev *vd, unsigned entry);
};

/* Find the virtio devices on PCI and attach the drivers Tern has. */
void virtio_pci_init(void);

/* A virtio-mmio slot at [base, base+size) wired to interrupt irq (a fixed
 * number for irq_register; edge or level as the machine says): attach the
 * driver if a device is there. 0 for an empty slot or a device without a
 * driver; an error, after saying why, for one that cannot be used. The
 * platform calls it for each slot its machine description lists. */
int virtio_mmio_probe(paddr_t base, uint64_t size, unsigned irq, bool edge);

#endif
