/* epoll-et model: the loop's backend over edge-triggered epoll (Kegel's edge-triggered class).
 * Each connection is registered once for input and output with EPOLLET and never modified: the
 * kernel reports a change of readiness once, and the connection code reads until EAGAIN (or a
 * short read) and writes until the socket is full. No epoll_ctl per request, unlike epoll's
 * level-triggered interest changes; the price is a wake-up for every output edge.
 * Build: c10k_event_server */
#include "backend.h"
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define EPOLL_BATCH 1024

const model_traits_t backend_model = {
    .name = "epoll-et", .rank = 80, .driver = "readiness loop", .mechanism = "epoll (edge-triggered)",
    .description = "one process, one event loop over edge-triggered epoll: read and write until EAGAIN",
    .edge_triggered = true,
};

struct backend {
    int epfd;
    struct epoll_event events[EPOLL_BATCH];
};

backend_t *backend_new(void)
{
    backend_t *b = malloc(sizeof *b);
    if (b && (b->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        free(b);
        b = NULL;
    }
    return b;
}

void backend_free(backend_t *b)
{
    close(b->epfd);
    free(b);
}

long backend_fd_limit(void)
{
    return 0x7fffffffL;
}

/* A connection gets both directions, edge-triggered, from the start. The listener stays
 * level-triggered: the acceptor takes a batch per wake-up and must hear again about the rest. */
int backend_add(backend_t *b, int fd, unsigned events)
{
    int listening = 0;
    socklen_t len = sizeof listening;
    /* Not a socket (the stop eventfd): watched like a connection, for the edge of its first write. */
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 && errno != ENOTSOCK)
        return -1;
    struct epoll_event ev = {
        .events = listening ? ((events & LOOP_READ) ? EPOLLIN : 0u) : EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        .data.fd = fd,
    };
    return epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Connections never change (the loop filters what it reports by interest); only the listener
 * does, when accepting pauses at EMFILE. */
int backend_mod(backend_t *b, int fd, unsigned old_events, unsigned events)
{
    (void)old_events;
    struct epoll_event ev = {.events = (events & LOOP_READ) ? EPOLLIN : 0u, .data.fd = fd};
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
        return 0;
    return epoll_ctl(b->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void backend_del(backend_t *b, int fd, unsigned old_events)
{
    (void)old_events;
    epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int backend_wait(backend_t *b, const struct timespec *timeout, const sigset_t *wait_mask, loop_fired_t *fired,
                 int max_fired)
{
    int n = epoll_pwait2(b->epfd, b->events, max_fired < EPOLL_BATCH ? max_fired : EPOLL_BATCH, timeout, wait_mask);
    for (int i = 0; i < n; i++) {
        uint32_t e = b->events[i].events;
        fired[i] = (loop_fired_t){
            .fd = b->events[i].data.fd,
            .events = ((e & (EPOLLIN | EPOLLRDHUP)) ? LOOP_READ : 0u) | ((e & EPOLLOUT) ? LOOP_WRITE : 0u) |
                      ((e & (EPOLLERR | EPOLLHUP)) ? LOOP_ERROR : 0u),
        };
    }
    return n;
}
