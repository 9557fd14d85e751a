/*
 * The cache key names everything the verdict depends on: the kernel file
 * (path, size, mtime), the QEMU binary (found on PATH; size, mtime) and the
 * host's boot (a reboot may change what KVM can do). One line per key; the
 * file is rewritten whole through a temporary file and rename, so a crash
 * never leaves it half-written. A cache that cannot be read or written is
 * simply not used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe_cache.h"

static bool find_on_path(const char *prog, char *out, size_t len)
{
    if (strchr(prog, '/')) {
        snprintf(out, len, "%s", prog);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(out, len, "%.*s/%s", (int)n, path, prog);
        if (access(out, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

static bool make_key(const char *kernel, const char *qemu, char *key, size_t len)
{
    struct stat ks, qs;
    char qpath[4096], boot_id[64] = "";
    if (stat(kernel, &ks) != 0 || !find_on_path(qemu, qpath, sizeof(qpath)) ||
        stat(qpath, &qs) != 0)
        return false;
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f) {
        if (!fgets(boot_id, sizeof(boot_id), f))
            boot_id[0] = 0;
        boot_id[strcspn(boot_id, "\n")] = 0;
        fclose(f);
    }
    char kabs[4096];
    if (!realpath(kernel, kabs))
        snprintf(kabs, sizeof(kabs), "%s", kernel);
    int n = snprintf(key, len, "%s:%lld:%lld|%s:%lld:%lld|%s", kabs, (long long)ks.st_size,
                     (long long)ks.st_mtime, qpath, (long long)qs.st_size,
                     (long long)qs.st_mtime, boot_id);
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

bool probe_cache_get(const char *kernel, const char *qemu, char *accel, size_t alen,
                     char *why, size_t wlen)
{
    char key[9000], path[4200], line[10000];
    if (!make_key(kernel, qemu, key, sizeof(key)) || !cache_path(path, sizeof(path), false))
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

void probe_cache_put(const char *kernel, const char *qemu, const char *accel,
                     const char *why)
{
    char key[9000], path[4200], tmp[4300], line[10000];
    if (!make_key(kernel, qemu, key, sizeof(key)) || !cache_path(path, sizeof(path), true))
        return;
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    FILE *out = fopen(tmp, "w");
    if (!out)
        return;
    /* Keep other kernels' verdicts (the last 50), drop this key's old one. */
    FILE *in = fopen(path, "r");
    char *keep[50] = { 0 };
    int nkeep = 0;
    size_t klen = strlen(key);
    while (in && fgets(line, sizeof(line), in)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == '\t')
            continue;
        free(keep[nkeep % 50]);
        keep[nkeep % 50] = strdup(line);
        nkeep++;
    }
    if (in)
        fclose(in);
    for (int i = nkeep > 50 ? nkeep - 50 : 0; i < nkeep; i++) {
        if (keep[i % 50])
            fputs(keep[i % 50], out);
        free(keep[i % 50]);
        keep[i % 50] = NULL;
    }
    fprintf(out, "%s\t%s\t%s\n", key, accel, why);
    if (fclose(out) != 0 || rename(tmp, path) != 0)
        unlink(tmp);
}
