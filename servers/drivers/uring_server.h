/* The io_uring driver: one ring serving one listener over the session contract. */
#ifndef C10K_URING_SERVER_H
#define C10K_URING_SERVER_H

#include "options.h"
#include "stats.h"

typedef struct uring_server uring_server_t;

/* Makes the ring and its provided receive buffers. NULL (reported) when it cannot, with *status
 * the exit status: 2 when the kernel refuses what the driver needs (io_uring disabled, too old), 1
 * otherwise. `name` is the model's, for messages. */
uring_server_t *uring_server_new(const char *name, int *status);

/* Serves the non-blocking listener lfd until a stop (signals_init must have run), counting into
 * `stats`; prints the ready line once the accept is armed. Frees srv and closes lfd. Returns the
 * process exit status: 0, or 1 when the ring failed. */
int uring_server_serve(uring_server_t *srv, int lfd, const server_options_t *opts, stats_t *stats);

#endif
