/*
 * The list of network devices and the driver-independent half of their
 * interface (kern/netdev.h): hooks, statistics, waiting for ring room.
 */
#include <kern/kmalloc.h>
#include <kern/netdev.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/spinlock.h>
#include <kern/string.h>

static struct netdev *devices, **devices_tail = &devices;
static unsigned nr_devices;
static spinlock_t list_lock = SPINLOCK_INIT;

void netdev_register(struct netdev *dev)
{
    waitq_init(&dev->tx_wait);
    unsigned long flags = spin_lock_irqsave(&list_lock);
    if (!dev->name[0])
        snprintf(dev->name, sizeof(dev->name), "net%u", nr_devices);
    nr_devices++;
    dev->next = NULL;
    *devices_tail = dev;
    devices_tail = &dev->next;
    spin_unlock_irqrestore(&list_lock, flags);
}

struct netdev *netdev_next(struct netdev *prev)
{
    /* Devices are only ever added at the tail, after being set up, so
     * walking without the lock sees complete entries. */
    return __atomic_load_n(prev ? &prev->next : &devices, __ATOMIC_ACQUIRE);
}

struct netdev *netdev_find(const char *name)
{
    for (struct netdev *d = netdev_next(NULL); d; d = netdev_next(d))
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

void netdev_set_hooks(struct netdev *dev, netdev_rx_fn rx, netdev_event_fn tx_room,
                      netdev_event_fn link_change, void *arg)
{
    /* Never freed: the device thread may be using the old set right now,
     * and there is no cheap way to know when it stopped. */
    struct netdev_hooks *h = NULL;
    if (rx || tx_room || link_change) {
        h = kmalloc(sizeof(*h));
        if (!h) {
            pr_err("%s: no memory for new hooks; the old ones stay\n", dev->name);
            return;
        }
        h->rx = rx;
        h->tx_room = tx_room;
        h->link_change = link_change;
        h->arg = arg;
    }
    __atomic_store_n(&dev->hooks, h, __ATOMIC_RELEASE);
}

static const struct netdev_hooks *hooks(const struct netdev *dev)
{
    return __atomic_load_n(&dev->hooks, __ATOMIC_ACQUIRE);
}

void netdev_input(struct netdev *dev, const void *frame, size_t len,
                  const struct netdev_rx_meta *meta)
{
    const struct netdev_hooks *h = hooks(dev);
    if (!h || !h->rx) {
        netdev_stat_add(&dev->stats.rx_dropped, 1);
        return;
    }
    netdev_stat_add(&dev->stats.rx_packets, 1);
    netdev_stat_add(&dev->stats.rx_bytes, len);
    h->rx(dev, frame, len, meta, h->arg);
}

void netdev_tx_room(struct netdev *dev)
{
    /* The sequence number moves under the queue's lock, so a waiter that
     * checked it under the same lock cannot miss this wakeup. */
    unsigned long flags = spin_lock_irqsave(&dev->tx_wait.lock);
    __atomic_fetch_add(&dev->tx_room_seq, 1, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&dev->tx_wait.lock, flags);
    waitq_wake(&dev->tx_wait, -1);
    const struct netdev_hooks *h = hooks(dev);
    if (h && h->tx_room)
        h->tx_room(dev, h->arg);
}

bool netdev_wait_tx_room(struct netdev *dev, uint32_t seq, uint64_t timeout_ns)
{
    unsigned long flags = spin_lock_irqsave(&dev->tx_wait.lock);
    bool ok = true;
    while (ok && __atomic_load_n(&dev->tx_room_seq, __ATOMIC_ACQUIRE) == seq)
        ok = waitq_sleep_locked(&dev->tx_wait, &flags, timeout_ns);
    spin_unlock_irqrestore(&dev->tx_wait.lock, flags);
    return ok;
}

void netdev_set_link(struct netdev *dev, bool up)
{
    if (dev->link_up == up)
        return;
    dev->link_up = up;
    pr_info("%s: link %s\n", dev->name, up ? "up" : "down");
    const struct netdev_hooks *h = hooks(dev);
    if (h && h->link_change)
        h->link_change(dev, h->arg);
}

void netdev_get_stats(const struct netdev *dev, struct netdev_stats *out)
{
    const uint64_t *in = (const uint64_t *)&dev->stats;
    uint64_t *o = (uint64_t *)out;
    for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
        o[i] = __atomic_load_n(&in[i], __ATOMIC_RELAXED);
}

void netdev_print_stats(const struct netdev *dev)
{
    struct netdev_stats s;
    netdev_get_stats(dev, &s);
    pr_info("%s: rx %llu packets %llu bytes, %llu dropped, %llu errors; "
            "tx %llu packets %llu bytes, %llu completed, %llu busy, %llu errors; "
            "%llu interrupts, %llu stall kicks\n", dev->name,
            (unsigned long long)s.rx_packets, (unsigned long long)s.rx_bytes,
            (unsigned long long)s.rx_dropped, (unsigned long long)s.rx_errors,
            (unsigned long long)s.tx_packets, (unsigned long long)s.tx_bytes,
            (unsigned long long)s.tx_completed, (unsigned long long)s.tx_busy,
            (unsigned long long)s.tx_errors, (unsigned long long)s.interrupts,
            (unsigned long long)s.stall_kicks);
}
