/* libfdt_env.h's <string.h>, for the two files that include libfdt.h in
 * the freestanding kernel: the kernel's own string functions, which the
 * library links against too. */
#include <kern/string.h>
