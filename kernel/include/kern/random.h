/* Random numbers for address-space randomization, AT_RANDOM, getrandom()
 * and the network stack's secrets (ISNs, SYN-cookie keys, ports): a
 * ChaCha20 stream whose key is hashed together (SHA-256) from every seed
 * the machine offers: the CPU's RDRAND/RNDR through arch_entropy(), a
 * boot loader's seed (the device tree's /chosen/rng-seed), a virtio-rng
 * device. Only as good as those seeds: with none of them the key comes
 * from the cycle counter alone, and the boot log says so (docs/random.md). */
#ifndef KERN_RANDOM_H
#define KERN_RANDOM_H

#include <kern/types.h>

void random_bytes(void *buf, size_t n);
uint64_t random_u64(void);

/* Hash n bytes into the key: what comes out afterwards depends on them and
 * on everything before. Credits nothing (for input of unknown quality). */
void random_add_entropy(const void *buf, size_t n);

/* The same for n bytes of real entropy from source ("virtio-rng",
 * "device tree rng-seed"), counted for random_report. */
void random_add_seed(const char *source, const void *buf, size_t n);

/* Say once where the key came from ("random: seeded from ..."), a warning
 * when only the cycle counter: called at boot once the devices are up. */
void random_report(void);

#ifdef TERN_HOST_TEST
/* Unit tests: forget the key and the counts, as at boot. */
void random_reset_for_test(void);
#endif

#endif
