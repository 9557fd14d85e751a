/*
 * Unit tests for kernel/lib/stdio_frame.c, the records of the app's
 * output in a shared console: every byte value survives, in pieces split
 * anywhere; the kernel's text around records (and ESC bytes in it) comes
 * out as it went in; a console that turned "\n" into "\r\n" changes
 * nothing; a record cut short is dropped and counted, and the next one
 * still decodes.
 */
#include "check.h"

#include <stdlib.h>

#include <kern/stdio_frame.h>

struct sink {
    char text[65536];
    size_t ntext;
    uint8_t app[3][65536];
    size_t napp[3];
};

static void on_text(void *arg, const char *p, size_t n)
{
    struct sink *s = arg;
    if (s->ntext + n <= sizeof(s->text)) {
        memcpy(s->text + s->ntext, p, n);
        s->ntext += n;
    }
}

static void on_app(void *arg, int fd, const void *p, size_t n)
{
    struct sink *s = arg;
    if (fd >= 1 && fd <= 2 && s->napp[fd] + n <= sizeof(s->app[fd])) {
        memcpy(s->app[fd] + s->napp[fd], p, n);
        s->napp[fd] += n;
    }
}

static void deframer_init(struct stdio_deframer *d, struct sink *s)
{
    memset(d, 0, sizeof(*d));
    memset(s, 0, sizeof(*s));
    d->text = on_text;
    d->app = on_app;
    d->arg = s;
}

/* The console: text, then records of fd 1 and 2 holding data, text. */
static size_t make_stream(char *out, const uint8_t *data, size_t n, const char *text)
{
    size_t o = 0;
    memcpy(out, text, strlen(text));
    o += strlen(text);
    for (size_t i = 0; i < n; i += STDIO_FRAME_DATA_MAX) {
        size_t k = n - i < STDIO_FRAME_DATA_MAX ? n - i : STDIO_FRAME_DATA_MAX;
        o += stdio_frame_encode(1 + (int)(i / STDIO_FRAME_DATA_MAX % 2), data + i, k, out + o);
        memcpy(out + o, text, strlen(text));
        o += strlen(text);
    }
    return o;
}

TEST(every_byte_value_in_pieces_of_every_size)
{
    static uint8_t data[1024];
    static char stream[8192];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    for (size_t n = 1; n <= sizeof(data); n = n * 2 + 1) {
        size_t len = make_stream(stream, data, n, "[ 0.1] kernel \033[1mline\033[0m\n");
        for (size_t piece = 1; piece <= 17; piece += 4) {
            static struct stdio_deframer d;
            static struct sink s;
            deframer_init(&d, &s);
            for (size_t i = 0; i < len; i += piece)
                stdio_deframe(&d, stream + i, len - i < piece ? len - i : piece);
            stdio_deframe_end(&d);
            CHECK_EQ_INT(d.lost, 0);
            CHECK_EQ_INT(s.napp[1] + s.napp[2], n);
            /* the records alternate fds: put the bytes back in order */
            size_t i1 = 0, i2 = 0;
            for (size_t i = 0; i < n; i++) {
                int fd = 1 + (int)(i / STDIO_FRAME_DATA_MAX % 2);
                uint8_t b = fd == 1 ? s.app[1][i1++] : s.app[2][i2++];
                if (b != data[i]) {
                    CHECK(b == data[i]);
                    break;
                }
            }
            /* the text arrives whole, escape sequences and all */
            size_t records = (n + STDIO_FRAME_DATA_MAX - 1) / STDIO_FRAME_DATA_MAX;
            CHECK_EQ_INT(d.records, records);
            CHECK_EQ_INT(s.ntext, (records + 1) * strlen("[ 0.1] kernel \033[1mline\033[0m\n"));
        }
    }
}

TEST(a_console_that_adds_carriage_returns)
{
    char rec[STDIO_FRAME_MAX], crlf[2 * STDIO_FRAME_MAX + 16];
    size_t n = stdio_frame_encode(1, "a\nb\n", 4, rec), o = 0;
    for (size_t i = 0; i < n; i++) {
        if (rec[i] == '\n')
            crlf[o++] = '\r';
        crlf[o++] = rec[i];
    }
    memcpy(crlf + o, "tern-exit: status=0\r\n", 21);
    o += 21;
    static struct stdio_deframer d;
    static struct sink s;
    deframer_init(&d, &s);
    stdio_deframe(&d, crlf, o);
    CHECK_EQ_INT(s.napp[1], 4);
    CHECK(!memcmp(s.app[1], "a\nb\n", 4));
    CHECK_EQ_INT(s.ntext, 21);
    CHECK(!memcmp(s.text, "tern-exit: status=0\r\n", 21));
}

TEST(a_record_cut_short_is_dropped_and_the_next_decodes)
{
    char a[STDIO_FRAME_MAX], b[STDIO_FRAME_MAX], stream[4 * STDIO_FRAME_MAX];
    size_t na = stdio_frame_encode(1, "first record", 12, a);
    size_t nb = stdio_frame_encode(2, "second", 6, b);
    /* cut inside the data, then kernel text, then a whole record */
    size_t o = 0;
    memcpy(stream + o, a, 14);
    o += 14;
    memcpy(stream + o, "[ 1.0] oops\n", 12);
    o += 12;
    /* cut before its ESC '\', then straight into the next record */
    memcpy(stream + o, a, na - 3);
    o += na - 3;
    memcpy(stream + o, b, nb);
    o += nb;
    static struct stdio_deframer d;
    static struct sink s;
    deframer_init(&d, &s);
    stdio_deframe(&d, stream, o);
    stdio_deframe_end(&d);
    CHECK_EQ_INT(d.lost, 2);
    CHECK_EQ_INT(d.records, 1);
    CHECK_EQ_INT(s.napp[1], 0);
    CHECK_EQ_INT(s.napp[2], 6);
    CHECK(!memcmp(s.app[2], "second", 6));
    s.text[s.ntext] = 0;
    CHECK(strstr(s.text, "[ 1.0] oops\n") != NULL);
}

TEST(a_lone_escape_or_a_false_start_is_text)
{
    static struct stdio_deframer d;
    static struct sink s;
    deframer_init(&d, &s);
    const char *t = "\033[0m \033_ter \033_tern3; \033_tern1x \033";
    stdio_deframe(&d, t, strlen(t));
    stdio_deframe_end(&d);
    CHECK_EQ_INT(d.records, 0);
    CHECK_EQ_INT(d.lost, 0);
    CHECK_EQ_INT(s.ntext, strlen(t));
    CHECK(!memcmp(s.text, t, strlen(t)));
}
