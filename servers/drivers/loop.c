#include "loop.h"

#include "backend.h"
#include "clock.h"
#include "container_of.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FIRED 1024
#define WAIT_RETRY_NS 1000000 /* after a wait that failed for want of memory */

typedef struct fd_entry {
    bool used;
    unsigned events;
    uint64_t since; /* the batch during which this registration began */
    loop_io_cb cb;
    void *data;
} fd_entry_t;

struct loop {
    backend_t *backend;
    uint64_t now;
    uint64_t batch; /* counts backend waits: an fd registered during a batch is not its target */
    bool stopping;  /* loop_stop was called: loop_run returns after this turn */
    fd_entry_t *fds;
    size_t fds_cap;
    timer_heap_t timers;
    loop_fired_t fired[MAX_FIRED];
};

loop_t *loop_new(void)
{
    loop_t *loop = calloc(1, sizeof *loop);
    if (!loop)
        return NULL;
    if (!(loop->backend = backend_new())) {
        free(loop);
        return NULL;
    }
    loop->now = now_ns();
    return loop;
}

void loop_free(loop_t *loop)
{
    backend_free(loop->backend);
    free(loop->fds);
    timer_heap_free(&loop->timers);
    free(loop);
}

long loop_fd_limit(const loop_t *loop)
{
    (void)loop;
    return backend_fd_limit();
}

uint64_t loop_now(const loop_t *loop)
{
    return loop->now;
}

static int grow_fds(loop_t *loop, int fd)
{
    size_t cap = loop->fds_cap ? loop->fds_cap : 1024;
    while (cap <= (size_t)fd)
        cap *= 2;
    fd_entry_t *p = realloc(loop->fds, cap * sizeof *p);
    if (!p)
        return -1;
    memset(p + loop->fds_cap, 0, (cap - loop->fds_cap) * sizeof *p);
    loop->fds = p;
    loop->fds_cap = cap;
    return 0;
}

int loop_watch(loop_t *loop, int fd, unsigned events, loop_io_cb cb, void *data)
{
    if (fd < 0 || fd >= backend_fd_limit()) {
        errno = EINVAL;
        return -1;
    }
    if ((size_t)fd >= loop->fds_cap && grow_fds(loop, fd) != 0)
        return -1;
    fd_entry_t *e = &loop->fds[fd];
    uint64_t since = e->since;
    if (!e->used) {
        if (backend_add(loop->backend, fd, events) != 0)
            return -1;
        since = loop->batch;
    } else if (e->events != events) {
        if (backend_mod(loop->backend, fd, e->events, events) != 0)
            return -1;
    }
    *e = (fd_entry_t){.used = true, .events = events, .since = since, .cb = cb, .data = data};
    return 0;
}

void loop_unwatch(loop_t *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->fds_cap || !loop->fds[fd].used)
        return;
    backend_del(loop->backend, fd, loop->fds[fd].events);
    loop->fds[fd] = (fd_entry_t){0};
}

void loop_each(loop_t *loop, void (*fn)(loop_t *loop, int fd, loop_io_cb cb, void *data))
{
    for (size_t fd = 0; fd < loop->fds_cap; fd++)
        if (loop->fds[fd].used)
            fn(loop, (int)fd, loop->fds[fd].cb, loop->fds[fd].data);
}

/* ---- timers: a deadline heap (timer_heap.h) of loop_timer_t ---- */

int loop_timer_start(loop_t *loop, loop_timer_t *t, uint64_t deadline_ns, loop_timer_cb cb)
{
    t->cb = cb;
    return timer_heap_set(&loop->timers, &t->entry, deadline_ns);
}

void loop_timer_stop(loop_t *loop, loop_timer_t *t)
{
    timer_heap_remove(&loop->timers, &t->entry);
}

static void fire_timer(heap_entry_t *e, void *loop)
{
    loop_timer_t *t = container_of(e, loop_timer_t, entry);
    t->cb(loop, t);
}

void loop_stop(loop_t *loop)
{
    loop->stopping = true;
}

int loop_run(loop_t *loop, const sigset_t *wait_mask)
{
    while (!loop->stopping) {
        struct timespec ts;
        const struct timespec *timeout = timer_heap_timeout(&loop->timers, now_ns, &ts) ? &ts : NULL;
        int n = backend_wait(loop->backend, timeout, wait_mask, loop->fired, MAX_FIRED);
        if (n < 0) {
            if (errno == EINTR) { /* a signal: its handler's effects are the caller's to judge */
                loop->stopping = false;
                return LOOP_INTERRUPTED;
            }
            /* The kernel short of memory for the wait (epoll_pwait2, ppoll, pselect6): transient.
             * Pause a moment rather than spin, then wait again; the connections are all intact. */
            if (errno == ENOMEM || errno == EAGAIN) {
                nanosleep(&(struct timespec){.tv_nsec = WAIT_RETRY_NS}, NULL);
                continue;
            }
            perror("event loop wait");
            loop->stopping = false;
            return -1;
        }
        loop->now = now_ns();
        loop->batch++;
        for (int i = 0; i < n; i++) {
            int fd = loop->fired[i].fd;
            /* An earlier callback in this batch may have closed this fd, or closed it and
             * registered a new connection under the same number: the event was the old one's. */
            if ((size_t)fd >= loop->fds_cap || !loop->fds[fd].used || loop->fds[fd].since == loop->batch)
                continue;
            fd_entry_t *e = &loop->fds[fd];
            unsigned ev = loop->fired[i].events & (e->events | LOOP_ERROR);
            if (ev)
                e->cb(loop, fd, ev, e->data);
        }
        timer_heap_run_due(&loop->timers, loop->now, fire_timer, loop);
    }
    loop->stopping = false;
    return 0;
}
