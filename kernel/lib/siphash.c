/*
 * SipHash-2-4, written from the paper's description (Aumasson and
 * Bernstein, 2012, section 2): four 64-bit words of state initialised from
 * the key and the constant "somepseudorandomlygeneratedbytes"; each 8-byte
 * little-endian word of the message goes in through two SipRounds; the last
 * word carries the leftover bytes and, in its top byte, the message length
 * mod 256; finalisation is four SipRounds after flipping v2's low byte.
 */
#include <kern/siphash.h>

static inline uint64_t rotl64(uint64_t v, unsigned n)
{
    return (v << n) | (v >> (64 - n));
}

struct sip_state {
    uint64_t v0, v1, v2, v3;
};

/* The ARX round of the paper's figure 2.1: two parallel half-rounds. */
static void sip_round(struct sip_state *s)
{
    s->v0 += s->v1;
    s->v2 += s->v3;
    s->v1 = rotl64(s->v1, 13);
    s->v3 = rotl64(s->v3, 16);
    s->v1 ^= s->v0;
    s->v3 ^= s->v2;
    s->v0 = rotl64(s->v0, 32);

    s->v2 += s->v1;
    s->v0 += s->v3;
    s->v1 = rotl64(s->v1, 17);
    s->v3 = rotl64(s->v3, 21);
    s->v1 ^= s->v2;
    s->v3 ^= s->v0;
    s->v2 = rotl64(s->v2, 32);
}

/* Compression: c = 2 rounds per message word. */
static void sip_absorb(struct sip_state *s, uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

/* Byte by byte, so the input needs no alignment and the result does not
 * depend on the machine's byte order. */
static uint64_t load_le64(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

struct siphash_key siphash_key_from_bytes(const uint8_t bytes[SIPHASH_KEY_SIZE])
{
    return (struct siphash_key){ load_le64(bytes, 8), load_le64(bytes + 8, 8) };
}

uint64_t siphash(const struct siphash_key *key, const void *data, size_t len)
{
    const uint8_t *p = data;
    struct sip_state s = {
        .v0 = key->k0 ^ 0x736f6d6570736575ULL,      /* "somepseu" */
        .v1 = key->k1 ^ 0x646f72616e646f6dULL,      /* "dorandom" */
        .v2 = key->k0 ^ 0x6c7967656e657261ULL,      /* "lygenera" */
        .v3 = key->k1 ^ 0x7465646279746573ULL,      /* "tedbytes" */
    };
    size_t whole = len & ~(size_t)7;
    for (size_t i = 0; i < whole; i += 8)
        sip_absorb(&s, load_le64(p + i, 8));
    /* The final word: the 0..7 bytes left, the length mod 256 on top. */
    uint64_t last = load_le64(p + whole, len - whole) | ((uint64_t)(len & 0xff) << 56);
    sip_absorb(&s, last);

    /* Finalisation: d = 4 rounds. */
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
