/* Start-up common to every model: options, counters, precomputed responses, parser limits. */
#ifndef C10K_SERVER_INIT_H
#define C10K_SERVER_INIT_H

#include "options.h"

void server_init(int argc, char **argv, const char *model, server_options_t *opts);

#endif
