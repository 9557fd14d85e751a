/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012), kernel/lib/siphash.c: a keyed 64-bit hash for short inputs whose
 * outputs an attacker who does not know the key cannot predict or steer.
 * The stack uses it where the input comes from the network and a guess
 * must not pay off (SYN cookies).
 *
 * Plain C on general-purpose registers, so it builds for the kernel and
 * for the host tests alike.
 */
#ifndef KERN_SIPHASH_H
#define KERN_SIPHASH_H

#include <kern/types.h>

#define SIPHASH_KEY_SIZE 16

/* The 128-bit key as the paper reads it: two little-endian 64-bit words
 * k0 (bytes 0..7) and k1 (bytes 8..15). */
struct siphash_key {
    uint64_t k0, k1;
};

/* The key from 16 bytes, in the paper's byte order. */
struct siphash_key siphash_key_from_bytes(const uint8_t bytes[SIPHASH_KEY_SIZE]);

/* SipHash-2-4 of len bytes at data. */
uint64_t siphash(const struct siphash_key *key, const void *data, size_t len);

#endif
