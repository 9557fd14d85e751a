/*
 * A few generated files that Linux programs read for facts about the
 * system: the network counters (/proc/net/snmp, /proc/net/dev), memory
 * (/proc/meminfo) and the CPUs online (/sys/devices/system/cpu/online,
 * which glibc's sysconf(_SC_NPROCESSORS_ONLN) reads). The text is made
 * when the file is opened; reads see that snapshot, as on Linux for
 * files smaller than a page.
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/kmalloc.h>
#include <kern/net.h>
#include <kern/page_alloc.h>
#include <kern/percpu.h>
#include <kern/printf.h>
#include <kern/string.h>
#include "proc_files.h"

#define TEXT_MAX 8192

struct text {
    size_t len;
    char data[];
};

static size_t make_meminfo(char *buf, size_t size)
{
    struct page_stats ps;
    page_alloc_stats(&ps);
    int n = snprintf(buf, size, "MemTotal:       %8llu kB\nMemFree:        %8llu kB\n"
                     "MemAvailable:   %8llu kB\n",
                     (unsigned long long)ps.total_pages * 4, (unsigned long long)ps.free_pages * 4,
                     (unsigned long long)ps.free_pages * 4);
    return n < 0 ? 0 : MIN((size_t)n, size);
}

static size_t make_cpu_online(char *buf, size_t size)
{
    unsigned last = 0;
    for (unsigned i = 0; i < nr_cpus; i++)
        if (cpus[i].online)
            last = i;
    int n = last ? snprintf(buf, size, "0-%u\n", last) : snprintf(buf, size, "0\n");
    return n < 0 ? 0 : MIN((size_t)n, size);
}

static const struct {
    const char *path;
    size_t (*make)(char *buf, size_t size);
} files[] = {
    { "/proc/net/snmp", net_format_snmp },
    { "/proc/net/netstat", net_format_netstat },
    { "/proc/net/dev", net_format_dev },
    { "/proc/meminfo", make_meminfo },
    { "/sys/devices/system/cpu/online", make_cpu_online },
};

static int64_t text_pread(struct kfile *f, void *buf, size_t n, uint64_t off)
{
    const struct text *t = f->priv;
    if (off >= t->len)
        return 0;
    n = MIN(n, t->len - off);
    memcpy(buf, t->data + off, n);
    return (int64_t)n;
}

static int64_t text_read(struct kfile *f, void *buf, size_t n, uint64_t *pos)
{
    int64_t r = text_pread(f, buf, n, *pos);
    if (r > 0)
        *pos += (uint64_t)r;
    return r;
}

static int64_t text_lseek(struct kfile *f, int64_t off, int whence)
{
    const struct text *t = f->priv;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)f->pos
                 : whence == SEEK_END ? (int64_t)t->len : -1;
    if (base < 0 || base + off < 0)
        return -EINVAL;
    f->pos = (uint64_t)(base + off);
    return (int64_t)f->pos;
}

static int text_stat(struct kfile *f, struct kstat *st)
{
    memset(st, 0, sizeof(*st));
    st->mode = S_IFREG | 0444;
    st->nlink = 1;
    st->ino = 0x1000 + (uint64_t)(uintptr_t)f->priv % 4096;
    st->size = 0;                       /* as Linux's /proc files */
    return 0;
}

static void text_release(struct kfile *f)
{
    kfree(f->priv);
}

static const struct kfile_ops text_ops = {
    .kind = "proc",
    .read = text_read,
    .pread = text_pread,
    .lseek = text_lseek,
    .stat = text_stat,
    .release = text_release,
};

int proc_open(const char *path, int flags, struct kfile **out)
{
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        if (strcmp(path, files[i].path))
            continue;
        if ((flags & O_ACCMODE) != O_RDONLY)
            return -EACCES;
        struct text *t = kmalloc(sizeof(*t) + TEXT_MAX);
        if (!t)
            return -ENOMEM;
        t->len = files[i].make(t->data, TEXT_MAX);
        *out = kfile_alloc(&text_ops, t, O_RDONLY);
        if (!*out) {
            kfree(t);
            return -ENOMEM;
        }
        return 0;
    }
    return -ENOENT;
}
