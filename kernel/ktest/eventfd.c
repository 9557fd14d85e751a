/* ktest=poll, eventfd: counter and semaphore modes, a writer blocked
 * at the maximum. */
#include "poll.h"

static volatile bool blocked_write_done;

static void blocked_writer(void *arg)
{
    struct kfile *e = arg;
    kwrite64(e, 1);                 /* blocks: the count is at its maximum */
    blocked_write_done = true;
}

void part_eventfd(void)
{
    struct kfile *e;
    uint64_t v;

    CHECK(eventfd_open(0, 0x100, &e) == -EINVAL, "bad flags: EINVAL");
    CHECK(eventfd_open(3, EFD_NONBLOCK, &e) == 0, "eventfd_open");
    CHECK(kread64(e) == 3, "the initial value");
    CHECK(kread(e, &v, 8) == -EAGAIN, "drained: EAGAIN");
    CHECK(kread(e, &v, 7) == -EINVAL && kwrite(e, &v, 4) == -EINVAL, "short buffers: EINVAL");
    CHECK(kwrite64(e, UINT64_MAX) == -EINVAL, "writing UINT64_MAX: EINVAL");
    CHECK((kfile_poll(e) & (POLLIN | POLLOUT)) == POLLOUT, "empty: writable only");
    CHECK(kwrite64(e, 5) == 8 && kwrite64(e, 2) == 8, "two writes");
    CHECK(kfile_poll(e) & POLLIN, "readable");
    CHECK(kread64(e) == 7, "a read takes the sum");
    CHECK(kwrite64(e, UINT64_MAX - 1) == 8, "up to the maximum");
    CHECK(!(kfile_poll(e) & POLLOUT), "at the maximum: not writable");
    CHECK(kwrite64(e, 1) == -EAGAIN, "over the maximum: EAGAIN");
    CHECK(kwrite64(e, 0) == 8, "adding 0 always works");

    /* A blocking write waits for a read. */
    set_nonblock(e, false);
    blocked_write_done = false;
    struct thread *t = spawn("efd-writer", blocked_writer, e);
    thread_sleep_ns(20 * MS);
    CHECK(!blocked_write_done, "the overflowing write did not block");
    CHECK(kread64(e) == UINT64_MAX - 1, "read the maximum");
    thread_join(t);
    CHECK(blocked_write_done, "the blocked write finished");
    CHECK(kread64(e) == 1, "and added its 1");
    kfile_put(e);

    /* EFD_SEMAPHORE: reads take 1 at a time. */
    CHECK(eventfd_open(0, EFD_SEMAPHORE | EFD_NONBLOCK, &e) == 0, "semaphore eventfd");
    CHECK(kwrite64(e, 3) == 8, "write 3");
    CHECK(kread64(e) == 1 && kread64(e) == 1 && kread64(e) == 1, "three reads of 1");
    CHECK(kread(e, &v, 8) == -EAGAIN, "then EAGAIN");
    kfile_put(e);
}
