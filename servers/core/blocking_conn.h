/* Serving one connection with blocking I/O: shared by the blocking, threaded and forking models,
 * which differ only in who calls it. */
#ifndef C10K_BLOCKING_CONN_H
#define C10K_BLOCKING_CONN_H

#include "options.h"

/* Reads, answers (sleeping the delay in this thread), writes, for as many requests as the client
 * sends; then closes fd. The caller counts the connection closed (the forking parent does it when
 * it reaps the child). */
void serve_connection_blocking(int fd, const server_options_t *opts);

/* After an error response: stop sending, then read and drop what the client still sends for a
 * short while, so closing does not reset the connection before the client reads the error. */
void linger_close_blocking(int fd);

#endif
