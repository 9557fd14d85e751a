/* arm64 is 64-bit only (its 32-bit compat table is not Tern's concern):
 * what <asm-generic/unistd.h> checks to pick the 64-bit calls (mmap, not
 * mmap2; fcntl, not fcntl64). Read by scripts/gen-syscalls.sh only. */
#define __BITS_PER_LONG 64
#include <asm-generic/bitsperlong.h>
