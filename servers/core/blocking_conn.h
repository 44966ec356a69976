/* Serving one connection with blocking I/O: shared by the blocking, threaded and forking models,
 * which differ only in who calls it. */
#ifndef C10K_BLOCKING_CONN_H
#define C10K_BLOCKING_CONN_H

#include "acceptor.h"
#include "options.h"

/* Serves the connection to its end in this thread, then closes fd. The caller counts the
 * connection closed (the forking parent does it when it reaps the child). Counts into `stats`. */
void serve_connection_blocking(int fd, const server_options_t *opts, stats_t *stats);

/* Accepts and serves one connection at a time, each to its end, until a stop: the blocking model,
 * and each worker of prefork. A stop also ends the connection being served. */
void serve_in_turn(acceptor_t *acc, const server_options_t *opts);

#endif
