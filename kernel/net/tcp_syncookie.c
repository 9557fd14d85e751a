/*
 * SYN cookies (RFC 4987 section 3.6, after D. J. Bernstein): when the
 * listener's queue of embryonic connections is full, a SYN is answered
 * without keeping anything, and the SYN-ACK's ISS carries what the
 * connection needs later. The ACK that completes the handshake returns it
 * (ack - 1); if it checks, the connection is built from the ACK alone.
 *
 * The 32 bits of a cookie, high to low:
 *   2 bits   the time slot (64 s each) mod 4: which slot to check against
 *   3 bits   the MSS class: an index into mss_classes
 *   27 bits  SipHash-2-4, under a key drawn at first use, of the four-tuple,
 *            the peer's ISN, the whole slot number and the MSS class
 *
 * A cookie is accepted in its own slot and the next, so it lives 64 to
 * 128 s (longer than the peer's SYN-ACK retries, shorter than Linux's 2
 * minutes). The slot bits only say which slot to try: a cookie 4 slots old
 * carries the current slot's bits but was hashed under another slot number,
 * so it fails like any forgery. The hash covers the MSS class too, so an
 * attacker cannot raise a connection's MSS by editing those bits. Without
 * the key a blind attacker's ACK passes with chance 2^-27 per try (two
 * slots tried: at most 2^-26).
 *
 * The hash covers the peer's ISN rather than being added to it (Linux adds
 * it): so cookies for the same tuple and nearby ISNs have no arithmetic
 * relation an observer of one could use to predict another.
 */
#include <kern/random.h>
#include <kern/siphash.h>
#include <kern/string.h>

#include "tcp.h"

#define COOKIE_SLOT_MS   64000u
#define COOKIE_SLOT_BITS 2
#define COOKIE_MSS_BITS  3
#define COOKIE_HASH_BITS (32 - COOKIE_SLOT_BITS - COOKIE_MSS_BITS)
#define COOKIE_HASH_MASK ((1u << COOKIE_HASH_BITS) - 1)
#define COOKIE_SLOT_MASK ((1u << COOKIE_SLOT_BITS) - 1)
#define COOKIE_MSS_MASK  ((1u << COOKIE_MSS_BITS) - 1)
/* The current slot and the one before it. */
#define COOKIE_SLOTS_VALID 2u

/* Ascending. The common Ethernet values (1460; 1440 for PPPoE and
 * timestamps; 1300 and 1220 behind tunnels and IPv6 gateways), RFC 9293's
 * default 536, jumbo frames and the loopback's 65535-byte MTU. 64 is the
 * least MSS the stack accepts in a SYN, so every peer has a class not
 * above what it announced. */
static const uint16_t mss_classes[1u << COOKIE_MSS_BITS] = {
    64, 536, 1220, 1300, 1440, 1460, 8960, 65495,
};

static struct siphash_key cookie_key;
static bool cookie_keyed;

/* Drawn at the first cookie, not at build or link time, so every boot has
 * its own; the random generator is seeded long before a SYN can arrive. */
static const struct siphash_key *key(void)
{
    if (!cookie_keyed) {
        cookie_key.k0 = random_u64();
        cookie_key.k1 = random_u64();
        cookie_keyed = true;
    }
    return &cookie_key;
}

static unsigned mss_class(uint16_t mss)
{
    unsigned i = ARRAY_SIZE(mss_classes) - 1;
    while (i > 0 && mss_classes[i] > mss)
        i--;
    return i;
}

static uint32_t cookie_hash(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
                            uint32_t peer_isn, uint32_t slot, unsigned mss_idx)
{
    /* Fixed positions, so no two different inputs give the same bytes. */
    uint8_t in[21];
    memcpy(in + 0, &saddr, 4);
    memcpy(in + 4, &daddr, 4);
    memcpy(in + 8, &sport, 2);
    memcpy(in + 10, &dport, 2);
    memcpy(in + 12, &peer_isn, 4);
    memcpy(in + 16, &slot, 4);
    in[20] = (uint8_t)mss_idx;
    return (uint32_t)siphash(key(), in, sizeof(in)) & COOKIE_HASH_MASK;
}

static uint32_t slot_of(uint64_t now_ms)
{
    return (uint32_t)(now_ms / COOKIE_SLOT_MS);
}

static uint32_t cookie_build(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
                             uint32_t peer_isn, uint32_t slot, unsigned mss_idx)
{
    return (slot & COOKIE_SLOT_MASK) << (32 - COOKIE_SLOT_BITS) |
           (uint32_t)mss_idx << COOKIE_HASH_BITS |
           cookie_hash(saddr, daddr, sport, dport, peer_isn, slot, mss_idx);
}

uint32_t tcp_cookie_make(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
                         uint32_t peer_isn, uint16_t mss, uint64_t now_ms)
{
    return cookie_build(saddr, daddr, sport, dport, peer_isn, slot_of(now_ms), mss_class(mss));
}

bool tcp_cookie_check(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
                      uint32_t seq, uint32_t ack, uint64_t now_ms, uint16_t *mss)
{
    uint32_t cookie = ack - 1, peer_isn = seq - 1;
    uint32_t now_slot = slot_of(now_ms);
    /* How many slots ago the cookie was made, as far as its 2 bits tell. */
    uint32_t age = (now_slot - (cookie >> (32 - COOKIE_SLOT_BITS))) & COOKIE_SLOT_MASK;
    if (age >= COOKIE_SLOTS_VALID)
        return false;
    unsigned mss_idx = (cookie >> COOKIE_HASH_BITS) & COOKIE_MSS_MASK;
    if (cookie != cookie_build(saddr, daddr, sport, dport, peer_isn, now_slot - age, mss_idx))
        return false;
    *mss = mss_classes[mss_idx];
    return true;
}

/*
 * The options a cookie has no room for. When the SYN had timestamps, the
 * peer echoes our TSval in every ACK's TSecr, so the SYN-ACK's TSval can
 * carry them in its low bits, as Linux does:
 *   bits 0..3  the peer's window shift (0..14), 15 when it offered none
 *   bit 4      the peer offered SACK
 * The rest is our clock. The low bits are set by stepping the clock back
 * (at most 31 ms), never forward, so TSvals never run ahead of time and the
 * first RTT sample is at most 31 ms long. Without timestamps a cookie
 * connection has neither window scaling nor SACK.
 */
#define TS_WSCALE_MASK 0x0fu
#define TS_WSCALE_NONE 0x0fu
#define TS_SACK_BIT    0x10u
#define TS_OPT_MASK    0x1fu

uint32_t tcp_cookie_tsval(uint32_t now_ts, bool ws_ok, uint8_t snd_wscale, bool sack_ok)
{
    uint32_t opts = ws_ok ? MIN(snd_wscale, (uint8_t)14) : TS_WSCALE_NONE;
    if (sack_ok)
        opts |= TS_SACK_BIT;
    uint32_t ts = (now_ts & ~TS_OPT_MASK) | opts;
    if ((int32_t)(ts - now_ts) > 0)
        ts -= TS_OPT_MASK + 1;
    return ts;
}

void tcp_cookie_ts_options(uint32_t tsecr, bool *ws_ok, uint8_t *snd_wscale, bool *sack_ok)
{
    uint32_t ws = tsecr & TS_WSCALE_MASK;
    *ws_ok = ws != TS_WSCALE_NONE;
    *snd_wscale = *ws_ok ? (uint8_t)ws : 0;
    *sack_ok = (tsecr & TS_SACK_BIT) != 0;
}
