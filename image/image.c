/*
 * tern build: manifest -> image directory (see image.h for its contents).
 *
 * Everything is written into a fresh temporary directory beside the target
 * and swapped into place only when complete, so a failure (or Ctrl-C) never
 * leaves a partial image and never touches a previous one.
 *
 * Reproducible: file order, owners (always 0:0) and mtimes are fixed by the
 * inputs. With SOURCE_DATE_EPOCH set, every mtime is clamped to it, so the
 * image no longer depends on when the files were checked out. The only
 * absolute paths in the output are in domain.xml, which libvirt needs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "image.h"
#include "libvirt.h"
#include "machine.h"
#include "rofs_write.h"
#include "uboot.h"
#include "util.h"
#include "xen.h"

/* The files an image directory may hold; a directory with anything else in
 * it is not replaced (it is not ours). The logs are what runs leave there
 * (stdout.log and stderr.log: the app's output under libvirt on aarch64). The kernel is named by the machine
 * table (machine.c): kernel.elf (PVH ELF) or kernel.img (arm64 Image). */
static const char *const image_files[] = {
    "kernel.elf", "kernel.img", "rofs.img", "domain.xml", "qemu.args", "xl.cfg",
    "console.log", "stdout.log", "stderr.log", UBOOT_DISK,
};
/* What making boot.img (uboot.c) stages in the temporary directory, and
 * removes when done: removed too when the build is interrupted. */
static const char *const staging_files[] = {
    UBOOT_STAGING_FILES, "bootfs/tern.itb", "bootfs/boot.scr", "bootfs",
};

/* --------------------------------------------------- temporary directory -- */

static bool replaceable(const char *dir);

static char tmp_dir[PATH_MAX];

/* Remove the (flat) temporary directory. Async-signal-safe: it also runs
 * from the signal handler. */
static void remove_tmp(void)
{
    if (!tmp_dir[0])
        return;
    char p[PATH_MAX + 32];
    for (size_t i = 0; i < sizeof(image_files) / sizeof(image_files[0]); i++) {
        size_t n = strlen(tmp_dir);
        memcpy(p, tmp_dir, n);
        p[n] = '/';
        memcpy(p + n + 1, image_files[i], strlen(image_files[i]) + 1);
        unlink(p);
    }
    for (size_t i = 0; i < sizeof(staging_files) / sizeof(staging_files[0]); i++) {
        size_t n = strlen(tmp_dir);
        memcpy(p, tmp_dir, n);
        p[n] = '/';
        memcpy(p + n + 1, staging_files[i], strlen(staging_files[i]) + 1);
        if (unlink(p) != 0)
            rmdir(p);
    }
    rmdir(tmp_dir);
    tmp_dir[0] = 0;
}

static void on_build_signal(int sig)
{
    remove_tmp();
    signal(sig, SIG_DFL);
    raise(sig);
}

/*
 * A build killed outright (SIGKILL, a power cut) cannot clean up: its
 * temporary directory .BASE.tmp-PID-XXXXXX stays. The next build of the
 * same target removes those whose builder is gone (no process PID), and
 * only when they hold nothing but image files.
 */
static void remove_stale(const char *parent, const char *base)
{
    DIR *d = opendir(parent);
    if (!d)
        return;
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof(prefix), ".%s.tmp-", base);
    size_t plen = strlen(prefix);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, prefix, plen) != 0)
            continue;
        char *end;
        long pid = strtol(de->d_name + plen, &end, 10);
        if (end == de->d_name + plen || *end != '-' || pid <= 0 ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(tmp_dir, sizeof(tmp_dir), "%s/%s", parent, de->d_name);
        if (replaceable(tmp_dir)) {
            remove_tmp();
            msg("removed %s/%s, left by an earlier build that was killed (pid %ld)", parent,
                de->d_name, pid);
        }
        tmp_dir[0] = 0;
    }
    closedir(d);
}

/* ------------------------------------------------------------ the kernel -- */

/*
 * The kernel for the manifest's machine: --kernel, else $TERN_KERNEL, else
 * the build tree the tool itself came from (out/host/tern ->
 * out/ARCH-PLATFORM-O2/kernel.elf), preferring -O2 like a default
 * ./configure.
 */
static char *find_kernel(const char *given, const struct machine *mach)
{
    if (given)
        return xstrdup(given);
    const char *env = getenv("TERN_KERNEL");
    if (env && *env)
        return xstrdup(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            /* Installed (make install): PREFIX/bin/tern beside
             * PREFIX/lib/tern/ARCH-PLATFORM/KERNEL. */
            char inst[PATH_MAX + 64], real[PATH_MAX];
            snprintf(inst, sizeof(inst), "%s/../lib/tern/%s-%s/%s", exe, mach->arch,
                     mach->platform, mach->kernel_file);
            if (access(inst, R_OK) == 0)
                return xstrdup(realpath(inst, real) ? real : inst);
            static const char *const opts[] = { "-O2", "-Os", "-O1", "-O0" };
            for (size_t i = 0; i < 4; i++) {
                char p[PATH_MAX + 64];
                snprintf(p, sizeof(p), "%s/../%s-%s%s/%s", exe, mach->arch,
                         mach->platform, opts[i], mach->kernel_file);
                char real[PATH_MAX];
                if (access(p, R_OK) == 0)
                    return xstrdup(realpath(p, real) ? real : p);
            }
        }
    }
    if (mach->not_ready)
        fprintf(stderr, "tern: error: no kernel for %s/%s: there is no out/%s-%s-O*/%s "
                "beside this tern, and %s; name one with --kernel FILE or "
                "TERN_KERNEL=FILE\n", mach->arch, mach->platform, mach->arch,
                mach->platform, mach->kernel_file, mach->not_ready);
    else
        fprintf(stderr, "tern: error: no kernel for %s/%s: build one (make kernel), or name "
                "it with --kernel FILE or TERN_KERNEL=FILE\n", mach->arch, mach->platform);
    return NULL;
}

/* ---------------------------------------------------------- output files -- */

static bool write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static int create_out(const char *name)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/%s", tmp_dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fprintf(stderr, "tern: error: %s: %s\n", p, strerror(errno));
    return fd;
}

/* Write and flush one output file. */
static bool finish_out(int fd, const char *name)
{
    if (fsync(fd) != 0 || close(fd) != 0) {
        fprintf(stderr, "tern: error: writing %s/%s: %s\n", tmp_dir, name, strerror(errno));
        return false;
    }
    return true;
}

static bool write_text(const char *name, const char *text)
{
    int fd = create_out(name);
    if (fd < 0)
        return false;
    if (!write_all(fd, text, strlen(text))) {
        fprintf(stderr, "tern: error: writing %s/%s: %s\n", tmp_dir, name, strerror(errno));
        close(fd);
        return false;
    }
    return finish_out(fd, name);
}

static bool copy_kernel(const char *src, const char *name)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        fprintf(stderr, "tern: error: kernel '%s': %s\n", src, strerror(errno));
        return false;
    }
    int out = create_out(name);
    if (out < 0) {
        close(in);
        return false;
    }
    /* Data ranges only (SEEK_DATA/SEEK_HOLE): holes stay holes. A file
     * system without them reports all of the file as data. */
    char buf[65536];
    ssize_t n = 0;
    bool ok = true;
    struct stat st;
    off_t size = fstat(in, &st) == 0 ? st.st_size : 0, pos = 0;
    while (ok && pos < size) {
        off_t data = lseek(in, pos, SEEK_DATA);
        if (data < 0)
            break;                          /* ENXIO: only a hole is left */
        off_t hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0 || lseek(in, data, SEEK_SET) < 0 || lseek(out, data, SEEK_SET) < 0) {
            n = -1;
            break;
        }
        for (pos = data; ok && pos < hole; pos += n) {
            size_t want = hole - pos < (off_t)sizeof(buf) ? (size_t)(hole - pos) : sizeof(buf);
            if ((n = read(in, buf, want)) <= 0)
                break;
            ok = write_all(out, buf, (size_t)n);
        }
        if (n <= 0)
            break;
        pos = hole;
    }
    if (ok && n >= 0 && ftruncate(out, size) != 0)
        n = -1;
    if (n < 0 || !ok) {
        fprintf(stderr, "tern: error: copying kernel '%s': %s\n", src, strerror(errno));
        close(in);
        close(out);
        return false;
    }
    close(in);
    return finish_out(out, name);
}

/* -------------------------------------------------------- the file tree --- */

enum ent_type { E_DIR, E_FILE, E_LINK };

struct ent {
    char *guest;
    enum ent_type type;
    char *host;                 /* file: where the bytes come from; all: for messages */
    char *target;               /* symlink target */
    struct rofs_meta meta;
    size_t entry;               /* index into manifest files[] */
};

struct tree {
    const struct manifest *m;
    struct ent *v;
    size_t n, cap;
    bool have_sde;
    int64_t sde;
    int errors;
};

static struct rofs_meta meta_of(const struct tree *t, const struct stat *st)
{
    struct rofs_meta meta = { .mode = st->st_mode & 07777, .uid = 0, .gid = 0,
                              .mtime = st->st_mtim.tv_sec };
    if (t->have_sde && meta.mtime > t->sde)
        meta.mtime = t->sde;
    return meta;
}

static void add_ent(struct tree *t, const char *guest, enum ent_type type, const char *host,
                    const char *target, const struct stat *st, size_t entry)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = realloc(t->v, t->cap * sizeof(*t->v));
        if (!t->v)
            die("out of memory");
    }
    struct ent *e = &t->v[t->n++];
    e->guest = xstrdup(guest);
    e->type = type;
    e->host = xstrdup(host);
    e->target = target ? xstrdup(target) : NULL;
    e->meta = meta_of(t, st);
    e->entry = entry;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a);
    char *s = xmalloc(la + strlen(b) + 2);
    sprintf(s, "%s%s%s", a, (la && a[la - 1] == '/') ? "" : "/", b);
    return s;
}

/* Copy a host directory's contents: symbolic links stay links, modes are
 * kept, anything that is not a file, directory or link is an error. */
static void walk_dir(struct tree *t, const char *host, const char *guest, size_t entry,
                     int depth)
{
    const struct manifest_file *f = &t->m->files[entry];
    if (depth > 256) {
        manifest_error(t->m, f->value_pos, "files.%s: '%s' is nested too deeply", f->guest,
                       host);
        t->errors++;
        return;
    }
    DIR *d = opendir(host);
    if (!d) {
        manifest_error(t->m, f->value_pos, "files.%s: cannot read directory '%s': %s",
                       f->guest, host, strerror(errno));
        t->errors++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = realloc(names, cap * sizeof(*names));
            if (!names)
                die("out of memory");
        }
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    /* Sorted, so errors come in a stable order. */
    qsort(names, n, sizeof(*names), cmp_name);
    for (size_t i = 0; i < n; i++) {
        char *hp = join(host, names[i]);
        char *gp = join(guest, names[i]);
        struct stat st;
        if (lstat(hp, &st) != 0) {
            manifest_error(t->m, f->value_pos, "files.%s: '%s': %s", f->guest, hp,
                           strerror(errno));
            t->errors++;
        } else if (S_ISDIR(st.st_mode)) {
            add_ent(t, gp, E_DIR, hp, NULL, &st, entry);
            walk_dir(t, hp, gp, entry, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            if (access(hp, R_OK) != 0) {
                manifest_error(t->m, f->value_pos, "files.%s: '%s' cannot be read: %s",
                               f->guest, hp, strerror(errno));
                t->errors++;
            } else {
                add_ent(t, gp, E_FILE, hp, NULL, &st, entry);
            }
        } else if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t len = readlink(hp, target, sizeof(target) - 1);
            if (len < 0) {
                manifest_error(t->m, f->value_pos, "files.%s: '%s': %s", f->guest, hp,
                               strerror(errno));
                t->errors++;
            } else {
                target[len] = 0;
                add_ent(t, gp, E_LINK, hp, target, &st, entry);
            }
        } else {
            manifest_error(t->m, f->value_pos, "files.%s: '%s' is a %s; only files, "
                           "directories and symbolic links can be packed", f->guest, hp,
                           S_ISFIFO(st.st_mode) ? "FIFO" : S_ISSOCK(st.st_mode) ? "socket" :
                           "device node");
            t->errors++;
        }
        free(hp);
        free(gp);
        free(names[i]);
    }
    free(names);
}

static int cmp_ent(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    int r = strcmp(x->guest, y->guest);
    return r ? r : (x->entry > y->entry) - (x->entry < y->entry);
}

static int cmp_key_ent(const void *key, const void *e)
{
    return strcmp(key, ((const struct ent *)e)->guest);
}

static const struct ent *find_ent(const struct tree *t, const char *guest)
{
    return bsearch(guest, t->v, t->n, sizeof(*t->v), cmp_key_ent);
}

static const char *type_name(enum ent_type type)
{
    return type == E_DIR ? "a directory" : type == E_FILE ? "a file" : "a symbolic link";
}

/* Expand the manifest's files into one sorted list and check that it is a
 * tree: one entry per path, and every parent a directory. */
static void expand(struct tree *t)
{
    const struct manifest *m = t->m;
    for (size_t i = 0; i < m->nfiles; i++) {
        const struct manifest_file *f = &m->files[i];
        struct stat st;
        if (stat(f->host_path, &st) != 0) {       /* checked by the parser; may race */
            manifest_error(m, f->value_pos, "files.%s: '%s': %s", f->guest, f->host,
                           strerror(errno));
            t->errors++;
            continue;
        }
        if (f->host_is_dir) {
            add_ent(t, f->guest, E_DIR, f->host_path, NULL, &st, i);
            walk_dir(t, f->host_path, f->guest, i, 0);
        } else {
            add_ent(t, f->guest, E_FILE, f->host_path, NULL, &st, i);
        }
    }
    qsort(t->v, t->n, sizeof(*t->v), cmp_ent);

    size_t o = 0;
    for (size_t i = 0; i < t->n; i++) {
        struct ent *e = &t->v[i];
        if (o && !strcmp(t->v[o - 1].guest, e->guest)) {
            struct ent *first = &t->v[o - 1];
            /* Two directories for one path merge (a tree and a subtree). */
            if (first->type == E_DIR && e->type == E_DIR) {
                free(e->guest), free(e->host), free(e->target);
                continue;
            }
            const struct manifest_file *fa = &m->files[first->entry], *fb = &m->files[e->entry];
            manifest_error(m, fb->pos, "files: duplicate guest path '%s': %s from '%s' "
                           "(line %d) and %s from '%s' (line %d)", e->guest,
                           type_name(first->type), first->host, fa->pos.line,
                           type_name(e->type), e->host, fb->pos.line);
            t->errors++;
            free(e->guest), free(e->host), free(e->target);
            continue;
        }
        t->v[o++] = *e;
    }
    t->n = o;

    for (size_t i = 0; i < t->n; i++) {
        const struct ent *e = &t->v[i];
        char *p = xstrdup(e->guest);
        for (char *s = strrchr(p, '/'); s && s != p; s = strrchr(p, '/')) {
            *s = 0;
            const struct ent *parent = find_ent(t, p);
            if (parent && parent->type != E_DIR) {
                const struct manifest_file *fe = &m->files[e->entry];
                manifest_error(m, fe->pos, "files: '%s' (from '%s') needs '%s' to be a "
                               "directory, but it is %s from '%s' (line %d)", e->guest,
                               e->host, p, type_name(parent->type), parent->host,
                               m->files[parent->entry].pos.line);
                t->errors++;
                break;
            }
        }
        free(p);
    }
}

static void free_tree(struct tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].guest);
        free(t->v[i].host);
        free(t->v[i].target);
    }
    free(t->v);
}

/* /.tern/manifest: what the kernel needs besides the command line. One
 * "key value" per line (docs/manifest.md). */
static char *tern_settings(const struct manifest *m)
{
    char *s;
    size_t len;
    FILE *f = open_memstream(&s, &len);
    if (!f)
        die("out of memory");
    fprintf(f, "# Tern image settings, written by tern build (docs/manifest.md)\n");
    fprintf(f, "tern-manifest 1\n");
    fprintf(f, "name %s\n", m->name);
    fprintf(f, "disk %s\n", m->disk == DISK_INITRD ? "initrd" : "virtio-blk");
    for (size_t i = 0; i < m->nenv; i++)
        fprintf(f, "env %s=%s\n", m->env[i].key, m->env[i].value);
    static const char *const modes[] = { "none", "user", "tap", "bridge" };
    fprintf(f, "net.mode %s\n", modes[m->net.mode]);
    if (m->net.mode != NET_NONE) {
        char mac[18], ip[16];
        format_mac(m->net.mac, mac);
        fprintf(f, "net.mac %s\n", mac);
        if (m->net.dhcp) {
            fprintf(f, "net.ip dhcp\n");
        } else {
            format_ipv4(m->net.ip, ip);
            fprintf(f, "net.ip %s/%d\n", ip, m->net.prefix);
            if (m->net.has_gateway) {
                format_ipv4(m->net.gateway, ip);
                fprintf(f, "net.gateway %s\n", ip);
            }
        }
    }
    fclose(f);
    return s;
}

/* ----------------------------------------------------------------- ROFS --- */

struct progress {
    bool tty;
    bool shown;
    uint64_t last_ns;
    int last_quarter;
};

static void on_progress(uint64_t done, uint64_t total, void *arg)
{
    struct progress *p = arg;
    /* Small images are written in a blink; say nothing. (The writer's
     * total counts its work, reading files twice, not the image size, so
     * only the percentage is shown.) */
    if (total < (16u << 20))
        return;
    if (p->tty) {
        uint64_t now = now_ns();
        if (done < total && now - p->last_ns < 100000000u)
            return;
        p->last_ns = now;
        fprintf(stderr, "\rtern: writing rofs.img: %3d%%", (int)(done * 100 / total));
        if (done >= total)
            fputc('\n', stderr);
        p->shown = true;
    } else {
        int q = (int)(done * 4 / total);
        if (q > p->last_quarter) {
            p->last_quarter = q;
            fprintf(stderr, "tern: writing rofs.img: %d%%\n", q * 25);
        }
    }
}

static bool write_rofs(const struct manifest *m, const struct tree *t,
                       const struct rofs_meta *gen, uint64_t *bytes)
{
    struct rofs_builder *b = rofs_builder_new();
    char e[512];
    if (!b)
        die("out of memory");
    rofs_builder_set_defaults(b, gen);
    bool ok = true;
    for (size_t i = 0; ok && i < t->n; i++) {
        const struct ent *x = &t->v[i];
        int r = x->type == E_DIR ? rofs_add_dir(b, x->guest, &x->meta, e, sizeof(e)) :
                x->type == E_FILE ? rofs_add_file(b, x->guest, x->host, &x->meta, e, sizeof(e)) :
                rofs_add_symlink(b, x->guest, x->target, &x->meta, e, sizeof(e));
        if (r != 0) {
            manifest_error(m, m->files[x->entry].pos, "files: %s", e);
            ok = false;
        }
    }
    char *settings = tern_settings(m);
    struct rofs_meta fmeta = *gen;
    fmeta.mode = 0644;
    if (ok && (rofs_add_dir(b, "/.tern", gen, e, sizeof(e)) != 0 ||
               rofs_add_file_data(b, "/.tern/manifest", settings, strlen(settings), &fmeta,
                                  e, sizeof(e)) != 0)) {
        fprintf(stderr, "tern: error: rofs.img: %s\n", e);
        ok = false;
    }
    free(settings);
    int fd = ok ? create_out("rofs.img") : -1;
    if (fd < 0)
        ok = false;
    if (ok) {
        struct progress pr = { .tty = isatty(2), .last_quarter = 0 };
        if (rofs_builder_write(b, fd, on_progress, &pr, e, sizeof(e)) != 0) {
            if (pr.shown)
                fputc('\n', stderr);
            fprintf(stderr, "tern: error: rofs.img: %s\n", e);
            close(fd);
            ok = false;
        } else {
            struct stat st;
            *bytes = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
            ok = finish_out(fd, "rofs.img");
        }
    }
    rofs_builder_free(b);
    return ok;
}

/* ------------------------------------------------------------ qemu.args --- */

static char *qemu_args_text(const struct manifest *m, const struct machine *mach,
                            const char *accel)
{
    struct argv_buf a = { 0 };
    machine_qemu_argv(mach, &a, NULL, accel, m->memory_mib, m->cpus, true);
    if (m->boot == BOOT_UBOOT) {
        /* The kernel, the ROFS and the command line are in boot.img's FIT. */
        uboot_qemu_args(mach, &a);
    } else if (m->disk == DISK_INITRD) {
        argv_add(&a, "-kernel");
        argv_add(&a, mach->kernel_file);
        argv_add(&a, "-initrd");
        argv_add(&a, "rofs.img");
    } else {
        argv_add(&a, "-kernel");
        argv_add(&a, mach->kernel_file);
        argv_add(&a, "-drive");
        argv_add(&a, "if=none,id=rofs,file=rofs.img,format=raw,readonly=on");
        argv_add(&a, "-device");
        argv_add(&a, "virtio-blk-pci,drive=rofs");
    }
    if (m->net.mode != NET_NONE) {
        char mac[18];
        format_mac(m->net.mac, mac);
        argv_add(&a, "-netdev");
        if (m->net.mode == NET_USER) {
            char nd[4096] = "user,id=net0";
            for (size_t i = 0; i < m->nports; i++)
                port_hostfwd(&m->ports[i], nd + strlen(nd), sizeof(nd) - strlen(nd));
            argv_add(&a, nd);
        }
        else if (m->net.mode == NET_TAP)
            argv_addf(&a, "tap,id=net0,ifname=%s,script=no,downscript=no", m->net.ifname);
        else
            argv_addf(&a, "bridge,id=net0,br=%s", m->net.ifname);
        argv_add(&a, "-device");
        argv_addf(&a, "virtio-net-pci,netdev=net0,mac=%s", mac);
    }
    machine_rng_argv(mach, &a);
    char *cl = manifest_kernel_cmdline(m);
    if (*cl && m->boot != BOOT_UBOOT) {
        argv_add(&a, "-append");
        argv_add(&a, cl);
    }
    free(cl);
    size_t len = 1;
    for (size_t i = 0; i < a.n; i++)
        len += strlen(a.v[i]) + 1;
    char *s = xmalloc(len), *p = s;
    for (size_t i = 0; i < a.n; i++)
        p += sprintf(p, "%s\n", a.v[i]);
    *p = 0;
    argv_free(&a);
    return s;
}

/* --------------------------------------------------------------- build ---- */

/* An existing output directory is replaced only when it holds nothing but
 * image files (it was made by tern build). */
static bool replaceable(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *de;
    bool ok = true;
    while (ok && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        ok = false;
        for (size_t i = 0; i < sizeof(image_files) / sizeof(image_files[0]); i++)
            ok |= !strcmp(de->d_name, image_files[i]);
        /* A build killed while making boot.img left these too. */
        for (size_t i = 0; i < sizeof(staging_files) / sizeof(staging_files[0]); i++)
            ok |= !strcmp(de->d_name, staging_files[i]);
    }
    closedir(d);
    return ok;
}

static bool mkdir_p(const char *path)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; ; s++) {
        if (*s != '/' && *s)
            continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "tern: error: cannot create directory '%s': %s\n", p,
                    strerror(errno));
            free(p);
            return false;
        }
        *s = c;
        if (!c)
            break;
    }
    free(p);
    return true;
}

static bool parse_sde(struct tree *t)
{
    const char *s = getenv("SOURCE_DATE_EPOCH");
    long v;
    if (!s || !*s)
        return true;
    if (!parse_long(s, 0, LONG_MAX, &v)) {
        fprintf(stderr, "tern: error: SOURCE_DATE_EPOCH='%s' is not a number of seconds "
                "since 1970\n", s);
        return false;
    }
    t->have_sde = true;
    t->sde = v;
    return true;
}

int build_image(const struct build_opts *o, char **out_dir)
{
    const char *mname = strcmp(o->manifest, "-") ? o->manifest : "<stdin>";
    struct manifest m;
    int nerr = manifest_load_as(o->manifest, o->platform, &m);
    if (nerr) {
        /* The checks that need no file tree still run, so that one build
         * reports every problem. */
        const struct machine *mm = m.checked ? machine_find(m.arch, m.platform) : NULL;
        if (mm) {
            struct check_ctx ck = { .m = &m, .mach = mm, .force = o->force };
            check_has_program(&ck);
            check_host_memory(&ck);
            for (size_t i = 0; m.argc && i < m.nfiles; i++)
                if (!m.files[i].host_is_dir && !strcmp(m.files[i].guest, m.argv[0]))
                    check_program(&ck, m.argv[0], m.files[i].host_path);
            nerr += ck.errors;
        }
        if (m.checked)
            manifest_free(&m);
        fprintf(stderr, "tern: error: %s: %d error%s; nothing was built\n", mname,
                nerr, nerr == 1 ? "" : "s");
        return 2;
    }
    const char *accel = o->accel;
    struct tree t = { .m = &m };
    char *kernel = NULL, *dir = NULL, *abs_dir = NULL, *xml = NULL, *args = NULL;
    int rc = 2;
    uint64_t rofs_bytes = 0;

    if (!parse_sde(&t))
        goto out;
    const struct machine *mach = machine_find(m.arch, m.platform);
    if (!mach) {
        fprintf(stderr, "tern: error: %s: tern knows no %s/%s machine (it knows", mname,
                m.arch, m.platform);
        for (size_t i = 0; i < machine_count; i++)
            fprintf(stderr, "%s %s/%s", i ? "," : "", machines[i].arch, machines[i].platform);
        fputs("); nothing was built\n", stderr);
        goto out;
    }
    char kvm_why[256];
    if (!accel)
        accel = machine_kvm_impossible(mach, kvm_why, sizeof(kvm_why)) ? "tcg" : "kvm";
    if (!(kernel = find_kernel(o->kernel, mach)) || !machine_check_kernel(mach, kernel))
        goto out;
    if (mach->not_ready) {
        fprintf(stderr, "tern: error: %s: %s/%s images cannot be built yet: %s; nothing "
                "was built\n", mname, mach->arch, mach->platform, mach->not_ready);
        goto out;
    }

    expand(&t);
    /* Everything that would keep the image from booting, reported together
     * with the tree's errors (check.h). */
    struct check_ctx ck = { .m = &m, .mach = mach, .force = o->force };
    check_has_program(&ck);
    check_host_memory(&ck);
    /* The kernel resolves the program at boot; say now if it cannot be in
     * the image, or cannot run. */
    if (m.argc && m.argv[0][0] == '/') {
        const struct ent *e = find_ent(&t, m.argv[0]);
        /* A symbolic link in the image: follow absolute targets a few hops. */
        for (int hops = 0; e && e->type == E_LINK && e->target[0] == '/' && hops < 8; hops++)
            e = find_ent(&t, e->target);
        if (!e)
            manifest_warning(&m, m.cmdline_pos, "cmdline: the program '%s' is not in the "
                             "image (add it under files:)", m.argv[0]);
        else if (e->type == E_DIR)
            manifest_warning(&m, m.cmdline_pos, "cmdline: the program '%s' is a directory",
                             m.argv[0]);
        else if (e->type == E_FILE)
            check_program(&ck, m.argv[0], e->host);
    }
    if (t.errors + ck.errors) {
        fprintf(stderr, "tern: error: %s: %d error%s; nothing was built\n", mname,
                t.errors + ck.errors, t.errors + ck.errors == 1 ? "" : "s");
        goto out;
    }

    /* Where the image goes, and its absolute path for domain.xml. */
    if (o->out_dir) {
        dir = xstrdup(o->out_dir);
    } else {
        dir = xmalloc(strlen(m.name) + 8);
        sprintf(dir, "build/%s", m.name);
    }
    while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
        dir[strlen(dir) - 1] = 0;
    char *slash = strrchr(dir, '/');
    char *parent = slash ? (slash == dir ? xstrdup("/") : strndup(dir, (size_t)(slash - dir)))
                         : xstrdup(".");
    const char *base = slash ? slash + 1 : dir;
    if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
        fprintf(stderr, "tern: error: -o %s: name a directory to create or replace\n", dir);
        free(parent);
        goto out;
    }
    struct stat st;
    if (lstat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "tern: error: -o %s: a %s is there, not a directory; -o names the "
                "image directory to create or replace (remove it or choose another -o DIR)\n",
                dir, S_ISLNK(st.st_mode) ? "symbolic link" : S_ISREG(st.st_mode) ? "file" :
                "special file");
        free(parent);
        goto out;
    }
    if (lstat(dir, &st) == 0 && !replaceable(dir)) {
        fprintf(stderr, "tern: error: '%s' exists and is not an image directory (it holds "
                "other files); remove it or choose another -o DIR\n", dir);
        free(parent);
        goto out;
    }
    if (!mkdir_p(parent)) {
        free(parent);
        goto out;
    }
    char real_parent[PATH_MAX];
    if (!realpath(parent, real_parent)) {
        fprintf(stderr, "tern: error: '%s': %s\n", parent, strerror(errno));
        free(parent);
        goto out;
    }
    abs_dir = xmalloc(strlen(real_parent) + strlen(base) + 2);
    sprintf(abs_dir, "%s%s%s", real_parent, strcmp(real_parent, "/") ? "/" : "", base);

    /* The temporary directory sits beside the target, on the same file
     * system, so the final rename is atomic. */
    remove_stale(parent, base);
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/.%s.tmp-%ld-XXXXXX", parent, base, (long)getpid());
    free(parent);
    struct sigaction sa = { .sa_handler = on_build_signal }, old_int, old_term, old_hup;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    if (!mkdtemp(tmp_dir)) {
        fprintf(stderr, "tern: error: cannot create a directory beside '%s': %s\n", dir,
                strerror(errno));
        tmp_dir[0] = 0;
        goto out_signals;
    }
    /* libvirt runs QEMU as another user, who must be able to read it. */
    chmod(tmp_dir, 0755);

    int64_t gen_mtime = 0;
    if (stat(m.path, &st) == 0)
        gen_mtime = st.st_mtim.tv_sec;
    if (t.have_sde && gen_mtime > t.sde)
        gen_mtime = t.sde;
    struct rofs_meta gen = { .mode = 0755, .uid = 0, .gid = 0, .mtime = gen_mtime };

    xml = domain_xml(&m, mach, abs_dir, accel);
    /* A Xen guest is started by xl, not QEMU: xl.cfg instead of qemu.args. */
    const char *launch = mach->xl_type ? "xl.cfg" : "qemu.args";
    args = mach->xl_type ? xl_cfg_text(&m, mach, abs_dir) : qemu_args_text(&m, mach, accel);
    if (!copy_kernel(kernel, mach->kernel_file) || !write_rofs(&m, &t, &gen, &rofs_bytes) ||
        !write_text("domain.xml", xml) || !write_text(launch, args))
        goto out_tmp;
    /* From the kernel and rofs.img just written. */
    if (m.boot == BOOT_UBOOT && !uboot_write_disk(&m, mach, accel, tmp_dir, gen_mtime))
        goto out_tmp;
    /* Only now is rofs.img's size known. */
    check_memory(&ck, kernel, rofs_bytes);
    if (ck.errors) {
        fprintf(stderr, "tern: error: %s: %d error%s; nothing was built\n", mname,
                ck.errors, ck.errors == 1 ? "" : "s");
        goto out_tmp;
    }

    /* Swap the new directory in. An existing one is exchanged atomically
     * and then removed from its temporary name. */
    if (lstat(dir, &st) == 0) {
        if (renameat2(AT_FDCWD, tmp_dir, AT_FDCWD, dir, RENAME_EXCHANGE) != 0) {
            fprintf(stderr, "tern: error: cannot replace '%s': %s\n", dir, strerror(errno));
            goto out_tmp;
        }
        /* The old image (with its console log) is now at the temporary name. */
        remove_tmp();
    } else if (rename(tmp_dir, dir) != 0) {
        fprintf(stderr, "tern: error: cannot create '%s': %s\n", dir, strerror(errno));
        goto out_tmp;
    }
    tmp_dir[0] = 0;
    if (!o->quiet)
        msg("built %s: %s (from %s), rofs.img (%llu KiB, %zu %s from the "
            "manifest), domain.xml, %s%s", dir, mach->kernel_file, kernel,
            (unsigned long long)(rofs_bytes >> 10), t.n, t.n == 1 ? "entry" : "entries",
            launch, m.boot == BOOT_UBOOT ? ", " UBOOT_DISK " (U-Boot: FIT and boot.scr)" : "");
    *out_dir = dir;
    dir = NULL;
    rc = 0;
out_tmp:
    remove_tmp();
out_signals:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
out:
    free(xml);
    free(args);
    free(kernel);
    free(dir);
    free(abs_dir);
    free_tree(&t);
    manifest_free(&m);
    return rc;
}
