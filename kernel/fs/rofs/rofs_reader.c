/*
 * The ROFS reader, shared by the kernel and the host tool (see kern/rofs.h
 * for the contract and docs/rofs.md for the format).
 *
 * Rules this file keeps, because the image may be hostile:
 *   - every field is read with byte loads from a position that was checked
 *     against the image size first (no unaligned or out-of-bounds loads);
 *   - sums and products of image-supplied numbers are checked for overflow
 *     before they are compared, or are bounded beforehand so they cannot
 *     overflow (inode and entry counts are at most 2^24);
 *   - no loop runs longer than a bound known before it starts (entry counts
 *     checked against the table, name lengths against 255, symlink follows
 *     against ROFS_SYMLOOP_MAX);
 *   - no allocation, no recursion, no writes to the image.
 *
 * Kernel rules apply too: freestanding, general-purpose registers only.
 */
#include <kern/printf.h>
#include <kern/rofs.h>
#include <kern/sha256.h>
#include <kern/string.h>

/* ---- little-endian loads ------------------------------------------------ */

static inline uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ---- errors ------------------------------------------------------------- */

static const char *const status_names[ROFS_NSTATUS] = {
    [ROFS_OK]           = "ok",
    [ROFS_ENOENT]       = "no such file or directory",
    [ROFS_ENOTDIR]      = "not a directory",
    [ROFS_ELOOP]        = "too many levels of symbolic links",
    [ROFS_ENAMETOOLONG] = "file name too long",
    [ROFS_EINVAL]       = "invalid argument",
    [ROFS_ETOOSMALL]    = "image too small",
    [ROFS_EMAGIC]       = "not a ROFS image",
    [ROFS_EVERSION]     = "unsupported version",
    [ROFS_ESUPER]       = "corrupt superblock",
    [ROFS_ECHECKSUM]    = "metadata checksum mismatch",
    [ROFS_EINODE]       = "corrupt inode",
    [ROFS_EDIRENT]      = "corrupt directory entry",
    [ROFS_ENAME]        = "invalid name",
    [ROFS_EORDER]       = "directory not sorted",
    [ROFS_ETREE]        = "corrupt directory tree",
    [ROFS_EDATA]        = "file data corrupt",
};

const char *rofs_strstatus(enum rofs_status s)
{
    if ((unsigned)s < ROFS_NSTATUS && status_names[s])
        return status_names[s];
    return "unknown error";
}

bool rofs_status_is_corrupt(enum rofs_status s)
{
    return s >= ROFS_ETOOSMALL && s < ROFS_NSTATUS;
}

static enum rofs_status __printf(4, 5)
fail(struct rofs_error *err, enum rofs_status code, uint32_t ino,
     const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        err->ino = ino;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

typedef unsigned long long ull;     /* for printing u64 portably with %llu */

/* ---- CRC32C ------------------------------------------------------------- */

/* Four bits at a time: a 16-entry table is small enough to write out and
 * fast enough for metadata of a few hundred KiB at boot. Polynomial
 * 0x1EDC6F41, reflected (0x82F63B78). */
static const uint32_t crc32c_nibble[16] = {
    0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1,
    0x417b1dbc, 0x5125dad3, 0x61c69362, 0x7198540d,
    0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9,
    0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
};

uint32_t rofs_crc32c(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ crc32c_nibble[crc & 15];
        crc = (crc >> 4) ^ crc32c_nibble[crc & 15];
    }
    return ~crc;
}

uint32_t rofs_meta_crc(const void *img, uint64_t data_off)
{
    static const uint8_t zero[4];
    const uint8_t *p = img;
    uint32_t crc = rofs_crc32c(0, p, ROFS_SB_CRC);
    crc = rofs_crc32c(crc, zero, 4);
    return rofs_crc32c(crc, p + ROFS_SB_CRC + 4,
                       (size_t)(data_off - ROFS_SB_CRC - 4));
}

/* ---- superblock --------------------------------------------------------- */

enum rofs_status rofs_open(struct rofs *fs, const void *img, uint64_t len,
                           unsigned flags, struct rofs_error *err)
{
    const uint8_t *p = img;

    memset(fs, 0, sizeof(*fs));
    if (!img)
        return fail(err, ROFS_EINVAL, 0, "no image");
    if (len < ROFS_SB_SIZE)
        return fail(err, ROFS_ETOOSMALL, 0,
                    "image is %llu bytes, smaller than the %u-byte superblock",
                    (ull)len, ROFS_SB_SIZE);
    if (memcmp(p + ROFS_SB_MAGIC, ROFS_MAGIC, ROFS_MAGIC_LEN) != 0)
        return fail(err, ROFS_EMAGIC, 0, "bad magic: not a ROFS image");

    uint16_t vmajor = le16(p + ROFS_SB_VMAJOR), vminor = le16(p + ROFS_SB_VMINOR);
    if (vmajor != ROFS_VERSION_MAJOR)
        return fail(err, ROFS_EVERSION, 0,
                    "format version %u.%u is not supported (this reader reads %u.x)",
                    vmajor, vminor, ROFS_VERSION_MAJOR);
    uint32_t incompat = le32(p + ROFS_SB_INCOMPAT);
    if (incompat)
        return fail(err, ROFS_EVERSION, 0,
                    "unknown incompatible features 0x%x", incompat);
    uint32_t sbsize = le32(p + ROFS_SB_SBSIZE);
    if (sbsize != ROFS_SB_SIZE)
        return fail(err, ROFS_ESUPER, 0, "superblock size %u, expected %u",
                    sbsize, ROFS_SB_SIZE);
    uint32_t bsize = le32(p + ROFS_SB_BLOCKSIZE);
    if (bsize != ROFS_BLOCK_SIZE)
        return fail(err, ROFS_ESUPER, 0, "block size %u, expected %u",
                    bsize, ROFS_BLOCK_SIZE);

    uint64_t image_size = le64(p + ROFS_SB_IMAGESIZE);
    if (image_size < ROFS_BLOCK_SIZE || !IS_ALIGNED(image_size, ROFS_BLOCK_SIZE))
        return fail(err, ROFS_ESUPER, 0,
                    "image size %llu is not a positive multiple of %u",
                    (ull)image_size, ROFS_BLOCK_SIZE);
    if (image_size > len)
        return fail(err, ROFS_ETOOSMALL, 0,
                    "image truncated: the superblock says %llu bytes, only %llu present",
                    (ull)image_size, (ull)len);

    uint64_t data_off = le64(p + ROFS_SB_DATAOFF);
    uint64_t data_size = le64(p + ROFS_SB_DATASIZE);
    if (data_off < ROFS_BLOCK_SIZE || !IS_ALIGNED(data_off, ROFS_BLOCK_SIZE) ||
        data_off > image_size || data_size != image_size - data_off)
        return fail(err, ROFS_ESUPER, 0,
                    "data region [%llu, +%llu) does not end the %llu-byte image "
                    "at a %u-byte boundary",
                    (ull)data_off, (ull)data_size, (ull)image_size, ROFS_BLOCK_SIZE);

    uint32_t root = le32(p + ROFS_SB_ROOTINO);
    if (root != ROFS_ROOT_INO)
        return fail(err, ROFS_ESUPER, 0, "root inode %u, expected %u",
                    root, ROFS_ROOT_INO);

    /* The tables follow each other in this order, all inside the
     * metadata area [ROFS_SB_SIZE, data_off). Counts are bounded first, so
     * the products below cannot overflow. */
    uint64_t inode_off = le64(p + ROFS_SB_INODEOFF);
    uint32_t inode_count = le32(p + ROFS_SB_INODECOUNT);
    uint32_t inode_size = le32(p + ROFS_SB_INODESIZE);
    if (inode_size != ROFS_INODE_SIZE)
        return fail(err, ROFS_ESUPER, 0, "inode size %u, expected %u",
                    inode_size, ROFS_INODE_SIZE);
    if (inode_count < 1 || inode_count > ROFS_MAX_INODES)
        return fail(err, ROFS_ESUPER, 0, "inode count %u is not in 1..%u",
                    inode_count, ROFS_MAX_INODES);
    uint64_t inode_bytes = (uint64_t)inode_count * ROFS_INODE_SIZE;
    if (inode_off < ROFS_SB_SIZE || !IS_ALIGNED(inode_off, 8) ||
        inode_off > data_off || inode_bytes > data_off - inode_off)
        return fail(err, ROFS_ESUPER, 0,
                    "inode table [%llu, +%llu) is not inside the metadata area [%u, %llu)",
                    (ull)inode_off, (ull)inode_bytes, ROFS_SB_SIZE, (ull)data_off);
    uint64_t inode_end = inode_off + inode_bytes;

    uint64_t dirent_off = le64(p + ROFS_SB_DIRENTOFF);
    uint32_t dirent_count = le32(p + ROFS_SB_DIRENTCOUNT);
    uint32_t dirent_size = le32(p + ROFS_SB_DIRENTSIZE);
    if (dirent_size != ROFS_DIRENT_SIZE)
        return fail(err, ROFS_ESUPER, 0, "directory entry size %u, expected %u",
                    dirent_size, ROFS_DIRENT_SIZE);
    /* In a tree every inode but the root has exactly one entry. */
    if (dirent_count != inode_count - 1)
        return fail(err, ROFS_ESUPER, 0,
                    "%u directory entries for %u inodes (expected %u)",
                    dirent_count, inode_count, inode_count - 1);
    uint64_t dirent_bytes = (uint64_t)dirent_count * ROFS_DIRENT_SIZE;
    if (dirent_off < inode_end || !IS_ALIGNED(dirent_off, 8) ||
        dirent_off > data_off || dirent_bytes > data_off - dirent_off)
        return fail(err, ROFS_ESUPER, 0,
                    "directory entry table [%llu, +%llu) is not between the inode "
                    "table's end (%llu) and the data (%llu)",
                    (ull)dirent_off, (ull)dirent_bytes, (ull)inode_end, (ull)data_off);
    uint64_t dirent_end = dirent_off + dirent_bytes;

    uint64_t strtab_off = le64(p + ROFS_SB_STRTABOFF);
    uint64_t strtab_size = le64(p + ROFS_SB_STRTABSIZE);
    if (strtab_off < dirent_end || strtab_off > data_off ||
        strtab_size > data_off - strtab_off || strtab_size > UINT32_MAX)
        return fail(err, ROFS_ESUPER, 0,
                    "string table [%llu, +%llu) is not between the entry table's "
                    "end (%llu) and the data (%llu)",
                    (ull)strtab_off, (ull)strtab_size, (ull)dirent_end, (ull)data_off);

    uint32_t crc = le32(p + ROFS_SB_CRC);
    if (!(flags & ROFS_OPEN_NO_CHECKSUM)) {
        uint32_t want = rofs_meta_crc(p, data_off);
        if (crc != want)
            return fail(err, ROFS_ECHECKSUM, 0,
                        "metadata checksum 0x%08x, computed 0x%08x", crc, want);
    }

    fs->img = p;
    fs->len = image_size;
    fs->version_major = vmajor;
    fs->version_minor = vminor;
    fs->compat = le32(p + ROFS_SB_COMPAT);
    fs->crc = crc;
    fs->data_off = data_off;
    fs->data_size = data_size;
    fs->inode_off = inode_off;
    fs->inode_count = inode_count;
    fs->dirent_off = dirent_off;
    fs->dirent_count = dirent_count;
    fs->strtab_off = strtab_off;
    fs->strtab_size = strtab_size;

    struct rofs_stat st;
    enum rofs_status s = rofs_stat(fs, ROFS_ROOT_INO, &st, err);
    if (s == ROFS_OK && (st.mode & ROFS_S_IFMT) != ROFS_S_IFDIR)
        s = fail(err, ROFS_ETREE, ROFS_ROOT_INO, "the root inode is not a directory");
    if (s == ROFS_OK && st.parent != ROFS_ROOT_INO)
        s = fail(err, ROFS_ETREE, ROFS_ROOT_INO,
                 "the root directory's parent is %u, not itself", st.parent);
    if (s != ROFS_OK)
        memset(fs, 0, sizeof(*fs));     /* a failed open leaves nothing usable */
    return s;
}

/* ---- inodes ------------------------------------------------------------- */

static const uint8_t *inode_ptr(const struct rofs *fs, uint32_t ino)
{
    return fs->img + fs->inode_off + (uint64_t)(ino - 1) * ROFS_INODE_SIZE;
}

/* A string-table slice [off, off+len) followed by a NUL inside the table,
 * with no NUL inside it. */
static bool strtab_slice_ok(const struct rofs *fs, uint64_t off, uint64_t len)
{
    if (off > fs->strtab_size || len >= fs->strtab_size - off)
        return false;
    const uint8_t *s = fs->img + fs->strtab_off + off;
    return s[len] == 0 && memchr(s, 0, (size_t)len) == NULL;
}

enum rofs_status rofs_stat(const struct rofs *fs, uint32_t ino,
                           struct rofs_stat *st, struct rofs_error *err)
{
    if (!fs->img)
        return fail(err, ROFS_EINVAL, 0, "image not open");
    if (ino < 1 || ino > fs->inode_count)
        return fail(err, ROFS_EINVAL, ino, "inode %u is not in 1..%u",
                    ino, fs->inode_count);

    const uint8_t *p = inode_ptr(fs, ino);
    st->ino = ino;
    st->mode = le32(p + ROFS_INO_MODE);
    st->nlink = le32(p + ROFS_INO_NLINK);
    st->uid = le32(p + ROFS_INO_UID);
    st->gid = le32(p + ROFS_INO_GID);
    st->mtime = (int64_t)le64(p + ROFS_INO_MTIME);
    st->mtime_nsec = le32(p + ROFS_INO_MTIME_NSEC);
    st->parent = le32(p + ROFS_INO_PARENT);
    st->size = le64(p + ROFS_INO_SIZE);
    st->sha256 = p + ROFS_INO_SHA256;
    uint64_t off = le64(p + ROFS_INO_OFFSET);

    if (st->mode & ~(ROFS_S_IFMT | 07777u))
        return fail(err, ROFS_EINODE, ino, "inode %u: mode 0%o has unknown bits",
                    ino, st->mode);
    if (st->mtime_nsec >= 1000000000u)
        return fail(err, ROFS_EINODE, ino, "inode %u: mtime nanoseconds %u >= 10^9",
                    ino, st->mtime_nsec);

    switch (st->mode & ROFS_S_IFMT) {
    case ROFS_S_IFREG:
        if (st->size == 0) {
            if (off != 0)
                return fail(err, ROFS_EINODE, ino,
                            "inode %u: empty file with data offset %llu (must be 0)",
                            ino, (ull)off);
        } else if (!IS_ALIGNED(off, ROFS_BLOCK_SIZE) || off < fs->data_off ||
                   off > fs->len || st->size > fs->len - off) {
            return fail(err, ROFS_EINODE, ino,
                        "inode %u: file data [%llu, +%llu) is not a %u-aligned "
                        "extent of the data region [%llu, %llu)",
                        ino, (ull)off, (ull)st->size, ROFS_BLOCK_SIZE,
                        (ull)fs->data_off, (ull)fs->len);
        }
        break;
    case ROFS_S_IFDIR:
        if (off > fs->dirent_count || st->size > fs->dirent_count - off)
            return fail(err, ROFS_EINODE, ino,
                        "inode %u: directory entries [%llu, +%llu) outside the "
                        "table of %u entries",
                        ino, (ull)off, (ull)st->size, fs->dirent_count);
        if (st->parent < 1 || st->parent > fs->inode_count)
            return fail(err, ROFS_EINODE, ino,
                        "inode %u: parent directory %u is not in 1..%u",
                        ino, st->parent, fs->inode_count);
        break;
    case ROFS_S_IFLNK:
        if (st->size < 1 || st->size > ROFS_SYMLINK_MAX)
            return fail(err, ROFS_EINODE, ino,
                        "inode %u: symlink target length %llu is not in 1..%u",
                        ino, (ull)st->size, ROFS_SYMLINK_MAX);
        if (!strtab_slice_ok(fs, off, st->size))
            return fail(err, ROFS_EINODE, ino,
                        "inode %u: symlink target [%llu, +%llu) is not a "
                        "NUL-terminated string inside the string table (%llu bytes)",
                        ino, (ull)off, (ull)st->size, (ull)fs->strtab_size);
        break;
    default:
        return fail(err, ROFS_EINODE, ino,
                    "inode %u: mode 0%o is not a directory, file or symlink",
                    ino, st->mode);
    }
    return ROFS_OK;
}

/* The raw offset field (validated by rofs_stat before any use). */
static uint64_t inode_offset(const struct rofs *fs, uint32_t ino)
{
    return le64(inode_ptr(fs, ino) + ROFS_INO_OFFSET);
}

static bool is_type(const struct rofs_stat *st, uint32_t type)
{
    return (st->mode & ROFS_S_IFMT) == type;
}

/* stat ino and check that it is of type (ROFS_S_IF*): if not, fails with
 * code, saying "inode N is not a <what>". */
static enum rofs_status stat_as(const struct rofs *fs, uint32_t ino, uint32_t type,
                                enum rofs_status code, const char *what,
                                struct rofs_stat *st, struct rofs_error *err)
{
    enum rofs_status s = rofs_stat(fs, ino, st, err);
    if (s != ROFS_OK)
        return s;
    if (!is_type(st, type))
        return fail(err, code, ino, "inode %u is not a %s", ino, what);
    return ROFS_OK;
}

/* ---- directories -------------------------------------------------------- */

static uint8_t mode_to_dt(uint32_t mode)
{
    switch (mode & ROFS_S_IFMT) {
    case ROFS_S_IFDIR: return ROFS_DT_DIR;
    case ROFS_S_IFREG: return ROFS_DT_REG;
    case ROFS_S_IFLNK: return ROFS_DT_LNK;
    }
    return 0;
}

/* Entry number `global` of the table, owned by directory dir (for
 * messages). Validates everything the entry says. */
static enum rofs_status read_dirent(const struct rofs *fs, uint32_t dir,
                                    uint64_t global, struct rofs_dirent *de,
                                    struct rofs_error *err)
{
    const uint8_t *p = fs->img + fs->dirent_off + global * ROFS_DIRENT_SIZE;
    uint32_t ino = le32(p + ROFS_DE_INO);
    uint32_t name_off = le32(p + ROFS_DE_NAMEOFF);
    uint16_t name_len = le16(p + ROFS_DE_NAMELEN);
    uint8_t type = p[ROFS_DE_TYPE];

    if (ino < 2 || ino > fs->inode_count)
        return fail(err, ROFS_EDIRENT, dir,
                    "directory %u, entry %llu: inode %u is not in 2..%u",
                    dir, (ull)global, ino, fs->inode_count);
    if (name_len < 1 || name_len > ROFS_NAME_MAX)
        return fail(err, ROFS_ENAME, dir,
                    "directory %u, entry %llu: name length %u is not in 1..%u",
                    dir, (ull)global, name_len, ROFS_NAME_MAX);
    if (!strtab_slice_ok(fs, name_off, name_len))
        return fail(err, ROFS_ENAME, dir,
                    "directory %u, entry %llu: name [%u, +%u) is not a "
                    "NUL-terminated string inside the string table",
                    dir, (ull)global, name_off, name_len);
    const char *name = (const char *)fs->img + fs->strtab_off + name_off;
    if (memchr(name, '/', name_len) ||
        (name_len == 1 && name[0] == '.') ||
        (name_len == 2 && name[0] == '.' && name[1] == '.'))
        return fail(err, ROFS_ENAME, dir,
                    "directory %u, entry %llu: name \"%.*s\" is not allowed",
                    dir, (ull)global, (int)name_len, name);

    /* The type byte must agree with the inode, so readdir's d_type can be
     * trusted without a stat. */
    uint32_t cmode = le32(inode_ptr(fs, ino) + ROFS_INO_MODE);
    if (type != mode_to_dt(cmode))
        return fail(err, ROFS_EDIRENT, dir,
                    "directory %u, entry \"%.*s\": type %u does not match "
                    "inode %u's mode 0%o",
                    dir, (int)name_len, name, type, ino, cmode);

    de->ino = ino;
    de->type = type;
    de->name_len = name_len;
    de->name = name;
    return ROFS_OK;
}

/* stat dir and check it is one. */
static enum rofs_status stat_dir(const struct rofs *fs, uint32_t dir,
                                 struct rofs_stat *st, struct rofs_error *err)
{
    return stat_as(fs, dir, ROFS_S_IFDIR, ROFS_ENOTDIR, "directory", st, err);
}

enum rofs_status rofs_readdir(const struct rofs *fs, uint32_t dir,
                              uint64_t index, struct rofs_dirent *de,
                              struct rofs_error *err)
{
    struct rofs_stat st;
    enum rofs_status s = stat_dir(fs, dir, &st, err);
    if (s != ROFS_OK)
        return s;
    if (index >= st.size)
        return fail(err, ROFS_ENOENT, dir, "directory %u has %llu entries",
                    dir, (ull)st.size);
    return read_dirent(fs, dir, inode_offset(fs, dir) + index, de, err);
}

/* Byte order, shorter first on a common prefix: the order of the table. */
static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, MIN(alen, blen));
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

enum rofs_status rofs_lookup(const struct rofs *fs, uint32_t dir,
                             const char *name, size_t len, uint32_t *ino,
                             struct rofs_error *err)
{
    struct rofs_stat st;
    enum rofs_status s = stat_dir(fs, dir, &st, err);
    if (s != ROFS_OK)
        return s;
    if (len > ROFS_NAME_MAX)
        return fail(err, ROFS_ENAMETOOLONG, dir, "name of %zu bytes (limit %u)",
                    len, ROFS_NAME_MAX);

    /* Binary search; at most log2(2^24)+1 probes. An unsorted (corrupt)
     * directory can make it miss, never loop. */
    uint64_t first = inode_offset(fs, dir), lo = 0, hi = st.size;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        struct rofs_dirent de;
        s = read_dirent(fs, dir, first + mid, &de, err);
        if (s != ROFS_OK)
            return s;
        int c = name_cmp(name, len, de.name, de.name_len);
        if (c == 0) {
            *ino = de.ino;
            return ROFS_OK;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return fail(err, ROFS_ENOENT, dir, "\"%.*s\": no such entry in directory %u",
                (int)MIN(len, 64u), name, dir);
}

/* ---- files and symlinks ------------------------------------------------- */

enum rofs_status rofs_file_data(const struct rofs *fs, uint32_t ino,
                                uint64_t *off, uint64_t *size,
                                struct rofs_error *err)
{
    struct rofs_stat st;
    enum rofs_status s = stat_as(fs, ino, ROFS_S_IFREG, ROFS_EINVAL, "regular file", &st, err);
    if (s != ROFS_OK)
        return s;
    *off = inode_offset(fs, ino);
    *size = st.size;
    return ROFS_OK;
}

const void *rofs_file_ptr(const struct rofs *fs, uint64_t off)
{
    return fs->img + off;
}

enum rofs_status rofs_readlink(const struct rofs *fs, uint32_t ino,
                               const char **target, size_t *len,
                               struct rofs_error *err)
{
    struct rofs_stat st;
    enum rofs_status s = stat_as(fs, ino, ROFS_S_IFLNK, ROFS_EINVAL, "symlink", &st, err);
    if (s != ROFS_OK)
        return s;
    *target = (const char *)fs->img + fs->strtab_off + inode_offset(fs, ino);
    *len = (size_t)st.size;
    return ROFS_OK;
}

/* ---- path resolution ---------------------------------------------------- */

/*
 * The path still to walk is a stack of string segments: the caller's path
 * at the bottom and, above it, the targets of the symlinks being followed
 * (they live in the image, so nothing is copied). Each step consumes at
 * least one byte of the top segment or pushes a target, and at most
 * ROFS_SYMLOOP_MAX targets are ever pushed, so the walk ends after at most
 * len + ROFS_SYMLOOP_MAX * (ROFS_SYMLINK_MAX + 1) steps.
 *
 * Invariant: a non-empty segment on the stack starts with a name byte, not
 * a '/', so "no segment left" means "the component just read was the last".
 */
struct seg {
    const char *p;
    size_t len;
};

static void skip_slashes(struct seg *s, bool *seen)
{
    while (s->len && s->p[0] == '/') {
        s->p++;
        s->len--;
        if (seen)
            *seen = true;
    }
}

enum rofs_status rofs_resolve(const struct rofs *fs, uint32_t cwd,
                              const char *path, size_t len, bool follow,
                              uint32_t *ino, struct rofs_error *err)
{
    struct seg stack[ROFS_SYMLOOP_MAX + 1];
    int top = 0;
    unsigned links = 0;
    bool must_dir = false;      /* the final inode must be a directory */
    struct rofs_stat st;
    enum rofs_status s;

    if (len == 0)
        return fail(err, ROFS_ENOENT, 0, "empty path");
    if (len >= ROFS_PATH_MAX)
        return fail(err, ROFS_ENAMETOOLONG, 0, "path of %zu bytes (limit %u)",
                    len, ROFS_PATH_MAX - 1);

    uint32_t cur = path[0] == '/' ? ROFS_ROOT_INO : cwd;
    s = stat_dir(fs, cur, &st, err);
    if (s != ROFS_OK)
        return s;
    stack[0].p = path;
    stack[0].len = len;
    skip_slashes(&stack[0], NULL);
    if (stack[0].len == 0)
        top = -1;               /* "/" itself */

    while (top >= 0) {
        struct seg *sg = &stack[top];
        const char *comp = sg->p;
        size_t n = 0;
        while (n < sg->len && comp[n] != '/')
            n++;
        sg->p += n;
        sg->len -= n;
        bool slash_after = false;
        skip_slashes(sg, &slash_after);
        while (top >= 0 && stack[top].len == 0)
            top--;
        bool last = top < 0;

        if (n > ROFS_NAME_MAX)
            return fail(err, ROFS_ENAMETOOLONG, cur,
                        "path component of %zu bytes (limit %u)", n, ROFS_NAME_MAX);
        if (n == 1 && comp[0] == '.')
            continue;
        if (n == 2 && comp[0] == '.' && comp[1] == '.') {
            /* cur is a directory (checked when it became cur) */
            s = stat_dir(fs, cur, &st, err);
            if (s != ROFS_OK)
                return s;
            uint32_t parent = st.parent;
            s = stat_dir(fs, parent, &st, err);
            if (s != ROFS_OK)
                return s == ROFS_ENOTDIR ?
                    fail(err, ROFS_ETREE, cur,
                         "inode %u: parent %u is not a directory", cur, parent) : s;
            cur = parent;
            continue;
        }

        uint32_t child;
        s = rofs_lookup(fs, cur, comp, n, &child, err);
        if (s == ROFS_ENOENT)
            return fail(err, ROFS_ENOENT, cur, "\"%.*s\" not found",
                        (int)MIN(n, 64u), comp);
        if (s != ROFS_OK)
            return s;
        s = rofs_stat(fs, child, &st, err);
        if (s != ROFS_OK)
            return s;

        if (is_type(&st, ROFS_S_IFLNK) && (!last || follow || slash_after)) {
            if (++links > ROFS_SYMLOOP_MAX)
                return fail(err, ROFS_ELOOP, child,
                            "more than %u symlinks followed", ROFS_SYMLOOP_MAX);
            const char *target;
            size_t tlen;
            s = rofs_readlink(fs, child, &target, &tlen, err);
            if (s != ROFS_OK)
                return s;
            if (last && slash_after)
                must_dir = true;
            struct seg t = { target, tlen };
            if (target[0] == '/') {
                cur = ROFS_ROOT_INO;
                skip_slashes(&t, NULL);
            }
            /* cur stays the link's directory for a relative target */
            if (t.len) {
                /* top < links <= ROFS_SYMLOOP_MAX, so there is room */
                stack[++top] = t;
            }
            continue;
        }
        if (!is_type(&st, ROFS_S_IFDIR) && (!last || slash_after))
            return fail(err, ROFS_ENOTDIR, child, "\"%.*s\" is not a directory",
                        (int)MIN(n, 64u), comp);
        cur = child;
    }

    if (must_dir) {
        s = stat_dir(fs, cur, &st, err);
        if (s != ROFS_OK)
            return s;
    }
    *ino = cur;
    return ROFS_OK;
}

/* ---- full check --------------------------------------------------------- */

struct checker {
    const struct rofs *fs;
    void (*report)(void *arg, const struct rofs_error *e);
    void *arg;
    struct rofs_check_stats *stats;
    enum rofs_status first;
};

static void problem(struct checker *c, const struct rofs_error *e)
{
    if (c->first == ROFS_OK)
        c->first = e->code;
    c->stats->problems++;
    if (c->report)
        c->report(c->arg, e);
}

static void __printf(4, 5)
problemf(struct checker *c, enum rofs_status code, uint32_t ino,
         const char *fmt, ...)
{
    struct rofs_error e;
    va_list ap;
    e.code = code;
    e.ino = ino;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
    va_end(ap);
    problem(c, &e);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Pass 1: each inode on its own. */
static void check_inodes(struct checker *c, unsigned flags)
{
    const struct rofs *fs = c->fs;
    uint64_t data_end = fs->data_off;   /* end of the extents seen so far */

    for (uint32_t ino = 1; ino <= fs->inode_count; ino++) {
        struct rofs_stat st;
        struct rofs_error e;
        if (rofs_stat(fs, ino, &st, &e) != ROFS_OK) {
            problem(c, &e);
            continue;
        }
        const uint8_t *raw = inode_ptr(fs, ino);
        /* Reserved bytes are zero in 1.0; a later minor version may use them. */
        if (fs->version_minor == 0 && !all_zero(raw + 48, 16))
            problemf(c, ROFS_EINODE, ino, "inode %u: reserved bytes are not zero", ino);
        if (!is_type(&st, ROFS_S_IFREG) &&
            !all_zero(raw + ROFS_INO_SHA256, SHA256_DIGEST_SIZE))
            problemf(c, ROFS_EINODE, ino,
                     "inode %u: digest field of a %s is not zero", ino,
                     is_type(&st, ROFS_S_IFDIR) ? "directory" : "symlink");
        if (is_type(&st, ROFS_S_IFDIR)) {
            c->stats->dirs++;
            continue;       /* link count and parent: checked with the tree */
        }
        if (st.nlink != 1)
            problemf(c, ROFS_EINODE, ino, "inode %u: link count %u, expected 1",
                     ino, st.nlink);
        if (st.parent != 0)
            problemf(c, ROFS_EINODE, ino, "inode %u: parent field %u, expected 0",
                     ino, st.parent);
        if (is_type(&st, ROFS_S_IFLNK)) {
            c->stats->symlinks++;
            continue;
        }

        c->stats->files++;
        c->stats->file_bytes += st.size;
        uint64_t off = inode_offset(fs, ino);
        if (st.size) {
            /* Distinct extents are stored in inode order; a file whose
             * data lies before the end of those already seen shares it. */
            if (off >= data_end) {
                c->stats->stored_bytes += st.size;
                data_end = off + st.size;
            } else {
                c->stats->dedup_files++;
            }
        }
        if (flags & ROFS_CHECK_DATA) {
            uint8_t d[SHA256_DIGEST_SIZE];
            sha256(fs->img + off, (size_t)st.size, d);
            if (memcmp(d, st.sha256, SHA256_DIGEST_SIZE) != 0)
                problemf(c, ROFS_EDATA, ino,
                         "inode %u: the SHA-256 of its %llu bytes does not match "
                         "the inode's digest", ino, (ull)st.size);
        }
    }
}

/*
 * Pass 2: the tree. The writer numbers inodes breadth-first and stores the
 * entries of each directory together, directories in inode order; so entry
 * number j of the table names inode j + 2, each directory's entries start
 * where the previous directory's ended, and a child's number is greater
 * than its directory's. Those three rules, checked here, make the image a
 * tree: every inode but the root has exactly one entry, and following
 * parents always decreases the inode number, so there are no cycles.
 */
static void check_tree(struct checker *c)
{
    const struct rofs *fs = c->fs;
    uint64_t next = 0;          /* where the next directory's entries start */

    for (uint32_t dir = 1; dir <= fs->inode_count; dir++) {
        struct rofs_stat st;
        if (rofs_stat(fs, dir, &st, NULL) != ROFS_OK || !is_type(&st, ROFS_S_IFDIR))
            continue;           /* already reported, or not a directory */
        uint64_t first = inode_offset(fs, dir);
        if (first != next) {
            problemf(c, ROFS_ETREE, dir,
                     "directory %u: entries start at %llu, expected %llu",
                     dir, (ull)first, (ull)next);
            /* go on from here, so one bad directory does not cascade */
        }
        next = first + st.size;
        if (dir == ROFS_ROOT_INO ? st.parent != ROFS_ROOT_INO
                                 : st.parent >= dir)
            problemf(c, ROFS_ETREE, dir,
                     "directory %u: parent %u must be %s", dir, st.parent,
                     dir == ROFS_ROOT_INO ? "itself" : "a lower inode number");

        uint32_t subdirs = 0;
        const char *prev = NULL;
        size_t prev_len = 0;
        for (uint64_t i = 0; i < st.size; i++) {
            struct rofs_dirent de;
            struct rofs_error e;
            if (read_dirent(fs, dir, first + i, &de, &e) != ROFS_OK) {
                problem(c, &e);
                prev = NULL;
                continue;
            }
            if (de.ino != first + i + 2)
                problemf(c, ROFS_ETREE, dir,
                         "directory %u, entry \"%.*s\": inode %u, expected %llu",
                         dir, (int)de.name_len, de.name, de.ino,
                         (ull)(first + i + 2));
            else if (de.ino <= dir)
                problemf(c, ROFS_ETREE, dir,
                         "directory %u, entry \"%.*s\": inode %u is not above "
                         "its directory's", dir, (int)de.name_len, de.name, de.ino);
            if (prev && name_cmp(prev, prev_len, de.name, de.name_len) >= 0)
                problemf(c, ROFS_EORDER, dir,
                         "directory %u: \"%.*s\" does not sort after \"%.*s\"",
                         dir, (int)de.name_len, de.name, (int)MIN(prev_len, 64u), prev);
            prev = de.name;
            prev_len = de.name_len;
            if (de.type == ROFS_DT_DIR) {
                struct rofs_stat cst;
                subdirs++;
                if (rofs_stat(fs, de.ino, &cst, NULL) == ROFS_OK &&
                    cst.parent != dir)
                    problemf(c, ROFS_ETREE, de.ino,
                             "directory %u (\"%.*s\" in %u): parent field %u, expected %u",
                             de.ino, (int)de.name_len, de.name, dir, cst.parent, dir);
            }
        }
        if (st.nlink != 2u + subdirs)
            problemf(c, ROFS_ETREE, dir,
                     "directory %u: link count %u, expected %u (2 + %u subdirectories)",
                     dir, st.nlink, 2u + subdirs, subdirs);
    }
    if (next != fs->dirent_count)
        problemf(c, ROFS_ETREE, 0,
                 "directories own %llu entries, the table has %u",
                 (ull)next, fs->dirent_count);
}

enum rofs_status rofs_check(const struct rofs *fs, unsigned flags,
                            void (*report)(void *arg, const struct rofs_error *e),
                            void *arg, struct rofs_check_stats *stats)
{
    struct rofs_check_stats local;
    struct checker c = { fs, report, arg, stats ? stats : &local, ROFS_OK };

    memset(c.stats, 0, sizeof(*c.stats));
    if (!fs->img) {
        problemf(&c, ROFS_EINVAL, 0, "image not open");
        return c.first;
    }
    if (fs->version_minor == 0 && !all_zero(fs->img + 108, ROFS_SB_SIZE - 108))
        problemf(&c, ROFS_ESUPER, 0, "superblock: reserved bytes are not zero");
    check_inodes(&c, flags);
    check_tree(&c);
    return c.first;
}
