/* One readiness loop serving one listener: accepts, hands connections to conn.c, and runs until
 * a stop. The backend (select, poll, epoll, ...) is linked in from the model's file. */
#include "event_server.h"

#include "acceptor.h"
#include "backend.h"
#include "readiness.h"
#include "container_of.h"
#include "listener.h"
#include "loop.h"
#include "signals.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

/* One loop with its listener: everything the server needs, so one process could run several
 * (one per thread). */
typedef struct event_server {
    loop_t *loop;
    acceptor_t acceptor;
    loop_timer_t backoff_timer;
    const server_options_t *opts;
} event_server_t;

static event_server_t *server_of_timer(loop_timer_t *t)
{
    return container_of(t, event_server_t, backoff_timer);
}

static void on_listener(loop_t *loop, int fd, unsigned events, void *data);

static void resume_accepting(loop_t *loop, loop_timer_t *t);

/* Stops watching the listener for a moment rather than spin on it (it stays readable). If the
 * pause cannot be scheduled the listener stays watched: a busy loop beats one that never
 * accepts again. */
static void pause_accepting(event_server_t *srv)
{
    if (loop_timer_start(srv->loop, &srv->backoff_timer, loop_now(srv->loop) + ACCEPT_BACKOFF_MS * 1000000ull,
                         resume_accepting) != 0)
        return;
    if (loop_watch(srv->loop, srv->acceptor.listen_fd, 0, on_listener, srv) != 0)
        loop_timer_stop(srv->loop, &srv->backoff_timer);
}

static void resume_accepting(loop_t *loop, loop_timer_t *t)
{
    event_server_t *srv = server_of_timer(t);
    if (loop_watch(loop, srv->acceptor.listen_fd, LOOP_READ, on_listener, srv) != 0)
        pause_accepting(srv); /* try again after another pause */
}

static void take_connection(int fd, void *data)
{
    event_server_t *srv = data;
    conn_open(srv->loop, fd, srv->opts, srv->acceptor.stats);
}

static void on_listener(loop_t *loop, int fd, unsigned events, void *data)
{
    (void)fd, (void)events;
    event_server_t *srv = data;
    if (acceptor_drain(&srv->acceptor, ACCEPT_BATCH, srv->opts->max_conns, loop_fd_limit(loop), take_connection,
                       srv) == ACCEPT_BACKOFF) /* out of fds or memory with nothing to shed */
        pause_accepting(srv);
}

/* A stop was requested. The fd is never read: it stays readable for every other loop watching it. */
static void on_stop_fd(loop_t *loop, int fd, unsigned events, void *data)
{
    (void)fd, (void)events, (void)data;
    loop_stop(loop);
}

int event_server_run(int lfd, const server_options_t *opts, stats_t *stats, bool announce)
{
    event_server_t srv = {.opts = opts};
    sigset_t wait_mask;
    /* From here the stop signals arrive only while the loop waits, and their handler makes the
     * stop fd readable; a stop requested before the fd existed is seen in g_stop below. */
    int stop_fd = -1;
    if (signals_block_stop(&wait_mask) != 0 || (stop_fd = signals_stop_fd()) < 0 || !(srv.loop = loop_new())) {
        perror("event loop");
        close(lfd);
        return 1;
    }
    acceptor_init(&srv.acceptor, lfd, SOCK_NONBLOCK, stats);
    loop_timer_init(&srv.backoff_timer);
    int rc = loop_watch(srv.loop, lfd, LOOP_READ, on_listener, &srv);
    if (rc == 0)
        rc = loop_watch(srv.loop, stop_fd, LOOP_READ, on_stop_fd, NULL);
    if (rc != 0) {
        perror("watching the listener");
    } else if ((!announce || (rc = listener_announce(lfd)) == 0) && !g_stop) {
        while ((rc = loop_run(srv.loop, &wait_mask)) == LOOP_INTERRUPTED && !g_stop) {
        }
        if (rc == LOOP_INTERRUPTED)
            rc = 0;
    }
    conn_close_all(srv.loop);
    loop_unwatch(srv.loop, lfd);
    loop_unwatch(srv.loop, stop_fd);
    close(lfd);
    acceptor_close(&srv.acceptor);
    loop_free(srv.loop);
    return rc == 0 ? 0 : 1;
}
