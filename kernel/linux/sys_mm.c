/*
 * Memory system calls over the app's address space (kern/vm.h): brk,
 * mmap, munmap, mprotect, madvise, mremap, and the calls that have nothing
 * to do in a unikernel without swap (mlock, msync on a read-only file
 * system).
 */
#include <arch/mm.h>
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/syscall.h>
#include <kern/vm.h>
#include "linux.h"

#define MAP_SHARED          0x01
#define MAP_PRIVATE         0x02
#define MAP_SHARED_VALIDATE 0x03
#define MAP_TYPE            0x0f
#define MAP_FIXED           0x10
#define MAP_ANONYMOUS       0x20
#define MAP_GROWSDOWN       0x100
#define MAP_DENYWRITE       0x800
#define MAP_EXECUTABLE      0x1000
#define MAP_LOCKED          0x2000
#define MAP_NORESERVE       0x4000
#define MAP_POPULATE        0x8000
#define MAP_NONBLOCK        0x10000
#define MAP_STACK           0x20000
#define MAP_HUGETLB         0x40000
#define MAP_SYNC            0x80000
#define MAP_FIXED_NOREPLACE 0x100000

#define MADV_NORMAL     0
#define MADV_RANDOM     1
#define MADV_SEQUENTIAL 2
#define MADV_WILLNEED   3
#define MADV_DONTNEED   4
#define MADV_FREE       8

#define PROT_GROWSDOWN 0x01000000
#define PROT_GROWSUP   0x02000000

SYSCALL1(brk, uintptr_t, want)
{
    mutex_lock(&proc.lock);
    uintptr_t cur = proc.brk, out;
    if (want >= proc.brk_start && want < VM_USER_END) {
        uintptr_t old_end = ALIGN_UP(cur, PAGE_SIZE), new_end = ALIGN_UP(want, PAGE_SIZE);
        int err = 0;
        if (new_end > old_end)
            err = vm_map(old_end, new_end - old_end, PROT_READ | PROT_WRITE,
                         VM_FIXED | VM_NOREPLACE, NULL, 0, &out);
        else if (new_end < old_end)
            err = vm_unmap(new_end, old_end - new_end);
        if (!err)
            proc.brk = cur = want;
    }
    mutex_unlock(&proc.lock);
    return (int64_t)cur;                /* Linux: the old break on failure */
}

SYSCALL6(mmap, uintptr_t, addr, size_t, len, int, prot, int, flags, int, fd, int64_t, off)
{
    const int known = MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_DENYWRITE |
                      MAP_EXECUTABLE | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE |
                      MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_SYNC | MAP_FIXED_NOREPLACE;
    int type = flags & MAP_TYPE;
    if (!len || (off & (PAGE_SIZE - 1)) || off < 0)
        return -EINVAL;
    if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    if (type == MAP_SHARED_VALIDATE && (flags & ~known))
        return -EOPNOTSUPP;
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
        return -EINVAL;
    if (flags & MAP_HUGETLB)
        return -EINVAL;                 /* no huge page pool */
    if (len > VM_USER_END)
        return -ENOMEM;

    struct vm_file file, *filep = NULL;
    if (!(flags & MAP_ANONYMOUS)) {
        struct kfile *f = fd_get(fd);
        if (!f)
            return -EBADF;
        int err = f->ops->mmap ? f->ops->mmap(f, &file) : -ENODEV;
        int acc = f->flags & O_ACCMODE;
        if (!err && acc == O_WRONLY)
            err = -EACCES;
        /* A shared writable mapping would write to the file: read-only. */
        if (!err && type != MAP_PRIVATE && (prot & PROT_WRITE))
            err = acc == O_RDONLY ? -EACCES : -EROFS;
        kfile_put(f);
        if (err)
            return err;
        filep = &file;
    }
    unsigned vflags = 0;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
        vflags |= VM_FIXED;
    if (flags & MAP_FIXED_NOREPLACE)
        vflags |= VM_NOREPLACE;
    if (flags & (MAP_POPULATE | MAP_LOCKED))
        vflags |= VM_POPULATE;
    if ((vflags & VM_FIXED) && (addr & (PAGE_SIZE - 1)))
        return -EINVAL;
    if (!(vflags & VM_FIXED))
        addr = ALIGN_DOWN(addr, PAGE_SIZE);
    uintptr_t out;
    int err = vm_map(addr, len, (unsigned)prot, vflags, filep, (uint64_t)off, &out);
    return err ? err : (int64_t)out;
}

SYSCALL2(munmap, uintptr_t, addr, size_t, len)
{
    return vm_unmap(addr, len);
}

SYSCALL3(mprotect, uintptr_t, addr, size_t, len, int, prot)
{
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP))
        return -EINVAL;
    return vm_protect(addr, len, (unsigned)prot & (PROT_READ | PROT_WRITE | PROT_EXEC));
}

SYSCALL3(madvise, uintptr_t, addr, size_t, len, int, advice)
{
    if (addr & (PAGE_SIZE - 1))
        return -EINVAL;
    switch (advice) {
    case MADV_DONTNEED:
        return len ? vm_discard(addr, len) : 0;
    case MADV_FREE:                     /* may be freed: keeping them is fine */
    case MADV_NORMAL:
    case MADV_RANDOM:
    case MADV_SEQUENTIAL:
    case MADV_WILLNEED:
        return 0;
    default:
        /* Hints we do not act on (hugepages, dump, merge...) succeed on
         * Linux too when the range is valid. */
        return advice >= 0 && advice <= 25 ? 0 : -EINVAL;
    }
}

SYSCALL5(mremap, uintptr_t, old, size_t, old_len, size_t, new_len, unsigned, flags,
         uintptr_t, new_addr)
{
    uintptr_t out;
    int err = vm_remap(old, old_len, new_len, flags, new_addr, &out);
    return err ? err : (int64_t)out;
}

#define MS_ASYNC      1
#define MS_INVALIDATE 2
#define MS_SYNC       4

SYSCALL3(msync, uintptr_t, addr, size_t, len, int, flags)
{
    if ((addr & (PAGE_SIZE - 1)) || (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return -EINVAL;
    return 0;
}

#define MCL_CURRENT 1
#define MCL_FUTURE  2
#define MCL_ONFAULT 4

/* No swap: everything is always resident. */
SYSCALL2(mlock, uintptr_t, addr, size_t, len) { return 0; }
SYSCALL2(munlock, uintptr_t, addr, size_t, len) { return 0; }
SYSCALL1(mlockall, int, flags)
{
    if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
        return -EINVAL;
    return 0;
}
SYSCALL0(munlockall) { return 0; }
