/* What gcc's <limits.h> includes next for the C library's part: nothing
 * (libfdt_env.h needs only the integer limits gcc itself defines). */
