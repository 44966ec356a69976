/* The HTTP side of one connection, independent of how the socket is driven: the input buffer,
 * the parser, the output queue and the request waiting for its delay. The blocking driver and
 * the event-loop connection (select, epoll, libuv) all run the same session code:
 *
 *   step = session_advance(s)   -> then write out s->out (always), and:
 *     SESSION_READ   read more bytes into session_in_space() / set peer_eof
 *     SESSION_WRITE  the output queue is full: wait until it drains
 *     SESSION_DELAY  wait s->pending.delay_ns, then session_delay_done()
 *     SESSION_CLOSE  close once the output is written (drain input first if s->linger)
 */
#ifndef C10K_SESSION_H
#define C10K_SESSION_H

#include "http_request.h"
#include "options.h"
#include "outq.h"
#include "request_plan.h"

#include <stdbool.h>

#define SESSION_IN_CAP 16384

typedef enum session_step { SESSION_READ, SESSION_WRITE, SESSION_DELAY, SESSION_CLOSE } session_step_t;

typedef struct session {
    const server_options_t *opts;
    bool peer_eof;  /* the peer will send nothing more */
    bool closing;   /* the last response is queued */
    bool linger;    /* closing after an error: unread input may follow, drain it before close */
    bool delayed;   /* `pending` is in flight, waiting for its delay */
    request_plan_t pending;
    size_t in_pos, in_len;
    http_request_t req;
    outq_t out;
    char in[SESSION_IN_CAP];
} session_t;

void session_init(session_t *s, const server_options_t *opts);

/* Where to put newly read bytes; *avail is 0 when the buffer is full of unanswered requests. */
char *session_in_space(session_t *s, size_t *avail);

static inline void session_in_added(session_t *s, size_t n)
{
    s->in_len += n;
}

/* Answers every request that can be answered now, in order. */
session_step_t session_advance(session_t *s);

/* The pending request's delay is over: burn its CPU work and queue its response. */
void session_delay_done(session_t *s);

/* The connection is going away: an in-flight request will never be answered. */
void session_abandon(session_t *s);

#endif
