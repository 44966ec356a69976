#include "conn.h"

#include "session.h"
#include "stats.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINGER_NS 500000000u
#define LINGER_BYTES (256 * 1024)

typedef struct conn {
    int fd;
    unsigned want;    /* interest currently registered */
    bool lingering;   /* error sent, write side shut: dropping input until EOF or timeout */
    size_t linger_bytes;
    loop_timer_t timer; /* the pending request's delay, or the linger deadline */
    session_t s;
} conn_t;

static void on_io(loop_t *loop, int fd, unsigned events, void *data);

static conn_t *conn_of_timer(loop_timer_t *t)
{
    return (conn_t *)((char *)t - offsetof(conn_t, timer));
}

static void destroy(loop_t *loop, conn_t *c)
{
    session_abandon(&c->s);
    loop_timer_stop(loop, &c->timer);
    loop_unwatch(loop, c->fd);
    close(c->fd);
    stats_conn_closed();
    free(c);
}

static bool set_interest(loop_t *loop, conn_t *c, unsigned want)
{
    if (want == c->want)
        return true;
    if (loop_watch(loop, c->fd, want, on_io, c) != 0) {
        stats_error(ERR_IO);
        destroy(loop, c);
        return false;
    }
    c->want = want;
    return true;
}

static void on_linger_timeout(loop_t *loop, loop_timer_t *t)
{
    destroy(loop, conn_of_timer(t));
}

static void start_linger(loop_t *loop, conn_t *c)
{
    if (shutdown(c->fd, SHUT_WR) != 0 || loop_timer_start(loop, &c->timer, loop_now(loop) + LINGER_NS,
                                                           on_linger_timeout) != 0) {
        destroy(loop, c);
        return;
    }
    c->lingering = true;
    set_interest(loop, c, LOOP_READ);
}

static void linger_read(loop_t *loop, conn_t *c)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n > 0) {
            c->linger_bytes += (size_t)n;
            if (c->linger_bytes < LINGER_BYTES)
                continue;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return;
        }
        destroy(loop, c); /* EOF, error, or enough dropped */
        return;
    }
}

static void on_delay_done(loop_t *loop, loop_timer_t *t);

/* Runs the session as far as it goes, then registers the interest that lets it continue. */
static void drive(loop_t *loop, conn_t *c)
{
    for (;;) {
        session_step_t step = session_advance(&c->s);
        flush_result_t fr = outq_flush(&c->s.out, c->fd);
        if (fr == FLUSH_ERROR) {
            stats_error(ERR_IO);
            destroy(loop, c);
            return;
        }
        if (fr == FLUSH_AGAIN) { /* the client is not reading: stop reading from it too */
            if (step == SESSION_DELAY && !loop_timer_active(&c->timer) &&
                loop_timer_start(loop, &c->timer, loop_now(loop) + c->s.pending.delay_ns, on_delay_done) != 0) {
                destroy(loop, c);
                return;
            }
            set_interest(loop, c, LOOP_WRITE);
            return;
        }
        switch (step) {
        case SESSION_WRITE:
            continue; /* the queue drained: answer more */
        case SESSION_READ:
            set_interest(loop, c, LOOP_READ);
            return;
        case SESSION_DELAY: {
            if (!loop_timer_active(&c->timer) &&
                loop_timer_start(loop, &c->timer, loop_now(loop) + c->s.pending.delay_ns, on_delay_done) != 0) {
                destroy(loop, c);
                return;
            }
            /* Keep reading pipelined bytes meanwhile, unless there is nothing more to read. */
            bool can_read = !c->s.peer_eof && (c->s.in_len < SESSION_IN_CAP || c->s.in_pos > 0);
            set_interest(loop, c, can_read ? LOOP_READ : 0);
            return;
        }
        case SESSION_CLOSE:
            if (c->s.linger)
                start_linger(loop, c);
            else
                destroy(loop, c);
            return;
        }
    }
}

static void on_delay_done(loop_t *loop, loop_timer_t *t)
{
    conn_t *c = conn_of_timer(t);
    session_delay_done(&c->s);
    drive(loop, c);
}

static void on_io(loop_t *loop, int fd, unsigned events, void *data)
{
    (void)fd;
    conn_t *c = data;
    if (events & LOOP_ERROR) { /* reset or hung up: nothing can be delivered any more */
        if (!c->lingering)
            stats_error(ERR_IO);
        destroy(loop, c);
        return;
    }
    if (c->lingering) {
        linger_read(loop, c);
        return;
    }
    if (events & LOOP_READ) {
        size_t avail;
        char *space = session_in_space(&c->s, &avail);
        ssize_t n = avail ? read(c->fd, space, avail) : 0;
        if (n > 0) {
            session_in_added(&c->s, (size_t)n);
        } else if (n == 0 && avail) {
            c->s.peer_eof = true;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            stats_error(ERR_IO);
            destroy(loop, c);
            return;
        }
    }
    drive(loop, c);
}

void conn_open(loop_t *loop, int fd, const server_options_t *opts)
{
    conn_t *c = malloc(sizeof *c);
    if (!c) {
        stats_error(ERR_IO);
        close(fd);
        stats_conn_closed();
        return;
    }
    c->fd = fd;
    c->want = 0;
    c->lingering = false;
    c->linger_bytes = 0;
    loop_timer_init(&c->timer);
    session_init(&c->s, opts);
    if (loop_watch(loop, fd, LOOP_READ, on_io, c) != 0) {
        stats_error(ERR_IO);
        close(fd);
        stats_conn_closed();
        free(c);
        return;
    }
    c->want = LOOP_READ;
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
