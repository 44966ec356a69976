#include "outq.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

void outq_init(outq_t *q)
{
    q->first = q->count = 0;
    q->in_flight = false;
    q->arena_used = 0;
    q->arena = NULL;
}

void outq_free(outq_t *q)
{
    free(q->arena);
    outq_init(q);
}

char *outq_alloc(outq_t *q, size_t n)
{
    assert(q->arena_used + n <= OUTQ_ARENA);
    if (!q->arena && !(q->arena = malloc(OUTQ_ARENA)))
        return NULL;
    char *p = q->arena + q->arena_used;
    q->arena_used += n;
    return p;
}

void outq_shrink(outq_t *q, size_t asked, size_t used)
{
    assert(used <= asked && asked <= q->arena_used);
    q->arena_used -= asked - used;
}

void outq_push(outq_t *q, const void *p, size_t len)
{
    if (len == 0)
        return;
    assert(q->first + q->count < OUTQ_IOV);
    struct iovec *v = &q->iov[q->first + q->count++];
    v->iov_base = (void *)p;
    v->iov_len = len;
}

void outq_consume(outq_t *q, size_t n)
{
    while (n > 0) {
        assert(q->count > 0); /* never more written than queued */
        struct iovec *v = &q->iov[q->first];
        if (n < v->iov_len) {
            v->iov_base = (char *)v->iov_base + n;
            v->iov_len -= n;
            return;
        }
        n -= v->iov_len;
        q->first++;
        q->count--;
    }
    if (q->count == 0) { /* everything left: slots and arena are free again; an idle queue holds no arena */
        q->first = 0;
        q->arena_used = 0;
        free(q->arena);
        q->arena = NULL;
    }
}

flush_result_t outq_flush(outq_t *q, int fd, size_t *written)
{
    assert(!q->in_flight);
    *written = 0;
    while (q->count > 0) {
        /* One piece (the usual single response) goes out with write(): a little cheaper. */
        struct iovec *v = &q->iov[q->first];
        ssize_t n = q->count == 1 ? write(fd, v->iov_base, v->iov_len) : writev(fd, v, (int)q->count);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return FLUSH_AGAIN;
            return FLUSH_ERROR;
        }
        outq_consume(q, (size_t)n);
        *written += (size_t)n;
    }
    return FLUSH_DONE;
}
