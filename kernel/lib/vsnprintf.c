/*
 * vsnprintf: C99 formatted output into a buffer, for the subset that kernel
 * code needs (see kern/printf.h). No floating point: kernel C is built
 * general-regs-only, so %f and friends are simply unknown conversions.
 *
 * Deliberate differences from C99, all in corners kernel code never uses:
 *  - An unknown conversion (including %n, %f, %ls) is copied to the output
 *    literally, "%y" -> "%y", and consumes no argument.
 *  - %s with NULL prints "(null)" (cut by the precision like any string);
 *    %p with NULL prints "(nil)", as glibc does.
 *  - A result longer than INT_MAX returns INT_MAX instead of -1, so callers
 *    that test "n >= size" for truncation never see a negative length.
 *
 * This file must not depend on kernel/lib/string.c: the printf unit test
 * links it alone.
 */
#include <kern/printf.h>

#define INT_MAX_ ((int)(~0U >> 1))

/* Where output goes: buf[0..size-1] holds the text that fits, len counts
 * everything, written or not, for the C99 return value. */
struct sink {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct sink *s, const char *p, size_t n)
{
    /* One byte of buf is kept for the terminator. */
    if (s->len + 1 < s->size) {
        size_t room = s->size - 1 - s->len;
        size_t k = n < room ? n : room;
        for (size_t i = 0; i < k; i++)
            s->buf[s->len + i] = p[i];
    }
    s->len += n;
}

static void pad(struct sink *s, char c, size_t n)
{
    if (s->len + 1 < s->size) {
        size_t room = s->size - 1 - s->len;
        size_t k = n < room ? n : room;
        for (size_t i = 0; i < k; i++)
            s->buf[s->len + i] = c;
    }
    s->len += n;
}

/* A conversion specification after parsing. width and prec are -1 when
 * absent. */
struct spec {
    bool minus, plus, space, alt, zero;
    int width;
    int prec;
};

/* Text padded to the field width with spaces (for %s, %c, "(nil)"). The
 * '0' flag is undefined for these in C; spaces are the sane choice. */
static void put_padded(struct sink *s, const struct spec *sp,
                       const char *p, size_t n)
{
    size_t w = sp->width > 0 ? (size_t)sp->width : 0;
    size_t fill = w > n ? w - n : 0;

    if (!sp->minus)
        pad(s, ' ', fill);
    put(s, p, n);
    if (sp->minus)
        pad(s, ' ', fill);
}

/*
 * An integer: sign or "0x" prefix, then zeros up to the precision, then the
 * digits, all padded to the width. neg says the value was negative (v is
 * its magnitude); signed_conv enables the '+' and ' ' flags.
 */
static void put_int(struct sink *s, const struct spec *sp, uintmax_t v,
                    bool neg, bool signed_conv, unsigned base, bool upper)
{
    const char *digitset = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[sizeof(uintmax_t) * 3];    /* 64 bits: 22 octal digits */
    size_t nd = 0;
    char prefix[2];
    size_t np = 0;

    /* Digits, least significant first, into the end of the array. */
    for (uintmax_t t = v; t != 0; t /= base)
        digits[sizeof(digits) - 1 - nd++] = digitset[t % base];

    /* Without an explicit precision at least one digit is printed; with
     * precision 0 a zero value prints no digits at all (C99 7.19.6.1). */
    size_t prec = sp->prec >= 0 ? (size_t)sp->prec : 1;

    /* '#' with o makes the first digit a 0, by raising the precision. */
    if (sp->alt && base == 8 && prec <= nd)
        prec = nd + 1;

    if (neg)
        prefix[np++] = '-';
    else if (signed_conv && sp->plus)
        prefix[np++] = '+';
    else if (signed_conv && sp->space)
        prefix[np++] = ' ';
    if (sp->alt && base == 16 && v != 0) {
        prefix[np++] = '0';
        prefix[np++] = upper ? 'X' : 'x';
    }

    size_t zeros = prec > nd ? prec - nd : 0;
    size_t body = np + zeros + nd;
    size_t w = sp->width > 0 ? (size_t)sp->width : 0;
    size_t fill = w > body ? w - body : 0;

    /* '0' pads with zeros after the prefix, unless '-' or a precision
     * overrides it. */
    if (sp->zero && !sp->minus && sp->prec < 0) {
        zeros += fill;
        fill = 0;
    }
    if (!sp->minus)
        pad(s, ' ', fill);
    put(s, prefix, np);
    pad(s, '0', zeros);
    put(s, digits + sizeof(digits) - nd, nd);
    if (sp->minus)
        pad(s, ' ', fill);
}

/* Length of s, reading at most max bytes: with a precision, %s may be
 * given an array that is not NUL-terminated. */
static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n] != '\0')
        n++;
    return n;
}

/* A decimal field width or precision; saturates instead of overflowing. */
static int parse_num(const char **pp)
{
    const char *p = *pp;
    int n = 0;

    while (*p >= '0' && *p <= '9') {
        int d = *p++ - '0';
        n = n > (INT_MAX_ - d) / 10 ? INT_MAX_ : n * 10 + d;
    }
    *pp = p;
    return n;
}

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
    struct sink s = { .buf = buf, .size = buf ? size : 0, .len = 0 };
    const char *p = fmt;
    va_list ap;

    /* Work on a copy: ap is fetched from in one place, this function, which
     * keeps va_list handling simple on every ABI. */
    va_copy(ap, ap_in);

    while (*p != '\0') {
        if (*p != '%') {
            const char *q = p;
            while (*q != '\0' && *q != '%')
                q++;
            put(&s, p, (size_t)(q - p));
            p = q;
            continue;
        }

        const char *start = p++;      /* the '%', for unknown conversions */
        struct spec sp = { .width = -1, .prec = -1 };

        for (;; p++) {
            if (*p == '-')
                sp.minus = true;
            else if (*p == '+')
                sp.plus = true;
            else if (*p == ' ')
                sp.space = true;
            else if (*p == '#')
                sp.alt = true;
            else if (*p == '0')
                sp.zero = true;
            else
                break;
        }

        if (*p == '*') {
            int w = va_arg(ap, int);
            p++;
            /* A negative '*' width is the '-' flag and a positive width. */
            if (w < 0) {
                sp.minus = true;
                w = w < -INT_MAX_ ? INT_MAX_ : -w;
            }
            sp.width = w;
        } else if (*p >= '1' && *p <= '9') {
            sp.width = parse_num(&p);
        }

        if (*p == '.') {
            p++;
            if (*p == '*') {
                int pr = va_arg(ap, int);
                p++;
                sp.prec = pr < 0 ? -1 : pr;   /* negative: as if omitted */
            } else {
                sp.prec = parse_num(&p);      /* "." alone means 0 */
            }
        }

        enum length len = LEN_NONE;
        switch (*p) {
        case 'h':
            p++;
            len = LEN_H;
            if (*p == 'h') {
                p++;
                len = LEN_HH;
            }
            break;
        case 'l':
            p++;
            len = LEN_L;
            if (*p == 'l') {
                p++;
                len = LEN_LL;
            }
            break;
        case 'z': p++; len = LEN_Z; break;
        case 't': p++; len = LEN_T; break;
        case 'j': p++; len = LEN_J; break;
        default: break;
        }

        char conv = *p;
        if (conv == '\0') {
            /* The format ends inside a specification: show what there is. */
            put(&s, start, (size_t)(p - start));
            break;
        }
        p++;

        switch (conv) {
        case 'd':
        case 'i': {
            intmax_t v;
            switch (len) {
            case LEN_HH: v = (signed char)va_arg(ap, int); break;
            case LEN_H:  v = (short)va_arg(ap, int); break;
            case LEN_L:  v = va_arg(ap, long); break;
            case LEN_LL: v = va_arg(ap, long long); break;
            /* The signed type of size_t's width; ptrdiff_t is that on
             * every ABI Tern supports. */
            case LEN_Z:  v = va_arg(ap, ptrdiff_t); break;
            case LEN_T:  v = va_arg(ap, ptrdiff_t); break;
            case LEN_J:  v = va_arg(ap, intmax_t); break;
            default:     v = va_arg(ap, int); break;
            }
            /* The magnitude computed in unsigned arithmetic, so that
             * INTMAX_MIN does not overflow. */
            uintmax_t mag = v < 0 ? -(uintmax_t)v : (uintmax_t)v;
            put_int(&s, &sp, mag, v < 0, true, 10, false);
            break;
        }
        case 'u':
        case 'o':
        case 'x':
        case 'X': {
            uintmax_t v;
            switch (len) {
            case LEN_HH: v = (unsigned char)va_arg(ap, unsigned int); break;
            case LEN_H:  v = (unsigned short)va_arg(ap, unsigned int); break;
            case LEN_L:  v = va_arg(ap, unsigned long); break;
            case LEN_LL: v = va_arg(ap, unsigned long long); break;
            case LEN_Z:  v = va_arg(ap, size_t); break;
            case LEN_T:  v = va_arg(ap, size_t); break;  /* as for 'z' */
            case LEN_J:  v = va_arg(ap, uintmax_t); break;
            default:     v = va_arg(ap, unsigned int); break;
            }
            unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            put_int(&s, &sp, v, false, false, base, conv == 'X');
            break;
        }
        case 'c':
            if (len != LEN_NONE)
                goto unknown;           /* %lc is a wide character */
            {
                char c = (char)va_arg(ap, int);
                put_padded(&s, &sp, &c, 1);
            }
            break;
        case 's':
            if (len != LEN_NONE)
                goto unknown;           /* %ls is a wide string */
            {
                const char *str = va_arg(ap, const char *);
                size_t max = sp.prec >= 0 ? (size_t)sp.prec : (size_t)-1;
                if (str == NULL)
                    str = "(null)";
                put_padded(&s, &sp, str, bounded_len(str, max));
            }
            break;
        case 'p':
            if (len != LEN_NONE)
                goto unknown;
            {
                void *ptr = va_arg(ap, void *);
                if (ptr == NULL) {
                    put_padded(&s, &sp, "(nil)", 5);
                } else {
                    /* As glibc: %#lx, so width, precision, '-' and '0'
                     * apply; a pointer has no sign, so '+' and ' ' do
                     * not. */
                    sp.alt = true;
                    put_int(&s, &sp, (uintptr_t)ptr, false, false, 16, false);
                }
            }
            break;
        case '%':
            put(&s, "%", 1);
            break;
        default:
        unknown:
            put(&s, start, (size_t)(p - start));
            break;
        }
    }
    va_end(ap);

    if (s.size > 0)
        s.buf[s.len < s.size ? s.len : s.size - 1] = '\0';
    return s.len > (size_t)INT_MAX_ ? INT_MAX_ : (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
