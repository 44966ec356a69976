/* A master process over N worker processes (prefork, reuseport): forks them, replaces one that
 * dies, and on a stop request stops them all (SIGTERM, then SIGKILL after a grace period) and
 * reaps every one. The counters are shared (stats.h), so /__stats totals all workers. */
#ifndef C10K_WORKERS_H
#define C10K_WORKERS_H

#include "stats.h"

/* A worker's body: runs in the child until a stop; its return value is the child's exit status.
 * The child keeps the master's stop handler (g_stop) and dies with the master. */
typedef int (*worker_fn)(unsigned index, void *arg);

/* Forks n workers; a failed fork counts in the counters of that worker's slot. Call signals_init() first. Returns 0, or -1 with a message when none could be
 * started. */
int workers_start(unsigned n, worker_fn fn, void *arg, server_stats_t *stats);

/* Supervises the workers until a stop request, then stops and reaps them all. */
void workers_supervise(void);

#endif
