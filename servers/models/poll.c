/* poll model: the loop's backend over ppoll(). No FD_SETSIZE ceiling, but like select the kernel
 * walks the whole pollfd array on every call and so does this loop afterwards: its cost per
 * wake-up grows with the number of connections (O(n)), where epoll's grows with the ready ones.
 * Build: c10k_event_server */
#include "backend.h"
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

const model_traits_t backend_model = {
    .name = "poll", .rank = 70, .driver = "readiness loop", .mechanism = "ppoll",
    .description = "one process, one event loop over ppoll(): no fd ceiling, but every call scans all fds",
};

/* A dense pollfd array (what ppoll takes) plus, per fd, its slot in it, for O(1) changes. */
struct backend {
    struct pollfd *pfds;
    size_t count, cap;
    int *slot_of; /* slot_of[fd] = index in pfds, or -1 */
    size_t slots_cap;
};

backend_t *backend_new(void)
{
    return calloc(1, sizeof(backend_t));
}

void backend_free(backend_t *b)
{
    free(b->pfds);
    free(b->slot_of);
    free(b);
}

long backend_fd_limit(void)
{
    return 0x7fffffffL;
}

static short to_poll(unsigned events)
{
    return (short)(((events & LOOP_READ) ? POLLIN : 0) | ((events & LOOP_WRITE) ? POLLOUT : 0));
}

static int grow(backend_t *b, int fd)
{
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        struct pollfd *p = realloc(b->pfds, cap * sizeof *p);
        if (!p)
            return -1;
        b->pfds = p, b->cap = cap;
    }
    if ((size_t)fd >= b->slots_cap) {
        size_t cap = b->slots_cap ? b->slots_cap : 1024;
        while (cap <= (size_t)fd)
            cap *= 2;
        int *s = realloc(b->slot_of, cap * sizeof *s);
        if (!s)
            return -1;
        memset(s + b->slots_cap, 0xff, (cap - b->slots_cap) * sizeof *s); /* all -1 */
        b->slot_of = s, b->slots_cap = cap;
    }
    return 0;
}

int backend_add(backend_t *b, int fd, unsigned events)
{
    if (grow(b, fd) != 0) {
        errno = ENOMEM;
        return -1;
    }
    b->slot_of[fd] = (int)b->count;
    b->pfds[b->count++] = (struct pollfd){.fd = fd, .events = to_poll(events)};
    return 0;
}

int backend_mod(backend_t *b, int fd, unsigned old_events, unsigned events)
{
    (void)old_events;
    b->pfds[b->slot_of[fd]].events = to_poll(events);
    return 0;
}

void backend_del(backend_t *b, int fd, unsigned old_events)
{
    (void)old_events;
    int slot = b->slot_of[fd];
    b->pfds[slot] = b->pfds[--b->count]; /* the last entry fills the hole */
    b->slot_of[b->pfds[slot].fd] = slot;
    b->slot_of[fd] = -1;
}

int backend_wait(backend_t *b, const struct timespec *timeout, const sigset_t *wait_mask, loop_fired_t *fired,
                 int max_fired)
{
    int n = ppoll(b->pfds, b->count, timeout, wait_mask);
    if (n <= 0)
        return n;
    int count = 0;
    for (size_t i = 0; i < b->count && count < max_fired; i++) {
        short re = b->pfds[i].revents;
        if (!re)
            continue;
        fired[count++] = (loop_fired_t){
            .fd = b->pfds[i].fd,
            .events = ((re & POLLIN) ? LOOP_READ : 0u) | ((re & POLLOUT) ? LOOP_WRITE : 0u) |
                      ((re & (POLLERR | POLLHUP | POLLNVAL)) ? LOOP_ERROR : 0u),
        };
    }
    return count;
}
