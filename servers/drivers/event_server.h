/* The readiness-loop server: one loop, one listener, until a stop request. */
#ifndef C10K_EVENT_SERVER_H
#define C10K_EVENT_SERVER_H

#include "options.h"
#include "stats.h"

#include <stdbool.h>

/* Serves the non-blocking listener lfd until a stop, counting into `stats`; closes it. Prints the
 * ready line once the listener is watched when `announce`. Stop signals must be handled
 * (signals_init) first; the loop watches the process's stop fd (signals_stop_fd()), so a stop signal
 * taken by another thread of the process wakes every loop. Several loops in one process must make
 * that fd before starting their threads. Returns the process exit status: 0, or 1 when the loop
 * failed. */
int event_server_run(int lfd, const server_options_t *opts, stats_t *stats, bool announce);

#endif
