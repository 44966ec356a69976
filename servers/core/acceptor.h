/* accept() with the failure modes handled once: EMFILE/ENFILE via a reserve fd, transient errors,
 * and the admission check (--max-conns, fds an event loop cannot watch). */
#ifndef C10K_ACCEPTOR_H
#define C10K_ACCEPTOR_H

#include "stats.h"

#include <stdbool.h>

typedef struct acceptor {
    int listen_fd;
    int reserve_fd;   /* an fd kept on /dev/null, given up to shed a connection at EMFILE */
    int accept_flags; /* SOCK_CLOEXEC, plus SOCK_NONBLOCK for event loops */
    bool starved;     /* out of fds or memory since the last successful accept: one episode, one count */
    stats_t *stats;   /* the counters of the instance that owns this listener */
} acceptor_t;

typedef enum accept_result {
    ACCEPT_OK,          /* *fd_out is a new connection (TCP_NODELAY set), counted as accepted */
    ACCEPT_EMPTY,       /* nothing pending (non-blocking listener) */
    ACCEPT_RETRY,       /* a transient error or a connection shed at EMFILE (counted refused): try again */
    ACCEPT_INTERRUPTED, /* a signal or shutdown of the listener: check g_stop, then retry */
    ACCEPT_BACKOFF,     /* out of resources and nothing to shed: wait a little before retrying */
} accept_result_t;

#define ACCEPT_BACKOFF_MS 10
#define ACCEPT_BATCH 64 /* accepts per wake-up of an event loop */

void acceptor_init(acceptor_t *a, int listen_fd, int accept_flags, stats_t *stats);
void acceptor_close(acceptor_t *a);
accept_result_t acceptor_accept(acceptor_t *a, int *fd_out);

/* Event loops and completion rings: accepts what is pending, at most `batch` connections (so busy
 * connections get a turn), hands each admitted one (acceptor_admit) to take(fd, ctx). Returns
 * ACCEPT_EMPTY once nothing is pending, ACCEPT_OK when the batch ended first (more may be pending),
 * or ACCEPT_BACKOFF: out of resources with nothing to shed, pause before accepting again. */
accept_result_t acceptor_drain(acceptor_t *a, int batch, unsigned max_conns, long fd_limit,
                               void (*take)(int fd, void *ctx), void *ctx);

/* Blocking models: waits for the next connection, riding out interruptions and backing off when
 * out of resources as the event loops do (a pause, then wait until a connection is pending).
 * Returns -1 once g_stop is set. */
int acceptor_next_blocking(acceptor_t *a);

/* Counts the connection as active unless it must be refused: over max_conns (0 = no limit) or
 * fd >= fd_limit. A refused connection gets a best-effort 503, is closed and counted.
 * max_conns bounds the whole server, all instances together. */
bool acceptor_admit(acceptor_t *a, int fd, unsigned max_conns, long fd_limit);

/* Best-effort 503 on a connection that will not be served, then close; counts `why`. */
void refuse_connection(stats_t *stats, int fd, stats_error_t why);

/* The same without the close, for sockets owned by someone else (a libuv handle). */
void refusal_send(int fd);

#endif
