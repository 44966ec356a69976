/* outq: pieces leave in order, partial writes resume mid-piece, a full pipe is FLUSH_AGAIN and
 * the arena is reused once everything is written. */
#include "check.h"
#include "outq.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

/* What the queue would write, as one string. */
static size_t queued(const outq_t *q, char *buf, size_t cap)
{
    size_t n = 0;
    for (unsigned i = q->first; i < q->first + q->count; i++) {
        CHECK(n + q->iov[i].iov_len <= cap);
        memcpy(buf + n, q->iov[i].iov_base, q->iov[i].iov_len);
        n += q->iov[i].iov_len;
    }
    buf[n] = '\0';
    return n;
}

static void test_push_and_consume(void)
{
    outq_t q;
    outq_init(&q);
    CHECK(outq_empty(&q));
    outq_push(&q, "hello ", 6);
    outq_push(&q, "", 0); /* empty pieces take no slot */
    char *a = outq_alloc(&q, 5);
    memcpy(a, "world", 5);
    outq_push(&q, a, 5);
    CHECK_INT(q.count, 2);
    CHECK_U64(q.arena_used, 5);
    char buf[64];
    CHECK_U64(queued(&q, buf, sizeof buf), 11);
    CHECK_STR(buf, "hello world");

    outq_consume(&q, 3); /* mid-piece */
    queued(&q, buf, sizeof buf);
    CHECK_STR(buf, "lo world");
    outq_consume(&q, 3); /* exactly the first piece */
    CHECK_INT(q.count, 1);
    queued(&q, buf, sizeof buf);
    CHECK_STR(buf, "world");
    CHECK_U64(q.arena_used, 5); /* still in use */
    outq_consume(&q, 5);
    CHECK(outq_empty(&q));
    CHECK_U64(q.arena_used, 0); /* drained: the arena is free again */
    CHECK(q.arena == NULL);     /* and an idle queue holds none */
    CHECK_INT(q.first, 0);
    outq_free(&q);
}

static void test_room(void)
{
    outq_t q;
    outq_init(&q);
    CHECK(outq_room(&q, OUTQ_IOV, OUTQ_ARENA));
    CHECK(!outq_room(&q, OUTQ_IOV + 1, 0));
    CHECK(!outq_room(&q, 0, OUTQ_ARENA + 1));
    for (unsigned i = 0; i < OUTQ_IOV - 1; i++)
        outq_push(&q, "x", 1);
    CHECK(outq_room(&q, 1, 0));
    CHECK(!outq_room(&q, 2, 0));
    /* Slots before `first` are not reused until the queue drains. */
    outq_consume(&q, 5);
    CHECK(!outq_room(&q, 2, 0));
    CHECK(outq_alloc(&q, OUTQ_ARENA - 10) != NULL);
    CHECK(outq_room(&q, 0, 10));
    CHECK(!outq_room(&q, 0, 11));
    outq_free(&q);
}

static void test_flush_pipe(void)
{
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    int cap = fcntl(p[1], F_SETPIPE_SZ, 4096); /* the smallest pipe: one page */
    CHECK(cap >= 4096);
    size_t big = (size_t)cap * 2 + 100;
    char *data = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)('a' + i % 26);
    outq_t q;
    outq_init(&q);
    outq_push(&q, "head:", 5);
    outq_push(&q, data, big);
    outq_push(&q, ":tail", 5);

    size_t total = big + 10, got = 0;
    char *out = malloc(total);
    int rounds = 0;
    for (;;) {
        size_t written;
        flush_result_t r = outq_flush(&q, p[1], &written);
        CHECK(written > 0 || r == FLUSH_AGAIN);
        CHECK(r == FLUSH_DONE || r == FLUSH_AGAIN);
        ssize_t n;
        while ((n = read(p[0], out + got, total - got)) > 0)
            got += (size_t)n;
        if (r == FLUSH_DONE)
            break;
        CHECK(++rounds < 100);
        if (rounds >= 100)
            break;
    }
    CHECK(rounds >= 2); /* the pipe filled up at least twice */
    CHECK_U64(got, total);
    CHECK(memcmp(out, "head:", 5) == 0);
    CHECK(memcmp(out + 5, data, big) == 0);
    CHECK(memcmp(out + 5 + big, ":tail", 5) == 0);
    CHECK(outq_empty(&q));

    /* Nobody reads any more: a write error is reported with errno (SIGPIPE is ignored). */
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    outq_push(&q, "x", 1);
    size_t written;
    CHECK(outq_flush(&q, p[1], &written) == FLUSH_ERROR);
    CHECK_U64(written, 0);
    CHECK_INT(errno, EPIPE);
    close(p[1]);
    free(data);
    free(out);
}

int main(void)
{
    test_push_and_consume();
    test_room();
    test_flush_pipe();
    return check_exit();
}
