/* The KVM probe's verdict, cached in ~/.cache/tern/kvm-probe so that only
 * the first `tern run` on a machine (or after QEMU, the kernel or the host
 * boot changes) pays for a probe boot. */
#ifndef TERN_PROBE_CACHE_H
#define TERN_PROBE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

/* accel gets "kvm" or "tcg"; why the reason. False when nothing valid is
 * cached for this kernel and QEMU. */
bool probe_cache_get(const char *kernel, const char *qemu, char *accel, size_t alen,
                     char *why, size_t wlen);
void probe_cache_put(const char *kernel, const char *qemu, const char *accel,
                     const char *why);

#endif
