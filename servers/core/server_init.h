/* Start-up common to every model: options, counters, precomputed responses, parser limits. */
#ifndef C10K_SERVER_INIT_H
#define C10K_SERVER_INIT_H

#include "describe.h"
#include "options.h"

/* Parses the options for model m (exits on --help, --describe and bad input), then sets up the
 * counters, responses and parser limits. */
void server_init(int argc, char **argv, const model_traits_t *m, server_options_t *opts);

#endif
