/*
 * The machine table (machine.h) and what the tool derives from a row: the
 * kernel check, the QEMU base command line, the CPU model per accelerator.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "machine.h"
#include "util.h"

#ifndef EM_AARCH64
#define EM_AARCH64 183
#endif
/* The Xen ELF note whose value is the 32-bit PVH entry point
 * (xen/include/public/elfnote.h). */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
/* An arm64 Image's magic, "ARM\x64" at offset 56 (Linux's
 * Documentation/arch/arm64/booting.rst). */
#define ARM64_IMAGE_MAGIC 0x644d5241u
#define ARM64_IMAGE_MAGIC_OFFSET 56

/* The first row is the default machine (a manifest without arch and
 * platform). */
const struct machine machines[] = {
    {
        .arch = "x86_64", .platform = "kvm",
        .kernel_format = KERNEL_ELF_PVH, .elf_machine = EM_X86_64,
        .kernel_file = "kernel.elf",
        .qemu = "qemu-system-x86_64", .qemu_machine = "q35",
        /* Under KVM the host's CPU model, less ARCH_CAPABILITIES: some
         * nested KVMs refuse to set that MSR and QEMU aborts (docs/boot.md). */
        .cpu_kvm = "host,-arch-capabilities", .cpu_tcg = "max",
        .kvm_host = "x86_64",
        /* Port 0xf4: the kernel writes its status there; QEMU exits with
         * (status << 1) | 1. */
        .exit_device = "isa-debug-exit,iobase=0xf4,iosize=0x04",
        .rng_device = "virtio-rng-pci",
        .console = "the 16550 UART at COM1 (port 0x3f8)",
        .virt_type_kvm = "kvm", .virt_type_tcg = "qemu",
        .os_type = "hvm", .os_arch = "x86_64", .os_machine = "q35",
        /* The kernel powers off through ACPI S5 under libvirt. */
        .acpi = true,
        .libvirt_uri = "qemu:///system",
    },
    {
        .arch = "aarch64", .platform = "kvm",
        .kernel_format = KERNEL_ARM64_IMAGE, .elf_machine = EM_AARCH64,
        .kernel_file = "kernel.img",
        .qemu = "qemu-system-aarch64", .qemu_machine = "virt",
        /* Under TCG the Cortex-A72 (ARMv8.0, what the tests
         * name); tests boot `-cpu max` too (tests/guest/core_aarch64.sh). */
        .cpu_kvm = "host", .cpu_tcg = "cortex-a72",
        .kvm_host = "aarch64",
        /* None: the virt board has no exit port. The kernel powers off with
         * PSCI SYSTEM_OFF (QEMU exits 0) and reports its status on the
         * console. Semihosting's SYS_EXIT could carry the status, but it
         * needs -semihosting and gives the guest host file access. */
        .exit_device = NULL,
        /* QEMU's virtio-mmio devices are legacy (version 1) by default; the
         * kernel drives only virtio 1.0+ (version 2) and refuses them. */
        .qemu_global = "virtio-mmio.force-legacy=false",
        /* On PCIe like the disk and the network (the kernel drives
         * virtio-rng-device on virtio-mmio too). */
        .rng_device = "virtio-rng-pci",
        .console = "the PL011 UART of the virt board",
        /* Debian's u-boot-qemu: distro boot from the virtio disk. */
        .uboot_firmware = "/usr/lib/u-boot/qemu_arm64/u-boot.bin",
        .virt_type_kvm = "kvm", .virt_type_tcg = "qemu",
        .os_type = "hvm", .os_arch = "aarch64", .os_machine = "virt",
        /* PSCI, found in the device tree; ACPI on virt needs UEFI. */
        .acpi = false,
        /* QEMU's default on virt under TCG; the kernel drives v2 and v3. */
        .gic_version = 2,
        .libvirt_cpu = true,
        .libvirt_stdio = true,
        .libvirt_serial_model = "pl011",
        .libvirt_uri = "qemu:///system",
    },
    {
        /* A PVH ELF built with ./configure --platform=xen (Xen console,
         * event channels), started by xl (type="pvh") or libvirt's libxl
         * driver; tern run uses xl on a dom0, else the tests/xen harness. */
        .arch = "x86_64", .platform = "xen",
        .not_ready = NULL,
        .kernel_format = KERNEL_ELF_PVH, .elf_machine = EM_X86_64,
        .kernel_file = "kernel.elf",
        .qemu = NULL, .qemu_machine = NULL, .cpu_kvm = NULL, .cpu_tcg = NULL,
        .kvm_host = NULL,
        .exit_device = NULL,
        .console = "the Xen PV console (hvc0); port 0xe9 shows on Xen's own console",
        .virt_type_kvm = "xen", .virt_type_tcg = "xen",
        .os_type = "xenpvh", .os_arch = "x86_64", .os_machine = "xenpvh",
        .acpi = false,
        .libvirt_uri = "xen:///system", .libvirt_console_pty = true,
        .xl_type = "pvh", .xen_bridge = "xenbr0",
    },
};
const size_t machine_count = sizeof(machines) / sizeof(machines[0]);

const struct machine *machine_find(const char *arch, const char *platform)
{
    for (size_t i = 0; i < machine_count; i++)
        if (!strcmp(machines[i].arch, arch) && !strcmp(machines[i].platform, platform))
            return &machines[i];
    return NULL;
}

/* ------------------------------------------------------ kernel headers --- */

static const char *elf_machine_name(unsigned em, char *buf, size_t len)
{
    switch (em) {
    case EM_X86_64: return "x86_64";
    case EM_AARCH64: return "aarch64";
    case EM_386: return "i386";
    case EM_ARM: return "32-bit arm";
    case EM_RISCV: return "riscv";
    case EM_PPC64: return "ppc64";
    case EM_S390: return "s390";
    default:
        snprintf(buf, len, "machine %u", em);
        return buf;
    }
}

static const char *format_name(enum kernel_format f)
{
    return f == KERNEL_ELF_PVH ? "an ELF file with the PVH entry note" :
           "an arm64 Image";
}

/* The start of a kernel file: enough for the ELF header and an arm64
 * Image header. */
struct kernel_head {
    union {
        Elf64_Ehdr eh;
        unsigned char b[64];
    };
    size_t n;                       /* bytes read */
};

static bool read_head(const char *path, struct kernel_head *h, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "kernel '%s': %s", path, strerror(errno));
        return false;
    }
    memset(h, 0, sizeof(*h));
    ssize_t n = pread(fd, h->b, sizeof(h->b), 0);
    int e = errno;
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "kernel '%s': %s", path, strerror(e));
        return false;
    }
    h->n = (size_t)n;
    return true;
}

static bool is_elf64(const struct kernel_head *h)
{
    return h->n >= sizeof(Elf64_Ehdr) && !memcmp(h->eh.e_ident, ELFMAG, SELFMAG) &&
           h->eh.e_ident[EI_CLASS] == ELFCLASS64 && h->eh.e_ident[EI_DATA] == ELFDATA2LSB;
}

static bool is_arm64_image(const struct kernel_head *h)
{
    const unsigned char *m = h->b + ARM64_IMAGE_MAGIC_OFFSET;
    return h->n >= 64 &&
           (m[0] | m[1] << 8 | m[2] << 16 | (uint32_t)m[3] << 24) == ARM64_IMAGE_MAGIC;
}

/* Whether the ELF file has a PT_NOTE segment holding the Xen note
 * XEN_ELFNOTE_PHYS32_ENTRY. */
static bool has_pvh_note(const char *path, const Elf64_Ehdr *eh)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool found = false;
    for (unsigned i = 0; !found && i < eh->e_phnum && i < 256; i++) {
        Elf64_Phdr ph;
        off_t at = (off_t)(eh->e_phoff + (uint64_t)i * eh->e_phentsize);
        if (eh->e_phentsize < sizeof(ph) || pread(fd, &ph, sizeof(ph), at) != sizeof(ph))
            break;
        if (ph.p_type != PT_NOTE || ph.p_filesz > (1u << 20))
            continue;
        unsigned char notes[4096];
        size_t len = ph.p_filesz < sizeof(notes) ? ph.p_filesz : sizeof(notes);
        if (pread(fd, notes, len, (off_t)ph.p_offset) != (ssize_t)len)
            break;
        for (size_t off = 0; off + sizeof(Elf64_Nhdr) <= len;) {
            Elf64_Nhdr nh;
            memcpy(&nh, notes + off, sizeof(nh));
            size_t name = off + sizeof(nh);
            size_t desc = name + ((nh.n_namesz + 3u) & ~3u);
            if (nh.n_namesz == 4 && name + 4 <= len && !memcmp(notes + name, "Xen", 4) &&
                nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY) {
                found = true;
                break;
            }
            off = desc + ((nh.n_descsz + 3u) & ~3u);
        }
    }
    close(fd);
    return found;
}

bool machine_check_kernel(const struct machine *m, const char *path)
{
    struct kernel_head h;
    char err[4200], nb[32], want[32];
    if (!read_head(path, &h, err, sizeof(err))) {
        fprintf(stderr, "tern: error: %s\n", err);
        return false;
    }
    const char *expect = elf_machine_name(m->elf_machine, want, sizeof(want));
    if (m->kernel_format == KERNEL_ARM64_IMAGE) {
        if (is_arm64_image(&h))
            return true;
        if (is_elf64(&h))
            fprintf(stderr, "tern: error: kernel '%s' is an ELF file for %s; %s/%s needs an "
                    "arm64 Image (objcopy -O binary of the %s kernel ELF)\n", path,
                    elf_machine_name(h.eh.e_machine, nb, sizeof(nb)), m->arch, m->platform,
                    expect);
        else
            fprintf(stderr, "tern: error: kernel '%s' is not an arm64 Image (no \"ARM\\x64\" "
                    "magic at offset 56); %s/%s needs one\n", path, m->arch, m->platform);
        return false;
    }
    if (!is_elf64(&h)) {
        fprintf(stderr, "tern: error: kernel '%s' is not an %s ELF file (%s/%s needs %s)\n",
                path, expect, m->arch, m->platform, format_name(m->kernel_format));
        return false;
    }
    if (h.eh.e_machine != m->elf_machine) {
        fprintf(stderr, "tern: error: kernel '%s' is an ELF file for %s, but %s/%s needs "
                "%s (e_machine %u, found %u)\n", path,
                elf_machine_name(h.eh.e_machine, nb, sizeof(nb)), m->arch, m->platform,
                expect, m->elf_machine, h.eh.e_machine);
        return false;
    }
    if (!has_pvh_note(path, &h.eh)) {
        fprintf(stderr, "tern: error: kernel '%s' is an %s ELF file without the PVH entry "
                "note (Xen note %d, XEN_ELFNOTE_PHYS32_ENTRY): QEMU and Xen cannot boot it\n",
                path, expect, XEN_ELFNOTE_PHYS32_ENTRY);
        return false;
    }
    return true;
}

const struct machine *machine_of_kernel(const char *path, const char *platform,
                                        char *err, size_t errlen)
{
    struct kernel_head h;
    if (!read_head(path, &h, err, errlen))
        return NULL;
    char nb[32];
    const char *found = is_elf64(&h) ? elf_machine_name(h.eh.e_machine, nb, sizeof(nb)) : NULL;
    for (size_t i = 0; i < machine_count; i++) {
        const struct machine *m = &machines[i];
        if (strcmp(m->platform, platform))
            continue;
        if (m->kernel_format == KERNEL_ARM64_IMAGE ? is_arm64_image(&h) :
            found && h.eh.e_machine == m->elf_machine)
            return m;
    }
    if (found)
        snprintf(err, errlen, "kernel '%s' is an ELF file for %s; tern boots x86_64 ELF "
                 "kernels (with the PVH note) and arm64 Images", path, found);
    else
        snprintf(err, errlen, "kernel '%s' is neither an ELF file nor an arm64 Image", path);
    return NULL;
}

/* ------------------------------------------------------------- QEMU --- */

const char *machine_cpu(const struct machine *m, const char *accel)
{
    return strcmp(accel, "kvm") == 0 ? m->cpu_kvm : m->cpu_tcg;
}

const char *machine_virt_type(const struct machine *m, const char *accel)
{
    return strcmp(accel, "kvm") == 0 ? m->virt_type_kvm : m->virt_type_tcg;
}

void machine_qemu_argv(const struct machine *m, struct argv_buf *a, const char *qemu,
                       const char *accel, long memory_mib, long smp, bool exit_device)
{
    argv_add(a, qemu ? qemu : m->qemu);
    argv_add(a, "-M");
    argv_add(a, m->qemu_machine);
    argv_add(a, "-accel");
    argv_add(a, accel);
    argv_add(a, "-cpu");
    argv_add(a, machine_cpu(m, accel));
    argv_add(a, "-m");
    argv_addf(a, "%ld", memory_mib);
    argv_add(a, "-smp");
    argv_addf(a, "%ld", smp);
    argv_add(a, "-nodefaults");
    argv_add(a, "-no-user-config");
    argv_add(a, "-display");
    argv_add(a, "none");
    /* The board's first UART (m->console). */
    argv_add(a, "-serial");
    argv_add(a, "stdio");
    argv_add(a, "-no-reboot");
    if (m->qemu_global) {
        argv_add(a, "-global");
        argv_add(a, m->qemu_global);
    }
    if (exit_device && m->exit_device) {
        argv_add(a, "-device");
        argv_add(a, m->exit_device);
    }
}

void machine_rng_argv(const struct machine *m, struct argv_buf *a)
{
    if (!m->rng_device)
        return;
    /* /dev/urandom, not /dev/random: it never blocks the guest's boot,
     * and on any Linux since 5.6 it is the same generator once seeded. */
    argv_add(a, "-object");
    argv_add(a, "rng-random,id=rng0,filename=/dev/urandom");
    argv_add(a, "-device");
    argv_addf(a, "%s,rng=rng0", m->rng_device);
}

bool machine_kvm_impossible(const struct machine *m, char *why, size_t whylen)
{
    struct utsname u;
    if (!m->kvm_host) {
        snprintf(why, whylen, "%s/%s is not run under QEMU's KVM", m->arch, m->platform);
        return true;
    }
    if (uname(&u) == 0 && strcmp(u.machine, m->kvm_host)) {
        snprintf(why, whylen, "KVM on this %s host cannot run %s guests", u.machine,
                 m->arch);
        return true;
    }
    return false;
}
