/*
 * The cache key names everything the verdict depends on, and nothing else:
 *   - the kernel's bytes (SHA-256), not its path or mtime: every tern build
 *     copies the kernel into a new image directory, and a verdict about the
 *     same bytes holds for every copy;
 *   - the QEMU binary (found on PATH; its real path, size, mtime and inode:
 *     an upgrade replaces the file);
 *   - the host's boot (/proc/sys/kernel/random/boot_id: a reboot may load
 *     another KVM module or change its parameters);
 *   - the KVM device (present or not, and its device number and mode).
 * Verdicts are kept one line each, the most recent PROBE_CACHE_MAX only,
 * so the file stays small however many kernels are built. It is rewritten
 * whole through a temporary file and rename(), so a crash or a concurrent
 * tern never leaves it half-written. A cache that cannot be read or
 * written is simply not used.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kern/sha256.h>

#include "probe_cache.h"
#include "util.h"

/* The kernel file's SHA-256 in hex (a few MiB: milliseconds). */
static bool file_digest(const char *path, char hex[2 * SHA256_DIGEST_SIZE + 1])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct sha256_ctx c;
    sha256_init(&c);
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        sha256_update(&c, buf, (size_t)n);
    close(fd);
    if (n < 0)
        return false;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_final(&c, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        sprintf(hex + 2 * i, "%02x", d[i]);
    return true;
}

static bool make_key(const char *kernel, const char *qemu, const char *kvm_dev, char *key,
                     size_t len)
{
    struct stat qs, ds;
    char qpath[4096], qreal[4096], boot_id[64] = "", digest[2 * SHA256_DIGEST_SIZE + 1];
    if (!file_digest(kernel, digest) || !find_on_path(qemu, qpath, sizeof(qpath)) ||
        !realpath(qpath, qreal) || stat(qreal, &qs) != 0)
        return false;
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f) {
        if (!fgets(boot_id, sizeof(boot_id), f))
            boot_id[0] = 0;
        boot_id[strcspn(boot_id, "\n")] = 0;
        fclose(f);
    }
    char dev[128];
    if (stat(kvm_dev, &ds) == 0)
        snprintf(dev, sizeof(dev), "%s:%llx:%o", kvm_dev, (unsigned long long)ds.st_rdev,
                 (unsigned)ds.st_mode);
    else
        snprintf(dev, sizeof(dev), "%s:absent", kvm_dev);
    int n = snprintf(key, len, "kernel:%s|qemu:%s:%lld:%lld:%llu|boot:%s|dev:%s", digest,
                     qreal, (long long)qs.st_size, (long long)qs.st_mtime,
                     (unsigned long long)qs.st_ino, boot_id, dev);
    return n > 0 && (size_t)n < len && !strchr(key, '\t') && !strchr(key, '\n');
}

static bool cache_path(char *out, size_t len, bool create_dir)
{
    const char *home = getenv("HOME");
    const char *xdg = getenv("XDG_CACHE_HOME");
    char dir[4096];
    if (xdg && *xdg)
        snprintf(dir, sizeof(dir), "%s/tern", xdg);
    else if (home && *home)
        snprintf(dir, sizeof(dir), "%s/.cache/tern", home);
    else
        return false;
    if (create_dir) {
        char parent[4096];
        snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(dir, '/') - dir), dir);
        mkdir(parent, 0755);
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return false;
    }
    int n = snprintf(out, len, "%s/kvm-probe", dir);
    return n > 0 && (size_t)n < len;
}

bool probe_cache_get(const char *kernel, const char *qemu, const char *kvm_dev, char *accel,
                     size_t alen, char *why, size_t wlen)
{
    char key[9000], path[4200], line[10000];
    if (!make_key(kernel, qemu, kvm_dev, key, sizeof(key)) || !cache_path(path, sizeof(path), false))
        return false;
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool found = false;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = 0;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2)
            continue;
        *t1 = *t2 = 0;
        if (strcmp(line, key) != 0)
            continue;
        if (strcmp(t1 + 1, "kvm") != 0 && strcmp(t1 + 1, "tcg") != 0)
            continue;
        snprintf(accel, alen, "%s", t1 + 1);
        snprintf(why, wlen, "%s (cached in %s)", t2 + 1, path);
        found = true;
    }
    fclose(f);
    return found;
}

void probe_cache_put(const char *kernel, const char *qemu, const char *kvm_dev,
                     const char *accel, const char *why)
{
    char key[9000], path[4200], tmp[4300], line[10000];
    if (!make_key(kernel, qemu, kvm_dev, key, sizeof(key)) ||
        !cache_path(path, sizeof(path), true))
        return;
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    FILE *out = fopen(tmp, "w");
    if (!out)
        return;
    /* Keep the most recent other verdicts (a ring of the last MAX-1 lines
     * read), drop this key's old one and any line that is not a verdict. */
    enum { KEEP = PROBE_CACHE_MAX - 1 };
    FILE *in = fopen(path, "r");
    char *keep[KEEP] = { 0 };
    int nkeep = 0;
    size_t klen = strlen(key);
    while (in && fgets(line, sizeof(line), in)) {
        if (!strchr(line, '\n') || !strchr(line, '\t'))
            continue;
        if (strncmp(line, key, klen) == 0 && line[klen] == '\t')
            continue;
        free(keep[nkeep % KEEP]);
        keep[nkeep % KEEP] = strdup(line);
        nkeep++;
    }
    if (in)
        fclose(in);
    for (int i = nkeep > KEEP ? nkeep - KEEP : 0; i < nkeep; i++) {
        if (keep[i % KEEP])
            fputs(keep[i % KEEP], out);
        free(keep[i % KEEP]);
        keep[i % KEEP] = NULL;
    }
    fprintf(out, "%s\t%s\t%s\n", key, accel, why);
    if (fclose(out) != 0 || rename(tmp, path) != 0)
        unlink(tmp);
}
