/* The readiness-loop driver of the session contract (session.h): the session's wants become fd
 * interest and one timer per connection. */
#include "readiness.h"

#include "backend.h"
#include "container_of.h"
#include "session.h"
#include "stats.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct conn {
    int fd;
    unsigned want;      /* interest currently registered */
    unsigned ready;     /* edge-triggered backends: readiness reported and not used up (no EAGAIN yet) */
    loop_timer_t timer; /* armed at or before the session's deadline */
    session_t s;
} conn_t;

static void on_io(loop_t *loop, int fd, unsigned events, void *data);
static void on_timer(loop_t *loop, loop_timer_t *t);

static conn_t *conn_of_timer(loop_timer_t *t)
{
    return container_of(t, conn_t, timer);
}

static void destroy(loop_t *loop, conn_t *c)
{
    session_end(&c->s);
    loop_timer_stop(loop, &c->timer);
    loop_unwatch(loop, c->fd);
    close(c->fd);
    stats_conn_closed(c->s.stats);
    free(c);
}

/* A timer already due no later than the deadline is kept: when it fires early the session just
 * names its new deadline. Re-arming only when the deadline comes sooner keeps the heap quiet on
 * keep-alive connections, whose idle deadline moves with every request. */
static int arm(loop_t *loop, conn_t *c, uint64_t deadline)
{
    if (deadline == 0 || (loop_timer_active(&c->timer) && loop_timer_deadline(&c->timer) <= deadline))
        return 0;
    return loop_timer_start(loop, &c->timer, deadline, on_timer);
}

/* One read into the session. Returns true while the socket may hold more: false after EAGAIN, EOF
 * or an error. (A short read is no proof of an empty socket for an edge-triggered reader: the
 * peer's FIN may have come with the same edge.) */
static bool read_some(conn_t *c)
{
    size_t avail;
    char *space = session_in_space(&c->s, &avail);
    if (avail == 0)
        return true; /* the session takes no more now (want.read is then false) */
    ssize_t n = read(c->fd, space, avail);
    if (n > 0) {
        session_in_added(&c->s, (size_t)n);
        return true;
    }
    if (n == 0)
        session_in_eof(&c->s);
    else if (errno == EINTR)
        return true;
    else if (errno != EAGAIN)
        session_io_failed(&c->s);
    return false;
}

/* Runs the session as far as it goes, then registers what lets it continue. An edge-triggered
 * backend reports readiness once: the connection then reads until EAGAIN (as far as the session
 * takes input) and stays registered for both directions, so no edge is ever filtered out. */
static void apply(loop_t *loop, conn_t *c)
{
    const bool edge = backend_model.edge_triggered;
    for (;;) {
        uint64_t now = loop_now(loop);
        session_want_t w = session_next(&c->s, now);
        if (w.close) {
            destroy(loop, c);
            return;
        }
        if (w.write && session_flush(&c->s, c->fd, now) != FLUSH_AGAIN)
            continue; /* written (more may be answerable now), or failed (the session closes) */
        if (w.shut_write) {
            session_shut_write(&c->s, c->fd, now);
            continue;
        }
        if (edge && w.read && (c->ready & LOOP_READ)) {
            if (!read_some(c))
                c->ready &= ~LOOP_READ; /* drained: the next edge says when there is more */
            continue;
        }
        unsigned want = edge ? LOOP_READ | LOOP_WRITE : (w.read ? LOOP_READ : 0u) | (w.write ? LOOP_WRITE : 0u);
        if (arm(loop, c, w.deadline_ns) != 0 ||
            (want != c->want && loop_watch(loop, c->fd, want, on_io, c) != 0)) {
            session_io_failed(&c->s);
            continue;
        }
        c->want = want;
        return;
    }
}

static void on_timer(loop_t *loop, loop_timer_t *t)
{
    conn_t *c = conn_of_timer(t);
    session_timer(&c->s, c->fd, loop_now(loop));
    apply(loop, c);
}

static void on_io(loop_t *loop, int fd, unsigned events, void *data)
{
    (void)fd;
    conn_t *c = data;
    if (backend_model.edge_triggered && (events & LOOP_READ)) {
        c->ready |= LOOP_READ; /* apply() reads while the session wants input */
    } else if (events & LOOP_READ) {
        read_some(c);
    } else if (events & LOOP_ERROR) { /* reset or hung up: nothing can be delivered any more */
        session_io_failed(&c->s);
    }
    apply(loop, c);
}

void conn_open(loop_t *loop, int fd, const server_options_t *opts, stats_t *stats)
{
    conn_t *c = malloc(sizeof *c);
    if (!c) {
        stats_error(stats, ERR_IO);
        close(fd);
        stats_conn_closed(stats);
        return;
    }
    c->fd = fd;
    c->want = 0;
    c->ready = 0;
    loop_timer_init(&c->timer);
    session_init(&c->s, opts, stats, loop_now(loop));
    unsigned want = backend_model.edge_triggered ? LOOP_READ | LOOP_WRITE : LOOP_READ;
    if (loop_watch(loop, fd, want, on_io, c) != 0) { /* what a new session wants: one syscall */
        stats_error(stats, ERR_IO);
        session_end(&c->s);
        close(fd);
        stats_conn_closed(stats);
        free(c);
        return;
    }
    c->want = want;
    apply(loop, c);
}

static void close_if_conn(loop_t *loop, int fd, loop_io_cb cb, void *data)
{
    (void)fd;
    if (cb == on_io)
        destroy(loop, data);
}

void conn_close_all(loop_t *loop)
{
    loop_each(loop, close_if_conn);
}
