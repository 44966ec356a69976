/* select model: the loop's backend over pselect(). An fd >= FD_SETSIZE cannot go in an fd_set
 * (undefined behaviour), so such connections are refused with 503 and counted as "refused".
 * Build: c10k_event_server */
#include "backend.h"
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/select.h>

const model_traits_t backend_model = {
    .name = "select", .rank = 40, .driver = "readiness loop", .mechanism = "pselect",
    .description = "one process, one event loop over pselect(): fd_sets scanned in full on every wake-up",
    .watch_fd_limit = FD_SETSIZE,
};

struct backend {
    fd_set readers, writers;
    int max_fd; /* highest fd in either set, -1 if none */
};

backend_t *backend_new(void)
{
    backend_t *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    FD_ZERO(&b->readers);
    FD_ZERO(&b->writers);
    b->max_fd = -1;
    return b;
}

void backend_free(backend_t *b)
{
    free(b);
}

long backend_fd_limit(void)
{
    return FD_SETSIZE;
}

int backend_mod(backend_t *b, int fd, unsigned old_events, unsigned events)
{
    (void)old_events;
    if (events & LOOP_READ)
        FD_SET(fd, &b->readers);
    else
        FD_CLR(fd, &b->readers);
    if (events & LOOP_WRITE)
        FD_SET(fd, &b->writers);
    else
        FD_CLR(fd, &b->writers);
    if (events && fd > b->max_fd)
        b->max_fd = fd;
    return 0;
}

int backend_add(backend_t *b, int fd, unsigned events)
{
    return backend_mod(b, fd, 0, events);
}

void backend_del(backend_t *b, int fd, unsigned old_events)
{
    backend_mod(b, fd, old_events, 0);
    while (b->max_fd >= 0 && !FD_ISSET(b->max_fd, &b->readers) && !FD_ISSET(b->max_fd, &b->writers))
        b->max_fd--;
}

int backend_wait(backend_t *b, const struct timespec *timeout, const sigset_t *wait_mask, loop_fired_t *fired,
                 int max_fired)
{
    fd_set r = b->readers, w = b->writers;
    int n = pselect(b->max_fd + 1, &r, &w, NULL, timeout, wait_mask);
    if (n <= 0)
        return n;
    int count = 0;
    for (int fd = 0; fd <= b->max_fd && count < max_fired; fd++) {
        unsigned ev = (FD_ISSET(fd, &r) ? LOOP_READ : 0u) | (FD_ISSET(fd, &w) ? LOOP_WRITE : 0u);
        if (ev)
            fired[count++] = (loop_fired_t){.fd = fd, .events = ev};
    }
    return count;
}
