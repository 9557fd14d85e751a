/* Small helpers shared by the tern tool's commands. */
#ifndef TERN_UTIL_H
#define TERN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Print "tern: <message>" to stderr. */
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "tern: error: <message>". */
void verror(const char *fmt, va_list ap);
/* Print "tern: error: <message>" and exit(2) (usage and input errors). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

void *xmalloc(size_t n);
char *xstrdup(const char *s);

/* Monotonic time in nanoseconds. */
uint64_t now_ns(void);

/* Parse a whole decimal number in [min, max]; false on any junk. */
bool parse_long(const char *s, long min, long max, long *out);

/* Where the shell would find PROG (a name looked up in PATH, or a path
 * taken as it is): the path into OUT, false when it is not executable. */
bool find_on_path(const char *prog, char *out, size_t len);

/* Run argv in a session of its own on a new pseudo-terminal (stdin,
 * stdout and stderr), for a console client that wants a terminal (xl's
 * xenconsole, virsh console); its output is read from *master. The pid,
 * or -1 with err set. */
int spawn_on_pty(char *const argv[], int *master, char *err, size_t errlen);
/* What the client on master's pty has written, to output(data, n, arg),
 * until nothing more comes within wait_ms (0: what is there now). Sets
 * *exit_seen when output returns true (the guest's exit line). False once
 * the pty's other end is closed (the client is gone). */
bool pty_relay(int master, int wait_ms, bool (*output)(const char *data, size_t n, void *arg),
               void *arg, bool *exit_seen);

/* A growable argv for building command lines. */
struct argv_buf {
    char **v;
    size_t n, cap;
};
void argv_add(struct argv_buf *a, const char *s);
void argv_addf(struct argv_buf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void argv_free(struct argv_buf *a);

#endif
