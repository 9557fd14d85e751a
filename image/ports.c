/* Port forwarding specifications (ports.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ports.h"

static bool port_number(const char *s, size_t n, int *out)
{
    if (n == 0 || n > 5)
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return false;
    *out = v;
    return true;
}

bool port_parse(const char *s, struct port_fwd *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    size_t len = strlen(s);
    const char *slash = strchr(s, '/');
    if (slash) {
        if (!strcmp(slash, "/udp"))
            out->udp = true;
        else if (strcmp(slash, "/tcp")) {
            snprintf(err, errlen, "'%s': the protocol after '/' must be tcp or udp", s);
            return false;
        }
        len = (size_t)(slash - s);
    }
    const char *colon = memchr(s, ':', len);
    bool ok = colon ? port_number(s, (size_t)(colon - s), &out->host) &&
                      port_number(colon + 1, len - (size_t)(colon - s) - 1, &out->guest)
                    : port_number(s, len, &out->host);
    if (!colon)
        out->guest = out->host;
    if (!ok) {
        snprintf(err, errlen, "'%s' is not HOST:GUEST or PORT (ports 1..65535, e.g. 8080:80 "
                 "or 8080:80/udp)", s);
        return false;
    }
    return true;
}

void port_hostfwd(const struct port_fwd *p, char *out, size_t len)
{
    snprintf(out, len, ",hostfwd=%s::%d-:%d", p->udp ? "udp" : "tcp", p->host, p->guest);
}
