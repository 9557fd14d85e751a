/*
 * Building a ROFS image on the host (image/rofs_write.c). The format is
 * specified byte by byte in docs/rofs.md; the reader that validates it is
 * shared with the kernel (kernel/fs/rofs/).
 *
 * Usage: create a builder, add entries in any order (parent directories are
 * created implicitly with mode 0755 and the builder's default owner/mtime),
 * then write. Errors return -1 and put a one-line message in err (naming the
 * guest path, and the host path where there is one).
 */
#ifndef TERN_ROFS_WRITE_H
#define TERN_ROFS_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rofs_builder;

struct rofs_meta {
    uint32_t mode;      /* permission bits only (07777); the type is implied */
    uint32_t uid, gid;
    int64_t mtime;      /* seconds since the epoch (SOURCE_DATE_EPOCH clamps it) */
};

struct rofs_builder *rofs_builder_new(void);
void rofs_builder_free(struct rofs_builder *b);

/* The owner, mode and mtime of implied parent directories (and of "/" until
 * it is added explicitly). Default: mode 0755, uid 0, gid 0, mtime 0. */
void rofs_builder_set_defaults(struct rofs_builder *b, const struct rofs_meta *m);

/* guest_path is absolute ("/etc/hosts"), normalized, no "." or ".." parts. */
int rofs_add_dir(struct rofs_builder *b, const char *guest_path,
                 const struct rofs_meta *m, char *err, size_t errlen);
/* The file's bytes are read from host_path when the image is written. */
int rofs_add_file(struct rofs_builder *b, const char *guest_path,
                  const char *host_path, const struct rofs_meta *m,
                  char *err, size_t errlen);
int rofs_add_file_data(struct rofs_builder *b, const char *guest_path,
                       const void *data, size_t len, const struct rofs_meta *m,
                       char *err, size_t errlen);
int rofs_add_symlink(struct rofs_builder *b, const char *guest_path,
                     const char *target, const struct rofs_meta *m,
                     char *err, size_t errlen);

/* Write the whole image to fd (a regular file, positioned at 0). Calls
 * progress(done_bytes, total_bytes, arg) now and then when not NULL.
 * Deterministic: the same entries give the same bytes. */
int rofs_builder_write(struct rofs_builder *b, int fd,
                       void (*progress)(uint64_t done, uint64_t total, void *arg),
                       void *arg, char *err, size_t errlen);

#endif
