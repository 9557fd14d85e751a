/*
 * The Linux ABI as arm64 lays it out, where it differs between
 * architectures: the aarch64 counterpart of
 * kernel/arch/x86_64/include/arch/linux_abi.h, with the same names.
 * arm64 has no layouts of its own for these: it uses Linux's generic UAPI
 * (<asm-generic/stat.h>, <linux/eventpoll.h> without EPOLL_PACKED), and
 * its system call numbers are the generic table's (uapi/asm/unistd.h here,
 * read by scripts/gen-syscalls.sh).
 */
#ifndef ARCH_LINUX_ABI_H
#define ARCH_LINUX_ABI_H

#include <stdint.h>
#include <arch/syscall.h>

/* ---- ELF --------------------------------------------------------------- */

/* The e_machine an app must have (EM_AARCH64), and its name in messages. */
#define LINUX_ELF_MACHINE       183
#define LINUX_ELF_MACHINE_NAME  "aarch64"

/* ---- system call frame ---------------------------------------------------
 * An app enters with svc #0: the number in x8, the arguments in x0-x5, the
 * result leaves in x0. x0 is both argument 0 and the result, so the frame's
 * x0 holds the argument for as long as the call runs and the entry code
 * writes the result there on the way out.
 *
 * struct syscall_frame is the arch's own, in <arch/syscall.h>, laid out by
 * its entry assembly. These accessors need only that it names the general
 * registers as an array regs[31] (x0..x30, as Linux's user_pt_regs does);
 * everything else in it is the entry code's business. */

static inline uint64_t syscall_frame_nr(const struct syscall_frame *f)
{
    return f->regs[8];
}

/* All six arguments, in order: what the dispatcher hands a handler. */
static inline void syscall_frame_args(const struct syscall_frame *f, uint64_t args[6])
{
    for (int i = 0; i < 6; i++)
        args[i] = f->regs[i];
}

/* Argument n (0..5). */
static inline uint64_t syscall_frame_arg(const struct syscall_frame *f, unsigned n)
{
    return n < 6 ? f->regs[n] : 0;
}

/* What the app sees returned when this frame is resumed (a clone child's
 * 0). A system call's own result is syscall_dispatch's return value. */
static inline void syscall_frame_set_return(struct syscall_frame *f, uint64_t value)
{
    f->regs[0] = value;
}

/* ---- clone --------------------------------------------------------------
 * clone(flags, newsp, parent_tid, tls, child_tid) on arm64: tls comes
 * before child_tid (Linux's CONFIG_CLONE_BACKWARDS order, which arm64's
 * libcs use: musl's and glibc's aarch64 clone put tls in x3). */
#define LINUX_CLONE_TLS_BEFORE_CHILD_TID 1

/* ---- open flags whose bits differ between arches: arm64's asm/fcntl.h
 * swaps O_DIRECTORY/O_NOFOLLOW with O_DIRECT/O_LARGEFILE ----------------- */
#define O_DIRECTORY     040000
#define O_NOFOLLOW      0100000
#define O_DIRECT        0200000
#define O_LARGEFILE     0400000

/* ---- struct stat (asm-generic/stat.h): 128 bytes ------------------------ */
struct linux_stat {
    uint64_t st_dev, st_ino;
    uint32_t st_mode, st_nlink, st_uid, st_gid;
    uint64_t st_rdev;
    uint64_t pad1;
    int64_t st_size;
    int32_t st_blksize, pad2;
    int64_t st_blocks;
    int64_t st_atime;
    uint64_t st_atime_nsec;
    int64_t st_mtime;
    uint64_t st_mtime_nsec;
    int64_t st_ctime;
    uint64_t st_ctime_nsec;
    uint32_t unused4, unused5;
};
_Static_assert(sizeof(struct linux_stat) == 128, "arm64 struct stat layout");

/* ---- struct epoll_event: naturally aligned on arm64, 16 bytes ----------- */
struct linux_epoll_event {
    uint32_t events;
    uint64_t data;
};
_Static_assert(sizeof(struct linux_epoll_event) == 16, "arm64 struct epoll_event layout");

/* ---- the app's address space (kernel/mm/vm.c) ---------------------------
 * The 48-bit lower half (TTBR0), as Linux on arm64 with 4 KiB pages and
 * 48-bit VAs gives a process: static ET_EXEC programs are linked at
 * 0x400000; PIE programs load near 0xaaaa... (Linux's ELF_ET_DYN_BASE,
 * 2/3 of the space), mmap grows down from below 0xff..., the stack sits
 * just under the top. Randomness is Linux's arm64 default: 18 bits of
 * 4 KiB pages for mmap and PIE, 1 GiB (14 bits of 64 KiB) for the stack. */
#define LINUX_USER_START        0x10000UL               /* pages 0..15 never mapped */
#define LINUX_USER_END          0x0001000000000000UL
#define LINUX_MMAP_TOP          0x0000ff0000000000UL
#define LINUX_STACK_TOP         0x0000fffff0000000UL
#define LINUX_PIE_BASE          0x0000aaaa00000000UL
#define LINUX_MMAP_RND_BITS     18
#define LINUX_STACK_RND_BITS    14
#define LINUX_PIE_RND_BITS      18

#endif
