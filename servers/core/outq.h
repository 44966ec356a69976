/* A connection's output: a short list of iovecs written with one writev(), plus an arena for the
 * bytes that are not static (custom headers, the stats document, errors). The arena exists only
 * while such bytes wait to be written. Pipelined responses pile up here and leave together.
 *
 * Invariants (asserted): live iovecs are iov[first .. first+count); while an asynchronous write
 * is in flight, nothing but outq_consume() touches them (new pieces may still be appended). */
#ifndef C10K_OUTQ_H
#define C10K_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#define OUTQ_IOV 16
#define OUTQ_ARENA 4096

typedef struct outq {
    unsigned first, count;
    bool in_flight;        /* an asynchronous writer holds the live iovecs */
    size_t arena_used;
    char *arena;           /* OUTQ_ARENA bytes, or NULL */
    struct iovec iov[OUTQ_IOV];
} outq_t;

typedef enum flush_result { FLUSH_DONE, FLUSH_AGAIN, FLUSH_ERROR } flush_result_t;

void outq_init(outq_t *q);

/* Drops everything queued and frees the arena (the connection is going away). */
void outq_free(outq_t *q);

static inline bool outq_empty(const outq_t *q)
{
    return q->count == 0;
}

/* Room for `iovs` more pieces and `arena_bytes` more arena bytes? */
static inline bool outq_room(const outq_t *q, unsigned iovs, size_t arena_bytes)
{
    return q->first + q->count + iovs <= OUTQ_IOV && q->arena_used + arena_bytes <= OUTQ_ARENA;
}

/* Hands out n arena bytes (the caller checked the room); they stay valid until the queue drains.
 * NULL when the arena cannot be allocated. */
char *outq_alloc(outq_t *q, size_t n);

/* Gives back the unused tail of the last outq_alloc (it asked for `asked`, used `used`). */
void outq_shrink(outq_t *q, size_t asked, size_t used);

/* Queues len bytes at p (not copied: p must outlive the write). Empty pieces are skipped. */
void outq_push(outq_t *q, const void *p, size_t len);

/* Writes as much as the non-blocking socket takes; retries EINTR and partial writes; *written
 * tells how much left. FLUSH_AGAIN: the socket is full. FLUSH_ERROR: errno tells why. */
flush_result_t outq_flush(outq_t *q, int fd, size_t *written);

/* Accounts for n bytes written (by outq_flush or by an asynchronous writer). */
void outq_consume(outq_t *q, size_t n);

#endif
