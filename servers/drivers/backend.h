/* The polling backend behind loop.c, in the manner of Redis's ae: one tiny file per mechanism
 * (models/select.c, models/epoll.c), both driven by the same loop and connection code. */
#ifndef C10K_BACKEND_H
#define C10K_BACKEND_H

#include "describe.h"

#include <signal.h>
#include <time.h>

typedef struct backend backend_t;

typedef struct loop_fired {
    int fd;
    unsigned events; /* LOOP_READ | LOOP_WRITE | LOOP_ERROR */
} loop_fired_t;

extern const model_traits_t backend_model; /* the model the backend makes: its name, its traits */

backend_t *backend_new(void);
void backend_free(backend_t *b);

/* Highest fd + 1 the backend can watch (FD_SETSIZE for select). */
long backend_fd_limit(void);

int backend_add(backend_t *b, int fd, unsigned events);
int backend_mod(backend_t *b, int fd, unsigned old_events, unsigned events);
void backend_del(backend_t *b, int fd, unsigned old_events);

/* Waits until an fd is ready or the timeout passes (NULL: no timeout), with wait_mask as the
 * signal mask meanwhile. Returns the number of entries stored in fired, or -1 with errno. */
int backend_wait(backend_t *b, const struct timespec *timeout, const sigset_t *wait_mask, loop_fired_t *fired,
                 int max_fired);

#endif
