/*
 * The Linux ABI as x86_64 lays it out, where it differs between
 * architectures: what kernel/linux/ and kernel/mm/ need to answer an
 * x86_64 Linux program without knowing which CPU they run on. Every arch
 * has this header (kernel/arch/<arch>/include/arch/linux_abi.h) with the
 * same names; the layouts are Linux's UAPI (arch/x86/include/uapi/asm/).
 * What every arch shares (the generic sigset, timespec, pollfd, ...) stays
 * in kernel/linux/.
 */
#ifndef ARCH_LINUX_ABI_H
#define ARCH_LINUX_ABI_H

#include <stdint.h>
#include <arch/syscall.h>

/* ---- ELF --------------------------------------------------------------- */

/* The e_machine an app must have (EM_X86_64), and its name in messages. */
#define LINUX_ELF_MACHINE       62
#define LINUX_ELF_MACHINE_NAME  "x86_64"

/* ---- system call frame ---------------------------------------------------
 * The number arrives in rax, the arguments in rdi rsi rdx r10 r8 r9 (r10,
 * not rcx: syscall overwrites rcx), the result leaves in rax. The frame is
 * syscall_entry.S's (arch/syscall.h); it keeps the entry rax in nr, which
 * is also the rax the app gets back when the frame is resumed. */

static inline uint64_t syscall_frame_nr(const struct syscall_frame *f)
{
    return f->nr;
}

/* All six arguments, in order: what the dispatcher hands a handler. */
static inline void syscall_frame_args(const struct syscall_frame *f, uint64_t args[6])
{
    args[0] = f->rdi;
    args[1] = f->rsi;
    args[2] = f->rdx;
    args[3] = f->r10;
    args[4] = f->r8;
    args[5] = f->r9;
}

/* Argument n (0..5). */
static inline uint64_t syscall_frame_arg(const struct syscall_frame *f, unsigned n)
{
    uint64_t args[6];
    syscall_frame_args(f, args);
    return n < 6 ? args[n] : 0;
}

/* What the app sees returned when this frame is resumed (a clone child's
 * 0). A system call's own result is syscall_dispatch's return value. */
static inline void syscall_frame_set_return(struct syscall_frame *f, uint64_t value)
{
    f->nr = value;
}

/* ---- clone --------------------------------------------------------------
 * clone(flags, newsp, parent_tid, child_tid, tls) on x86_64: child_tid
 * comes before tls (Linux's default order; arm64 swaps the two). */
#define LINUX_CLONE_TLS_BEFORE_CHILD_TID 0

/* ---- open flags whose bits differ between arches (asm/fcntl.h) ---------- */
#define O_DIRECT        040000
#define O_LARGEFILE     0100000
#define O_DIRECTORY     0200000
#define O_NOFOLLOW      0400000

/* ---- struct stat (asm/stat.h): 144 bytes -------------------------------- */
struct linux_stat {
    uint64_t st_dev, st_ino, st_nlink;
    uint32_t st_mode, st_uid, st_gid, pad0;
    uint64_t st_rdev;
    int64_t st_size, st_blksize, st_blocks;
    int64_t st_atime, st_atime_nsec, st_mtime, st_mtime_nsec, st_ctime, st_ctime_nsec;
    int64_t unused[3];
};
_Static_assert(sizeof(struct linux_stat) == 144, "x86_64 struct stat layout");

/* ---- struct epoll_event: packed on x86_64 only (EPOLL_PACKED), 12 bytes -- */
struct linux_epoll_event {
    uint32_t events;
    uint64_t data;
} __attribute__((packed));
_Static_assert(sizeof(struct linux_epoll_event) == 12, "x86_64 struct epoll_event layout");

/* ---- the app's address space (kernel/mm/vm.c) ---------------------------
 * The lower half of the 48-bit address space, as Linux on x86_64 with
 * 4-level paging gives a process: static ET_EXEC programs are linked at
 * 0x400000, so the bottom stays free for them; PIE programs load near
 * 0x5555..., mmap grows down from below 0x7f..., the stack sits just under
 * the top. Each base moves down (mmap, stack) or up (PIE) by a random
 * amount: LINUX_*_RND_BITS bits in units of 4 KiB (mmap, PIE) and 64 KiB
 * (stack). */
#define LINUX_USER_START        0x10000UL               /* pages 0..15 never mapped */
#define LINUX_USER_END          0x0000800000000000UL
#define LINUX_MMAP_TOP          0x00007f0000000000UL
#define LINUX_STACK_TOP         0x00007ffff0000000UL
#define LINUX_PIE_BASE          0x0000555500000000UL
#define LINUX_MMAP_RND_BITS     28
#define LINUX_STACK_RND_BITS    16
#define LINUX_PIE_RND_BITS      28

#endif
