/* Opening paths as kfiles (kernel/linux/rofs_file.c). */
#ifndef LINUX_ROFS_FILE_H
#define LINUX_ROFS_FILE_H

#include <kern/file.h>

/* Open an absolute path with Linux open flags. */
int path_open(const char *path, int flags, struct kfile **out);
/* Is path one of the device files (and its stat, when st)? */
bool path_is_device(const char *path, struct kstat *st);

#endif
