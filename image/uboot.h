/*
 * boot: u-boot images (docs/aarch64.md, "Booting through U-Boot"): tern
 * build packs the kernel, the ROFS (as the ramdisk) and QEMU's own device
 * tree (with /chosen bootargs written here through libfdt) into a FIT made
 * by `mkimage -f`, sha256 hash nodes on every image, and puts it with a
 * boot.scr on boot.img, a small MBR disk with one ext2 partition that the
 * distro boot of Debian's U-Boot for QEMU's arm64 virt board scans. QEMU
 * then starts with -bios u-boot.bin instead of -kernel.
 */
#ifndef TERN_UBOOT_H
#define TERN_UBOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"
#include "manifest.h"
#include "util.h"

/* The boot disk's name in an image directory, and the files build_image
 * may leave in its temporary directory while making it (removed after). */
#define UBOOT_DISK "boot.img"
#define UBOOT_STAGING_FILES "tern.its", "board.dtb", "boot.cmd", "tern.itb", "boot.scr", \
                            "boot.ext2", "debugfs.cmd", "uboot-tools.log"

/* Make dir/boot.img from dir's kernel (mach->kernel_file) and rofs.img for
 * m. accel: the build's accelerator (the device tree is QEMU's for the
 * same machine options). epoch: every timestamp in the FIT, the script and
 * the file system (same inputs, same bytes). False after an error on
 * stderr. */
bool uboot_write_disk(const struct manifest *m, const struct machine *mach, const char *accel,
                      const char *dir, int64_t epoch);

/* The QEMU arguments that boot it: -bios and the disk on virtio-mmio. */
void uboot_qemu_args(const struct machine *mach, struct argv_buf *a);

#endif
