/* Error numbers: Linux's values, since Linux programs see them directly. */
#ifndef KERN_ERRNO_H
#define KERN_ERRNO_H

#define EPERM         1
#define ENOENT        2
#define EIO           5
#define EBADF         9
#define ENOMEM       12
#define EACCES       13
#define EFAULT       14
#define EEXIST       17
#define ENOTDIR      20
#define EISDIR       21
#define EINVAL       22
#define EMFILE       24
#define ENOSPC       28
#define ESPIPE       29
#define EROFS        30
#define ENAMETOOLONG 36
#define ENOSYS       38
#define ELOOP        40

#endif
