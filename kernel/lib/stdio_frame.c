/*
 * Records of the app's output in the console (kern/stdio_frame.h): the
 * kernel's encoder and tern's decoder, one definition of the format.
 */
#include <kern/stdio_frame.h>

static const char head[] = "\033_tern";        /* then FD and ';' */
#define HEAD_LEN (sizeof(head) - 1)

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t stdio_frame_encode(int fd, const void *data, size_t n, char *out)
{
    const uint8_t *in = data;
    size_t o = 0;
    for (size_t i = 0; i < HEAD_LEN; i++)
        out[o++] = head[i];
    out[o++] = (char)('0' + fd);
    out[o++] = ';';
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o++] = '\033';
    out[o++] = '\\';
    out[o++] = '\n';
    return o;
}

/* ---- the reading end ---------------------------------------------------- */

enum {
    TEXT,       /* the kernel's bytes */
    HEAD,       /* matched bytes of head, FD and ';' so far */
    DATA,       /* base64 */
    END,        /* ESC seen in DATA: '\' must follow */
    AFTER,      /* the record's newline (a console may add "\r") */
};

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* The head bytes matched so far were text after all. */
static void head_was_text(struct stdio_deframer *d)
{
    size_t k = d->matched < HEAD_LEN ? d->matched : HEAD_LEN;
    d->text(d->arg, head, k);
    if (d->matched > HEAD_LEN) {
        char fdc = (char)('0' + d->fd);
        d->text(d->arg, &fdc, 1);
    }
}

static void record_start(struct stdio_deframer *d, size_t matched)
{
    d->state = HEAD;
    d->matched = matched;
    d->bits = 0;
    d->nbits = 0;
    d->nchars = 0;
    d->npad = 0;
    d->n = 0;
}

static void record_lost(struct stdio_deframer *d)
{
    d->lost++;
    d->state = TEXT;
}

/* One byte in a state other than TEXT; false when the byte is not part of
 * a record and must be read again as text. */
static bool record_byte(struct stdio_deframer *d, char c)
{
    switch (d->state) {
    case HEAD:
        if (d->matched < HEAD_LEN) {
            if (c == head[d->matched]) {
                d->matched++;
                return true;
            }
        } else if (d->matched == HEAD_LEN) {
            if (c == '1' || c == '2') {
                d->fd = c - '0';
                d->matched++;
                return true;
            }
        } else if (c == ';') {
            d->state = DATA;
            return true;
        }
        head_was_text(d);
        d->state = TEXT;
        return false;
    case DATA: {
        if (c == '\033') {
            d->state = END;
            return true;
        }
        /* Padding only at the end, at most two; each '=' decodes as
         * zero bits, its byte dropped at the end. */
        int v = c == '=' ? 0 : b64_value(c);
        if (v < 0 || (c == '=' ? ++d->npad > 2 : d->npad != 0)) {
            record_lost(d);
            return false;
        }
        d->nchars++;
        d->bits = d->bits << 6 | (uint32_t)v;
        d->nbits += 6;
        if (d->nbits >= 8) {
            d->nbits -= 8;
            if (d->n == sizeof(d->data)) {
                record_lost(d);
                return true;
            }
            d->data[d->n++] = (uint8_t)(d->bits >> d->nbits);
        }
        return true;
    }
    case END:
        if (c == '\\' && d->nchars && d->nchars % 4 == 0) {
            /* The padding's bytes are not data. */
            size_t n = d->n - d->npad;
            if (n >= 1 && n <= STDIO_FRAME_DATA_MAX) {
                d->records++;
                d->app(d->arg, d->fd, d->data, n);
                d->state = AFTER;
                return true;
            }
        }
        d->lost++;
        if (c == head[1]) {             /* the ESC began the next record */
            record_start(d, 2);
            return true;
        }
        d->state = TEXT;
        return false;
    case AFTER:
        if (c == '\r')
            return true;
        d->state = TEXT;
        return c == '\n';
    }
    d->state = TEXT;
    return false;
}

void stdio_deframe(struct stdio_deframer *d, const char *p, size_t n)
{
    while (n) {
        if (d->state == TEXT) {
            size_t k = 0;
            while (k < n && p[k] != '\033')
                k++;
            if (k)
                d->text(d->arg, p, k);
            if (k == n)
                return;
            record_start(d, 1);
            p += k + 1;
            n -= k + 1;
            continue;
        }
        if (record_byte(d, *p)) {
            p++;
            n--;
        }
    }
}

void stdio_deframe_end(struct stdio_deframer *d)
{
    if (d->state == HEAD)
        head_was_text(d);
    else if (d->state == DATA || d->state == END)
        d->lost++;
    d->state = TEXT;
}
