/* One client connection on the event loop: the shared per-connection state machine used by both
 * the select and the epoll backends (non-blocking socket, session from core/session.h). */
#ifndef C10K_READINESS_H
#define C10K_READINESS_H

#include "loop.h"
#include "options.h"
#include "stats.h"

/* Takes over an accepted, admitted, non-blocking fd, counted into `stats`. On failure the fd is
 * closed and counted. */
void conn_open(loop_t *loop, int fd, const server_options_t *opts, stats_t *stats);

/* Closes every connection still registered (at shutdown). */
void conn_close_all(loop_t *loop);

#endif
