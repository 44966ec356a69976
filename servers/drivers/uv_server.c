/* The libuv driver of the session contract (session.h): uv_tcp reads and writes, uv_signal for the
 * stop. The connections' deadlines live in one heap (timer_heap.h) behind one uv_timer, and a
 * uv_write_t is lent to a connection only while the socket is full: a uv_timer_t (152 bytes) and a
 * uv_write_t (192) per connection would be most of an idle connection's memory.
 *
 * The listener is watched with uv_poll and accepted through the shared acceptor rather than
 * uv_listen/uv_accept: at EMFILE libuv sheds pending connections itself without telling the
 * application, so they could not be counted like in the other models. Same trick (a reserve fd),
 * same counters; each accepted fd is then handed to a uv_tcp_t with uv_tcp_open.
 *
 * One failure this driver cannot ride out: libuv (1.44, src/unix/epoll.c, uv__io_poll) calls
 * abort() when epoll_ctl fails with anything but EEXIST (ENOMEM, ENOSPC). The call happens inside
 * uv_run with no error path to the application, and no libuv option changes it. */
#include "uv_server.h"

#include "acceptor.h"
#include "clock.h"
#include "container_of.h"
#include "listener.h"
#include "session.h"
#include "signals.h"
#include "stats.h"
#include "timer_heap.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

typedef struct uconn {
    uv_tcp_t tcp;
    heap_entry_t timer;   /* at or before the session's deadline, in the server's heap */
    bool closing, reading;
    session_t s;
} uconn_t;

/* A write the socket did not take at once: lent to a connection until uv_write completes. */
typedef struct pending_write {
    uv_write_t req;
    size_t len;           /* bytes handed to uv_write */
    struct pending_write *next_free;
} pending_write_t;

#define FREE_WRITES_MAX 64 /* pending writes kept for reuse; more are freed */

/* One loop with its listener: all of its state, so that a process could run several. Its own
 * handles have data == NULL (a connection's point to the connection). */
typedef struct uv_server {
    uv_loop_t loop;
    uv_poll_t listener_watch;
    uv_timer_t backoff_timer;
    uv_signal_t sigint_watcher, sigterm_watcher;
    uv_timer_t conn_timer;  /* due at or before the earliest deadline in `timers` */
    uint64_t conn_timer_at; /* the deadline it is set for, 0 when not set */
    timer_heap_t timers;    /* the connections' */
    pending_write_t *free_writes;
    unsigned free_writes_len;
    acceptor_t acceptor;
    const server_options_t *opts;
} uv_server_t;

#define SERVER_OF(ptr, member) container_of(ptr, uv_server_t, member)

static uv_server_t *server_of_conn(const uconn_t *c)
{
    return SERVER_OF(c->tcp.loop, loop);
}

static void apply(uconn_t *c);

static void on_handle_closed(uv_handle_t *h)
{
    free(h->data);
}

static void conn_close(uconn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    session_end(&c->s);
    stats_conn_closed(c->s.stats);
    timer_heap_remove(&server_of_conn(c)->timers, &c->timer);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed); /* a write in flight is cancelled */
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    uconn_t *c = h->data;
    size_t avail;
    buf->base = session_in_space(&c->s, &avail);
    buf->len = avail; /* 0 makes libuv report UV_ENOBUFS */
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    uconn_t *c = stream->data;
    if (c->closing)
        return;
    if (nread > 0)
        session_in_added(&c->s, (size_t)nread);
    else if (nread == UV_EOF)
        session_in_eof(&c->s);
    else if (nread < 0 && nread != UV_ENOBUFS) /* ENOBUFS: out of memory, the session closes */
        session_io_failed(&c->s);
    apply(c);
}

/* ---- deadlines: one heap, one uv_timer ---- */

static void on_conn_timers(uv_timer_t *t);

/* Sets the uv_timer for the earliest deadline unless it is due at or before it already. libuv
 * timers count whole ms of a cached clock, so it may fire a little early: nothing is due then, and
 * it is set again. Returns false when it cannot be set. */
static bool schedule(uv_server_t *srv)
{
    heap_entry_t *first = timer_heap_first(&srv->timers);
    if (!first || (srv->conn_timer_at && srv->conn_timer_at <= first->deadline_ns))
        return true;
    uv_update_time(&srv->loop);
    uint64_t now = now_ns();
    uint64_t ms = first->deadline_ns > now ? (first->deadline_ns - now + 999999) / 1000000 : 0;
    if (uv_timer_start(&srv->conn_timer, on_conn_timers, ms, 0) != 0)
        return false;
    srv->conn_timer_at = first->deadline_ns;
    return true;
}

static void fire(heap_entry_t *e, void *unused)
{
    (void)unused;
    uconn_t *c = container_of(e, uconn_t, timer);
    uv_os_fd_t fd;
    session_timer(&c->s, uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 ? fd : -1, now_ns());
    apply(c);
}

static void on_conn_timers(uv_timer_t *t)
{
    uv_server_t *srv = SERVER_OF(t, conn_timer);
    srv->conn_timer_at = 0;
    timer_heap_run_due(&srv->timers, now_ns(), fire, NULL);
    if (!schedule(srv)) { /* no error path but the loop's: the timeouts would stop */
        fprintf(stderr, "server-libuv: cannot set the connections' timer\n");
        g_stop = 1;
        uv_stop(&srv->loop);
    }
}

/* A timer already due no later than the deadline is kept: when it fires early the session just
 * names its new deadline. */
static bool arm(uconn_t *c, uint64_t deadline)
{
    if (deadline == 0 || (heap_entry_active(&c->timer) && c->timer.deadline_ns <= deadline))
        return true;
    uv_server_t *srv = server_of_conn(c);
    return timer_heap_set(&srv->timers, &c->timer, deadline) == 0 && schedule(srv);
}

/* ---- writes ---- */

static pending_write_t *write_take(uv_server_t *srv)
{
    pending_write_t *w = srv->free_writes;
    if (!w)
        return malloc(sizeof *w);
    srv->free_writes = w->next_free;
    srv->free_writes_len--;
    return w;
}

static void write_give_back(uv_server_t *srv, pending_write_t *w)
{
    if (srv->free_writes_len >= FREE_WRITES_MAX) {
        free(w);
        return;
    }
    w->next_free = srv->free_writes;
    srv->free_writes = w;
    srv->free_writes_len++;
}

static void on_write(uv_write_t *req, int status)
{
    pending_write_t *w = container_of(req, pending_write_t, req);
    uconn_t *c = req->data;
    size_t len = w->len;
    write_give_back(server_of_conn(c), w);
    if (c->closing) /* cancelled by the close */
        return;
    session_out_done(&c->s, status == 0 ? len : 0, now_ns()); /* all bytes, or an error */
    if (status < 0)
        session_io_failed(&c->s);
    apply(c);
}

/* Writes what the socket takes now; the rest goes to uv_write, whose completion resumes apply. */
static void write_out(uconn_t *c, uint64_t now)
{
    unsigned count;
    /* uv_buf_t is laid out like struct iovec on Unix. */
    const uv_buf_t *bufs = (const uv_buf_t *)session_out(&c->s, &count);
    session_out_begin(&c->s);
    int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, count);
    session_out_done(&c->s, n > 0 ? (size_t)n : 0, now);
    if (n < 0 && n != UV_EAGAIN) {
        session_io_failed(&c->s);
        return;
    }
    bufs = (const uv_buf_t *)session_out(&c->s, &count);
    if (count == 0)
        return;
    uv_os_fd_t fd; /* the socket is full: the write timeout waits for the peer from here */
    session_out_blocked(&c->s, uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 ? fd : -1, now);
    uv_server_t *srv = server_of_conn(c);
    pending_write_t *w = write_take(srv);
    if (!w) { /* out of memory: the session closes */
        session_io_failed(&c->s);
        return;
    }
    w->len = 0;
    for (unsigned i = 0; i < count; i++)
        w->len += bufs[i].len;
    w->req.data = c;
    session_out_begin(&c->s);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, count, on_write) != 0) {
        write_give_back(srv, w);
        session_out_done(&c->s, 0, now);
        session_io_failed(&c->s);
    }
}

static bool set_reading(uconn_t *c, bool on)
{
    if (on && !c->reading)
        c->reading = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0;
    else if (!on && c->reading)
        c->reading = uv_read_stop((uv_stream_t *)&c->tcp) != 0;
    return c->reading == on;
}

static void apply(uconn_t *c)
{
    while (!c->closing) {
        uint64_t now = now_ns();
        session_want_t w = session_next(&c->s, now);
        if (w.close) {
            conn_close(c);
            return;
        }
        if (w.write) {
            write_out(c, now);
            continue;
        }
        if (w.shut_write) { /* nothing is queued in libuv: the socket can be shut directly */
            uv_os_fd_t fd;
            if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0)
                session_io_failed(&c->s);
            else
                session_shut_write(&c->s, fd, now);
            continue;
        }
        if (!set_reading(c, w.read) || !arm(c, w.deadline_ns)) {
            session_io_failed(&c->s);
            continue;
        }
        return;
    }
}

/* Takes over an accepted, admitted socket. */
static void conn_start(int fd, void *server)
{
    uv_server_t *srv = server;
    uconn_t *c = malloc(sizeof *c);
    if (!c || uv_tcp_init(&srv->loop, &c->tcp) != 0) {
        free(c);
        stats_error(srv->acceptor.stats, ERR_IO);
        close(fd);
        stats_conn_closed(srv->acceptor.stats);
        return;
    }
    c->tcp.data = c;
    c->closing = c->reading = false;
    heap_entry_init(&c->timer);
    session_init(&c->s, srv->opts, srv->acceptor.stats, now_ns());
    if (uv_tcp_open(&c->tcp, fd) != 0) {
        stats_error(c->s.stats, ERR_IO);
        close(fd);
        conn_close(c);
        return;
    }
    apply(c);
}

static void on_listener(uv_poll_t *w, int status, int events);

static void resume_accepting(uv_timer_t *t)
{
    uv_server_t *srv = SERVER_OF(t, backoff_timer);
    /* Without a watched listener the server would never accept again: retry after a pause. */
    if (uv_poll_start(&srv->listener_watch, UV_READABLE, on_listener) != 0 &&
        uv_timer_start(t, resume_accepting, ACCEPT_BACKOFF_MS, 0) != 0) {
        fprintf(stderr, "server-libuv: cannot watch the listener any more\n");
        g_stop = 1;
        uv_stop(&srv->loop);
    }
}

static void on_listener(uv_poll_t *w, int status, int events)
{
    (void)status, (void)events;
    uv_server_t *srv = SERVER_OF(w, listener_watch);
    /* Out of resources with nothing to shed: pause instead of spinning on a readable listener. */
    if (acceptor_drain(&srv->acceptor, ACCEPT_BATCH, srv->opts->max_conns, 0x7fffffffL, conn_start, srv) ==
            ACCEPT_BACKOFF &&
        uv_timer_start(&srv->backoff_timer, resume_accepting, ACCEPT_BACKOFF_MS, 0) == 0)
        uv_poll_stop(&srv->listener_watch);
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (uv_is_closing(h))
        return;
    if (h->data) /* a connection's tcp: close the whole connection */
        conn_close(h->data);
    else
        uv_close(h, NULL);
}

static void on_stop_signal(uv_signal_t *w, int signum)
{
    (void)signum;
    g_stop = 1;
    uv_walk(w->loop, close_any, NULL); /* with every handle closed, uv_run returns */
}

static int check(int rc, const char *what)
{
    if (rc != 0)
        fprintf(stderr, "server-libuv: %s: %s\n", what, uv_strerror(rc));
    return rc;
}

/* Sets up the loop and its handles on the non-blocking listener lfd; returns 0, or a libuv error
 * (reported) after undoing what was done. */
static int server_open(uv_server_t *srv, int lfd, const server_options_t *opts, stats_t *stats)
{
    srv->opts = opts;
    srv->conn_timer_at = 0;
    srv->timers = (timer_heap_t){0};
    srv->free_writes = NULL;
    srv->free_writes_len = 0;
    int rc = check(uv_loop_init(&srv->loop), "uv_loop_init");
    if (rc != 0)
        return rc;
    acceptor_init(&srv->acceptor, lfd, SOCK_NONBLOCK, stats);
    srv->listener_watch.data = srv->backoff_timer.data = srv->conn_timer.data = NULL;
    srv->sigint_watcher.data = srv->sigterm_watcher.data = NULL;
    if ((rc = check(uv_poll_init_socket(&srv->loop, &srv->listener_watch, lfd), "uv_poll_init_socket")) == 0 &&
        (rc = check(uv_poll_start(&srv->listener_watch, UV_READABLE, on_listener), "uv_poll_start")) == 0 &&
        (rc = check(uv_timer_init(&srv->loop, &srv->backoff_timer), "uv_timer_init")) == 0 &&
        (rc = check(uv_timer_init(&srv->loop, &srv->conn_timer), "uv_timer_init")) == 0 &&
        (rc = check(uv_signal_init(&srv->loop, &srv->sigint_watcher), "uv_signal_init")) == 0 &&
        (rc = check(uv_signal_init(&srv->loop, &srv->sigterm_watcher), "uv_signal_init")) == 0 &&
        (rc = check(uv_signal_start(&srv->sigint_watcher, on_stop_signal, SIGINT), "uv_signal_start")) == 0 &&
        (rc = check(uv_signal_start(&srv->sigterm_watcher, on_stop_signal, SIGTERM), "uv_signal_start")) == 0)
        return 0;
    uv_walk(&srv->loop, close_any, NULL);
    uv_run(&srv->loop, UV_RUN_DEFAULT); /* runs the close callbacks */
    uv_loop_close(&srv->loop);
    acceptor_close(&srv->acceptor);
    return rc;
}

/* What the loop's handles leave behind: the heap's slots and the pending writes kept for reuse. */
static void server_free(uv_server_t *srv)
{
    timer_heap_free(&srv->timers);
    while (srv->free_writes) {
        pending_write_t *w = srv->free_writes;
        srv->free_writes = w->next_free;
        free(w);
    }
    srv->free_writes_len = 0;
}

/* Runs until a stop request has closed every handle; then releases the loop. */
static int server_run(uv_server_t *srv)
{
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&srv->loop);
    if (rc != 0)
        fprintf(stderr, "server-libuv: uv_loop_close: %s\n", uv_strerror(rc));
    acceptor_close(&srv->acceptor);
    server_free(srv);
    return rc;
}

int uv_server_serve(int lfd, const server_options_t *opts, stats_t *stats)
{
    uv_server_t srv;
    if (server_open(&srv, lfd, opts, stats) != 0) {
        close(lfd);
        return 1;
    }
    int rc = listener_announce(lfd) == 0 ? server_run(&srv) : -1;
    close(lfd); /* uv_poll does not own the fd */
    return rc == 0 ? 0 : 1;
}
