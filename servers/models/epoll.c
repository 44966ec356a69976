/* epoll model: the loop's backend over epoll, level-triggered (the connection code reads once per
 * wake-up and relies on being woken again while bytes remain). Waits with ns precision through
 * epoll_pwait2 where the kernel has it.
 * Build: c10k_event_server */
#include "backend.h"
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EPOLL_BATCH 1024

const model_traits_t backend_model = {
    .name = "epoll", .rank = 50, .driver = "readiness loop", .mechanism = "epoll (level-triggered)",
    .description = "one process, one event loop over level-triggered epoll: cost per wake-up, not per fd",
};

struct backend {
    int epfd;
    int have_pwait2;
    struct epoll_event events[EPOLL_BATCH];
};

backend_t *backend_new(void)
{
    backend_t *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    b->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (b->epfd < 0) {
        free(b);
        return NULL;
    }
    b->have_pwait2 = 1;
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

static int ctl(backend_t *b, int op, int fd, unsigned events)
{
    struct epoll_event ev = {
        .events = ((events & LOOP_READ) ? EPOLLIN : 0u) | ((events & LOOP_WRITE) ? EPOLLOUT : 0u),
        .data.fd = fd,
    };
    return epoll_ctl(b->epfd, op, fd, &ev);
}

int backend_add(backend_t *b, int fd, unsigned events)
{
    return ctl(b, EPOLL_CTL_ADD, fd, events);
}

int backend_mod(backend_t *b, int fd, unsigned old_events, unsigned events)
{
    (void)old_events;
    return ctl(b, EPOLL_CTL_MOD, fd, events);
}

void backend_del(backend_t *b, int fd, unsigned old_events)
{
    (void)old_events;
    epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int backend_wait(backend_t *b, const struct timespec *timeout, const sigset_t *wait_mask, loop_fired_t *fired,
                 int max_fired)
{
    int max = max_fired < EPOLL_BATCH ? max_fired : EPOLL_BATCH;
    int n = -1;
    if (b->have_pwait2) {
        n = epoll_pwait2(b->epfd, b->events, max, timeout, wait_mask);
        if (n < 0 && errno == ENOSYS)
            b->have_pwait2 = 0;
    }
    if (!b->have_pwait2) {
        int ms = -1;
        if (timeout) { /* round up: waking early would only spin */
            long long t = (long long)timeout->tv_sec * 1000 + (timeout->tv_nsec + 999999) / 1000000;
            ms = t > 0x7fffffff ? 0x7fffffff : (int)t;
        }
        n = epoll_pwait(b->epfd, b->events, max, ms, wait_mask);
    }
    for (int i = 0; i < n; i++) {
        uint32_t e = b->events[i].events;
        fired[i] = (loop_fired_t){
            .fd = b->events[i].data.fd,
            .events = ((e & EPOLLIN) ? LOOP_READ : 0u) | ((e & EPOLLOUT) ? LOOP_WRITE : 0u) |
                      ((e & (EPOLLERR | EPOLLHUP)) ? LOOP_ERROR : 0u),
        };
    }
    return n;
}
