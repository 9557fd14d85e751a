/*
 * The xenstore client (xen/io/xs_wire.h): the shared ring page
 * (HVM_PARAM_STORE_PFN) and its event channel (HVM_PARAM_STORE_EVTCHN).
 *
 * Requests are made from threads and block the caller until xenstored
 * answers; replies are matched to requests by req_id, so several threads
 * may have requests outstanding at once. Watch events are delivered to
 * their callbacks in a kernel thread (never in the interrupt handler), one
 * at a time, in the order xenstored sent them; a callback may make
 * requests itself.
 *
 * Errors are negative errnos (kern/errno.h), translated from xenstored's
 * error names ("ENOENT", "EAGAIN", ...); -EIO when the store is not there.
 */
#ifndef PLATFORM_XEN_XENSTORE_H
#define PLATFORM_XEN_XENSTORE_H

#include <kern/list.h>
#include <kern/types.h>

typedef uint32_t xs_txn_t;      /* 0 = no transaction */

/* Map the ring, bind its event channel, start the watch thread
 * (platform_late_init; threads and interrupts work). 0 or -errno. */
int xs_init(void);

/* Read path's value into buf (NUL-terminated, truncated to len - 1).
 * Returns the value's length (which may exceed len - 1) or -errno. */
int xs_read(xs_txn_t t, const char *path, char *buf, size_t len);
/* Read path as a decimal integer; -EINVAL when it is not one. */
int xs_read_int(xs_txn_t t, const char *path, long *out);
int xs_write(xs_txn_t t, const char *path, const char *value);
int xs_printf(xs_txn_t t, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* path's children as NUL-separated names in buf: their count, or -errno
 * (-E2BIG when they do not fit). */
int xs_directory(xs_txn_t t, const char *path, char *buf, size_t len);
int xs_rm(xs_txn_t t, const char *path);

int xs_txn_start(xs_txn_t *t);
/* Commit (abort false) or abort. -EAGAIN: another writer raced this
 * transaction; start it again from xs_txn_start. */
int xs_txn_end(xs_txn_t t, bool abort);

/* A watch on path (and everything under it): fn runs in the watch thread
 * once after xs_watch_add (xenstored fires every new watch once) and after
 * each change, with the path that changed. */
struct xs_watch {
    const char *path;
    void (*fn)(struct xs_watch *w, const char *path);
    void *arg;                      /* the owner's */
    /* xenstore.c's */
    struct list_head link;
    char token[20];
};
int xs_watch_add(struct xs_watch *w);
/* After it returns, fn is not running and will not run again. */
int xs_watch_del(struct xs_watch *w);

#endif
