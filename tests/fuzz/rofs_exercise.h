/*
 * Drive every entry point of the ROFS reader over one (possibly hostile)
 * image. Shared by the libFuzzer target (fuzz_rofs.c) and the unit tests'
 * deterministic mutation run (tests/unit/test_rofs.c), so both exercise
 * the same paths. Under AddressSanitizer any out-of-bounds read, and under
 * the fuzzer's timeout any endless loop, shows up as a failure; results
 * are only sanity-checked here (e.g. that what the reader returns lies
 * inside the image).
 */
#ifndef ROFS_EXERCISE_H
#define ROFS_EXERCISE_H

#include <kern/rofs.h>
#include <kern/string.h>

/* Abort (a crash the harness reports) when a returned region is outside
 * the image: the reader promised it would not be. */
#define ROFS_EX_ASSERT(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static void rofs_ex_touch(const struct rofs *fs, const void *p, uint64_t len)
{
    const uint8_t *b = p;
    ROFS_EX_ASSERT(b >= fs->img && len <= fs->len &&
                   (uint64_t)(b - fs->img) <= fs->len - len);
    /* read the first and last byte so ASan sees the access */
    volatile uint8_t sink;
    if (len) {
        sink = b[0];
        sink = b[len - 1];
    }
    (void)sink;
}

static void rofs_ex_walk(const struct rofs *fs, unsigned budget)
{
    /* Breadth over inode numbers rather than recursion: bounded work. */
    uint32_t n = fs->inode_count < budget ? fs->inode_count : budget;
    for (uint32_t ino = 1; ino <= n; ino++) {
        struct rofs_stat st;
        if (rofs_stat(fs, ino, &st, NULL) != ROFS_OK)
            continue;
        switch (st.mode & ROFS_S_IFMT) {
        case ROFS_S_IFDIR:
            for (uint64_t i = 0; i < st.size && i < budget; i++) {
                struct rofs_dirent de;
                if (rofs_readdir(fs, ino, i, &de, NULL) != ROFS_OK)
                    continue;
                rofs_ex_touch(fs, de.name, de.name_len + 1u);
                ROFS_EX_ASSERT(de.name[de.name_len] == 0);
                uint32_t found;
                rofs_lookup(fs, ino, de.name, de.name_len, &found, NULL);
                rofs_resolve(fs, ino, de.name, de.name_len, false, &found, NULL);
                rofs_resolve(fs, ino, de.name, de.name_len, true, &found, NULL);
            }
            rofs_lookup(fs, ino, "zz", 2, &(uint32_t){ 0 }, NULL);
            break;
        case ROFS_S_IFREG: {
            uint64_t off, size;
            if (rofs_file_data(fs, ino, &off, &size, NULL) == ROFS_OK)
                rofs_ex_touch(fs, rofs_file_ptr(fs, off), size);
            break;
        }
        case ROFS_S_IFLNK: {
            const char *t;
            size_t len;
            if (rofs_readlink(fs, ino, &t, &len, NULL) == ROFS_OK) {
                rofs_ex_touch(fs, t, len + 1);
                ROFS_EX_ASSERT(t[len] == 0);
            }
            break;
        }
        }
    }
    static const char *const paths[] = {
        "/", "/a", "/a/b", "/a/../a/./b/", "/e", "/e/", "//a//c/d",
        "/a/c/d/..", "/x/y/z", "..", "a/b", "/../../..", "/e/x",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        uint32_t ino;
        size_t len = strlen(paths[i]);
        rofs_resolve(fs, ROFS_ROOT_INO, paths[i], len, true, &ino, NULL);
        rofs_resolve(fs, ROFS_ROOT_INO, paths[i], len, false, &ino, NULL);
    }
}

/* Open (strictly and without the checksum), walk, and fully check. */
static void rofs_exercise(const uint8_t *data, size_t len)
{
    struct rofs fs;
    struct rofs_error e;
    struct rofs_check_stats st;
    if (rofs_open(&fs, data, len, 0, &e) == ROFS_OK)
        rofs_ex_walk(&fs, 4096);
    if (rofs_open(&fs, data, len, ROFS_OPEN_NO_CHECKSUM, &e) == ROFS_OK) {
        rofs_ex_walk(&fs, 4096);
        rofs_check(&fs, fs.len <= (1u << 20) ? ROFS_CHECK_DATA : 0, NULL, NULL, &st);
    } else {
        ROFS_EX_ASSERT(e.code != ROFS_OK && e.msg[0]);
    }
}

#endif
