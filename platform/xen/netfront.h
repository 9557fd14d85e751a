/* Xen netfront (netfront.c): the xenbus driver for device/vif/N. */
#ifndef PLATFORM_XEN_NETFRONT_H
#define PLATFORM_XEN_NETFRONT_H

struct xenbus_dev;

/* Connect to the vif's backend and register it as a netdev; a negative
 * errno (with a log line saying why) leaves the device unused. */
int netfront_probe(struct xenbus_dev *dev);

#endif
