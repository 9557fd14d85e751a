/*
 * Virtio devices over PCI, modern (1.0+) interface: the constants of the
 * spec that the transport and the drivers share, and the transport calls
 * drivers use. Section numbers are those of the Virtio 1.2 specification
 * (OASIS, 2022); the values are the same in 1.1. Everything in the shared
 * structures is little-endian, as is every CPU Tern runs on, so fields
 * are read and written as they are.
 */
#ifndef PLATFORM_KVM_VIRTIO_H
#define PLATFORM_KVM_VIRTIO_H

#include <kern/irq.h>
#include <kern/types.h>

struct pci_dev;
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

/* A virtio device found on PCI, as the transport hands it to a driver. */
struct virtio_dev {
    struct pci_dev *pci;
    unsigned type;                  /* VIRTIO_ID_* */
    volatile uint8_t *common;       /* 4.1.4.3 */
    volatile uint8_t *notify;       /* 4.1.4.4 */
    uint32_t notify_mult, notify_len;
    volatile uint8_t *isr;          /* 4.1.4.5 (unused with MSI-X) */
    volatile uint8_t *devcfg;       /* 4.1.4.6, device-specific */
    uint32_t devcfg_len;
    uint64_t offered;               /* device feature bits */
    uint64_t features;              /* negotiated */
    unsigned num_queues;
    unsigned msix_entries;          /* MSI-X table size */
};

/* What a driver registers for one device type (virtio_pci.c's table). */
typedef int (*virtio_probe_fn)(struct virtio_dev *vd);

/* Find the virtio devices on PCI and attach the drivers Tern has. */
void virtio_pci_init(void);

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
 * config generation is stable (4.1.4.3.1), so multi-byte fields are
 * consistent. Returns -EINVAL when out of range. */
int virtio_config_read(struct virtio_dev *vd, unsigned off, void *buf, unsigned len);

/* The largest size queue index allows, 0 when it does not exist. */
unsigned virtio_queue_max(struct virtio_dev *vd, unsigned index);

/* Tell the device where vq lives, route its interrupts to MSI-X entry
 * msix_entry (VIRTIO_MSI_NO_VECTOR: none), set vq's notify hook, and
 * enable it. */
int virtio_queue_enable(struct virtio_dev *vd, unsigned index, struct virtqueue *vq,
                        unsigned msix_entry);

/* Allocate a vector for handler(arg) and point MSI-X entry at it (the
 * device's MSI-X is turned on by the first call). Returns the vector. */
int virtio_irq(struct virtio_dev *vd, unsigned entry, irq_handler handler, void *arg,
               const char *name);

/* Send configuration-change interrupts to MSI-X entry. */
int virtio_config_irq(struct virtio_dev *vd, unsigned entry);

/* Drivers (one probe per device type). */
int virtio_net_probe(struct virtio_dev *vd);
int virtio_blk_probe(struct virtio_dev *vd);

#endif
