/*
 * Kernel command line parsing (kern/cmdline.h; the syntax is documented in
 * docs/cmdline.md, keep the two in step).
 *
 * The buffer is split in place: each token is unquoted where it lies (the
 * result is never longer than the raw text) and NUL-terminated, so string
 * options and app arguments can point into it without copying.
 *
 * Every error names the offending option and value in err, because the
 * person reading it is looking at a VM that refused to boot and needs to
 * know what to change.
 */
#include <kern/cmdline.h>
#include <kern/printf.h>
#include <kern/string.h>

#define LONG_MAX_ ((long)(~0UL >> 1))

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __printf(3, 4);
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Add to the message in err, for lists built piece by piece; whatever does
 * not fit is dropped, like snprintf would. */
static void append(char *err, size_t errlen, const char *fmt, ...) __printf(3, 4);
static void append(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    size_t n = strnlen(err, errlen - 1);
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - n, fmt, ap);
    va_end(ap);
}

/*
 * Find the end of the token at p: the first blank outside double quotes, or
 * the end of the buffer. Returns NULL when a quote is left open, so that the
 * caller can report the token before anything has been modified.
 */
static char *token_end(char *p)
{
    bool quoted = false;

    for (; *p != '\0'; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && is_blank(*p))
            break;
    }
    return quoted ? NULL : p;
}

/*
 * Remove the quotes from [p, end) in place and terminate the result. The
 * first '=' outside quotes is returned through eq (NULL if none), so that a
 * quoted '=' stays part of a value and cannot split a token.
 */
static void unquote(char *p, const char *end, char **eq)
{
    bool quoted = false;
    char *w = p;

    *eq = NULL;
    for (; p < end; p++) {
        if (*p == '"') {
            quoted = !quoted;
            continue;
        }
        if (*p == '=' && !quoted && *eq == NULL)
            *eq = w;
        *w++ = *p;
    }
    *w = '\0';
}

static bool valid_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;      /* not a digit in any base we accept */
}

enum num_result { NUM_OK, NUM_NOT_A_NUMBER, NUM_OVERFLOW };

/*
 * "[-]digits" in decimal, or "[-]0x" followed by hex digits. Leading zeros
 * are plain decimal, not octal: loglevel=07 means 7. Overflow is told apart
 * from junk only after the whole string is known to be a number, so that
 * "99999999999999999999x" is reported as not a number.
 */
static enum num_result parse_long(const char *s, long *out)
{
    bool neg = false;
    unsigned base = 10;
    bool overflow = false;

    if (*s == '-') {
        neg = true;
        s++;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0')
        return NUM_NOT_A_NUMBER;

    /* The magnitude is gathered unsigned, against the limit for its sign:
     * -LONG_MIN does not fit in a long. */
    unsigned long limit = (unsigned long)LONG_MAX_ + (neg ? 1 : 0);
    unsigned long mag = 0;
    for (; *s != '\0'; s++) {
        unsigned d = (unsigned)digit_value(*s);
        if (d >= base)
            return NUM_NOT_A_NUMBER;
        if (mag > (limit - d) / base)
            overflow = true;
        else
            mag = mag * base + d;
    }
    if (overflow)
        return NUM_OVERFLOW;
    *out = neg ? -(long)(mag - 1) - 1 : (long)mag;   /* no overflow at LONG_MIN */
    return NUM_OK;
}

static int set_flag(const struct cmdline_option *o, const char *val,
                    char *err, size_t errlen)
{
    static const char *const yes[] = { "1", "yes", "on", "true" };
    static const char *const no[] = { "0", "no", "off", "false" };

    if (val == NULL) {
        *(bool *)o->dest = true;
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (strcmp(val, yes[i]) == 0) {
            *(bool *)o->dest = true;
            return 0;
        }
        if (strcmp(val, no[i]) == 0) {
            *(bool *)o->dest = false;
            return 0;
        }
    }
    return fail(err, errlen, "option '%s' takes no value other than "
                "0/1/yes/no/on/off/true/false, got '%s'", o->name, val);
}

static int set_int(const struct cmdline_option *o, const char *val,
                   char *err, size_t errlen)
{
    long v = 0;

    /* "loglevel" and "loglevel=" are the same mistake. */
    if (val == NULL || *val == '\0')
        return fail(err, errlen, "option '%s' needs a value (%s=N)",
                    o->name, o->name);
    switch (parse_long(val, &v)) {
    case NUM_NOT_A_NUMBER:
        return fail(err, errlen, "option '%s': '%s' is not a number",
                    o->name, val);
    case NUM_OVERFLOW:
        /* Beyond a long is beyond any range a table can give. */
        return fail(err, errlen, "option '%s': '%s' is out of range %ld..%ld",
                    o->name, val, o->min, o->max);
    case NUM_OK:
        break;
    }
    if (v < o->min || v > o->max)
        return fail(err, errlen, "option '%s': '%s' is out of range %ld..%ld",
                    o->name, val, o->min, o->max);
    *(long *)o->dest = v;
    return 0;
}

static int set_string(const struct cmdline_option *o, const char *val,
                      char *err, size_t errlen)
{
    if (val == NULL)
        return fail(err, errlen, "option '%s' needs a value (%s=VALUE)",
                    o->name, o->name);
    *(const char **)o->dest = val;      /* empty is a valid value */
    return 0;
}

static int set_list(const struct cmdline_option *o, const char *val,
                    char *err, size_t errlen)
{
    struct cmdline_list *l = o->dest;
    if (val == NULL)
        return fail(err, errlen, "option '%s' needs a value (%s=VALUE)",
                    o->name, o->name);
    if (l->n == CMDLINE_MAX_LIST)
        return fail(err, errlen, "option '%s': more than %d of them", o->name,
                    CMDLINE_MAX_LIST);
    l->v[l->n++] = val;
    return 0;
}

/* err += the choices joined by sep. */
static void append_choices(const struct cmdline_option *o, const char *sep,
                           char *err, size_t errlen)
{
    for (size_t i = 0; o->choices[i] != NULL; i++)
        append(err, errlen, "%s%s", i > 0 ? sep : "", o->choices[i]);
}

static int set_choice(const struct cmdline_option *o, const char *val,
                      char *err, size_t errlen)
{
    if (val == NULL) {
        fail(err, errlen, "option '%s' needs a value (%s=", o->name, o->name);
        append_choices(o, "|", err, errlen);
        append(err, errlen, ")");
        return -1;
    }
    for (size_t i = 0; o->choices[i] != NULL; i++) {
        if (strcmp(val, o->choices[i]) == 0) {
            *(int *)o->dest = (int)i;
            return 0;
        }
    }
    fail(err, errlen, "option '%s': '%s' is not one of: ", o->name, val);
    append_choices(o, ", ", err, errlen);
    return -1;
}

/* One "name" or "name=value" token, already unquoted; val is NULL when the
 * token has no '='. */
static int apply_option(const char *name, const char *val,
                        const struct cmdline_option *opts, size_t nopts,
                        char *err, size_t errlen)
{
    if (!valid_name(name))
        return fail(err, errlen, "invalid option name '%s' (use letters, "
                    "digits, '_', '-' and '.')", name);

    for (size_t i = 0; i < nopts; i++) {
        const struct cmdline_option *o = &opts[i];
        if (strcmp(o->name, name) != 0)
            continue;
        switch (o->type) {
        case CMDLINE_FLAG:   return set_flag(o, val, err, errlen);
        case CMDLINE_INT:    return set_int(o, val, err, errlen);
        case CMDLINE_STRING: return set_string(o, val, err, errlen);
        case CMDLINE_CHOICE: return set_choice(o, val, err, errlen);
        case CMDLINE_LIST:   return set_list(o, val, err, errlen);
        }
        return fail(err, errlen, "option '%s': bad type %d in the options "
                    "table", name, (int)o->type);
    }
    return fail(err, errlen, "unknown option '%s'", name);
}

int cmdline_parse(char *buf, const struct cmdline_option *opts, size_t nopts,
                  struct cmdline_result *res, char *err, size_t errlen)
{
    bool in_args = false;
    char *p = buf;

    if (res != NULL)
        res->argc = 0;
    if (err != NULL && errlen > 0)
        err[0] = '\0';

    for (;;) {
        while (is_blank(*p))
            p++;
        if (*p == '\0')
            return 0;

        char *tok = p;
        char *end = token_end(tok);
        if (end == NULL)    /* an open quote runs to the end of buf */
            return fail(err, errlen, "unterminated quote in '%s'", tok);
        /* Where to go on, decided before unquoting overwrites *end. */
        p = *end == '\0' ? end : end + 1;

        /* Only a bare "--" ends the options; "--" after it is an
         * argument like any other. */
        if (!in_args && end - tok == 2 && tok[0] == '-' && tok[1] == '-') {
            in_args = true;
            continue;
        }

        char *eq;
        unquote(tok, end, &eq);

        if (in_args) {
            if (res == NULL)
                return fail(err, errlen, "app arguments after '--' are not "
                            "accepted here");
            if (res->argc >= CMDLINE_MAX_ARGS)
                return fail(err, errlen, "too many app arguments (max %d)",
                            CMDLINE_MAX_ARGS);
            res->argv[res->argc++] = tok;
            continue;
        }

        const char *val = NULL;
        if (eq != NULL) {
            *eq = '\0';
            val = eq + 1;
        }
        if (apply_option(tok, val, opts, nopts, err, errlen) < 0)
            return -1;
    }
}
