/*
 * The app's I/O vectors (struct sock_iov) as the send paths read them:
 * their total length, and a cursor that copies bytes out piece by piece.
 */
#include <kern/socket.h>
#include <kern/string.h>
#include "net_internal.h"

size_t sock_iov_total(const struct sock_iov *iov, int iovcnt)
{
    size_t n = 0;
    for (int i = 0; i < iovcnt; i++)
        n += iov[i].len;
    return n;
}

void sock_iov_gather(const struct sock_iov *iov, int *vi, size_t *voff, void *dst, size_t n)
{
    size_t k = 0;
    while (k < n) {
        size_t m = MIN(n - k, iov[*vi].len - *voff);
        memcpy((uint8_t *)dst + k, (const uint8_t *)iov[*vi].base + *voff, m);
        k += m;
        *voff += m;
        if (*voff == iov[*vi].len) {
            (*vi)++;
            *voff = 0;
        }
    }
}
