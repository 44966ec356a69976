/* Serving one connection with blocking I/O: shared by the blocking, threaded and forking models,
 * which differ only in who calls it. */
#ifndef C10K_BLOCKING_H
#define C10K_BLOCKING_H

#include "acceptor.h"
#include "describe.h"
#include "options.h"

#include <stdint.h>

/* Serves the connection to its end in this thread, then closes fd. The caller counts the
 * connection closed (the forking parent does it when it reaps the child). Counts into `stats`.
 * accepted_ns (now_ns() at the accept) starts the first head's timeout: a connection that waited
 * in a queue has waited on its own clock. */
void serve_connection_blocking(int fd, const server_options_t *opts, stats_t *stats, uint64_t accepted_ns);

/* Accepts and serves one connection at a time, each to its end, until a stop: the blocking model,
 * and each worker of prefork. A stop also ends the connection being served. */
void serve_in_turn(acceptor_t *acc, const server_options_t *opts);

/* Start-up of the blocking models: options and counters (server_init), the blocking listener, the
 * stop handler, and an acceptor on the listener counting into instance 0. The stop handler shuts
 * the listener, so a blocked accept() returns; acc NULL (a master that only supervises, prefork)
 * makes neither the acceptor nor that shutdown. Returns 0, or the exit status main() is to return.
 * The model then makes what it needs and calls listener_announce(*lfd). */
int blocking_server_open(int argc, char **argv, const model_traits_t *m, server_options_t *opts,
                         server_stats_t **stats, int *lfd, acceptor_t *acc);

#endif
