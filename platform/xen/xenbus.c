/*
 * xenbus, frontend side (xenbus.h): the devices the toolstack wrote under
 * this domain's device/<type>/<id>, their drivers, and the state machine
 * both ends step through (XenbusState* in each end's "state" node).
 *
 * Drivers are listed in xenbus_drivers[] below: a static table, since
 * there are two (blkfront, netfront) and a linker section would need the
 * arch's linker script to know about a platform's tables.
 */
#include <kern/errno.h>
#include <kern/kmalloc.h>
#include <kern/printf.h>
#include <kern/printk.h>
#include <kern/string.h>
#include <kern/timer.h>
#include <kern/waitq.h>
#include "xen.h"
#include "xenbus.h"
#include "xenstore.h"

int blkfront_probe(struct xenbus_dev *d);       /* blkfront.c */
int netfront_probe(struct xenbus_dev *d);       /* netfront.c */

static const struct xenbus_driver xenbus_drivers[] = {
    { "vbd", blkfront_probe },
    { "vif", netfront_probe },
};

static const char *const state_names[] = {
    "Unknown", "Initialising", "InitWait", "Initialised", "Connected",
    "Closing", "Closed", "Reconfiguring", "Reconfigured",
};

static const char *state_name(int s)
{
    return s >= 0 && (size_t)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

static int node_path(struct xenbus_dev *d, bool otherend, const char *node, char *buf,
                     size_t len)
{
    int n = snprintf(buf, len, "%s/%s", otherend ? d->otherend : d->nodename, node);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int xenbus_read(struct xenbus_dev *d, bool otherend, const char *node, char *buf, size_t len)
{
    char path[160];
    int err = node_path(d, otherend, node, path, sizeof(path));
    return err ? err : xs_read(0, path, buf, len);
}

int xenbus_read_int(struct xenbus_dev *d, bool otherend, const char *node, long *out)
{
    char path[160];
    int err = node_path(d, otherend, node, path, sizeof(path));
    return err ? err : xs_read_int(0, path, out);
}

int xenbus_switch_state(struct xenbus_dev *d, int state)
{
    char path[160];
    int err = node_path(d, false, "state", path, sizeof(path));
    return err ? err : xs_printf(0, path, "%d", state);
}

int xenbus_read_otherend_state(struct xenbus_dev *d)
{
    long s;
    int err = xenbus_read_int(d, true, "state", &s);
    return err ? err : (int)s;
}

/* A watch on the other end's state node that wakes the waiter. */
struct state_wait {
    struct xs_watch w;
    struct waitq wq;
    bool fired;
};

static void state_changed(struct xs_watch *w, const char *path)
{
    struct state_wait *sw = container_of(w, struct state_wait, w);
    unsigned long flags = spin_lock_irqsave(&sw->wq.lock);
    sw->fired = true;
    spin_unlock_irqrestore(&sw->wq.lock, flags);
    waitq_wake(&sw->wq, -1);
}

int xenbus_wait_otherend(struct xenbus_dev *d, int state, uint64_t timeout_ns, int *got)
{
    char path[160];
    int err = node_path(d, true, "state", path, sizeof(path));
    if (err)
        return err;
    struct state_wait sw = { .w = { .path = path, .fn = state_changed } };
    waitq_init(&sw.wq);
    err = xs_watch_add(&sw.w);
    if (err)
        return err;
    uint64_t deadline = clock_monotonic_ns() + timeout_ns;
    int s = -ENOENT;
    for (;;) {
        s = xenbus_read_otherend_state(d);
        if (s >= state && (state >= XenbusStateClosing || s < XenbusStateClosing)) {
            err = 0;
            break;
        }
        if (s == XenbusStateClosing || s == XenbusStateClosed) {
            pr_err("xenbus: %s: the backend (%s) is %s while we wait for %s\n", d->nodename,
                   d->otherend, state_name(s), state_name(state));
            err = -ENODEV;
            break;
        }
        uint64_t now = clock_monotonic_ns();
        unsigned long flags = spin_lock_irqsave(&sw.wq.lock);
        bool timed_out = false;
        if (!sw.fired)
            timed_out = now >= deadline ||
                        (!waitq_sleep_locked(&sw.wq, &flags, deadline - now) && !sw.fired);
        sw.fired = false;
        spin_unlock_irqrestore(&sw.wq.lock, flags);
        if (timed_out) {
            pr_err("xenbus: %s: the backend (%s) is still %s after %llu ms, waiting for %s\n",
                   d->nodename, d->otherend, s < 0 ? "absent" : state_name(s),
                   (unsigned long long)(timeout_ns / 1000000), state_name(state));
            err = -ETIMEDOUT;
            break;
        }
    }
    xs_watch_del(&sw.w);
    if (got)
        *got = s;
    return err;
}

static void probe_one(const struct xenbus_driver *drv, const char *id)
{
    struct xenbus_dev *d = kzalloc(sizeof(*d));
    if (!d)
        return;
    snprintf(d->nodename, sizeof(d->nodename), "device/%s/%s", drv->type, id);
    d->type = drv->type;
    long v = 0;
    for (const char *p = id; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (*p - '0');
    d->id = (unsigned)v;
    long be_id;
    int err = xenbus_read(d, false, "backend", d->otherend, sizeof(d->otherend));
    if (err >= 0)
        err = xenbus_read_int(d, false, "backend-id", &be_id);
    if (err < 0) {
        pr_err("xenbus: %s: no backend named (%d): skipped\n", d->nodename, err);
        kfree(d);
        return;
    }
    d->otherend_id = (uint16_t)be_id;
    pr_info("xenbus: %s, backend %s (domain %u)\n", d->nodename, d->otherend, d->otherend_id);
    err = drv->probe(d);
    if (err) {
        pr_err("xenbus: %s: the %s driver failed (%d)\n", d->nodename, drv->type, err);
        kfree(d);
    }
}

void xenbus_probe_all(void)
{
    static char types[512], ids[512];
    int nt = xs_directory(0, "device", types, sizeof(types));
    if (nt < 0) {
        if (nt != -ENOENT)
            pr_err("xenbus: cannot list device/ (%d)\n", nt);
        return;
    }
    const char *t = types;
    for (int i = 0; i < nt; t += strlen(t) + 1, i++) {
        const struct xenbus_driver *drv = NULL;
        for (size_t k = 0; k < ARRAY_SIZE(xenbus_drivers); k++)
            if (!strcmp(xenbus_drivers[k].type, t))
                drv = &xenbus_drivers[k];
        if (!drv) {
            pr_info("xenbus: no driver for device/%s\n", t);
            continue;
        }
        char path[64];
        snprintf(path, sizeof(path), "device/%s", t);
        int ni = xs_directory(0, path, ids, sizeof(ids));
        const char *id = ids;
        for (int j = 0; j < ni; id += strlen(id) + 1, j++)
            probe_one(drv, id);
    }
}
