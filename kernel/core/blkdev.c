/*
 * The list of block devices and the checks every read goes through
 * (kern/blkdev.h), so that drivers only ever see requests inside the
 * device.
 */
#include <kern/blkdev.h>
#include <kern/errno.h>
#include <kern/printf.h>
#include <kern/spinlock.h>

static struct blkdev *devices, **devices_tail = &devices;
static unsigned nr_devices;
static spinlock_t list_lock = SPINLOCK_INIT;

void blkdev_register(struct blkdev *bd)
{
    unsigned long flags = spin_lock_irqsave(&list_lock);
    if (!bd->name[0])
        snprintf(bd->name, sizeof(bd->name), "disk%u", nr_devices);
    nr_devices++;
    bd->next = NULL;
    *devices_tail = bd;
    devices_tail = &bd->next;
    spin_unlock_irqrestore(&list_lock, flags);
}

struct blkdev *blkdev_get(unsigned index)
{
    /* Devices are only added at the tail, complete, and never removed, so
     * a walk without the lock sees whole entries. */
    struct blkdev *bd = __atomic_load_n(&devices, __ATOMIC_ACQUIRE);
    while (bd && index--)
        bd = __atomic_load_n(&bd->next, __ATOMIC_ACQUIRE);
    return bd;
}

int blk_read(struct blkdev *bd, uint64_t sector, void *buf, size_t len)
{
    if (len % BLK_SECTOR_SIZE)
        return -EINVAL;
    if (len == 0)
        return 0;
    uint64_t count = len / BLK_SECTOR_SIZE;
    if (sector > bd->sectors || count > bd->sectors - sector)
        return -EINVAL;
    return bd->ops->read(bd, sector, buf, len);
}
