/*
 * ROFS: Tern's read-only filesystem image, and its one validating reader
 * (kernel/fs/rofs/rofs_reader.c), compiled into both the kernel and the host
 * tool. The format is specified byte by byte in docs/rofs.md; the constants
 * below are the same numbers.
 *
 * The reader works on an image that is entirely in memory (the kernel gets
 * it as a boot module; the host tool maps the file). It never allocates and
 * never writes to the image. Every offset and length read from the image is
 * checked against the image size before use, with overflow-safe arithmetic,
 * so a corrupted or hostile image yields an error code and a message, never
 * an out-of-bounds read or an endless loop:
 *
 *   - rofs_open() checks the superblock, the region table and (unless told
 *     not to) the metadata checksum, and the root directory;
 *   - every accessor (rofs_stat, rofs_readdir, rofs_lookup, ...) validates
 *     the inode or entry it touches before returning anything from it, so
 *     callers may use the results without further checks;
 *   - rofs_check() walks the whole image once and reports every structural
 *     problem (tree shape, ordering, link counts, data digests): run it at
 *     mount time or from `tern check`.
 *
 * Errors come back as an enum rofs_status plus, when the caller passes a
 * struct rofs_error, a one-line message naming the inode/entry at fault.
 */
#ifndef KERN_ROFS_H
#define KERN_ROFS_H

#include <kern/types.h>

/* ---- on-disk format constants (docs/rofs.md) ------------------------- */

#define ROFS_MAGIC          "TernROFS"      /* 8 bytes, no terminator */
#define ROFS_MAGIC_LEN      8
#define ROFS_VERSION_MAJOR  1
#define ROFS_VERSION_MINOR  0
#define ROFS_BLOCK_SIZE     4096u           /* data alignment and image granule */
#define ROFS_SB_SIZE        128u
#define ROFS_INODE_SIZE     96u
#define ROFS_DIRENT_SIZE    16u
#define ROFS_ROOT_INO       1u
#define ROFS_NAME_MAX       255u            /* bytes in one name */
#define ROFS_SYMLINK_MAX    4095u           /* bytes in a symlink target */
#define ROFS_PATH_MAX       4096u           /* bytes in a path given to resolve */
#define ROFS_MAX_INODES     (1u << 24)
#define ROFS_SYMLOOP_MAX    40u             /* symlinks followed in one resolve */

/* Superblock field offsets (all little-endian). */
#define ROFS_SB_MAGIC        0    /* u8[8]  */
#define ROFS_SB_VMAJOR       8    /* u16    */
#define ROFS_SB_VMINOR       10   /* u16    */
#define ROFS_SB_SBSIZE       12   /* u32    */
#define ROFS_SB_INCOMPAT     16   /* u32    */
#define ROFS_SB_COMPAT       20   /* u32    */
#define ROFS_SB_BLOCKSIZE    24   /* u32    */
#define ROFS_SB_CRC          28   /* u32    */
#define ROFS_SB_IMAGESIZE    32   /* u64    */
#define ROFS_SB_DATAOFF      40   /* u64    */
#define ROFS_SB_DATASIZE     48   /* u64    */
#define ROFS_SB_INODEOFF     56   /* u64    */
#define ROFS_SB_INODECOUNT   64   /* u32    */
#define ROFS_SB_INODESIZE    68   /* u32    */
#define ROFS_SB_DIRENTOFF    72   /* u64    */
#define ROFS_SB_DIRENTCOUNT  80   /* u32    */
#define ROFS_SB_DIRENTSIZE   84   /* u32    */
#define ROFS_SB_STRTABOFF    88   /* u64    */
#define ROFS_SB_STRTABSIZE   96   /* u64    */
#define ROFS_SB_ROOTINO      104  /* u32    */
                                  /* 108..127 reserved, zero */

/* Inode field offsets. */
#define ROFS_INO_MODE        0    /* u32 type + permission bits (Linux values) */
#define ROFS_INO_NLINK       4    /* u32 */
#define ROFS_INO_UID         8    /* u32 */
#define ROFS_INO_GID         12   /* u32 */
#define ROFS_INO_MTIME       16   /* s64 seconds */
#define ROFS_INO_MTIME_NSEC  24   /* u32 */
#define ROFS_INO_PARENT      28   /* u32 directories: parent's inode */
#define ROFS_INO_SIZE        32   /* u64 */
#define ROFS_INO_OFFSET      40   /* u64 */
                                  /* 48..63 reserved, zero */
#define ROFS_INO_SHA256      64   /* u8[32] regular files */

/* Directory entry field offsets. */
#define ROFS_DE_INO          0    /* u32 */
#define ROFS_DE_NAMEOFF      4    /* u32 offset in the string table */
#define ROFS_DE_NAMELEN      8    /* u16 */
#define ROFS_DE_TYPE         10   /* u8  ROFS_DT_* */
                                  /* 11..15 reserved, zero */

/* File types: the Linux S_IFMT values, and the d_type values of getdents. */
#define ROFS_S_IFMT   0170000u
#define ROFS_S_IFDIR  0040000u
#define ROFS_S_IFREG  0100000u
#define ROFS_S_IFLNK  0120000u
#define ROFS_DT_DIR   4
#define ROFS_DT_REG   8
#define ROFS_DT_LNK   10

/* ---- reader API --------------------------------------------------------- */

enum rofs_status {
    ROFS_OK = 0,
    /* lookups on a sound image */
    ROFS_ENOENT,        /* no such file or directory */
    ROFS_ENOTDIR,       /* a path component is not a directory */
    ROFS_ELOOP,         /* more than ROFS_SYMLOOP_MAX symlinks */
    ROFS_ENAMETOOLONG,  /* a name or path exceeds the limits */
    ROFS_EINVAL,        /* bad argument (e.g. a relative path, not a symlink) */
    /* a corrupt or foreign image */
    ROFS_ETOOSMALL,     /* shorter than the superblock, or than it claims */
    ROFS_EMAGIC,        /* not a ROFS image */
    ROFS_EVERSION,      /* an incompatible version or feature */
    ROFS_ESUPER,        /* a superblock field out of range */
    ROFS_ECHECKSUM,     /* metadata checksum mismatch */
    ROFS_EINODE,        /* an inode field out of range */
    ROFS_EDIRENT,       /* a directory entry out of range */
    ROFS_ENAME,         /* an invalid name (empty, '/', NUL, ".", "..") */
    ROFS_EORDER,        /* directory entries not strictly sorted */
    ROFS_ETREE,         /* the directory tree is not a tree */
    ROFS_EDATA,         /* file contents do not match their SHA-256 */
    ROFS_NSTATUS
};

/* A short name for a status ("corrupt inode", "no such file or directory"). */
const char *rofs_strstatus(enum rofs_status s);
/* true for the statuses that mean the image itself is bad. */
bool rofs_status_is_corrupt(enum rofs_status s);

#define ROFS_MSG_MAX 192

struct rofs_error {
    enum rofs_status code;
    uint32_t ino;               /* the inode at fault, 0 when none applies */
    char msg[ROFS_MSG_MAX];     /* one line, no trailing newline */
};

/* An opened image. The fields are the validated superblock values; treat
 * them as read-only. */
struct rofs {
    const uint8_t *img;
    uint64_t len;               /* == image_size (trailing bytes ignored) */
    uint16_t version_major, version_minor;
    uint32_t compat;
    uint32_t crc;
    uint64_t data_off, data_size;
    uint64_t inode_off;
    uint32_t inode_count;
    uint64_t dirent_off;
    uint32_t dirent_count;
    uint64_t strtab_off, strtab_size;
};

struct rofs_stat {
    uint32_t ino;
    uint32_t mode;              /* type and permission bits */
    uint32_t nlink, uid, gid;
    int64_t mtime;
    uint32_t mtime_nsec;
    uint32_t parent;            /* directories: the parent's inode */
    uint64_t size;              /* bytes; directories: number of entries */
    const uint8_t *sha256;      /* regular files: the content digest (32 bytes) */
};

struct rofs_dirent {
    uint32_t ino;
    uint8_t type;               /* ROFS_DT_* */
    uint16_t name_len;
    const char *name;           /* in the image; NUL-terminated */
};

#define ROFS_OPEN_NO_CHECKSUM  0x1  /* skip the metadata CRC (tern check, fuzzing) */

/* Validate the superblock (and the metadata CRC unless flags say not to)
 * and fill fs. len is the number of bytes available at img; the image may
 * be followed by padding (a disk rounded up), which is ignored. */
enum rofs_status rofs_open(struct rofs *fs, const void *img, uint64_t len,
                           unsigned flags, struct rofs_error *err);

/* Inode metadata. Validates the inode: its type, and that its data,
 * entries or target lie inside their regions. */
enum rofs_status rofs_stat(const struct rofs *fs, uint32_t ino,
                           struct rofs_stat *st, struct rofs_error *err);

/* The index-th entry (0-based) of directory dir. ROFS_ENOENT past the end.
 * Entries come in name order; "." and ".." are not stored. */
enum rofs_status rofs_readdir(const struct rofs *fs, uint32_t dir,
                              uint64_t index, struct rofs_dirent *de,
                              struct rofs_error *err);

/* Binary search of directory dir for name[0..len). */
enum rofs_status rofs_lookup(const struct rofs *fs, uint32_t dir,
                             const char *name, size_t len, uint32_t *ino,
                             struct rofs_error *err);

/* A regular file's contents: *off is the page-aligned byte offset in the
 * image (0 for an empty file), *size its length. The bytes are at
 * fs->img + *off; rofs_file_ptr gives that pointer. */
enum rofs_status rofs_file_data(const struct rofs *fs, uint32_t ino,
                                uint64_t *off, uint64_t *size,
                                struct rofs_error *err);
const void *rofs_file_ptr(const struct rofs *fs, uint64_t off);

/* A symlink's target (not NUL-counted in len, but NUL-terminated). */
enum rofs_status rofs_readlink(const struct rofs *fs, uint32_t ino,
                               const char **target, size_t *len,
                               struct rofs_error *err);

/* Resolve path[0..len) from directory `cwd` (ROFS_ROOT_INO for absolute
 * paths; a leading '/' always restarts at the root). Handles ".", "..",
 * repeated slashes and symlinks (at most ROFS_SYMLOOP_MAX of them; a link's
 * target is resolved relative to the link's directory). The last component
 * is followed when it is a symlink only if follow is true, or when the path
 * ends in '/', which also requires a directory. ".." of the root is the
 * root. */
enum rofs_status rofs_resolve(const struct rofs *fs, uint32_t cwd,
                              const char *path, size_t len, bool follow,
                              uint32_t *ino, struct rofs_error *err);

/* Full check. Calls report(arg, e) for every problem found (it may be
 * called many times) and fills stats when not NULL. Returns ROFS_OK when
 * nothing was found, otherwise the first problem's status. With
 * ROFS_CHECK_DATA it also hashes every distinct file extent and compares it
 * with the digest in the inode. */
#define ROFS_CHECK_DATA 0x1

struct rofs_check_stats {
    uint64_t dirs, files, symlinks;
    uint64_t file_bytes;        /* sum of regular file sizes */
    uint64_t stored_bytes;      /* bytes of distinct extents actually stored */
    uint64_t dedup_files;       /* files whose data is shared with an earlier one */
    uint64_t problems;
};

enum rofs_status rofs_check(const struct rofs *fs, unsigned flags,
                            void (*report)(void *arg, const struct rofs_error *e),
                            void *arg, struct rofs_check_stats *stats);

/* CRC32C (Castagnoli, reflected, init and final xor 0xffffffff) as used by
 * the superblock; crc is the running value (start with 0). */
uint32_t rofs_crc32c(uint32_t crc, const void *data, size_t len);
/* The metadata checksum of an image: CRC32C of bytes [0, data_off) with the
 * superblock's CRC field taken as zero. data_off must be >= ROFS_SB_SIZE
 * and <= the buffer size. */
uint32_t rofs_meta_crc(const void *img, uint64_t data_off);

#endif
