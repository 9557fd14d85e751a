/*
 * The machine table: everything the tool knows about one arch x platform
 * pair, in one place, so that a port adds a row instead of editing build,
 * run and libvirt code. A manifest's arch and platform pick the row for
 * tern build; tern run of a kernel or an image directory picks it from the
 * kernel file's header (the platform there is always kvm: tern run launches
 * QEMU).
 *
 * A row may describe a machine that does not boot yet (not_ready): the tool
 * then refuses to build it with that reason, before writing anything.
 */
#ifndef TERN_MACHINE_H
#define TERN_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct argv_buf;

enum kernel_format {
    /* An ELF file with the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): QEMU
     * -kernel, libvirt <kernel> and Xen PVH boot the same file. */
    KERNEL_ELF_PVH,
    /* A Linux arm64 Image: a 64-byte header with "ARM\x64" at offset 56
     * (what QEMU -M virt -kernel, U-Boot booti and Xen on Arm load). The
     * build still links an ELF (e_machine EM_AARCH64) and objcopies it. */
    KERNEL_ARM64_IMAGE,
};

struct machine {
    const char *arch;               /* manifest arch: "x86_64", "aarch64" */
    const char *platform;           /* manifest platform: "kvm", "xen" */
    /* NULL when images for it build and boot; else why not, as the end of
     * "tern: error: ARCH/PLATFORM images cannot be built yet: ...". */
    const char *not_ready;

    /* The kernel. */
    enum kernel_format kernel_format;
    uint16_t elf_machine;           /* EM_X86_64, EM_AARCH64: the kernel's build */
    const char *kernel_file;        /* its name in the build tree and in an image */

    /* QEMU (NULL qemu: this platform is not launched through QEMU). */
    const char *qemu;               /* the binary */
    const char *qemu_machine;       /* -M */
    const char *cpu_kvm, *cpu_tcg;  /* -cpu under each accelerator */
    /* The accelerator probe: KVM is tried only on a host of this machine
     * (uname -m); any other host runs the guest under TCG. */
    const char *kvm_host;
    /* The device through which the guest ends QEMU with an exit code, as
     * given to -device; NULL when the machine has none (the status then
     * comes from the console line only, as it always may). */
    const char *exit_device;
    /* A -global QEMU needs for this machine's devices to suit the kernel,
     * or NULL. */
    const char *qemu_global;
    /* The virtio entropy device QEMU gives the guest (-device, fed from
     * the host's /dev/urandom), so that the kernel's random generator has
     * a real seed on CPUs without RDRAND/RNDR (docs/random.md); NULL when
     * the machine is not started by QEMU. */
    const char *rng_device;
    /* The U-Boot firmware for boot: u-boot images (-bios, libvirt's
     * <loader>), or NULL when the machine has none (uboot.h). */
    const char *uboot_firmware;
    /* What "-serial stdio" connects: the console the kernel writes. */
    const char *console;

    /* libvirt: <domain type> under KVM and under TCG, <os><type>. */
    const char *virt_type_kvm, *virt_type_tcg;
    const char *os_type, *os_arch, *os_machine;
    bool acpi;                      /* <features><acpi/>: how the guest powers off */
    /* Arm: <features><gic version='N'/> (0: no GIC element), the same GIC
     * QEMU's -M virt gives the guest when tern run launches it. */
    int gic_version;
    /* <cpu>: true to name the CPU model (cpu_tcg under TCG, the host's CPU
     * under KVM); false leaves libvirt's default, which on x86 boots under
     * both accelerators, while on Arm virt QEMU's default is a 32-bit
     * Cortex-A15. */
    bool libvirt_cpu;
    /* <channel>s for the app's stdout and stderr (tern.stdout, tern.stderr
     * to DIR/stdout.log, DIR/stderr.log), which tern run --via virsh relays
     * to its own; false: the app writes to the console, as without them. */
    bool libvirt_stdio;
    /* The serial port's <model name=...> (Arm virt: "pl011"), or NULL for
     * libvirt's default (x86: the 16550 at COM1). */
    const char *libvirt_serial_model;
    /* The libvirt connection tern run --via virsh uses. */
    const char *libvirt_uri;
    /* The driver logs no console to a file (libxl ignores <log file>):
     * tern run --via virsh creates the domain paused, attaches `virsh
     * console` on a pty and only then lets it run. */
    bool libvirt_console_pty;

    /* Xen: non-NULL when the guest is started by `xl create` (not QEMU):
     * xl.cfg's type= ("pvh"). tern build then writes xl.cfg instead of
     * qemu.args, and domain.xml gets Xen's devices (netfront on a bridge,
     * xvda, the PV console). */
    const char *xl_type;
    /* The bridge a networked guest's vif joins (xl vif= and libvirt's
     * <interface type='bridge'>) unless the manifest names one. */
    const char *xen_bridge;
};

/* The row for arch/platform, or NULL (the manifest has already checked
 * both names, so NULL means a pair the table does not have). */
const struct machine *machine_find(const char *arch, const char *platform);

/* Every row, for messages and tests. */
extern const struct machine machines[];
extern const size_t machine_count;

/* Check that path is a kernel for m: readable, of m's format, built for
 * m's ELF machine, and (ELF) carrying the PVH entry note. Errors name the
 * file, what was found and what m expects; they go to stderr. */
bool machine_check_kernel(const struct machine *m, const char *path);

/* The row for the kernel file path on platform, from its header; NULL with
 * a message in err when the file is unreadable or no row matches. */
const struct machine *machine_of_kernel(const char *path, const char *platform,
                                        char *err, size_t errlen);

/* -cpu for accel ("kvm" or "tcg"). */
const char *machine_cpu(const struct machine *m, const char *accel);

/* <domain type='...'> for accel. */
const char *machine_virt_type(const struct machine *m, const char *accel);

/* The QEMU options every boot of m uses: binary (qemu, or m's when NULL),
 * machine, accelerator and CPU model, memory, vCPUs, console on stdio, and
 * m's exit device when exit_device is set and m has one. */
void machine_qemu_argv(const struct machine *m, struct argv_buf *a, const char *qemu,
                       const char *accel, long memory_mib, long smp, bool exit_device);

/* The entropy device (m->rng_device fed by the host's /dev/urandom), when
 * m has one. */
void machine_rng_argv(const struct machine *m, struct argv_buf *a);

/* Why KVM cannot run m's guests on this host (written to why), or false
 * when it may: then a probe boot decides. */
bool machine_kvm_impossible(const struct machine *m, char *why, size_t whylen);

#endif
