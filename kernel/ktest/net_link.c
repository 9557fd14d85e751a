/* ktest=net_link: the link going down and up again (QEMU's monitor:
 * set_link net0 off, then on), seen through configuration-change
 * interrupts. */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/byteorder.h>
#include <kern/ktest.h>
#include <kern/kva.h>
#include <kern/net.h>
#include <kern/netdev.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/thread.h>
#include <kern/timer.h>

#define MS 1000000ULL

static int fails;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            pr_info("net_link: FAIL: " __VA_ARGS__);                           \
            fails++;                                                           \
        }                                                                      \
    } while (0)

static volatile uint32_t link_changes;

static void on_link(struct netdev *dev, void *arg)
{
    __atomic_fetch_add(&link_changes, 1, __ATOMIC_RELAXED);
}

static bool wait_link(struct netdev *dev, bool up, uint64_t timeout_ns)
{
    uint64_t deadline = clock_monotonic_ns() + timeout_ns;
    while (dev->link_up != up) {
        if (clock_monotonic_ns() >= deadline)
            return false;
        thread_sleep_ns(5 * MS);
    }
    return true;
}

KTEST(net_link, "follow the link status through config-change interrupts")
{
    struct netdev *dev = netdev_next(NULL);
    if (!dev) {
        pr_info("net_link: FAIL: no network device\n");
        return 1;
    }
    netdev_set_hooks(dev, NULL, NULL, on_link, NULL);
    fails = 0;
    CHECK(wait_link(dev, true, 2000 * MS), "%s: the link is down at boot\n", dev->name);
    uint64_t irqs0 = dev->stats.interrupts;
    pr_info("net_link: %s link up; waiting for it to go down\n", dev->name);
    bool down = wait_link(dev, false, 60000 * MS);
    CHECK(down, "the link did not go down within 60 s\n");
    if (down) {
        pr_info("net_link: %s link down; waiting for it to come back\n", dev->name);
        CHECK(wait_link(dev, true, 60000 * MS), "the link did not come back within 60 s\n");
    }
    CHECK(link_changes >= 2, "%u link-change hooks ran\n", link_changes);
    pr_info("net_link: link down and up again: %u changes, %llu interrupts\n", link_changes,
            (unsigned long long)(dev->stats.interrupts - irqs0));
    netdev_set_hooks(dev, NULL, NULL, NULL, NULL);
    pr_info("net_link: %s\n", fails ? "FAILED" : "passed");
    return fails ? 1 : 0;
}
