/*
 * The frontend side of the xenbus protocol (xen/io/xenbus.h): devices are
 * xenstore directories device/<type>/<id> that the toolstack wrote for
 * this domain; each names its backend ("backend", "backend-id"), and the
 * two ends step through XenbusState* in their "state" nodes.
 *
 * platform_late_init enumerates device/<type>/<id> and calls the probe of
 * the driver for <type> (the table xenbus_drivers[] in xenbus.c) once per
 * device, in thread context, one after the other.
 */
#ifndef PLATFORM_XEN_XENBUS_H
#define PLATFORM_XEN_XENBUS_H

#include <kern/types.h>
#include <xen/io/xenbus.h>      /* enum xenbus_state */

struct xenbus_dev {
    char nodename[64];          /* "device/vif/0" */
    char otherend[96];          /* the backend's path: "/local/domain/0/backend/vif/5/0" */
    uint16_t otherend_id;       /* the backend's domain */
    const char *type;           /* "vif", "vbd" */
    unsigned id;                /* the <id> of nodename */
    void *priv;                 /* the driver's */
};

struct xenbus_driver {
    const char *type;           /* the device/<type> directory it serves */
    int (*probe)(struct xenbus_dev *d);     /* 0 or -errno (logged) */
};

/* Enumerate device/<type>/<id> and probe (platform_late_init, after xs_init). */
void xenbus_probe_all(void);

/* Write our end's state (nodename/state). 0 or -errno. */
int xenbus_switch_state(struct xenbus_dev *d, int state);

/* The backend's current state (otherend/state), or -errno. */
int xenbus_read_otherend_state(struct xenbus_dev *d);

/* Wait until the backend's state is `state` or beyond (or Closing/Closed),
 * bounded by timeout_ns; the state reached goes to *got (may be NULL).
 * 0 when it reached `state` exactly or beyond; -ENODEV when it is Closing
 * or Closed or gone instead; -ETIMEDOUT (with a log line naming the device
 * and the state seen) when the timeout ran out. */
int xenbus_wait_otherend(struct xenbus_dev *d, int state, uint64_t timeout_ns, int *got);

/* Read nodename/<node> or otherend/<node>: xs_read's result. */
int xenbus_read(struct xenbus_dev *d, bool otherend, const char *node, char *buf, size_t len);
int xenbus_read_int(struct xenbus_dev *d, bool otherend, const char *node, long *out);

#endif
