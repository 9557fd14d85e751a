/* Packet buffers (kern/netbuf.h). */
#include <kern/kmalloc.h>
#include <kern/netbuf.h>
#include <kern/string.h>

struct netbuf *netbuf_alloc(size_t len)
{
    struct netbuf *nb = kmalloc(sizeof(*nb));
    if (!nb)
        return NULL;
    memset(nb, 0, sizeof(*nb));
    nb->size = (uint32_t)(NETBUF_HEADROOM + len);
    nb->buf = kmalloc(nb->size);
    if (!nb->buf) {
        kfree(nb);
        return NULL;
    }
    nb->data = nb->buf + NETBUF_HEADROOM;
    return nb;
}

void netbuf_free(struct netbuf *nb)
{
    if (!nb)
        return;
    if (nb->release)
        nb->release(nb);
    kfree(nb->buf);
    kfree(nb);
}

void *netbuf_put(struct netbuf *nb, size_t n)
{
    if (nb->nfrags || (size_t)(nb->buf + nb->size - (nb->data + nb->len)) < n)
        return NULL;
    void *p = nb->data + nb->len;
    nb->len += (uint32_t)n;
    return p;
}

void *netbuf_push(struct netbuf *nb, size_t n)
{
    if ((size_t)(nb->data - nb->buf) < n)
        return NULL;
    nb->data -= n;
    nb->len += (uint32_t)n;
    /* Offload offsets count from the frame's start, which just moved. */
    if (nb->flags & NETBUF_CSUM_PARTIAL)
        nb->csum_start += (uint16_t)n;
    if (nb->gso_type)
        nb->hdr_len += (uint16_t)n;
    return nb->data;
}

void *netbuf_pull(struct netbuf *nb, size_t n)
{
    if (nb->len < n)
        return NULL;
    nb->data += n;
    nb->len -= (uint32_t)n;
    return nb->data;
}

bool netbuf_add_frag(struct netbuf *nb, const void *data, uint32_t len)
{
    if (nb->nfrags == NETBUF_MAX_FRAGS)
        return false;
    nb->frags[nb->nfrags].data = data;
    nb->frags[nb->nfrags].len = len;
    nb->frags[nb->nfrags].owner = NULL;
    nb->nfrags++;
    return true;
}

uint32_t netbuf_total(const struct netbuf *nb)
{
    uint32_t n = nb->len;
    for (unsigned i = 0; i < nb->nfrags; i++)
        n += nb->frags[i].len;
    return n;
}

void netbuf_copy_out(const struct netbuf *nb, uint32_t off, void *dst, uint32_t n)
{
    uint8_t *d = dst;
    if (off < nb->len) {
        uint32_t k = MIN(n, nb->len - off);
        memcpy(d, nb->data + off, k);
        d += k;
        n -= k;
        off = 0;
    } else {
        off -= nb->len;
    }
    for (unsigned i = 0; i < nb->nfrags && n; i++) {
        if (off >= nb->frags[i].len) {
            off -= nb->frags[i].len;
            continue;
        }
        uint32_t k = MIN(n, nb->frags[i].len - off);
        memcpy(d, (const uint8_t *)nb->frags[i].data + off, k);
        d += k;
        n -= k;
        off = 0;
    }
}

void netbuf_complete(struct netbuf *nb)
{
    if (nb->done)
        nb->done(nb);
    else
        netbuf_free(nb);
}
