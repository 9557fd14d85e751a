/* Checked access to app memory (kern/uaccess.h). */
#include <kern/errno.h>
#include <kern/string.h>
#include <kern/uaccess.h>
#include <kern/vm.h>

bool user_readable(const void *p, size_t n)
{
    return vm_range_ok((uintptr_t)p, n, PROT_READ);
}

bool user_writable(const void *p, size_t n)
{
    return vm_range_ok((uintptr_t)p, n, PROT_WRITE);
}

int copy_from_user(void *dst, const void *usrc, size_t n)
{
    if (!user_readable(usrc, n))
        return -EFAULT;
    memcpy(dst, usrc, n);
    return 0;
}

int copy_to_user(void *udst, const void *src, size_t n)
{
    if (!user_writable(udst, n))
        return -EFAULT;
    memcpy(udst, src, n);
    return 0;
}

int64_t strncpy_from_user(char *dst, const char *usrc, size_t max)
{
    /* Check page by page: a string may end just before an unmapped page. */
    for (size_t i = 0; i < max; i++) {
        uintptr_t a = (uintptr_t)usrc + i;
        if ((i == 0 || (a & 4095) == 0) && !user_readable((const void *)a, 1))
            return -EFAULT;
        dst[i] = usrc[i];
        if (!dst[i])
            return (int64_t)i;
    }
    return -ENAMETOOLONG;
}
