/* Random numbers for address-space randomization, AT_RANDOM and
 * getrandom(): a ChaCha20 stream keyed from arch_entropy() at boot and
 * stirred with fresh entropy now and then. Not a cryptographic service
 * beyond what the seed gives (under TCG without RDRAND: the cycle counter). */
#ifndef KERN_RANDOM_H
#define KERN_RANDOM_H

#include <kern/types.h>

void random_bytes(void *buf, size_t n);
uint64_t random_u64(void);

#endif
