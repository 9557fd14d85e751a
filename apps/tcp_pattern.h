/*
 * The byte stream of the bulk TCP tests: one definition for the guest app
 * (apps/tcpbulk.c), the host peer (tests/host/tcp_peer.c) and the
 * benchmark's sender and receiver (bench/bulksend.c, bench/sink.c).
 *
 * Byte o of the stream is byte (o % 8) of the little-endian 64-bit word
 * tcp_pattern_word(o / 8). Each word depends only on its index, so any
 * piece of the stream can be generated (or checked) on its own, without
 * the bytes before it: a sender refills a buffer with "the next part",
 * a receiver checks what arrived at the offset where it arrived.
 *
 * tcp_pattern_word is a bijection of the index (an odd multiply, an
 * xorshift, another odd multiply, each invertible), so no two words in the
 * stream are equal: bytes delivered at the wrong place (a reordering bug,
 * a buffer overwritten before the stack was done with it and sent again
 * holding a later part of the stream) cannot match what belongs there.
 */
#ifndef TCP_PATTERN_H
#define TCP_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tcp_pattern.h: the word layout below assumes a little-endian machine"
#endif

static inline uint64_t tcp_pattern_word(uint64_t index)
{
    /* Scatter consecutive indexes over the whole range first, so that the
     * xorshift sees high bits set from word 0 on. */
    uint64_t x = (index + 1) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return x * 0x2545f4914f6cdd1dull;
}

/* Writes stream bytes [off, off + len) to buf. */
static inline void tcp_pattern_fill(unsigned char *buf, uint64_t off, size_t len)
{
    /* A partial first word, then whole words, then a partial last word. */
    while (len && (off & 7)) {
        uint64_t w = tcp_pattern_word(off >> 3);
        *buf++ = (unsigned char)(w >> (8 * (off & 7)));
        off++;
        len--;
    }
    for (uint64_t i = off >> 3; len >= 8; i++, buf += 8, off += 8, len -= 8) {
        uint64_t w = tcp_pattern_word(i);
        memcpy(buf, &w, 8);
    }
    if (len) {
        uint64_t w = tcp_pattern_word(off >> 3);
        memcpy(buf, &w, len);
    }
}

/* Checks buf against stream bytes [off, off + len): returns the index in
 * buf of the first byte that differs, or len when all match. */
static inline size_t tcp_pattern_check(const unsigned char *buf, uint64_t off, size_t len)
{
    unsigned char want[4096];
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < sizeof(want) ? len - done : sizeof(want);
        tcp_pattern_fill(want, off + done, n);
        if (memcmp(buf + done, want, n)) {
            for (size_t i = 0; i < n; i++)
                if (buf[done + i] != want[i])
                    return done + i;
        }
        done += n;
    }
    return len;
}

/* The same against the stream's first `period` bytes repeated (period 0:
 * the stream itself), buf starting at offset off of that repetition: what
 * a sender of the same buffers, or of the same file, over and over sends.
 * Returns the index in buf of the first byte that differs, or len. */
static inline size_t tcp_pattern_check_periodic(const unsigned char *buf, uint64_t off,
                                                size_t len, uint64_t period)
{
    size_t done = 0;
    while (done < len) {
        uint64_t pos = period ? (off + done) % period : off + done;
        size_t n = len - done;
        /* A piece ends where the repetition starts over. */
        if (period && n > period - pos)
            n = (size_t)(period - pos);
        size_t bad = tcp_pattern_check(buf + done, pos, n);
        if (bad < n)
            return done + bad;
        done += n;
    }
    return len;
}

/* The expected byte at stream offset off (for error messages). */
static inline unsigned char tcp_pattern_byte(uint64_t off)
{
    return (unsigned char)(tcp_pattern_word(off >> 3) >> (8 * (off & 7)));
}

#endif
