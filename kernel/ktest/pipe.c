/* ktest=poll, pipes: the basic semantics, then writers and a reader
 * on different CPUs. */
#include "poll.h"

void part_pipe_basic(void)
{
    struct kfile *p[2];
    char buf[128];
    struct kstat st;

    CHECK(pipe_open(0, p) == 0, "pipe_open");
    CHECK(kwrite(p[1], "hello", 5) == 5, "write 5 bytes");
    CHECK(pipe_nread(p[0]) == 5, "FIONREAD says 5");
    CHECK(kfile_poll(p[0]) & POLLIN, "read end readable");
    CHECK(kfile_poll(p[1]) & POLLOUT, "write end writable");
    CHECK(!(kfile_poll(p[0]) & POLLHUP), "no POLLHUP while the writer is open");
    CHECK(kread(p[0], buf, 3) == 3 && memcmp(buf, "hel", 3) == 0, "read 3");
    CHECK(kread(p[0], buf, sizeof(buf)) == 2 && memcmp(buf, "lo", 2) == 0,
          "a read takes what is there");
    CHECK(pipe_nread(p[0]) == 0, "FIONREAD says 0");
    CHECK(!(kfile_poll(p[0]) & POLLIN), "drained read end not readable");
    CHECK(p[0]->ops->stat(p[0], &st) == 0 && (st.mode & S_IFMT) == S_IFIFO, "fstat S_IFIFO");
    CHECK(kread(p[1], buf, 1) == -EBADF, "read on the write end: EBADF");
    CHECK(kwrite(p[0], "x", 1) == -EBADF, "write on the read end: EBADF");
    CHECK(kread(p[0], buf, 0) == 0 && kwrite(p[1], buf, 0) == 0, "zero-length calls");

    /* Non-blocking: empty, then full, with small writes atomic. */
    set_nonblock(p[0], true);
    set_nonblock(p[1], true);
    CHECK(kread(p[0], buf, 1) == -EAGAIN, "empty non-blocking read: EAGAIN");
    char *chunk = kmalloc(20000);
    memset(chunk, 'a', 20000);
    size_t total = 0;
    int64_t r;
    while ((r = kwrite(p[1], chunk, 1000)) == 1000)
        total += 1000;
    CHECK(r == -EAGAIN, "full pipe, 1000-byte write: EAGAIN");
    CHECK(total == 65000, "65 whole 1000-byte writes fit");
    CHECK(kwrite(p[1], chunk, 536) == 536, "the last 536 bytes fit");
    CHECK(pipe_nread(p[0]) == PIPE_SIZE, "the ring holds 64 KiB");
    CHECK(kwrite(p[1], chunk, 1) == -EAGAIN, "full pipe: EAGAIN");
    CHECK(!(kfile_poll(p[1]) & POLLOUT), "full pipe not writable");
    CHECK(kread(p[0], chunk, 10000) == 10000, "read 10000");
    CHECK(kfile_poll(p[1]) & POLLOUT, "writable again");
    CHECK(kwrite(p[1], chunk, 20000) == 10000, "a long non-blocking write is partial");
    while (kread(p[0], chunk, 20000) > 0)
        ;
    kfree(chunk);

    /* The writer goes: POLLHUP, then EOF. */
    CHECK(kwrite(p[1], "z", 1) == 1, "write before close");
    kfile_put(p[1]);
    CHECK((kfile_poll(p[0]) & (POLLHUP | POLLIN)) == (POLLHUP | POLLIN), "POLLHUP|POLLIN");
    CHECK(kread(p[0], buf, 10) == 1, "the last byte");
    CHECK(kread(p[0], buf, 10) == 0, "EOF after the writer closed");
    kfile_put(p[0]);

    /* The reader goes: EPIPE and POLLERR. */
    CHECK(pipe_open(0, p) == 0, "pipe_open 2");
    kfile_put(p[0]);
    CHECK(kwrite(p[1], "x", 1) == -EPIPE, "write without readers: EPIPE");
    CHECK(kfile_poll(p[1]) & POLLERR, "POLLERR without readers");
    kfile_put(p[1]);
}

#define STREAM_BYTES (1024 * 1024)

static uint8_t pattern(size_t off)
{
    return (uint8_t)(off * 7 + (off >> 9));
}

static void stream_writer(void *arg)
{
    struct kfile *w = arg;
    uint8_t *buf = kmalloc(9000);
    uint32_t seed = 99;
    size_t off = 0;
    while (off < STREAM_BYTES) {
        seed = seed * 1103515245 + 12345;
        size_t n = MIN((size_t)(seed >> 8) % 9000 + 1, STREAM_BYTES - off);
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(off + i);
        if (kwrite(w, buf, n) != (int64_t)n)
            break;
        off += n;
    }
    kfree(buf);
    kfile_put(w);                   /* EOF for the reader */
}

struct chunk_writer {
    struct kfile *w;
    int id;
};

#define CHUNKS 150

static void chunk_writer(void *arg)
{
    struct chunk_writer *cw = arg;
    uint8_t *buf = kmalloc(PIPE_BUF);
    for (int i = 0; i < CHUNKS; i++) {
        memset(buf, (uint8_t)(cw->id * 64 + i % 64), PIPE_BUF);
        if (kwrite(cw->w, buf, PIPE_BUF) != PIPE_BUF)
            break;
        if (rnd() % 4 == 0)
            thread_yield();
    }
    kfree(buf);
    kfile_put(cw->w);
}

void part_pipe_threads(void)
{
    struct kfile *p[2];
    uint8_t *buf = kmalloc(PIPE_BUF * 3);

    /* One blocking writer, one blocking reader, odd sizes both sides. */
    CHECK(pipe_open(0, p) == 0, "pipe_open");
    struct thread *t = spawn("pipe-writer", stream_writer, p[1]);
    size_t off = 0;
    bool same = true;
    int64_t n;
    while ((n = kread(p[0], buf, rnd() % (PIPE_BUF * 3) + 1)) > 0) {
        for (int64_t i = 0; i < n; i++)
            same &= buf[i] == pattern(off + (size_t)i);
        off += (size_t)n;
    }
    thread_join(t);
    CHECK(n == 0, "the stream ends with EOF");
    CHECK(off == STREAM_BYTES, "1 MiB went through the pipe");
    CHECK(same, "the bytes arrived in order and intact");
    kfile_put(p[0]);

    /* Three writers of PIPE_BUF-byte chunks: none is split or mixed. */
    CHECK(pipe_open(0, p) == 0, "pipe_open");
    struct chunk_writer cw[3];
    struct thread *ts[3];
    for (int i = 0; i < 3; i++) {
        cw[i].w = p[1];
        cw[i].id = i + 1;
        kfile_get(p[1]);
        ts[i] = i == 0 ? spawn("chunk-writer", chunk_writer, &cw[i])
                       : thread_create("chunk-writer", chunk_writer, &cw[i], 0);
    }
    kfile_put(p[1]);
    size_t got = 0, have = 0;
    bool whole = true;
    while ((n = kread(p[0], buf + have, PIPE_BUF - have)) > 0) {
        have += (size_t)n;
        if (have < PIPE_BUF)
            continue;
        for (size_t i = 1; i < PIPE_BUF; i++)
            whole &= buf[i] == buf[0];
        got += PIPE_BUF;
        have = 0;
    }
    for (int i = 0; i < 3; i++)
        thread_join(ts[i]);
    CHECK(got == 3 * CHUNKS * PIPE_BUF && have == 0, "every chunk arrived");
    CHECK(whole, "writes of PIPE_BUF bytes are atomic");
    kfile_put(p[0]);
    kfree(buf);
}
