/* A connection's output: a short list of iovecs written with one writev(), plus a small arena for
 * the bytes that are not static (custom headers, the stats document). Pipelined responses pile up
 * here and leave together. */
#ifndef C10K_OUTQ_H
#define C10K_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#define OUTQ_IOV 32
#define OUTQ_ARENA 4096

typedef struct outq {
    unsigned first, count; /* live iovecs are iov[first .. first+count) */
    size_t arena_used;
    struct iovec iov[OUTQ_IOV];
    char arena[OUTQ_ARENA];
} outq_t;

typedef enum flush_result { FLUSH_DONE, FLUSH_AGAIN, FLUSH_ERROR } flush_result_t;

void outq_init(outq_t *q);

static inline bool outq_empty(const outq_t *q)
{
    return q->count == 0;
}

/* Room for `iovs` more pieces and `arena_bytes` more arena bytes? */
static inline bool outq_room(const outq_t *q, unsigned iovs, size_t arena_bytes)
{
    return q->first + q->count + iovs <= OUTQ_IOV && q->arena_used + arena_bytes <= OUTQ_ARENA;
}

/* Hands out n arena bytes (the caller checked the room); they stay valid until the queue drains. */
char *outq_alloc(outq_t *q, size_t n);

/* Queues len bytes at p (not copied: p must outlive the write). Empty pieces are skipped. */
void outq_push(outq_t *q, const void *p, size_t len);

/* Writes as much as the socket takes; retries EINTR and partial writes. FLUSH_AGAIN: the socket
 * is full (non-blocking). FLUSH_ERROR: errno tells why (EPIPE, ECONNRESET, ...). */
flush_result_t outq_flush(outq_t *q, int fd);

/* Accounts for n bytes written by someone else (libuv), as outq_flush would. */
void outq_consume(outq_t *q, size_t n);

#endif
