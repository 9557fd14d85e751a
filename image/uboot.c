/*
 * boot: u-boot (uboot.h): the FIT, the boot script and the boot disk.
 *
 * What U-Boot does with them (Debian's u-boot-qemu 2023.01, qemu_arm64):
 * bootcmd runs distro_bootcmd, which tries qfw, usb, scsi and then virtio0,
 * finds partition 1 (bootable) of the virtio disk, loads boot.scr from its
 * root and sources it. The script loads tern.itb and `bootm`s its one
 * configuration: bootm checks every image's sha256 hash node ("Bad Data
 * Hash" and no boot when one does not match), copies the kernel to its
 * load address, copies the ramdisk and the device tree below 4 GiB
 * (initrd_high, fdt_high), writes linux,initrd-start/-end into the tree's
 * /chosen itself and leaves the bootargs written here alone (the
 * environment has none), and enters the kernel as Linux's arm64 boot
 * protocol says (x0 = the tree). If bootm returns, the script says so and
 * resets the board: with QEMU's -no-reboot that ends QEMU, and tern run
 * reports a guest that ended without a status instead of waiting at the
 * U-Boot prompt.
 *
 * Reproducible: mkimage takes the FIT's and the script's timestamps from
 * SOURCE_DATE_EPOCH; mke2fs its file system times from E2FSPROGS_FAKE_TIME
 * (e2fsprogs 1.47.0 has no SOURCE_DATE_EPOCH) and the UUID and hash seed
 * from -U and -E hash_seed; the inodes' ctime and owner, which mke2fs -d
 * copies from the staged files, are set afterwards with debugfs. QEMU's
 * device tree carries fresh random rng-seed and kaslr-seed values on every
 * dump: they are deleted (a seed baked into an image would be the same for
 * every boot of it, so the kernel must not get one: it hashes any it finds
 * into its random key; the virtio-rng device seeds these boots,
 * docs/random.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libfdt.h>

#include <kern/sha256.h>

#include "uboot.h"
#include "util.h"

/* Debian's u-boot-qemu environment: the kernel goes to kernel_addr_r,
 * 2 MiB-aligned as the arm64 Image header asks (flags: placed anywhere
 * 2 MiB-aligned), above U-Boot's own device tree at the start of RAM. */
#define RAM_BASE        0x40000000ull
#define KERNEL_LOAD     0x40400000ull
#define ALIGN_2M(x)     (((x) + 0x1fffffull) & ~0x1fffffull)
/* What U-Boot keeps at the top of RAM once relocated (its code, malloc
 * arena, stack, the copied device tree): measured 34 MiB with 128 MiB of
 * RAM, some headroom. */
#define UBOOT_TOP_MIB   40
/* The partition starts at 1 MiB, as partitioning tools place it. */
#define PART_LBA        2048u

static const char *dir_;                /* the temporary image directory */

static char *path_in(const char *name)
{
    char *p = xmalloc(strlen(dir_) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir_, name);
    return p;
}

/* Read a whole file (at most 1 GiB). */
static void *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size > (1 << 30)) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *buf = xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != (size_t)st.st_size) {
        free(buf);
        return NULL;
    }
    *len = got;
    return buf;
}

static bool write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "tern: error: writing %s: %s\n", path, strerror(errno));
    return ok;
}

/* Run argv in the image directory with the reproducibility variables set,
 * its output in uboot-tools.log, shown when it fails. */
static bool run_tool(char *const argv[], int64_t epoch)
{
    char *log = path_in("uboot-tools.log");
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "tern: error: fork: %s\n", strerror(errno));
        free(log);
        return false;
    }
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || chdir(dir_) != 0)
            _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, 0);
        char e[32];
        snprintf(e, sizeof(e), "%lld", (long long)epoch);
        setenv("SOURCE_DATE_EPOCH", e, 1);
        setenv("E2FSPROGS_FAKE_TIME", e, 1);
        /* Tools run with LC_ALL=C: the same messages (and mke2fs output)
         * whatever the user's locale. */
        setenv("LC_ALL", "C", 1);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!ok) {
        fprintf(stderr, "tern: error: boot: u-boot: %s failed (%s %d)", argv[0],
                WIFEXITED(st) ? "exit status" : "signal",
                WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
            fprintf(stderr, "; is it installed? (./configure --install-deps)");
        fputs(":\n", stderr);
        size_t n;
        char *out = read_file(log, &n);
        if (out) {
            fwrite(out, 1, n, stderr);
            free(out);
        }
    }
    unlink(log);
    free(log);
    return ok;
}

/* ------------------------------------------------------- the device tree -- */

static bool cache_dir(char *out, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char base[PATH_MAX];
    if (xdg && *xdg)
        snprintf(base, sizeof(base), "%s/tern", xdg);
    else if (home && *home)
        snprintf(base, sizeof(base), "%s/.cache/tern", home);
    else
        return false;
    char parent[PATH_MAX];
    snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(base, '/') - base), base);
    mkdir(parent, 0755);
    mkdir(base, 0755);
    int n = snprintf(out, len, "%s/dtb", base);
    if (n <= 0 || (size_t)n >= len)
        return false;
    return mkdir(out, 0755) == 0 || errno == EEXIST;
}

/*
 * QEMU's device tree for the machine the image runs on: `-M virt,dumpdtb=`
 * with the options every boot of it uses (machine, accelerator, CPU model,
 * memory, vCPUs). Cached in ~/.cache/tern/dtb/ under the SHA-256 of QEMU's
 * binary (real path, size, mtime, inode: an upgrade replaces it) and those
 * options, so only the first build for a machine pays for starting QEMU.
 */
static void *qemu_dtb(const struct manifest *m, const struct machine *mach, const char *accel,
                      size_t *len)
{
    char why[256];
    /* Where KVM cannot run the guest, tern run uses TCG: the tree is TCG's. */
    if (machine_kvm_impossible(mach, why, sizeof(why)))
        accel = "tcg";
    struct argv_buf a = { 0 };
    machine_qemu_argv(mach, &a, NULL, accel, m->memory_mib, m->cpus, false);
    /* Only what shapes the tree: drop the console and the globals. */
    struct argv_buf q = { 0 };
    size_t mi = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (!strcmp(a.v[i], "-serial") || !strcmp(a.v[i], "-global")) {
            i++;
            continue;
        }
        if (!strcmp(a.v[i], "-no-reboot"))
            continue;
        if (i && !strcmp(a.v[i - 1], "-M"))
            mi = q.n;
        argv_add(&q, a.v[i]);
    }
    argv_free(&a);

    char qpath[PATH_MAX], qreal[PATH_MAX];
    struct stat qs;
    if (!find_on_path(q.v[0], qpath, sizeof(qpath)) || !realpath(qpath, qreal) ||
        stat(qreal, &qs) != 0) {
        fprintf(stderr, "tern: error: boot: u-boot: %s (for the device tree) is not on PATH "
                "(./configure --install-deps installs it)\n", q.v[0]);
        argv_free(&q);
        return NULL;
    }
    struct sha256_ctx c;
    sha256_init(&c);
    char key[PATH_MAX + 128];
    snprintf(key, sizeof(key), "qemu:%s:%lld:%lld:%llu", qreal, (long long)qs.st_size,
             (long long)qs.st_mtime, (unsigned long long)qs.st_ino);
    sha256_update(&c, key, strlen(key));
    for (size_t i = 1; i < q.n; i++)
        sha256_update(&c, q.v[i], strlen(q.v[i]) + 1);
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_final(&c, d);
    char hex[2 * SHA256_DIGEST_SIZE + 1];
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        sprintf(hex + 2 * i, "%02x", d[i]);

    char cdir[PATH_MAX], cached[PATH_MAX + 80], tmp[PATH_MAX + 100];
    bool have_cache = cache_dir(cdir, sizeof(cdir));
    void *dtb = NULL;
    if (have_cache) {
        snprintf(cached, sizeof(cached), "%s/%s.dtb", cdir, hex);
        if ((dtb = read_file(cached, len)) && fdt_check_header(dtb) == 0) {
            argv_free(&q);
            return dtb;
        }
        free(dtb);
        snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", cdir, hex, (long)getpid());
    } else {
        char *p = path_in("board.dtb");
        snprintf(tmp, sizeof(tmp), "%s", p);
        free(p);
    }
    char *mopt = xmalloc(strlen(q.v[mi]) + strlen(tmp) + 16);
    sprintf(mopt, "%s,dumpdtb=%s", q.v[mi], tmp);
    free(q.v[mi]);
    q.v[mi] = mopt;
    char **v = xmalloc((q.n + 1) * sizeof(*v));
    memcpy(v, q.v, q.n * sizeof(*v));
    v[q.n] = NULL;
    bool ok = run_tool(v, 0);
    free(v);
    argv_free(&q);
    if (!ok || !(dtb = read_file(tmp, len)) || fdt_check_header(dtb) != 0) {
        if (ok)
            fprintf(stderr, "tern: error: boot: u-boot: QEMU's device tree '%s' is not a "
                    "device tree\n", tmp);
        free(dtb);
        unlink(tmp);
        return NULL;
    }
    if (have_cache && rename(tmp, cached) != 0)
        unlink(tmp);
    return dtb;
}

/* The tree for the FIT: /chosen bootargs = the kernel command line; the
 * random seeds out (see the top). Packed: no padding. */
static bool write_board_dtb(const void *qdtb, const char *cmdline, const char *out)
{
    int size = fdt_totalsize(qdtb) + (int)strlen(cmdline) + 1024;
    void *buf = xmalloc((size_t)size);
    int r = fdt_open_into(qdtb, buf, size), off = -1;
    if (r == 0) {
        off = fdt_path_offset(buf, "/chosen");
        if (off == -FDT_ERR_NOTFOUND)
            off = fdt_add_subnode(buf, 0, "chosen");
    }
    if (r == 0 && off < 0)
        r = off;
    if (r == 0) {
        fdt_delprop(buf, off, "rng-seed");
        fdt_delprop(buf, off, "kaslr-seed");
        r = fdt_setprop_string(buf, off, "bootargs", cmdline);
    }
    if (r == 0)
        r = fdt_pack(buf);
    if (r != 0) {
        fprintf(stderr, "tern: error: boot: u-boot: writing /chosen into QEMU's device "
                "tree: %s\n", fdt_strerror(r));
        free(buf);
        return false;
    }
    bool ok = write_file(out, buf, fdt_totalsize(buf));
    free(buf);
    return ok;
}

/* ------------------------------------------------------ the FIT, script -- */

static bool write_its(const struct manifest *m, const struct machine *mach)
{
    char *p = path_in("tern.its");
    FILE *f = fopen(p, "w");
    if (!f) {
        fprintf(stderr, "tern: error: %s: %s\n", p, strerror(errno));
        free(p);
        return false;
    }
    /* type "kernel" (not kernel_noload): bootm copies the Image to its load
     * address and enters it there as Linux's arm64 protocol says (os
     * "linux": x0 = the device tree, MMU off). */
    fprintf(f,
            "/dts-v1/;\n"
            "/ {\n"
            "    description = \"Tern image %s\";\n"
            "    #address-cells = <1>;\n"
            "    images {\n"
            "        kernel {\n"
            "            description = \"Tern kernel (arm64 Image)\";\n"
            "            data = /incbin/(\"%s\");\n"
            "            type = \"kernel\"; arch = \"arm64\"; os = \"linux\";\n"
            "            compression = \"none\";\n"
            "            load = <0x%llx>; entry = <0x%llx>;\n"
            "            hash-1 { algo = \"sha256\"; };\n"
            "        };\n"
            "        ramdisk {\n"
            "            description = \"ROFS\";\n"
            "            data = /incbin/(\"rofs.img\");\n"
            "            type = \"ramdisk\"; arch = \"arm64\"; os = \"linux\";\n"
            "            compression = \"none\";\n"
            "            hash-1 { algo = \"sha256\"; };\n"
            "        };\n"
            "        fdt {\n"
            "            description = \"QEMU virt device tree with /chosen bootargs\";\n"
            "            data = /incbin/(\"board.dtb\");\n"
            "            type = \"flat_dt\"; arch = \"arm64\"; compression = \"none\";\n"
            "            hash-1 { algo = \"sha256\"; };\n"
            "        };\n"
            "    };\n"
            "    configurations {\n"
            "        default = \"tern\";\n"
            "        tern {\n"
            "            description = \"%s\";\n"
            "            kernel = \"kernel\"; ramdisk = \"ramdisk\"; fdt = \"fdt\";\n"
            "        };\n"
            "    };\n"
            "};\n", m->name, mach->kernel_file, KERNEL_LOAD, KERNEL_LOAD, m->name);
    bool ok = fclose(f) == 0;
    if (!ok)
        fprintf(stderr, "tern: error: writing %s: %s\n", p, strerror(errno));
    free(p);
    return ok;
}

static bool write_boot_cmd(const struct manifest *m, uint64_t fit_addr)
{
    char *text;
    if (asprintf(&text,
                 "# Tern image %s: boot its FIT (written by tern build)\n"
                 "load ${devtype} ${devnum}:${distro_bootpart} 0x%llx /tern.itb\n"
                 "bootm 0x%llx#tern\n"
                 "echo \"tern: U-Boot did not boot the FIT (see above); resetting\"\n"
                 "reset\n", m->name, (unsigned long long)fit_addr,
                 (unsigned long long)fit_addr) < 0)
        die("out of memory");
    char *p = path_in("boot.cmd");
    bool ok = write_file(p, text, strlen(text));
    free(p);
    free(text);
    return ok;
}

static uint64_t file_size(const char *name)
{
    char *p = path_in(name);
    struct stat st;
    uint64_t n = stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
    free(p);
    return n;
}

/* image_size from the arm64 Image header (offset 16): the kernel's extent
 * in memory, .bss included. */
static uint64_t kernel_image_size(const struct machine *mach)
{
    char *p = path_in(mach->kernel_file);
    unsigned char h[24];
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    uint64_t v = 0;
    if (fd >= 0 && pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h))
        for (int i = 7; i >= 0; i--)
            v = v << 8 | h[16 + i];
    if (fd >= 0)
        close(fd);
    free(p);
    return v;
}

/* ------------------------------------------------------------ the disk --- */

/* A UUID-shaped string from the image name (FNV-1a), for the file system
 * and its hash seed: fixed by the inputs, different between images. */
static void name_uuid(const char *name, const char *salt, char out[37])
{
    uint64_t h1 = 14695981039346656037ull, h2;
    for (const char *s = salt; *s; s++)
        h1 = (h1 ^ (uint8_t)*s) * 1099511628211ull;
    for (const char *s = name; *s; s++)
        h1 = (h1 ^ (uint8_t)*s) * 1099511628211ull;
    h2 = (h1 ^ 0x9e3779b97f4a7c15ull) * 1099511628211ull;
    snprintf(out, 37, "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(h1 >> 32),
             (unsigned)(h1 >> 16) & 0xffff, (unsigned)h1 & 0xfff, (unsigned)(h2 >> 48) & 0xfff,
             (unsigned long long)(h2 & 0xffffffffffffull));
}

static bool make_fs(const struct manifest *m, int64_t epoch, uint64_t *fs_bytes)
{
    /* The staged files: atime and mtime from the epoch (mke2fs -d copies
     * them). */
    char *stage = path_in("bootfs");
    mkdir(stage, 0755);
    bool ok = true;
    static const char *const files[] = { "tern.itb", "boot.scr" };
    for (int i = 0; ok && i < 2; i++) {
        char *from = path_in(files[i]);
        char to[PATH_MAX];
        snprintf(to, sizeof(to), "%s/%s", stage, files[i]);
        struct timespec ts[2] = { { epoch, 0 }, { epoch, 0 } };
        ok = rename(from, to) == 0 && chmod(to, 0644) == 0 &&
             utimensat(AT_FDCWD, to, ts, 0) == 0;
        if (!ok)
            fprintf(stderr, "tern: error: staging %s: %s\n", to, strerror(errno));
        free(from);
    }
    struct timespec ts[2] = { { epoch, 0 }, { epoch, 0 } };
    if (ok && utimensat(AT_FDCWD, stage, ts, 0) != 0)
        ok = false;

    /* ext2: no journal to size or stamp; 1 KiB blocks; room for the files,
     * the metadata and some slack, in whole MiB. */
    uint64_t need = file_size("bootfs/tern.itb") + file_size("bootfs/boot.scr");
    uint64_t size = ((need + need / 16 + (1u << 20)) + 0xfffff) & ~0xfffffull;
    char uuid[37], seed[37], sz[32];
    name_uuid(m->name, "fs", uuid);
    name_uuid(m->name, "hash", seed);
    snprintf(sz, sizeof(sz), "%lluk", (unsigned long long)(size >> 10));
    char ext[96];
    snprintf(ext, sizeof(ext), "hash_seed=%s,root_owner=0:0", seed);
    char *mk[] = { "mke2fs", "-q", "-F", "-t", "ext2", "-b", "1024", "-m", "0", "-N", "16",
                   "-L", "tern-boot", "-U", uuid, "-E", ext, "-d", "bootfs", "boot.ext2",
                   sz, NULL };
    ok = ok && run_tool(mk, epoch);
    /* What mke2fs -d took from the staged files besides the times it was
     * given: the inodes' ctime (the staging time), owner and group. */
    char cmds[512];
    snprintf(cmds, sizeof(cmds), "sif /tern.itb ctime @%lld\nsif /boot.scr ctime @%lld\n"
             "sif /tern.itb uid 0\nsif /tern.itb gid 0\nsif /boot.scr uid 0\n"
             "sif /boot.scr gid 0\n", (long long)epoch, (long long)epoch);
    char *cmdfile = path_in("debugfs.cmd");
    ok = ok && write_file(cmdfile, cmds, strlen(cmds));
    char *dbg[] = { "debugfs", "-w", "-f", "debugfs.cmd", "boot.ext2", NULL };
    ok = ok && run_tool(dbg, epoch);
    free(cmdfile);
    for (int i = 0; i < 2; i++) {
        char to[PATH_MAX];
        snprintf(to, sizeof(to), "%s/%s", stage, files[i]);
        unlink(to);
    }
    rmdir(stage);
    free(stage);
    *fs_bytes = size;
    return ok;
}

/* boot.img: an MBR with one bootable Linux partition (type 0x83) at 1 MiB
 * holding the file system. distro_bootcmd boots from the partitions marked
 * bootable. */
static bool write_disk(const struct manifest *m, uint64_t fs_bytes)
{
    unsigned char mbr[512] = { 0 };
    uint32_t sectors = (uint32_t)(fs_bytes / 512);
    char uuid[37];
    name_uuid(m->name, "disk", uuid);
    /* The disk signature: fixed by the name. */
    for (int i = 0; i < 4; i++)
        mbr[440 + i] = (unsigned char)strtoul((char[]){ uuid[2 * i], uuid[2 * i + 1], 0 },
                                               NULL, 16);
    unsigned char *e = mbr + 446;
    e[0] = 0x80;                            /* bootable */
    e[1] = 0xfe, e[2] = 0xff, e[3] = 0xff;  /* CHS: past the limit, use the LBAs */
    e[4] = 0x83;
    e[5] = 0xfe, e[6] = 0xff, e[7] = 0xff;
    for (int i = 0; i < 4; i++) {
        e[8 + i] = (unsigned char)(PART_LBA >> (8 * i));
        e[12 + i] = (unsigned char)(sectors >> (8 * i));
    }
    mbr[510] = 0x55, mbr[511] = 0xaa;

    char *fsp = path_in("boot.ext2"), *dp = path_in(UBOOT_DISK);
    size_t n;
    void *fs = read_file(fsp, &n);
    int fd = open(dp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fs && fd >= 0 && pwrite(fd, mbr, sizeof(mbr), 0) == (ssize_t)sizeof(mbr) &&
              pwrite(fd, fs, n, (off_t)PART_LBA * 512) == (ssize_t)n &&
              ftruncate(fd, (off_t)PART_LBA * 512 + (off_t)fs_bytes) == 0 && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "tern: error: writing %s: %s\n", dp, strerror(errno));
    free(fs);
    unlink(fsp);
    free(fsp);
    free(dp);
    return ok;
}

/* ---------------------------------------------------------------- all --- */

static void remove_staging(void)
{
    static const char *const names[] = { UBOOT_STAGING_FILES };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *p = path_in(names[i]);
        unlink(p);
        free(p);
    }
    char *p = path_in("bootfs");
    rmdir(p);
    free(p);
}

bool uboot_write_disk(const struct manifest *m, const struct machine *mach, const char *accel,
                      const char *dir, int64_t epoch)
{
    dir_ = dir;
    size_t dlen;
    void *qdtb = qemu_dtb(m, mach, accel, &dlen);
    if (!qdtb)
        return false;
    char *cl = manifest_kernel_cmdline(m);
    char *bp = path_in("board.dtb");
    bool ok = write_board_dtb(qdtb, cl, bp) && write_its(m, mach);
    free(qdtb);
    free(cl);
    free(bp);

    char *fit[] = { "mkimage", "-f", "tern.its", "tern.itb", NULL };
    ok = ok && run_tool(fit, epoch);
    /* The FIT goes above the kernel's extent (where bootm copies the
     * kernel out of it); U-Boot's relocated self, the ramdisk and device
     * tree copies go at the top of RAM. */
    uint64_t fit_addr = ALIGN_2M(KERNEL_LOAD + kernel_image_size(mach));
    uint64_t fit_size = file_size("tern.itb"), rofs = file_size("rofs.img");
    uint64_t need = fit_addr - RAM_BASE + fit_size + rofs + ((uint64_t)UBOOT_TOP_MIB << 20);
    if (ok && (uint64_t)m->memory_mib << 20 < need) {
        manifest_error(m, m->memory_pos, "memory: %ldM is too small for boot: u-boot: the "
                       "FIT (%llu KiB, at 0x%llx), U-Boot's copy of the ROFS (%llu KiB) and "
                       "U-Boot itself (%d MiB at the top) need at least %lluM",
                       m->memory_mib, (unsigned long long)(fit_size >> 10),
                       (unsigned long long)fit_addr, (unsigned long long)(rofs >> 10),
                       UBOOT_TOP_MIB, (unsigned long long)((need + 0xfffff) >> 20));
        ok = false;
    }
    ok = ok && write_boot_cmd(m, fit_addr);
    char name[80];
    snprintf(name, sizeof(name), "Tern %s", m->name);
    char *scr[] = { "mkimage", "-A", "arm64", "-O", "linux", "-T", "script", "-C", "none",
                    "-n", name, "-d", "boot.cmd", "boot.scr", NULL };
    ok = ok && run_tool(scr, epoch);
    uint64_t fs_bytes = 0;
    ok = ok && make_fs(m, epoch, &fs_bytes) && write_disk(m, fs_bytes);
    remove_staging();
    return ok;
}

void uboot_qemu_args(const struct machine *mach, struct argv_buf *a)
{
    argv_add(a, "-bios");
    argv_add(a, mach->uboot_firmware);
    argv_add(a, "-drive");
    argv_add(a, "if=none,id=boot,file=" UBOOT_DISK ",format=raw,readonly=on");
    /* On virtio-mmio: U-Boot's virtio0, and for the kernel a disk it may
     * leave alone (the ROFS comes as the ramdisk). */
    argv_add(a, "-device");
    argv_add(a, "virtio-blk-device,drive=boot");
}
