/* The Internet checksum (RFC 1071): a ones' complement sum of 16-bit
 * big-endian words, folded. inet_sum accumulates (odd lengths are padded
 * with a zero byte), inet_fold finishes. */
#include <kern/net.h>

uint32_t inet_sum(const void *data, size_t len, uint32_t sum)
{
    const uint8_t *p = data;
    uint64_t s = sum;
    while (len >= 2) {
        s += (uint32_t)(p[0] << 8 | p[1]);
        p += 2;
        len -= 2;
    }
    if (len)
        s += (uint32_t)p[0] << 8;
    while (s >> 32)
        s = (s & 0xffffffff) + (s >> 32);
    return (uint32_t)s;
}

uint16_t inet_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t fold16(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return s;
}

uint32_t netbuf_sum(const struct netbuf *nb, uint32_t off, uint32_t sum)
{
    uint64_t s = sum;
    bool odd = false;
    if (off < nb->len) {
        s += inet_sum(nb->data + off, nb->len - off, 0);
        odd = (nb->len - off) & 1;
        off = 0;
    } else {
        off -= nb->len;
    }
    for (unsigned i = 0; i < nb->nfrags; i++) {
        uint32_t len = nb->frags[i].len;
        if (off >= len) {
            off -= len;
            continue;
        }
        uint32_t n = len - off;
        uint32_t p = fold16(inet_sum((const uint8_t *)nb->frags[i].data + off, n, 0));
        off = 0;
        /* A piece that starts at an odd offset of the whole has its bytes
         * in the other halves of the 16-bit words: swap its sum. */
        if (odd)
            p = ((p & 0xff) << 8) | (p >> 8);
        s += p;
        odd ^= n & 1;
    }
    while (s >> 32)
        s = (s & 0xffffffff) + (s >> 32);
    return (uint32_t)s;
}
