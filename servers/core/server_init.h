/* Start-up common to every model: options, counters, precomputed responses, parser limits. */
#ifndef C10K_SERVER_INIT_H
#define C10K_SERVER_INIT_H

#include "describe.h"
#include "options.h"
#include "stats.h"

/* Parses the options for model m (the command line's answers exit here: --help and --describe
 * with 0, bad input with 2), then sets up the counters (one block per instance the model runs,
 * model_instances), responses and parser limits. Returns 0, or -1 (reported) when the process
 * lacks the memory for them. */
int server_init(int argc, char **argv, const model_traits_t *m, server_options_t *opts, server_stats_t **stats);

#endif
