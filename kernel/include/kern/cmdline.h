/* Kernel command line parsing. Syntax (docs/cmdline.md):
 *   option [option ...] [-- app arguments]
 *   option := name | name=value | name="value with spaces"
 * Options are described by a table; unknown names and bad values are
 * errors with a message naming the option. */
#ifndef KERN_CMDLINE_H
#define KERN_CMDLINE_H

#include <kern/types.h>

enum cmdline_type {
    CMDLINE_FLAG,       /* "name" alone sets a bool; "name=0|1|yes|no|on|off|true|false" too */
    CMDLINE_INT,        /* decimal or 0x hex, checked against min..max */
    CMDLINE_STRING,     /* stored as a pointer into the parsed buffer */
    CMDLINE_CHOICE,     /* one of choices[], stored as its index */
    CMDLINE_LIST,       /* repeatable "name=value": each value appended to a cmdline_list */
};

#define CMDLINE_MAX_LIST 64

struct cmdline_list {
    const char *v[CMDLINE_MAX_LIST];    /* pointers into the parsed buffer */
    int n;
};

struct cmdline_option {
    const char *name;
    enum cmdline_type type;
    void *dest;                 /* bool*, long*, const char**, int* */
    long min, max;              /* CMDLINE_INT */
    const char *const *choices; /* CMDLINE_CHOICE, NULL-terminated */
    const char *help;
};

#define CMDLINE_MAX_ARGS 64

struct cmdline_result {
    /* Arguments after "--", pointing into the parsed buffer. */
    const char *argv[CMDLINE_MAX_ARGS];
    int argc;
};

/* Parse buf in place (it is split and unquoted). Returns 0, or -1 with a
 * message in err. Options are applied in order; later ones win. */
int cmdline_parse(char *buf, const struct cmdline_option *opts, size_t nopts,
                  struct cmdline_result *res, char *err, size_t errlen);

#endif
