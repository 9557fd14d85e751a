/*
 * Process-wide odds and ends: uname, getrandom, resource limits, user and
 * group ids (everything is root), umask, prctl's thread name, sysinfo.
 */
#include <kern/errno.h>
#include <kern/file.h>
#include <kern/page_alloc.h>
#include <kern/percpu.h>
#include <kern/random.h>
#include <kern/string.h>
#include <kern/syscall.h>
#include <kern/thread.h>
#include <kern/timer.h>
#include <kern/uaccess.h>
#include "linux.h"

struct utsname {
    char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

SYSCALL1(uname, struct utsname *, ubuf)
{
    struct utsname u;
    memset(&u, 0, sizeof(u));
    strlcpy(u.sysname, "Linux", sizeof(u.sysname));
    strlcpy(u.nodename, "tern", sizeof(u.nodename));
    /* A Linux release number C libraries accept for every feature they
     * probe; the version says what this really is. */
    strlcpy(u.release, "6.1.0-tern", sizeof(u.release));
    strlcpy(u.version, "Tern " TERN_VERSION, sizeof(u.version));
    strlcpy(u.machine, TERN_ARCH, sizeof(u.machine));
    strlcpy(u.domainname, "(none)", sizeof(u.domainname));
    return copy_to_user(ubuf, &u, sizeof(u));
}

#define GRND_NONBLOCK 1
#define GRND_RANDOM   2
#define GRND_INSECURE 4

SYSCALL3(getrandom, void *, ubuf, size_t, len, unsigned, flags)
{
    if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) ||
        (flags & (GRND_RANDOM | GRND_INSECURE)) == (GRND_RANDOM | GRND_INSECURE))
        return -EINVAL;
    if (len > 0x1ffffff)
        len = 0x1ffffff;                /* Linux's per-call limit */
    if (!user_writable(ubuf, len))
        return -EFAULT;
    random_to_app(ubuf, len);
    return (int64_t)len;
}

void random_to_app(void *ubuf, size_t n)
{
    /* Through a kernel buffer: random_bytes holds a spinlock, and app
     * memory may not be touched under one. */
    uint8_t tmp[256];
    for (size_t done = 0; done < n;) {
        size_t k = MIN(n - done, sizeof(tmp));
        random_bytes(tmp, k);
        memcpy((uint8_t *)ubuf + done, tmp, k);
        done += k;
    }
}

/* ---- resource limits ----------------------------------------------------------- */

#define RLIMIT_NLIMITS 16
#define RLIM_INFINITY (~0ULL)

struct rlimit {
    uint64_t cur, max;
};

static struct rlimit limits[RLIMIT_NLIMITS] = {
    [0] = { RLIM_INFINITY, RLIM_INFINITY },             /* CPU */
    [1] = { RLIM_INFINITY, RLIM_INFINITY },             /* FSIZE */
    [2] = { RLIM_INFINITY, RLIM_INFINITY },             /* DATA */
    [3] = { 8 << 20, RLIM_INFINITY },                   /* STACK: the main stack */
    [4] = { 0, RLIM_INFINITY },                         /* CORE */
    [5] = { RLIM_INFINITY, RLIM_INFINITY },             /* RSS */
    [6] = { 1024, 1024 },                               /* NPROC */
    [7] = { FD_MAX, FD_MAX },                         /* NOFILE */
    [8] = { 8 << 20, 8 << 20 },                         /* MEMLOCK */
    [9] = { RLIM_INFINITY, RLIM_INFINITY },             /* AS */
    [10] = { RLIM_INFINITY, RLIM_INFINITY },            /* LOCKS */
    [11] = { 0, 0 },                                    /* SIGPENDING */
    [12] = { 819200, 819200 },                          /* MSGQUEUE */
    [13] = { 0, 0 },                                    /* NICE */
    [14] = { 0, 0 },                                    /* RTPRIO */
    [15] = { RLIM_INFINITY, RLIM_INFINITY },            /* RTTIME */
};

SYSCALL4(prlimit64, int, pid, unsigned, resource, const struct rlimit *, unew,
         struct rlimit *, uold)
{
    if (pid != 0 && pid != APP_PID)
        return -ESRCH;
    if (resource >= RLIMIT_NLIMITS)
        return -EINVAL;
    struct rlimit nl;
    if (unew) {
        if (copy_from_user(&nl, unew, sizeof(nl)))
            return -EFAULT;
        if (nl.cur > nl.max)
            return -EINVAL;
        /* Raising a hard limit needs privilege we have; NOFILE cannot
         * go past the descriptor table. */
        if (resource == 7 && nl.max > FD_MAX)
            return -EPERM;
    }
    if (uold && copy_to_user(uold, &limits[resource], sizeof(limits[resource])))
        return -EFAULT;
    if (unew)
        limits[resource] = nl;
    return 0;
}

SYSCALL2(getrlimit, unsigned, resource, struct rlimit *, uold)
{
    return sys_prlimit64(0, resource, NULL, uold);
}

SYSCALL2(setrlimit, unsigned, resource, const struct rlimit *, unew)
{
    return sys_prlimit64(0, resource, unew, NULL);
}

/* ---- users: root only --------------------------------------------------------- */

SYSCALL0(getuid)  { return 0; }
SYSCALL0(geteuid) { return 0; }
SYSCALL0(getgid)  { return 0; }
SYSCALL0(getegid) { return 0; }
SYSCALL1(setuid, unsigned, uid) { return uid == 0 ? 0 : -EPERM; }
SYSCALL1(setgid, unsigned, gid) { return gid == 0 ? 0 : -EPERM; }
SYSCALL2(getgroups, int, size, unsigned *, ulist)
{
    return size < 0 ? -EINVAL : 0;
}

static unsigned umask_value = 022;

SYSCALL1(umask, unsigned, mask)
{
    return __atomic_exchange_n(&umask_value, mask & 0777, __ATOMIC_RELAXED);
}

/* ---- prctl: thread names ---------------------------------------------------------- */

#define PR_SET_NAME 15
#define PR_GET_NAME 16

SYSCALL5(prctl, int, option, uintptr_t, arg2, uintptr_t, a3, uintptr_t, a4, uintptr_t, a5)
{
    struct thread *t = thread_current();
    char name[16];
    switch (option) {
    case PR_SET_NAME: {
        int64_t n = strncpy_from_user(name, (const char *)arg2, sizeof(name));
        if (n == -EFAULT)
            return -EFAULT;
        name[sizeof(name) - 1] = 0;
        strlcpy(t->name, name, sizeof(t->name));
        return 0;
    }
    case PR_GET_NAME:
        memset(name, 0, sizeof(name));
        strlcpy(name, t->name, sizeof(name));
        return copy_to_user((void *)arg2, name, sizeof(name));
    default:
        return -EINVAL;
    }
}

struct linux_sysinfo {
    int64_t uptime;
    uint64_t loads[3];
    uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    uint16_t procs, pad;
    uint64_t totalhigh, freehigh;
    uint32_t mem_unit;
    char reserved[4];
};

SYSCALL1(sysinfo, struct linux_sysinfo *, uinfo)
{
    struct page_stats ps;
    struct linux_sysinfo si;
    page_alloc_stats(&ps);
    memset(&si, 0, sizeof(si));
    si.uptime = (int64_t)(clock_monotonic_ns() / 1000000000);
    si.totalram = ps.total_pages * 4096;
    si.freeram = ps.free_pages * 4096;
    si.procs = 1;
    si.mem_unit = 1;
    return copy_to_user(uinfo, &si, sizeof(si));
}
