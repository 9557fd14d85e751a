/*
 * Block devices: disks the kernel reads in 512-byte sectors. Today the
 * only user is the VFS, which reads the root file system's image from the
 * first registered disk when no boot module brought it (kernel/fs/vfs.c).
 *
 * Drivers: drivers/virtio/virtio_blk.c (virtio-blk), platform/xen/blkfront.c
 * (a Xen PV disk).
 */
#ifndef KERN_BLKDEV_H
#define KERN_BLKDEV_H

#include <kern/types.h>

#define BLK_SECTOR_SIZE  512u     /* the unit of sector numbers and lengths */
#define BLKDEV_NAME_MAX  16

struct blkdev;

struct blkdev_ops {
    /* Read len bytes (a nonzero multiple of BLK_SECTOR_SIZE, inside the
     * device; blk_read has checked) from sector into buf, kernel memory.
     * Blocks the calling thread until the data is there. 0 or -errno. */
    int (*read)(struct blkdev *bd, uint64_t sector, void *buf, size_t len);
};

struct blkdev {
    char name[BLKDEV_NAME_MAX];     /* "virtio-blk0" */
    uint64_t sectors;               /* capacity in BLK_SECTOR_SIZE units */
    uint32_t block_size;            /* the device's preferred unit (a hint) */
    bool read_only;
    const struct blkdev_ops *ops;
    void *priv;                     /* the driver's */
    struct blkdev *next;            /* registry order */
};

/* Add a device that is ready for reads. The first one registered is the
 * root disk candidate. */
void blkdev_register(struct blkdev *bd);

/* The index-th registered device (0 first), or NULL. */
struct blkdev *blkdev_get(unsigned index);

/* Read len bytes starting at sector into buf (kernel memory, any
 * alignment; the caller's thread sleeps until the data is there). len
 * must be a multiple of BLK_SECTOR_SIZE. Returns 0, -EINVAL for a bad
 * length or a range past the end of the device, -EIO when the device
 * failed the request, or -ETIME when it stopped answering: then it may
 * still write into buf later, so buf must never be reused. */
int blk_read(struct blkdev *bd, uint64_t sector, void *buf, size_t len);

#endif
