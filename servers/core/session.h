/* The HTTP side of one connection and the contract every driver follows. The session decides
 * what the connection needs next; a driver (blocking I/O, the readiness loop, libuv, io_uring)
 * only applies that decision with its own mechanism and reports back what happened:
 *
 *   want = session_next(s, now)
 *     want.close        close the socket (after session_end)
 *     want.write        send the bytes of session_out(): synchronously with session_flush(), or
 *                       asynchronously: session_out_begin(), submit, session_out_done(n) on completion
 *     want.shut_write   all output is written: session_shut_write() on the socket (or shut it
 *                       another way, then session_write_shut())
 *     want.read         read into session_in_space() + session_in_added(), or hand over bytes
 *                       read elsewhere with session_in_copy(); session_in_eof() at end of stream
 *     want.deadline_ns  when the clock reaches it (0: none), call session_timer()
 *   an asynchronous writer whose socket took less than it was offered: session_out_blocked().
 *   on any I/O error: session_io_failed(). Then call session_next again. Time is CLOCK_MONOTONIC in ns (now_ns(), or a loop's cached copy).
 *
 * The session never blocks and never touches the socket except in session_flush(),
 * session_shut_write() and the write timeout's check of what the peer acknowledged. It holds no
 * input buffer while it waits for a delay, and nothing but session_t itself while it waits for the
 * next request (lean idle connections: session_work_t). */
#ifndef C10K_SESSION_H
#define C10K_SESSION_H

#include "http_request.h"
#include "options.h"
#include "outq.h"
#include "request_plan.h"
#include "stats.h"

#include <stdbool.h>
#include <stdint.h>

#define SESSION_IN_FIRST 1024   /* first input buffer; grows (doubling) while a request needs it */
#define SESSION_IN_CAP 16384    /* input buffer ceiling: one head plus pipelined requests */
#define SESSION_LINGER_NS 500000000u
#define SESSION_LINGER_BYTES (256 * 1024)
#define SESSION_NOT_BLOCKED UINT64_MAX

typedef struct session_want {
    bool read, write, shut_write, close;
    uint64_t deadline_ns;
} session_want_t;

/* What a connection needs only while it works on a request: unparsed bytes or a message begun, a
 * response queued, a delay, a linger. A connection that rests (answered, silent, no input) gives
 * its work back to a free list of the thread's, and the next connection that reads takes one from
 * there: an idle keep-alive connection holds no parser, output queue or input buffer, and a
 * keep-alive request costs no malloc. The free list keeps at most SESSION_POOL_MAX works, each
 * with its first input buffer. */
typedef struct session_work {
    http_request_t req;
    outq_t out;
    request_plan_t plan;  /* the current request's; while `delayed`, the delayed one's (nothing is
                           * parsed meanwhile) */
    bool planned;         /* the current request's head is complete and planned */
    int plan_status;
    char *block;          /* the URL capture then the input bytes; NULL while waiting for a delay */
    size_t in_pos, in_len, in_cap;
    uint64_t write_since; /* output became pending, the socket became full, or the peer last took bytes */
    uint64_t sent_mark;   /* bytes sent at write_since: the peer took bytes once it acknowledges more;
                           * SESSION_NOT_BLOCKED until the socket is full */
    uint64_t delay_until;
    uint64_t linger_until;
    size_t linger_bytes;
    struct session_work *next_free; /* in the free list */
} session_work_t;

#define SESSION_POOL_MAX 64

typedef struct session {
    const server_options_t *opts;
    stats_t *stats;   /* the counters of the instance serving it */
    session_work_t *work; /* NULL while the connection rests */
    uint64_t head_since;  /* the current request head's first byte (or the connection's start) */
    uint64_t idle_since;  /* input wait began (between requests or inside a body) */
    bool peer_eof;    /* the peer will send nothing more */
    bool closing;     /* the last response is queued */
    bool linger;      /* closing after an error: drain what the peer still sends before closing */
    bool shut;        /* the write side is shut: lingering */
    bool delayed;     /* work->plan waits for delay_until */
    bool seen_request; /* a request was complete: later waits are keep-alive idleness */
    bool was_writing;  /* output was pending at the last session_next (write_since is valid) */
    bool dead;         /* close at once: nothing more can or should be sent */
} session_t;

void session_init(session_t *s, const server_options_t *opts, stats_t *stats, uint64_t now);

/* The connection is going away: frees the buffers; an unanswered request is counted as such. */
void session_end(session_t *s);

/* Answers every request that can be answered now and says what the connection needs. */
session_want_t session_next(session_t *s, uint64_t now);

/* Where to put newly read bytes (allocated on demand); *avail is 0 only when out of memory or when
 * the buffer is full of unanswered requests (want.read is then false). */
char *session_in_space(session_t *s, size_t *avail);
void session_in_added(session_t *s, size_t n);
/* Copies up to len bytes read into a buffer of the driver's; returns how many were taken. */
size_t session_in_copy(session_t *s, const char *data, size_t len);
void session_in_eof(session_t *s);

/* The live output, as iovecs (valid until the next session_out_done). */
const struct iovec *session_out(const session_t *s, unsigned *count);
/* Asynchronous writers: the live iovecs are handed to the kernel or a library until _done(n). */
void session_out_begin(session_t *s);
void session_out_done(session_t *s, size_t written, uint64_t now);
/* Synchronous writers: writes what the (non-blocking) socket takes. */
flush_result_t session_flush(session_t *s, int fd, uint64_t now);
/* The socket fd took less than it was offered: the write timeout now waits for the peer to take
 * bytes (acknowledge them), not for more writes, which a send buffer the kernel grows can accept. */
void session_out_blocked(session_t *s, int fd, uint64_t now);

void session_write_shut(session_t *s, uint64_t now);
/* Shuts fd's write side for want.shut_write: session_write_shut() when that worked,
 * session_io_failed() when it did not. */
void session_shut_write(session_t *s, int fd, uint64_t now);

/* A read or write failed (reset, EPIPE, error event): counted as an I/O error unless the session
 * was only draining input before its close; want.close follows. */
void session_io_failed(session_t *s);

/* A deadline passed: answers a delayed request, or applies the timeout that expired. At the write
 * deadline, fd (the connection's socket, or -1 for none) tells whether the peer took bytes since. */
void session_timer(session_t *s, int fd, uint64_t now);

/* How many resting works the calling thread keeps; session_pool_drain frees them (a thread that
 * ends does this itself). */
unsigned session_pool_len(void);
void session_pool_drain(void);

#endif
