/* One readiness loop serving one listener: accepts, hands connections to conn.c, and runs until
 * a stop. The backend (select, poll, epoll, ...) is linked in from the model's file. */
#include "event_server.h"

#include "acceptor.h"
#include "backend.h"
#include "conn.h"
#include "listener.h"
#include "loop.h"
#include "signals.h"
#include "stats.h"

#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_BATCH 64 /* accept at most this many per wake-up, so busy connections get a turn */

static const server_options_t *opts;
static acceptor_t acceptor;
static loop_timer_t backoff_timer;

static void on_listener(loop_t *loop, int fd, unsigned events, void *data);

static void resume_accepting(loop_t *loop, loop_timer_t *t);

/* Stops watching the listener for a moment rather than spin on it (it stays readable). If the
 * pause cannot be scheduled the listener stays watched: a busy loop beats one that never
 * accepts again. */
static void pause_accepting(loop_t *loop)
{
    if (loop_timer_start(loop, &backoff_timer, loop_now(loop) + ACCEPT_BACKOFF_MS * 1000000ull,
                         resume_accepting) != 0)
        return;
    if (loop_watch(loop, acceptor.listen_fd, 0, on_listener, NULL) != 0)
        loop_timer_stop(loop, &backoff_timer);
}

static void resume_accepting(loop_t *loop, loop_timer_t *t)
{
    (void)t;
    if (loop_watch(loop, acceptor.listen_fd, LOOP_READ, on_listener, NULL) != 0)
        pause_accepting(loop); /* try again after another pause */
}

static void on_listener(loop_t *loop, int fd, unsigned events, void *data)
{
    (void)fd, (void)events, (void)data;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int cfd;
        switch (acceptor_accept(&acceptor, &cfd)) {
        case ACCEPT_OK:
            if (acceptor_admit(cfd, opts->max_conns, loop_fd_limit(loop)))
                conn_open(loop, cfd, opts);
            break;
        case ACCEPT_EMPTY:
            return;
        case ACCEPT_RETRY:
        case ACCEPT_INTERRUPTED:
            break;
        case ACCEPT_BACKOFF: /* out of fds or memory with nothing to shed */
            pause_accepting(loop);
            return;
        }
    }
}

int event_server_run(int lfd, const server_options_t *options, bool announce)
{
    opts = options;
    sigset_t wait_mask;
    signals_block_stop(&wait_mask);
    loop_t *loop = loop_new();
    acceptor_init(&acceptor, lfd, SOCK_NONBLOCK);
    loop_timer_init(&backoff_timer);
    if (loop_watch(loop, lfd, LOOP_READ, on_listener, NULL) != 0) {
        perror("watching the listener");
        return 1;
    }
    if (announce)
        listener_announce(lfd);

    int rc = loop_run(loop, &wait_mask);

    conn_close_all(loop);
    loop_unwatch(loop, lfd);
    close(lfd);
    acceptor_close(&acceptor);
    loop_free(loop);
    return rc == 0 ? 0 : 1;
}
