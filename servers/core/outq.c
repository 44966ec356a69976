#include "outq.h"

#include <errno.h>
#include <unistd.h>

void outq_init(outq_t *q)
{
    q->first = q->count = 0;
    q->arena_used = 0;
}

char *outq_alloc(outq_t *q, size_t n)
{
    char *p = q->arena + q->arena_used;
    q->arena_used += n;
    return p;
}

void outq_push(outq_t *q, const void *p, size_t len)
{
    if (len == 0)
        return;
    struct iovec *v = &q->iov[q->first + q->count++];
    v->iov_base = (void *)p;
    v->iov_len = len;
}

void outq_consume(outq_t *q, size_t n)
{
    while (n > 0 && q->count > 0) {
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
    if (q->count == 0) /* everything left: the arena can be reused */
        outq_init(q);
}

flush_result_t outq_flush(outq_t *q, int fd)
{
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
    }
    return FLUSH_DONE;
}
