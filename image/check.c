/*
 * Build-time checks: what tern build can tell about an image that would not
 * boot, said while building (with the reason and the fix) instead of as a
 * failed boot later. check.h lists them; docs/manifest.md ("What tern build
 * checks") explains them for users.
 *
 * The memory model follows how the pieces are really laid out for an
 * x86_64 PVH boot under QEMU's q35 machine:
 *   - RAM below 4 GiB is all of it up to 2816 MiB; above that, q35 puts
 *     2 GiB low and the rest above 4 GiB. The top 132 KiB of low RAM hold
 *     QEMU's ACPI tables (reserved in the e820 map).
 *   - the first MiB is firmware's (memmap.c reserves it); the kernel's
 *     PT_LOAD segments sit at their physical addresses from 1 MiB up.
 *   - QEMU loads the initrd (rofs.img with disk: initrd) at the top of low
 *     RAM, below the ACPI tables; it must end up above the kernel, and the
 *     kernel keeps it in place (memmap.c reserves it as a boot module).
 *   - with disk: virtio-blk the kernel reads the image into one block of
 *     the buddy allocator (vfs.c mount_disk): 2^order pages, naturally
 *     aligned, order at most PAGE_ALLOC_MAX_ORDER (1 GiB), trimmed after.
 *   - besides these the kernel needs KERNEL_RESERVE (and a little per
 *     vCPU) for its page tables, per-CPU data, heap and the app's first
 *     pages. What the app allocates later is not known here.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "machine.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define PAGE 4096ull

#define Q35_LOWMEM_SPLIT   (2816 * MiB)  /* below this all RAM is low */
#define Q35_LOWMEM_LARGE   (2 * GiB)     /* low RAM when there is more */
#define QEMU_ACPI_DATA     (132 * KiB)   /* reserved at the top of low RAM */
#define FIRMWARE_LOW       (1 * MiB)
#define PAGE_ALLOC_MAX     (1 * GiB)     /* kern/page_alloc.h: 2^18 pages */
/* What the kernel itself needs free to boot and start an app, measured:
 * a 43 MiB guest with a 40 MiB initrd has 1020 KiB free after the kernel
 * and the module and runs hello; a 42 MiB one (4 KiB free) panics while
 * mapping memory. The app's own memory comes on top of this. */
#define KERNEL_RESERVE     (1 * MiB)
#define PER_CPU_RESERVE    (64 * KiB)     /* stacks, per-CPU data */

static void report(struct check_ctx *c, struct mpos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct check_ctx *c, struct mpos pos, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (c->force) {
        manifest_warning(c->m, pos, "%s (built anyway: --force)", buf);
    } else {
        manifest_error(c->m, pos, "%s", buf);
        c->errors++;
    }
}

static const char *em_name(unsigned em)
{
    switch (em) {
    case EM_X86_64: return "x86_64";
    case EM_AARCH64: return "aarch64";
    case EM_386: return "i386";
    case EM_ARM: return "32-bit ARM";
    case EM_RISCV: return "RISC-V";
    case EM_PPC64: return "ppc64";
    case EM_S390: return "s390";
    }
    return NULL;
}

void check_program(struct check_ctx *c, const char *guest, const char *host)
{
    const struct manifest *m = c->m;
    struct mpos pos = m->cmdline_pos;
    int fd = open(host, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        report(c, pos, "cmdline: the program '%s' (from '%s') cannot be read: %s", guest,
               host, strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    unsigned char h[64] = { 0 };
    ssize_t n = pread(fd, h, sizeof(h), 0);
    if (n < 0)
        n = 0;
    const char *fix_static = "link it statically: tern cc -o PROG PROG.c (musl, static-PIE), "
                             "or gcc -static-pie";
    if (st.st_size == 0) {
        report(c, pos, "cmdline: the program '%s' (from '%s') is an empty file", guest, host);
    } else if (n >= 2 && h[0] == '#' && h[1] == '!') {
        char interp[80];
        size_t k = 0;
        for (ssize_t i = 2; i < n && h[i] != '\n' && k + 1 < sizeof(interp); i++)
            interp[k++] = (char)h[i];
        interp[k] = 0;
        report(c, pos, "cmdline: the program '%s' (from '%s') is a script (#!%s); Tern runs "
               "static ELF programs and has no shell or interpreter in the image: name a "
               "compiled program in cmdline (tern cc) and pass the script to it", guest, host,
               interp);
    } else if (n < 4 || memcmp(h, ELFMAG, SELFMAG) != 0) {
        report(c, pos, "cmdline: the program '%s' (from '%s') is not an ELF executable; "
               "build it for %s Linux (tern cc -o PROG PROG.c)", guest, host, m->arch);
    } else if (h[EI_CLASS] != ELFCLASS64) {
        const Elf32_Ehdr *e32 = (const void *)h;
        const char *em = em_name(e32->e_machine);
        report(c, pos, "cmdline: the program '%s' (from '%s') is a 32-bit ELF (%s); the image "
               "is %s and runs 64-bit programs only: rebuild it for %s (tern cc)", guest,
               host, em ? em : "unknown machine", m->arch, m->arch);
    } else {
        Elf64_Ehdr e;
        memcpy(&e, h, sizeof(e));
        const char *em = em_name(e.e_machine);
        if (e.e_machine != c->mach->elf_machine) {
            char num[32];
            snprintf(num, sizeof(num), "machine %u", e.e_machine);
            report(c, pos, "cmdline: the program '%s' (from '%s') is built for %s, but the "
                   "image is %s (arch: %s): rebuild it for %s, or set arch: to match", guest,
                   host, em ? em : num, m->arch, m->arch, m->arch);
        } else if (e.e_type != ET_EXEC && e.e_type != ET_DYN) {
            report(c, pos, "cmdline: the program '%s' (from '%s') is not an executable "
                   "(e_type %u%s); link it into a program", guest, host, e.e_type,
                   e.e_type == ET_REL ? ": a relocatable object" : "");
        } else if (e.e_phentsize != sizeof(Elf64_Phdr) || e.e_phnum == 0 ||
                   e.e_phoff + (uint64_t)e.e_phnum * sizeof(Elf64_Phdr) > (uint64_t)st.st_size) {
            report(c, pos, "cmdline: the program '%s' (from '%s') is truncated or damaged: "
                   "its program headers (offset %llu) extend past the end of the file "
                   "(%lld bytes); rebuild or copy it again", guest, host,
                   (unsigned long long)e.e_phoff, (long long)st.st_size);
        } else {
            Elf64_Phdr *ph = calloc(e.e_phnum, sizeof(*ph));
            ssize_t want = (ssize_t)(e.e_phnum * sizeof(*ph));
            bool bad = !ph || pread(fd, ph, (size_t)want, (off_t)e.e_phoff) != want;
            for (unsigned i = 0; !bad && i < e.e_phnum; i++) {
                if (ph[i].p_type == PT_INTERP) {
                    char interp[256] = "";
                    size_t len = ph[i].p_filesz < sizeof(interp) ? ph[i].p_filesz :
                                 sizeof(interp) - 1;
                    if (pread(fd, interp, len, (off_t)ph[i].p_offset) < 0)
                        interp[0] = 0;
                    interp[sizeof(interp) - 1] = 0;
                    report(c, pos, "cmdline: the program '%s' (from '%s') is dynamically "
                           "linked (interpreter %s); dynamic ELF is not supported yet: %s",
                           guest, host, interp[0] ? interp : "?", fix_static);
                    break;
                }
                if ((ph[i].p_type == PT_LOAD || ph[i].p_type == PT_INTERP) &&
                    ph[i].p_offset + ph[i].p_filesz > (uint64_t)st.st_size) {
                    report(c, pos, "cmdline: the program '%s' (from '%s') is truncated: "
                           "segment %u (offset %llu, %llu bytes) extends past the end of "
                           "the file (%lld bytes); rebuild or copy it again", guest, host, i,
                           (unsigned long long)ph[i].p_offset,
                           (unsigned long long)ph[i].p_filesz, (long long)st.st_size);
                    break;
                }
            }
            if (bad)
                report(c, pos, "cmdline: the program '%s' (from '%s'): cannot read its "
                       "program headers", guest, host);
            free(ph);
            if (!bad && !(st.st_mode & 0111))
                report(c, pos, "cmdline: the program '%s' (from '%s') is not executable "
                       "(mode %04o): chmod +x it", guest, host, st.st_mode & 07777);
        }
    }
    close(fd);
}

/* Kernel options that make the kernel itself produce the result. */
static bool kernel_acts_alone(const char *opts)
{
    for (const char *p = opts; *p; p += strspn(p, " ")) {
        size_t n = strcspn(p, " ");
        if ((n >= 6 && !strncmp(p, "ktest=", 6)) || (n >= 5 && !strncmp(p, "exit=", 5)) ||
            (n == 4 && !strncmp(p, "help", 4)))
            return true;
        p += n;
    }
    return false;
}

void check_has_program(struct check_ctx *c)
{
    const struct manifest *m = c->m;
    if (m->argc || kernel_acts_alone(m->kernel_options))
        return;
    report(c, (struct mpos){ 1, 1 }, "no cmdline: the image has no program to run (it would "
           "boot and exit 0 doing nothing); add cmdline: [/bin/PROGRAM, ARGS...], or "
           "kernel_options: exit=N or ktest=NAME for a kernel-only image");
}

/* The end of the kernel's highest PT_LOAD segment in physical memory. */
static bool kernel_phys_end(const char *path, uint64_t *end)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Elf64_Ehdr e;
    bool ok = pread(fd, &e, sizeof(e), 0) == sizeof(e) && !memcmp(e.e_ident, ELFMAG, SELFMAG) &&
              e.e_ident[EI_CLASS] == ELFCLASS64 && e.e_phentsize == sizeof(Elf64_Phdr);
    *end = 0;
    for (unsigned i = 0; ok && i < e.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof(ph), (off_t)(e.e_phoff + i * sizeof(ph))) != sizeof(ph)) {
            ok = false;
            break;
        }
        if (ph.p_type == PT_LOAD && ph.p_paddr + ph.p_memsz > *end)
            *end = ph.p_paddr + ph.p_memsz;
    }
    close(fd);
    return ok && *end;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

static void mib_text(uint64_t bytes, char *out, size_t len)
{
    if (bytes % MiB)
        snprintf(out, len, "%.1f MiB", (double)bytes / MiB);
    else
        snprintf(out, len, "%llu MiB", (unsigned long long)(bytes / MiB));
}

void check_memory(struct check_ctx *c, const char *kernel, uint64_t rofs_bytes)
{
    const struct manifest *m = c->m;
    if (c->mach->kernel_format != KERNEL_ELF_PVH)
        return;                 /* the model is x86_64 PVH's */
    uint64_t mem = (uint64_t)m->memory_mib * MiB;
    uint64_t low = mem < Q35_LOWMEM_SPLIT ? mem : Q35_LOWMEM_LARGE;
    uint64_t high = mem - low;
    uint64_t low_top = low - QEMU_ACPI_DATA;
    uint64_t kend;
    if (!kernel_phys_end(kernel, &kend))
        return;
    kend = align_up(kend, PAGE);
    uint64_t reserve = KERNEL_RESERVE + (uint64_t)m->cpus * PER_CPU_RESERVE;
    uint64_t img = align_up(rofs_bytes, PAGE);
    char need_s[32], have_s[32], img_s[32];
    mib_text(img, img_s, sizeof(img_s));
    if (m->disk == DISK_INITRD) {
        /* QEMU: the initrd goes at the top of low RAM and must fit there,
         * above the kernel. */
        uint64_t need_low = kend + img + reserve;
        uint64_t free_after = low_top > kend + img ? low_top - kend - img + high : 0;
        if (low_top < kend + img || free_after < reserve) {
            uint64_t need = align_up(need_low + QEMU_ACPI_DATA, MiB);
            mib_text(need, need_s, sizeof(need_s));
            mib_text(mem, have_s, sizeof(have_s));
            if (need > Q35_LOWMEM_SPLIT - MiB)
                report(c, m->memory_pos, "rofs.img is %s, too large for disk: initrd (the "
                       "boot module must fit in the guest's low memory, below %llu MiB)%s",
                       img_s, (unsigned long long)((Q35_LOWMEM_SPLIT - MiB) / MiB),
                       img > PAGE_ALLOC_MAX ? "; disk: virtio-blk takes at most 1 GiB, so "
                       "make the image smaller (large data belongs on the network)" :
                       ": use disk: virtio-blk");
            else if (mem >= Q35_LOWMEM_SPLIT)
                report(c, m->memory_pos, "memory: %s leaves only %llu MiB below 4 GiB (q35 "
                       "puts RAM above %llu MiB over 4 GiB), and QEMU loads rofs.img (%s) "
                       "there: set memory: between %lluM and %lluM, or use disk: virtio-blk",
                       (mib_text(mem, have_s, sizeof(have_s)), have_s),
                       (unsigned long long)(low / MiB),
                       (unsigned long long)(Q35_LOWMEM_SPLIT / MiB - 1), img_s,
                       (unsigned long long)(need / MiB),
                       (unsigned long long)(Q35_LOWMEM_SPLIT / MiB - 1));
            else
                report(c, m->memory_pos, "memory: %s is too small for this image: it needs "
                       "%s (1 MiB firmware + %llu KiB kernel + %s rofs.img + %llu KiB for the "
                       "kernel to start the app + %llu KiB ACPI tables), and the app's own "
                       "memory on top; set memory: %lluM or more", have_s, need_s,
                       (unsigned long long)((kend - FIRMWARE_LOW) / KiB), img_s,
                       (unsigned long long)(reserve / KiB),
                       (unsigned long long)(QEMU_ACPI_DATA / KiB),
                       (unsigned long long)(need / MiB));
        }
        return;
    }
    /* virtio-blk: one naturally aligned power-of-two block. */
    uint64_t block = PAGE;
    while (block < img)
        block <<= 1;
    if (block > PAGE_ALLOC_MAX) {
        report(c, m->memory_pos, "rofs.img is %s; with disk: virtio-blk the kernel reads it "
               "into one block of at most 1 GiB (its image rounded up to a power of two): "
               "make the image smaller (move large data to the network)", img_s);
        return;
    }
    uint64_t start = align_up(kend, block);
    bool fits = start + block <= low_top || (high && block <= high);
    uint64_t total_free = low_top - kend + high;
    if (!fits || total_free < img + reserve) {
        uint64_t need = align_up((start + block > kend + img + reserve ? start + block :
                                  kend + img + reserve) + QEMU_ACPI_DATA, MiB);
        if (need < start + block + reserve + QEMU_ACPI_DATA)
            need = align_up(start + block + QEMU_ACPI_DATA, MiB);
        mib_text(need, need_s, sizeof(need_s));
        mib_text(mem, have_s, sizeof(have_s));
        report(c, m->memory_pos, "memory: %s is too small for this image: with disk: "
               "virtio-blk the kernel reads rofs.img (%s) into one %llu MiB block "
               "(a power of two, aligned to its size) above the kernel, and needs %llu KiB "
               "besides; set memory: %lluM or more", have_s, img_s,
               (unsigned long long)(block / MiB ? block / MiB : 1),
               (unsigned long long)(reserve / KiB), (unsigned long long)(need / MiB));
    }
}

void check_host_memory(struct check_ctx *c)
{
    const struct manifest *m = c->m;
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return;
    unsigned long long total = 0, swap = 0, v;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
            total = v;
        else if (sscanf(line, "SwapTotal: %llu kB", &v) == 1)
            swap = v;
    }
    fclose(f);
    int overcommit = 0;
    if ((f = fopen("/proc/sys/vm/overcommit_memory", "r"))) {
        if (fscanf(f, "%d", &overcommit) != 1)
            overcommit = 0;
        fclose(f);
    }
    /* Mode 1 allocates anything; modes 0 and 2 refuse one mapping larger
     * than RAM and swap, which is what QEMU asks for its guest RAM. */
    if (!total || overcommit == 1)
        return;
    unsigned long long limit_mib = (total + swap) / 1024;
    if ((unsigned long long)m->memory_mib > limit_mib)
        report(c, m->memory_pos, "memory: %ldM is more than this host has (%llu MiB of RAM "
               "and swap): QEMU could not allocate it (\"cannot set up guest memory\"); "
               "choose less, e.g. memory: 128M", m->memory_mib, limit_mib);
}
