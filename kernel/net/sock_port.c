/*
 * Ephemeral ports for TCP and UDP sockets (net_internal.h): the next free
 * port of a protocol's range, by the protocol's own idea of "in use".
 */
#include <kern/socket.h>
#include "net_internal.h"

bool sock_autobind(struct sock *s, struct port_range *r,
                   bool (*taken)(struct sock *s, uint16_t port))
{
    for (int n = 0; n <= r->last - r->first; n++) {
        uint16_t port = htons(r->next);
        r->next = r->next == r->last ? r->first : r->next + 1;
        if (!taken(s, port)) {
            s->local.port = port;
            s->bound = true;
            return true;
        }
    }
    return false;
}
