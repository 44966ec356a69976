/* The listening socket and the ready line scripts wait for. */
#ifndef C10K_LISTENER_H
#define C10K_LISTENER_H

#include "options.h"

#include <stdbool.h>

#define LISTENER_BAD_HOST (-2)

/* Resolves --host, binds --port (SO_REUSEADDR) and listens with --backlog. Returns the socket, or
 * (reported) LISTENER_BAD_HOST when the host cannot be resolved, -1 when the socket cannot be
 * set up (e.g. port in use). */
int listener_open(const server_options_t *opts, const char *model, bool nonblocking);

/* The exit status for a failed listener_open: 2 for bad input, 1 otherwise. */
static inline int listener_exit_status(int rc)
{
    return rc == LISTENER_BAD_HOST ? 2 : 1;
}

/* n non-blocking listeners on one address and port, each with SO_REUSEPORT so that the kernel
 * spreads connections over them (the first bind picks --port 0, the others join it; opts->port
 * becomes that port). Fills fds[0..n) and returns 0, or listener_open's error with every listener
 * closed again. */
int listener_open_reuseport(server_options_t *opts, const char *model, unsigned n, int *fds);

/* The port the listener is bound to (what --port 0 picked); 0 (reported) if it cannot be read. */
unsigned listener_port(int fd);

/* Prints exactly one line `listening on HOST:PORT` (IPv6 as [ADDR]:PORT) and flushes stdout.
 * Returns 0, or -1 (reported). */
int listener_announce(int fd);

#endif
