/* The libuv driver: one libuv loop serving one listener over the session contract. */
#ifndef C10K_UV_SERVER_H
#define C10K_UV_SERVER_H

#include "options.h"
#include "stats.h"

/* Serves the non-blocking listener lfd until SIGINT or SIGTERM (uv_signal takes them over from
 * signals_init, which must have run), counting into `stats`; prints the ready line once the
 * listener is watched, and closes lfd. Returns the process exit status: 0, or 1 (reported). */
int uv_server_serve(int lfd, const server_options_t *opts, stats_t *stats);

#endif
