/* Serving one connection with blocking I/O: shared by the blocking, threaded and forking models,
 * which differ only in who calls it. */
#ifndef C10K_BLOCKING_CONN_H
#define C10K_BLOCKING_CONN_H

#include "options.h"

/* Serves the connection to its end in this thread, then closes fd. The caller counts the
 * connection closed (the forking parent does it when it reaps the child). */
void serve_connection_blocking(int fd, const server_options_t *opts);

#endif
