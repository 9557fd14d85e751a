/* Futex wake for other parts of the Linux layer (clear_child_tid). */
#ifndef LINUX_FUTEX_H
#define LINUX_FUTEX_H

#include <kern/types.h>

/* Wake up to n waiters on the app word at uaddr. */
int futex_wake_addr(uint32_t *uaddr, int n);

#endif
