/*
 * Manifest parsing and validation (libyaml's document API).
 *
 * The whole document is loaded first, then walked with the schema below, so
 * every message can name the line and column of the key or value it is about.
 * Validation goes on after an error, so one run shows every problem.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "machine.h"
#include "manifest.h"
#include "util.h"

struct ctx {
    struct manifest *m;
    yaml_document_t *doc;
    int errors;
    bool too_many_args;
};

/* ------------------------------------------------------------ messages --- */

static void vreport(const char *file, struct mpos pos, const char *kind,
                    const char *fmt, va_list ap)
{
    fprintf(stderr, "%s:%d:%d: %s: ", file, pos.line, pos.col, kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void manifest_error(const struct manifest *m, struct mpos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(m->path, pos, "error", fmt, ap);
    va_end(ap);
}

void manifest_warning(const struct manifest *m, struct mpos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(m->path, pos, "warning", fmt, ap);
    va_end(ap);
}

static struct mpos pos_of(const yaml_node_t *n)
{
    return (struct mpos){ (int)n->start_mark.line + 1, (int)n->start_mark.column + 1 };
}

static void err(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void err(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(c->m->path, pos_of(n), "error", fmt, ap);
    va_end(ap);
    c->errors++;
}

/* Values are echoed in messages; keep them on one line and short. */
static const char *shown(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (; *p && o + 8 < len; p++) {
        if (*p < 0x20 || *p == 0x7f)
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", *p);
        else
            buf[o++] = (char)*p;
    }
    if (*p)
        memcpy(buf + o, "...", 4);
    else
        buf[o] = 0;
    return buf;
}

/* ---------------------------------------------------------- node access -- */

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)n->data.scalar.value;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
           !strcmp(s, "NULL");
}

static const char *kind_of(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return is_null(n) ? "nothing (null)" : "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/*
 * A scalar value for key `what`, or NULL after reporting why not. A value
 * that holds a NUL (YAML allows "\0") could not be passed on, so it is
 * refused here once for every key.
 */
static const char *want_scalar(struct ctx *c, const yaml_node_t *n, const char *what,
                               const char *expected)
{
    if (n->type != YAML_SCALAR_NODE || is_null(n)) {
        err(c, n, "%s: expected %s, got %s", what, expected, kind_of(n));
        return NULL;
    }
    if (strlen(sval(n)) != n->data.scalar.length) {
        err(c, n, "%s: the value contains a NUL character", what);
        return NULL;
    }
    return sval(n);
}

static yaml_node_t *node(struct ctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

/* ---------------------------------------------------------------- keys --- */

struct key {
    const char *name;
    void (*fn)(struct ctx *c, yaml_node_t *key, yaml_node_t *value);
};

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 32 || lb > 32)
        return 99;
    size_t d[33][33];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

/*
 * Walk a mapping: every key must be a known one, at most once. where is ""
 * for the top level or "network." for a nested mapping.
 */
static void walk_mapping(struct ctx *c, yaml_node_t *map, const char *where,
                         const struct key *keys, size_t nkeys)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        if (k->type != YAML_SCALAR_NODE) {
            err(c, k, "%skeys must be plain words, got %s", where, kind_of(k));
            continue;
        }
        const char *name = sval(k);
        bool dup = false;
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = node(c, q->key);
            if (qk->type == YAML_SCALAR_NODE && !strcmp(sval(qk), name)) {
                err(c, k, "duplicate key '%s%s' (first given at line %d)", where, name,
                    pos_of(qk).line);
                dup = true;
                break;
            }
        }
        if (dup)
            continue;
        size_t i;
        for (i = 0; i < nkeys && strcmp(keys[i].name, name); i++)
            ;
        if (i < nkeys) {
            keys[i].fn(c, k, v);
            continue;
        }
        char buf[80], known[512] = "";
        const char *best = NULL;
        size_t bestd = 3;
        for (size_t j = 0; j < nkeys; j++) {
            size_t d = edit_distance(name, keys[j].name);
            if (d < bestd)
                bestd = d, best = keys[j].name;
            snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                     j ? ", " : "", keys[j].name);
        }
        if (best)
            err(c, k, "unknown key '%s%s' (did you mean '%s'?)", where,
                shown(name, buf, sizeof(buf)), best);
        else
            err(c, k, "unknown key '%s%s' (known keys: %s)", where,
                shown(name, buf, sizeof(buf)), known);
    }
}

/* -------------------------------------------------------- simple values -- */

static void k_name(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    const char *s = want_scalar(c, v, "name", "a name such as 'hello'");
    if (!s)
        return;
    size_t n = strlen(s);
    bool ok = n >= 1 && n <= 64 && s[0] != '.' && s[0] != '-' && s[0] != '_';
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.';
    if (!ok) {
        char buf[80];
        err(c, v, "name: '%s' is not a valid image name (1 to 64 letters, digits, '-', "
            "'_' or '.', starting with a letter or digit)", shown(s, buf, sizeof(buf)));
        return;
    }
    free(c->m->name);
    c->m->name = xstrdup(s);
}

/*
 * arch and platform: any name the machine table (machine.c) has. Whether
 * the pair exists and boots is tern build's question, once it knows which
 * kernel it has; a row that does not boot yet is refused there, naming what
 * is missing.
 */
static const char *machine_name(const struct machine *m, bool arch)
{
    return arch ? m->arch : m->platform;
}

/* The table's distinct arch (or platform) names, "a, b". */
static void machine_names(bool arch, char *out, size_t len)
{
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < machine_count; i++) {
        const char *n = machine_name(&machines[i], arch);
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen |= !strcmp(machine_name(&machines[j], arch), n);
        if (!seen && used < len)
            used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "", n);
    }
}

/* The table's own string for arch (or platform) name s, or NULL. */
static const char *machine_lookup(bool arch, const char *s)
{
    for (size_t i = 0; i < machine_count; i++)
        if (!strcmp(machine_name(&machines[i], arch), s))
            return machine_name(&machines[i], arch);
    return NULL;
}

static void k_machine(struct ctx *c, yaml_node_t *v, bool arch)
{
    const char *key = arch ? "arch" : "platform";
    char names[200], expected[220], buf[80];
    machine_names(arch, names, sizeof(names));
    snprintf(expected, sizeof(expected), "one of %s", names);
    const char *s = want_scalar(c, v, key, expected);
    if (!s)
        return;
    const char *known = machine_lookup(arch, s);
    if (!known)
        err(c, v, "%s: '%s' is not one of: %s", key, shown(s, buf, sizeof(buf)), names);
    else if (arch)
        c->m->arch = known;
    else
        c->m->platform = known;
}

static void k_arch(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    k_machine(c, v, true);
}

static void k_platform(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    k_machine(c, v, false);
}

#define MEMORY_MIN_MIB 16
#define MEMORY_MAX_MIB (1L << 20)

/* "128M", "1G", "1GiB", "65536K", or a plain number of MiB. */
static void k_memory(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    const char *s = want_scalar(c, v, "memory", "a size such as 128M or 1G");
    char buf[80];
    c->m->memory_pos = pos_of(v);
    if (!s)
        return;
    const char *p = s;
    unsigned long long n = 0;
    bool digits = false, overflow = false;
    while (*p >= '0' && *p <= '9') {
        if (n > (1ULL << 50))
            overflow = true;
        else
            n = n * 10 + (unsigned)(*p - '0');
        digits = true;
        p++;
    }
    int shift = -1;
    switch (*p) {
    case 0: shift = 20; break;
    case 'K': case 'k': shift = 10; break;
    case 'M': case 'm': shift = 20; break;
    case 'G': case 'g': shift = 30; break;
    case 'T': case 't': shift = 40; break;
    }
    if (*p && shift >= 0) {
        p++;
        if (!strcmp(p, "iB") || !strcmp(p, "B"))
            p += strlen(p);
    }
    if (!digits || shift < 0 || *p) {
        err(c, v, "memory: '%s' is not a size (write e.g. 128M, 1G or 512 for MiB; "
            "K, M, G and T are binary units)", shown(s, buf, sizeof(buf)));
        return;
    }
    if (overflow || n > ((unsigned long long)MEMORY_MAX_MIB << 20) >> shift) {
        err(c, v, "memory: '%s' is too large (at most 1T)", s);
        return;
    }
    unsigned long long bytes = n << shift;
    if (bytes % (1ULL << 20)) {
        err(c, v, "memory: '%s' is not a whole number of MiB", s);
        return;
    }
    if (bytes >> 20 < MEMORY_MIN_MIB) {
        err(c, v, "memory: '%s' is too small (at least %dM)", s, MEMORY_MIN_MIB);
        return;
    }
    c->m->memory_mib = (long)(bytes >> 20);
}

static void k_cpus(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    const char *s = want_scalar(c, v, "cpus", "a number of vCPUs");
    char buf[80];
    if (s && !parse_long(s, 1, 255, &c->m->cpus))
        err(c, v, "cpus: '%s' is not a number in 1..255", shown(s, buf, sizeof(buf)));
}

static void k_disk(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    const char *s = want_scalar(c, v, "disk", "initrd or virtio-blk");
    char buf[80];
    c->m->disk_pos = pos_of(k);
    if (!s)
        return;
    if (!strcmp(s, "initrd"))
        c->m->disk = DISK_INITRD;
    else if (!strcmp(s, "virtio-blk"))
        c->m->disk = DISK_VIRTIO_BLK;
    else
        err(c, v, "disk: '%s' is not one of: initrd, virtio-blk", shown(s, buf, sizeof(buf)));
}

static void k_boot(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    const char *s = want_scalar(c, v, "boot", "direct or u-boot");
    char buf[80];
    c->m->boot_pos = pos_of(k);
    if (!s)
        return;
    if (!strcmp(s, "direct"))
        c->m->boot = BOOT_DIRECT;
    else if (!strcmp(s, "u-boot"))
        c->m->boot = BOOT_UBOOT;
    else
        err(c, v, "boot: '%s' is not one of: direct, u-boot", shown(s, buf, sizeof(buf)));
}

/* ------------------------------------------------------------- cmdline --- */

static void add_arg(struct ctx *c, const yaml_node_t *n, const char *a, size_t len)
{
    struct manifest *m = c->m;
    if (m->argc >= MANIFEST_MAX_ARGS) {
        if (!c->too_many_args)
            err(c, n, "cmdline: too many arguments (the kernel takes at most %d)",
                MANIFEST_MAX_ARGS);
        c->too_many_args = true;
        return;
    }
    m->argv = realloc(m->argv, (m->argc + 2) * sizeof(*m->argv));
    if (!m->argv)
        die("out of memory");
    char *s = xmalloc(len + 1);
    memcpy(s, a, len);
    s[len] = 0;
    m->argv[m->argc++] = s;
    m->argv[m->argc] = NULL;
}

/* An argument must survive the kernel command line (docs/cmdline.md):
 * there is no escape character, so a double quote cannot be carried. */
static bool arg_ok(struct ctx *c, const yaml_node_t *n, const char *a)
{
    char buf[80];
    if (strchr(a, '"')) {
        err(c, n, "cmdline: argument '%s' contains a double quote, which the kernel "
            "command line cannot carry", shown(a, buf, sizeof(buf)));
        return false;
    }
    if (strpbrk(a, "\n\r")) {
        err(c, n, "cmdline: argument '%s' contains a line break", shown(a, buf, sizeof(buf)));
        return false;
    }
    return true;
}

static void k_cmdline(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    c->m->cmdline_pos = pos_of(v);
    if (v->type == YAML_SEQUENCE_NODE) {
        if (v->data.sequence.items.start == v->data.sequence.items.top) {
            err(c, v, "cmdline: the list is empty; name the program to run, "
                "e.g. [/bin/hello]");
            return;
        }
        for (yaml_node_item_t *i = v->data.sequence.items.start;
             i < v->data.sequence.items.top; i++) {
            yaml_node_t *it = node(c, *i);
            /* An explicit '' is an empty argument; a bare "- " is a mistake. */
            const char *a = want_scalar(c, it, "cmdline", "an argument (a string)");
            if (a && arg_ok(c, it, a))
                add_arg(c, it, a, strlen(a));
        }
        return;
    }
    /* One string: split and unquoted like the kernel's own command line. */
    const char *s = want_scalar(c, v, "cmdline", "a list of arguments or a string");
    if (!s)
        return;
    if (strpbrk(s, "\n\r")) {
        err(c, v, "cmdline: contains a line break");
        return;
    }
    char *tok = xmalloc(strlen(s) + 1);
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *start = p;
        size_t len = 0;
        bool inq = false;
        for (; *p && (inq || (*p != ' ' && *p != '\t')); p++) {
            if (*p == '"')
                inq = !inq;
            else
                tok[len++] = *p;
        }
        if (inq) {
            char buf[80];
            err(c, v, "cmdline: unterminated quote in '%s'", shown(start, buf, sizeof(buf)));
            break;
        }
        add_arg(c, v, tok, len);
    }
    free(tok);
    if (c->m->argc == 0)
        err(c, v, "cmdline: is empty; name the program to run, e.g. /bin/hello");
}

static void k_kernel_options(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    const char *s = want_scalar(c, v, "kernel_options", "a string of kernel options");
    if (!s)
        return;
    if (strpbrk(s, "\n\r")) {
        err(c, v, "kernel_options: contains a line break");
        return;
    }
    /* A bare "--" would turn the rest into app arguments; those belong in
     * cmdline, where they are quoted properly. */
    bool inq = false;
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            inq = !inq;
        bool tok_start = p == s || p[-1] == ' ' || p[-1] == '\t';
        if (!inq && tok_start && p[0] == '-' && p[1] == '-' &&
            (!p[2] || p[2] == ' ' || p[2] == '\t')) {
            err(c, v, "kernel_options: must not contain '--' (the app's arguments "
                "go in cmdline)");
            return;
        }
    }
    free(c->m->kernel_options);
    c->m->kernel_options = xstrdup(s);
}

/* ----------------------------------------------------------------- env --- */

static void k_env(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    struct manifest *m = c->m;
    char buf[80];
    if (v->type != YAML_MAPPING_NODE) {
        err(c, v, "env: expected a mapping of NAME: value, got %s", kind_of(v));
        return;
    }
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    m->env = calloc(n ? n : 1, sizeof(*m->env));
    if (!m->env)
        die("out of memory");
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
        const char *name = want_scalar(c, kn, "env", "a variable name");
        if (!name)
            continue;
        bool ok = (name[0] < '0' || name[0] > '9');
        for (const char *q = name; ok && *q; q++)
            ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                 (*q >= '0' && *q <= '9') || *q == '_';
        if (!ok) {
            err(c, kn, "env: '%s' is not a valid variable name (letters, digits and '_', "
                "not starting with a digit)", shown(name, buf, sizeof(buf)));
            continue;
        }
        bool dup = false;
        for (size_t i = 0; i < m->nenv && !dup; i++)
            dup = !strcmp(m->env[i].key, name);
        if (dup) {
            err(c, kn, "duplicate key 'env.%s'", name);
            continue;
        }
        char what[80];
        snprintf(what, sizeof(what), "env.%s", name);
        const char *val;
        if (vn->type == YAML_SCALAR_NODE && is_null(vn)) {
            err(c, vn, "%s: expected a value, got nothing (write '' for an empty value)", what);
            continue;
        }
        if (!(val = want_scalar(c, vn, what, "a string value")))
            continue;
        if (strpbrk(val, "\n\r")) {
            err(c, vn, "%s: the value contains a line break", what);
            continue;
        }
        m->env[m->nenv].key = xstrdup(name);
        m->env[m->nenv].value = xstrdup(val);
        m->nenv++;
    }
}

/* --------------------------------------------------------------- files --- */

/*
 * Normalize an absolute guest path: "//" and "." parts go, ".." goes up. A
 * ".." above "/" escapes the image and is an error. Returns NULL with why
 * set on error.
 */
static char *normalize_guest(const char *in, const char **why)
{
    if (in[0] != '/') {
        *why = "must be absolute (start with '/')";
        return NULL;
    }
    char *out = xmalloc(strlen(in) + 2);
    size_t o = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/')
            p++;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - s);
        if (n == 0 || (n == 1 && s[0] == '.'))
            continue;
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (o == 0) {
                free(out);
                *why = "escapes '/' (too many '..')";
                return NULL;
            }
            while (o > 0 && out[--o] != '/')
                ;
            continue;
        }
        if (n > 255) {
            free(out);
            *why = "has a component longer than 255 bytes";
            return NULL;
        }
        out[o++] = '/';
        memcpy(out + o, s, n);
        o += n;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = 0;
    return out;
}

static int cmp_file(const void *a, const void *b)
{
    const struct manifest_file *x = a, *y = b;
    int r = strcmp(x->guest, y->guest);
    if (r)
        return r;
    return x->pos.line != y->pos.line ? x->pos.line - y->pos.line : x->pos.col - y->pos.col;
}

static void k_files(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    struct manifest *m = c->m;
    char buf[80], buf2[80];
    if (v->type != YAML_MAPPING_NODE) {
        err(c, v, "files: expected a mapping of /guest/path: host/path, got %s", kind_of(v));
        return;
    }
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    m->files = calloc(n ? n : 1, sizeof(*m->files));
    if (!m->files)
        die("out of memory");
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
        const char *g = want_scalar(c, kn, "files", "a guest path");
        if (!g)
            continue;
        const char *why = "is not valid";
        char *guest = normalize_guest(g, &why);
        if (!guest) {
            err(c, kn, "files: guest path '%s' %s", shown(g, buf, sizeof(buf)), why);
            continue;
        }
        if (!strcmp(guest, "/.tern") || !strncmp(guest, "/.tern/", 7)) {
            err(c, kn, "files: guest path '%s' is reserved (tern build writes /.tern)",
                shown(g, buf, sizeof(buf)));
            free(guest);
            continue;
        }
        char what[300];
        snprintf(what, sizeof(what), "files.%s", shown(g, buf, sizeof(buf)));
        const char *h = want_scalar(c, vn, what, "a host path");
        if (!h) {
            free(guest);
            continue;
        }
        char *hp;
        if (h[0] == '/' || !strcmp(m->dir, ".")) {
            hp = xstrdup(h);
        } else {
            hp = xmalloc(strlen(m->dir) + strlen(h) + 2);
            sprintf(hp, "%s/%s", m->dir, h);
        }
        struct stat st;
        bool bad = true;
        if (lstat(hp, &st) != 0) {
            err(c, vn, "%s: host path '%s' does not exist (looked for %s)", what,
                shown(h, buf2, sizeof(buf2)), hp);
        } else if (stat(hp, &st) != 0) {
            err(c, vn, "%s: host path '%s' is a broken symbolic link", what,
                shown(h, buf2, sizeof(buf2)));
        } else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
            err(c, vn, "%s: host path '%s' is not a regular file or a directory", what,
                shown(h, buf2, sizeof(buf2)));
        } else if (access(hp, R_OK) != 0) {
            err(c, vn, "%s: host path '%s' cannot be read: %s", what,
                shown(h, buf2, sizeof(buf2)), strerror(errno));
        } else if (!strcmp(guest, "/") && !S_ISDIR(st.st_mode)) {
            err(c, vn, "files./: host path '%s' must be a directory (its contents "
                "become the image's root)", shown(h, buf2, sizeof(buf2)));
        } else {
            bad = false;
        }
        if (bad) {
            free(hp);
            free(guest);
            continue;
        }
        struct manifest_file *f = &m->files[m->nfiles++];
        f->guest = guest;
        f->host = xstrdup(h);
        f->host_path = hp;
        f->host_is_dir = S_ISDIR(st.st_mode);
        f->pos = pos_of(kn);
        f->value_pos = pos_of(vn);
    }
    /* Two entries for one guest path (after normalization). */
    qsort(m->files, m->nfiles, sizeof(*m->files), cmp_file);
    for (size_t i = 1; i < m->nfiles; i++) {
        if (strcmp(m->files[i].guest, m->files[i - 1].guest))
            continue;
        fprintf(stderr, "%s:%d:%d: error: files: duplicate guest path '%s' (also given "
                "at line %d)\n", m->path, m->files[i].pos.line, m->files[i].pos.col,
                m->files[i].guest, m->files[i - 1].pos.line);
        c->errors++;
    }
}

/* ------------------------------------------------------------- network --- */

static bool parse_ipv4(const char *s, uint32_t *out, const char **rest)
{
    uint32_t ip = 0;
    for (int i = 0; i < 4; i++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned v = 0;
        int digits = 0;
        const char *start = s;
        while (*s >= '0' && *s <= '9' && digits < 4)
            v = v * 10 + (unsigned)(*s++ - '0'), digits++;
        /* Leading zeros read as octal in some tools: refuse them. */
        if (v > 255 || digits > 3 || (digits > 1 && *start == '0'))
            return false;
        ip = ip << 8 | v;
        if (i < 3 && *s++ != '.')
            return false;
    }
    *out = ip;
    *rest = s;
    return true;
}

void format_ipv4(uint32_t ip, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

void format_mac(const uint8_t mac[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
             mac[4], mac[5]);
}

static uint32_t prefix_mask(int prefix)
{
    return prefix ? 0xffffffffu << (32 - prefix) : 0;
}

struct netparse {
    yaml_node_t *mode, *tap, *bridge, *mac, *ip, *netmask, *gateway;
};
static struct netparse *cur_net;

#define NETKEY(field)                                                          \
    static void k_net_##field(struct ctx *c, yaml_node_t *k, yaml_node_t *v) { \
        cur_net->field = v;                                                    \
    }
NETKEY(mode)
NETKEY(tap)
NETKEY(bridge)
NETKEY(mac)
NETKEY(ip)
NETKEY(netmask)
NETKEY(gateway)

static bool set_mode(struct ctx *c, yaml_node_t *v, const char *what)
{
    const char *s = want_scalar(c, v, what, "none, user, tap or bridge");
    char buf[80];
    if (!s)
        return false;
    static const char *const names[] = { "none", "user", "tap", "bridge" };
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            c->m->net.mode = (enum net_mode)i;
            return true;
        }
    err(c, v, "%s: '%s' is not one of: none, user, tap, bridge", what,
        shown(s, buf, sizeof(buf)));
    return false;
}

static void net_ifname(struct ctx *c, yaml_node_t *v, const char *what)
{
    const char *s = want_scalar(c, v, what, "a host interface name");
    char buf[80];
    if (!s)
        return;
    bool ok = strlen(s) >= 1 && strlen(s) <= 15;
    for (const char *p = s; ok && *p; p++)
        ok = *p > ' ' && *p < 0x7f && *p != '/' && *p != ':' && *p != '\'' && *p != '"' &&
             *p != ',';
    if (!ok) {
        err(c, v, "%s: '%s' is not a host interface name (1 to 15 characters, no blanks, "
            "'/', ':', ',' or quotes)", what, shown(s, buf, sizeof(buf)));
        return;
    }
    c->m->net.ifname = xstrdup(s);
}

static void k_network(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    struct manifest_net *net = &c->m->net;
    char buf[80];
    if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
        /* Shorthand: "network: user". */
        if (set_mode(c, v, "network") && (net->mode == NET_TAP || net->mode == NET_BRIDGE)) {
            err(c, v, "network: mode '%s' needs a mapping naming the %s device, e.g. "
                "{mode: %s, %s: %s}", sval(v), sval(v), sval(v), sval(v),
                net->mode == NET_TAP ? "tap0" : "br0");
        }
        return;
    }
    if (v->type != YAML_MAPPING_NODE) {
        err(c, v, "network: expected a mode (none, user, tap, bridge) or a mapping, got %s",
            kind_of(v));
        return;
    }
    static const struct key keys[] = {
        { "mode", k_net_mode }, { "tap", k_net_tap }, { "bridge", k_net_bridge },
        { "mac", k_net_mac }, { "ip", k_net_ip }, { "netmask", k_net_netmask },
        { "gateway", k_net_gateway },
    };
    struct netparse np = { 0 };
    cur_net = &np;
    walk_mapping(c, v, "network.", keys, sizeof(keys) / sizeof(keys[0]));
    cur_net = NULL;

    if (!np.mode) {
        err(c, v, "network: missing key 'mode' (none, user, tap or bridge)");
        return;
    }
    if (!set_mode(c, np.mode, "network.mode"))
        return;
    const char *mode = sval(np.mode);
    if (net->mode == NET_NONE) {
        yaml_node_t *extra[] = { np.tap, np.bridge, np.mac, np.ip, np.netmask, np.gateway };
        for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
            if (extra[i]) {
                err(c, extra[i], "network: mode 'none' has no network interface; remove "
                    "the other network keys");
                return;
            }
        return;
    }
    if (np.tap && net->mode != NET_TAP)
        err(c, np.tap, "network.tap: only for mode 'tap' (the mode is '%s')", mode);
    if (np.bridge && net->mode != NET_BRIDGE)
        err(c, np.bridge, "network.bridge: only for mode 'bridge' (the mode is '%s')", mode);
    if (net->mode == NET_TAP) {
        if (np.tap)
            net_ifname(c, np.tap, "network.tap");
        else
            err(c, np.mode, "network: mode 'tap' needs 'tap: DEVICE' (a host tap device)");
    }
    if (net->mode == NET_BRIDGE) {
        if (np.bridge)
            net_ifname(c, np.bridge, "network.bridge");
        else
            err(c, np.mode, "network: mode 'bridge' needs 'bridge: BRIDGE' (a host bridge)");
    }

    if (np.mac) {
        const char *s = want_scalar(c, np.mac, "network.mac", "a MAC address");
        if (s) {
            unsigned b[6];
            int used = 0;
            bool ok = strlen(s) == 17 &&
                      sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3],
                             &b[4], &b[5], &used) == 6 && used == 17;
            for (int i = 0; ok && i < 17; i++)
                ok = (i % 3 == 2) ? s[i] == ':' :
                     ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                      (s[i] >= 'A' && s[i] <= 'F'));
            if (!ok) {
                err(c, np.mac, "network.mac: '%s' is not a MAC address (six hex bytes like "
                    "52:54:00:12:34:56)", shown(s, buf, sizeof(buf)));
            } else if (b[0] & 1) {
                err(c, np.mac, "network.mac: '%s' is a multicast address (the first byte "
                    "must be even)", s);
            } else if (!(b[0] | b[1] | b[2] | b[3] | b[4] | b[5])) {
                err(c, np.mac, "network.mac: '%s' is the all-zero address", s);
            } else {
                for (int i = 0; i < 6; i++)
                    net->mac[i] = (uint8_t)b[i];
            }
        }
    }

    if (np.ip) {
        const char *s = want_scalar(c, np.ip, "network.ip", "dhcp or A.B.C.D[/PREFIX]");
        const char *rest;
        long prefix = -1;
        if (!s) {
            /* reported */
        } else if (!strcmp(s, "dhcp")) {
            net->dhcp = true;
        } else if (!parse_ipv4(s, &net->ip, &rest) ||
                   (*rest && (*rest != '/' || !parse_long(rest + 1, 0, 32, &prefix)))) {
            err(c, np.ip, "network.ip: '%s' is not an IPv4 address (A.B.C.D, A.B.C.D/PREFIX "
                "or dhcp)", shown(s, buf, sizeof(buf)));
        } else {
            net->has_ip = true;
            net->prefix = prefix >= 0 ? (int)prefix : -1;
        }
    } else if (np.netmask || np.gateway) {
        err(c, np.netmask ? np.netmask : np.gateway, "network.%s: needs a static "
            "'ip: A.B.C.D'", np.netmask ? "netmask" : "gateway");
    }
    if (np.netmask && (net->has_ip || net->dhcp)) {
        const char *s = want_scalar(c, np.netmask, "network.netmask", "A.B.C.D");
        uint32_t mask;
        const char *rest;
        if (!s) {
        } else if (net->dhcp) {
            err(c, np.netmask, "network.netmask: not with 'ip: dhcp'");
        } else if (net->prefix >= 0) {
            err(c, np.netmask, "network.netmask: the prefix is already given in ip");
        } else if (!parse_ipv4(s, &mask, &rest) || *rest ||
                   (~mask & (~mask + 1)) != 0) {
            err(c, np.netmask, "network.netmask: '%s' is not a netmask (e.g. 255.255.255.0)",
                shown(s, buf, sizeof(buf)));
        } else {
            net->prefix = __builtin_popcount(mask);
        }
    }
    if (net->has_ip && net->prefix < 0)
        net->prefix = 24;
    if (np.gateway && (net->has_ip || net->dhcp)) {
        const char *s = want_scalar(c, np.gateway, "network.gateway", "A.B.C.D");
        const char *rest;
        if (!s) {
        } else if (net->dhcp) {
            err(c, np.gateway, "network.gateway: not with 'ip: dhcp' (DHCP supplies it)");
        } else if (!parse_ipv4(s, &net->gateway, &rest) || *rest) {
            err(c, np.gateway, "network.gateway: '%s' is not an IPv4 address",
                shown(s, buf, sizeof(buf)));
        } else if ((net->gateway & prefix_mask(net->prefix)) !=
                   (net->ip & prefix_mask(net->prefix))) {
            char ip[16];
            format_ipv4(net->ip, ip);
            err(c, np.gateway, "network.gateway: %s is not in the image's subnet %s/%d", s,
                ip, net->prefix);
        } else if (net->gateway == net->ip) {
            err(c, np.gateway, "network.gateway: %s is the image's own address", s);
        } else {
            net->has_gateway = true;
        }
    }
}

/* -------------------------------------------------------------- ports --- */

static struct mpos ports_pos;

static void k_ports(struct ctx *c, yaml_node_t *k, yaml_node_t *v)
{
    ports_pos = pos_of(k);
    if (v->type != YAML_SEQUENCE_NODE) {
        err(c, v, "ports: expected a list of HOST:GUEST ports (e.g. [\"8007:7\"]), got %s",
            kind_of(v));
        return;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    c->m->ports = calloc(n ? n : 1, sizeof(*c->m->ports));
    if (!c->m->ports)
        die("out of memory");
    for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
         i++) {
        yaml_node_t *it = node(c, *i);
        const char *s = want_scalar(c, it, "ports", "HOST:GUEST (e.g. \"8007:7\")");
        char why[160];
        struct port_fwd p;
        if (!s)
            continue;
        if (!port_parse(s, &p, why, sizeof(why))) {
            err(c, it, "ports: %s", why);
            continue;
        }
        for (size_t j = 0; j < c->m->nports; j++)
            if (c->m->ports[j].host == p.host && c->m->ports[j].udp == p.udp) {
                err(c, it, "ports: host port %d is forwarded twice", p.host);
                break;
            }
        c->m->ports[c->m->nports++] = p;
    }
}

/* ------------------------------------------------------------ the file --- */

static const struct key top_keys[] = {
    { "name", k_name }, { "arch", k_arch }, { "platform", k_platform },
    { "memory", k_memory }, { "cpus", k_cpus }, { "cmdline", k_cmdline },
    { "kernel_options", k_kernel_options }, { "env", k_env }, { "files", k_files },
    { "network", k_network }, { "disk", k_disk }, { "ports", k_ports },
    { "boot", k_boot },
};

void manifest_free(struct manifest *m)
{
    free(m->path);
    free(m->dir);
    free(m->name);
    for (size_t i = 0; i < m->argc && m->argv; i++)
        free(m->argv[i]);
    free(m->argv);
    free(m->kernel_options);
    free(m->ports);
    for (size_t i = 0; i < m->nenv; i++) {
        free(m->env[i].key);
        free(m->env[i].value);
    }
    free(m->env);
    for (size_t i = 0; i < m->nfiles; i++) {
        free(m->files[i].guest);
        free(m->files[i].host);
        free(m->files[i].host_path);
    }
    free(m->files);
    free(m->net.ifname);
    memset(m, 0, sizeof(*m));
}

static void syntax_error(const struct manifest *m, const yaml_parser_t *p)
{
    struct mpos pos = { (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1 };
    if (p->error == YAML_READER_ERROR) {
        /* Bad encoding: the reader knows a byte offset, not a line. */
        fprintf(stderr, "%s: error: YAML: %s at byte %zu\n", m->path,
                p->problem ? p->problem : "unreadable input", p->problem_offset);
        return;
    }
    if (p->context)
        fprintf(stderr, "%s:%d:%d: error: YAML syntax: %s (%s at line %d, column %d)\n",
                m->path, pos.line, pos.col, p->problem ? p->problem : "error", p->context,
                (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    else
        fprintf(stderr, "%s:%d:%d: error: YAML syntax: %s\n", m->path, pos.line, pos.col,
                p->problem ? p->problem : "error");
}

/*
 * Files that are plainly not manifests are named for what they are (an
 * image directory, a kernel or program, a ROFS image, other binary data)
 * rather than reported as YAML errors. Returns false after saying so.
 */
static bool looks_like_manifest(const char *path, FILE *f)
{
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        char probe[4200];
        snprintf(probe, sizeof(probe), "%s/qemu.args", path);
        fprintf(stderr, "tern: error: '%s' is a directory, not a manifest%s\n", path,
                access(probe, F_OK) == 0 ? " (an image directory: boot it with tern run DIR)"
                                         : " (name the .yaml file that describes the image)");
        return false;
    }
    unsigned char head[512];
    size_t n = fread(head, 1, sizeof(head), f);
    rewind(f);
    const char *what = NULL;
    if (n >= 4 && !memcmp(head, "\177ELF", 4))
        what = "an ELF file (a program or kernel): a manifest names programs under files: "
               "and cmdline:";
    else if (n >= 8 && !memcmp(head, "TernROFS", 8))
        what = "a ROFS image (list it with tern ls, or name it in a manifest's files:)";
    else if (memchr(head, 0, n))
        what = "binary data, not YAML text";
    if (what) {
        fprintf(stderr, "tern: error: '%s' is not a manifest: it is %s\n", path, what);
        return false;
    }
    return true;
}

int manifest_load(const char *path, struct manifest *m)
{
    return manifest_load_as(path, NULL, m);
}

int manifest_load_as(const char *path, const char *platform, struct manifest *m)
{
    memset(m, 0, sizeof(*m));
    /* "-": the manifest comes on standard input; host paths are relative
     * to the current directory. */
    bool from_stdin = !strcmp(path, "-");
    if (from_stdin)
        path = "<stdin>";
    m->path = xstrdup(path);
    const char *slash = from_stdin ? NULL : strrchr(path, '/');
    if (!slash)
        m->dir = xstrdup(".");
    else if (slash == path)
        m->dir = xstrdup("/");
    else {
        m->dir = xstrdup(path);
        m->dir[slash - path] = 0;
    }
    /* The machine table's first row is the default machine. */
    m->arch = machines[0].arch;
    m->platform = machines[0].platform;
    m->memory_mib = 128;
    m->memory_pos = (struct mpos){ 1, 1 };
    m->cpus = 1;
    m->kernel_options = xstrdup("");
    m->disk = DISK_INITRD;

    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tern: error: manifest '%s': %s\n", path, strerror(errno));
        manifest_free(m);
        return 1;
    }
    if (!from_stdin && !looks_like_manifest(path, f)) {
        fclose(f);
        manifest_free(m);
        return 1;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    struct ctx c = { .m = m, .doc = &doc };
    if (!yaml_parser_initialize(&parser))
        die("libyaml: cannot initialize the parser");
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_error(m, &parser);
        c.errors++;
        goto out_parser;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        fprintf(stderr, "%s:1:1: error: the manifest is empty (it needs at least 'name')\n",
                path);
        c.errors++;
        goto out_doc;
    }
    if (root->type != YAML_MAPPING_NODE) {
        err(&c, root, "expected a mapping of keys (name: ..., files: ...) at the top, got %s",
            kind_of(root));
        goto out_doc;
    }
    walk_mapping(&c, root, "", top_keys, sizeof(top_keys) / sizeof(top_keys[0]));
    bool has_name = false;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(&c, p->key);
        has_name |= k->type == YAML_SCALAR_NODE && !strcmp(sval(k), "name");
    }
    if (!has_name)
        err(&c, root, "missing key 'name' (the image's name, e.g. name: hello)");
    if (platform) {
        const char *known = machine_lookup(false, platform);
        if (known) {
            m->platform = known;
        } else {
            char names[200];
            machine_names(false, names, sizeof(names));
            fprintf(stderr, "tern: error: --platform %s: not one of: %s\n", platform, names);
            c.errors++;
        }
    }

    m->checked = true;
    /* The whole kernel command line must fit the kernel's buffer. */
    {
        char *cl = manifest_kernel_cmdline(m);
        if (strlen(cl) > MANIFEST_CMDLINE_MAX) {
            fprintf(stderr, "%s:1:1: error: the kernel command line (kernel_options and "
                    "cmdline) is %zu bytes; the kernel takes at most %d\n", path, strlen(cl),
                    MANIFEST_CMDLINE_MAX);
            c.errors++;
        }
        free(cl);
    }

    if (m->net.mode != NET_NONE && !m->net.has_ip)
        m->net.dhcp = true;
    if (m->nports && m->net.mode != NET_USER) {
        fprintf(stderr, "%s:%d:%d: error: ports: forwarding is for user-mode networking "
                "(network: user)%s\n", path, ports_pos.line, ports_pos.col,
                m->net.mode == NET_NONE ? "; the image has no network" :
                "; on a tap or bridge network the guest has its own address, reach it there");
        c.errors++;
    }

    /* U-Boot images: Debian's u-boot-qemu has a firmware for QEMU's arm64
     * virt board only, and the FIT carries the ROFS as its ramdisk. */
    const struct machine *bm = machine_find(m->arch, m->platform);
    if (m->boot == BOOT_UBOOT && !(bm && bm->uboot_firmware)) {
        fprintf(stderr, "%s:%d:%d: error: boot: u-boot is for arch: aarch64 on platform: "
                "kvm (QEMU's virt board with Debian's u-boot-qemu), not %s/%s\n", path,
                m->boot_pos.line, m->boot_pos.col, m->arch, m->platform);
        c.errors++;
    }
    if (m->boot == BOOT_UBOOT && m->disk != DISK_INITRD) {
        fprintf(stderr, "%s:%d:%d: error: disk: virtio-blk cannot go with boot: u-boot (line "
                "%d): the ROFS is the FIT's ramdisk (use disk: initrd, the default)\n", path,
                m->disk_pos.line, m->disk_pos.col, m->boot_pos.line);
        c.errors++;
    }

    /* Deterministic default MAC from the name: locally administered, unicast
     * (QEMU's 52:54:00 prefix), stable across builds. */
    if (m->name && !(m->net.mac[0] | m->net.mac[1] | m->net.mac[2] | m->net.mac[3] |
                     m->net.mac[4] | m->net.mac[5])) {
        uint32_t h = 2166136261u;
        for (const char *p = m->name; *p; p++)
            h = (h ^ (uint8_t)*p) * 16777619u;
        uint8_t mac[6] = { 0x52, 0x54, 0x00, (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h };
        memcpy(m->net.mac, mac, 6);
    }

    /* A second document is almost certainly a mistake (a stray "---"). */
    if (!c.errors) {
        yaml_document_t next;
        if (yaml_parser_load(&parser, &next)) {
            yaml_node_t *r2 = yaml_document_get_root_node(&next);
            if (r2) {
                err(&c, r2, "a second YAML document ('---'): a manifest is one document");
            }
            yaml_document_delete(&next);
        } else {
            syntax_error(m, &parser);
            c.errors++;
        }
    }
out_doc:
    yaml_document_delete(&doc);
out_parser:
    yaml_parser_delete(&parser);
    if (!from_stdin)
        fclose(f);
    /* A manifest whose keys were all looked at is kept for the caller's
     * own checks (m->checked), so that one run reports every problem. */
    if (c.errors && !m->checked)
        manifest_free(m);
    return c.errors;
}

char *manifest_kernel_cmdline(const struct manifest *m)
{
    size_t len = strlen(m->kernel_options) + 4;
    for (size_t i = 0; i < m->argc; i++)
        len += strlen(m->argv[i]) + 3;
    char *s = xmalloc(len + 1), *p = s;
    p += sprintf(p, "%s", m->kernel_options);
    if (m->argc) {
        p += sprintf(p, "%s--", *m->kernel_options ? " " : "");
        for (size_t i = 0; i < m->argc; i++) {
            const char *a = m->argv[i];
            /* Quote what would otherwise split or vanish; the kernel strips
             * the quotes (docs/cmdline.md). */
            bool q = !*a || strpbrk(a, " \t");
            p += sprintf(p, q ? " \"%s\"" : " %s", a);
        }
    }
    *p = 0;
    return s;
}
