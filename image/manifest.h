/*
 * Manifests: the YAML file a user writes to describe an image (the schema is
 * documented key by key in docs/manifest.md). manifest_load() parses and
 * validates one; every problem is reported as
 *
 *     FILE:LINE:COLUMN: error: MESSAGE
 *
 * naming the offending key or value, and all problems found are reported,
 * not only the first.
 */
#ifndef TERN_MANIFEST_H
#define TERN_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ports.h"

/* A place in the manifest, 1-based (libyaml counts from 0). */
struct mpos {
    int line, col;
};

enum net_mode { NET_NONE, NET_USER, NET_TAP, NET_BRIDGE };
enum disk_mode { DISK_INITRD, DISK_VIRTIO_BLK };
/* How the kernel is started: QEMU -kernel/libvirt <kernel> (direct), or
 * U-Boot from a FIT on a boot disk (aarch64, docs/aarch64.md). */
enum boot_mode { BOOT_DIRECT, BOOT_UBOOT };

#define MANIFEST_MAX_ARGS 64          /* the kernel's CMDLINE_MAX_ARGS */
#define MANIFEST_CMDLINE_MAX 4095     /* the kernel's BOOT_CMDLINE_MAX - 1 */

struct manifest_file {
    char *guest;            /* normalized absolute guest path ("/etc/hosts") */
    char *host;             /* as written in the manifest */
    char *host_path;        /* resolved against the manifest's directory */
    bool host_is_dir;       /* after following a symlink given by name */
    struct mpos pos;        /* the entry's key (guest path) */
    struct mpos value_pos;  /* the entry's value (host path) */
};

struct manifest_env {
    char *key, *value;
};

struct manifest_net {
    enum net_mode mode;
    char *ifname;           /* tap device (NET_TAP) or bridge (NET_BRIDGE) */
    uint8_t mac[6];         /* given, or derived from the image name */
    bool dhcp;              /* otherwise a static address when has_ip */
    bool has_ip, has_gateway;
    uint32_t ip, gateway;   /* host byte order */
    int prefix;             /* 0..32 */
};

struct manifest {
    char *path;             /* the manifest file as given */
    char *dir;              /* its directory: host paths are relative to it */
    char *name;
    const char *arch;       /* "x86_64" */
    const char *platform;   /* "kvm" */
    long memory_mib;
    struct mpos memory_pos; /* the memory: value, or 1:1 */
    long cpus;
    char **argv;            /* the app's argv (NULL-terminated), may be empty */
    size_t argc;
    struct mpos cmdline_pos;
    char *kernel_options;   /* kernel options before "--", or "" */
    struct manifest_env *env;
    size_t nenv;
    struct manifest_file *files;
    size_t nfiles;
    struct manifest_net net;
    enum disk_mode disk;
    struct mpos disk_pos;   /* the disk: key, or 0:0 when not given */
    enum boot_mode boot;
    struct mpos boot_pos;   /* the boot: key, or 0:0 when not given */
    struct port_fwd *ports;     /* forwarded from the host (user networking) */
    size_t nports;
    bool checked;           /* every key was validated (errors or not) */
};

/* Parse and validate path. Returns the number of errors (0 on success);
 * errors go to stderr. With errors, m is freed unless m->checked (every key
 * was validated: the YAML was readable), when the caller may look at what
 * was valid and must free it. */
int manifest_load(const char *path, struct manifest *m);
/* The same with the manifest's platform replaced by platform (tern build
 * --platform; NULL: the manifest's), before the checks that depend on it. */
int manifest_load_as(const char *path, const char *platform, struct manifest *m);
void manifest_free(struct manifest *m);

/* Report an error at pos in m's file (used by tern build for problems it
 * finds while reading the host files an entry names). */
void manifest_error(const struct manifest *m, struct mpos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void manifest_warning(const struct manifest *m, struct mpos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The kernel command line for the image: kernel_options, then "--" and the
 * app's arguments, quoted per docs/cmdline.md. The caller frees it. */
char *manifest_kernel_cmdline(const struct manifest *m);

/* "x.x.x.x" for an address in host byte order. */
void format_ipv4(uint32_t ip, char out[16]);
void format_mac(const uint8_t mac[6], char out[18]);

#endif
