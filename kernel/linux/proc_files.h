/* Generated files under /proc and /sys (kernel/linux/proc_files.c). */
#ifndef LINUX_PROC_FILES_H
#define LINUX_PROC_FILES_H

#include <kern/file.h>

/* Open one of them; -ENOENT when path is not one. */
int proc_open(const char *path, int flags, struct kfile **out);

#endif
