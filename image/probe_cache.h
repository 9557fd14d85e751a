/* The KVM probe's verdict, cached in ~/.cache/tern/kvm-probe so that only
 * the first `tern run` of a kernel on a machine pays for a probe boot: not
 * every rebuild or copy of the same kernel, but again after QEMU, the
 * kernel's bytes, the host's boot or its KVM device change. */
#ifndef TERN_PROBE_CACHE_H
#define TERN_PROBE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

/* At most this many verdicts are kept (the most recent ones). */
#define PROBE_CACHE_MAX 16

/* kvm_dev is the KVM device the verdict was reached with (/dev/kvm).
 * accel gets "kvm" or "tcg"; why the reason. False when nothing valid is
 * cached for this kernel, QEMU and host. */
bool probe_cache_get(const char *kernel, const char *qemu, const char *kvm_dev, char *accel,
                     size_t alen, char *why, size_t wlen);
void probe_cache_put(const char *kernel, const char *qemu, const char *kvm_dev,
                     const char *accel, const char *why);

#endif
