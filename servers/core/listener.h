/* The listening socket and the ready line scripts wait for. */
#ifndef C10K_LISTENER_H
#define C10K_LISTENER_H

#include "options.h"

#include <stdbool.h>

/* Resolves --host, binds --port (SO_REUSEADDR) and listens with --backlog. Exits 2 when the host
 * cannot be resolved, 1 when the socket cannot be set up (e.g. port in use). */
int listener_open(const server_options_t *opts, const char *model, bool nonblocking);

/* The port the listener is bound to (what --port 0 picked). Exits 1 if it cannot be read. */
unsigned listener_port(int fd);

/* Prints exactly one line `listening on HOST:PORT` (IPv6 as [ADDR]:PORT) and flushes stdout. */
void listener_announce(int fd);

#endif
