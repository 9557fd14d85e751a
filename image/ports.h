/*
 * Port forwarding for user-mode networking: a manifest's `ports:` list and
 * tern run -p take "HOST:GUEST" (or "PORT" for the same number on both
 * sides), optionally followed by "/tcp" (the default) or "/udp"; QEMU's
 * user network then forwards the host's port (on every host address) to
 * the guest's. Tap and bridge networks need none: the guest has its own
 * address on the host's network.
 */
#ifndef TERN_PORTS_H
#define TERN_PORTS_H

#include <stdbool.h>
#include <stddef.h>

struct port_fwd {
    int host, guest;            /* 1..65535 */
    bool udp;
};

/* Parse s; false with the reason in err. */
bool port_parse(const char *s, struct port_fwd *out, char *err, size_t errlen);

/* ",hostfwd=tcp::HOST-:GUEST", to append to a -netdev user argument. */
void port_hostfwd(const struct port_fwd *p, char *out, size_t len);

#endif
