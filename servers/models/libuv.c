/* libuv model: uv_tcp for the connections, uv_timer for the delay, uv_signal for the stop; the
 * HTTP side is the shared session (core/session.h).
 *
 * The listener is watched with uv_poll and accepted through the shared acceptor rather than
 * uv_listen/uv_accept: at EMFILE libuv sheds pending connections itself without telling the
 * application, so they could not be counted like in the other models. Same trick (a reserve fd),
 * same counters; each accepted fd is then handed to a uv_tcp_t with uv_tcp_open.
 * Build: c10k_core PkgConfig::LIBUV */
#include "acceptor.h"
#include "listener.h"
#include "server_init.h"
#include "session.h"
#include "signals.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define LINGER_MS 500
#define ACCEPT_BATCH 64 /* accepts per wake-up, so busy connections get a turn */
#define LINGER_BYTES (256 * 1024)

typedef struct uconn {
    uv_tcp_t tcp;
    uv_timer_t timer;   /* the pending request's delay, or the linger deadline */
    uv_write_t write_req;
    int open_handles;   /* freed when both handles are closed */
    bool closing, writing, reading, lingering;
    size_t linger_bytes;
    uint64_t delay_deadline; /* uv_hrtime() at which the pending request may be answered */
    session_t s;
} uconn_t;

static server_options_t opts;
static uv_loop_t *loop;
static uv_signal_t sigint_watcher, sigterm_watcher;
static uv_poll_t listener_watch;
static uv_timer_t backoff_timer;
static acceptor_t acceptor;

static void drive(uconn_t *c);

static void on_handle_closed(uv_handle_t *h)
{
    uconn_t *c = h->data;
    if (--c->open_handles == 0)
        free(c);
}

/* Before the timer exists: only the tcp handle to close. */
static void conn_close_tcp_only(uconn_t *c)
{
    c->closing = true;
    stats_conn_closed();
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void conn_close(uconn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    session_abandon(&c->s);
    stats_conn_closed();
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    uconn_t *c = h->data;
    size_t avail;
    if (c->lingering) /* dropped input: reuse the buffer */
        c->s.in_pos = c->s.in_len = 0;
    buf->base = session_in_space(&c->s, &avail);
    buf->len = avail;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void start_reading(uconn_t *c)
{
    if (!c->reading && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = true;
}

static void stop_reading(uconn_t *c)
{
    if (c->reading)
        uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

static void on_linger_timeout(uv_timer_t *t)
{
    conn_close(t->data);
}

static void start_linger(uconn_t *c)
{
    /* Nothing is queued in libuv here (writes finished), so the socket can be shut directly. */
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0 || shutdown(fd, SHUT_WR) != 0) {
        conn_close(c);
        return;
    }
    c->lingering = true;
    if (uv_timer_start(&c->timer, on_linger_timeout, LINGER_MS, 0) != 0) {
        conn_close(c);
        return;
    }
    start_reading(c);
}

static void on_delay(uv_timer_t *t)
{
    uconn_t *c = t->data;
    uint64_t now = uv_hrtime();
    if (now < c->delay_deadline) { /* uv timers count whole ms of a cached clock: never answer early */
        if (uv_timer_start(t, on_delay, (c->delay_deadline - now + 999999) / 1000000, 0) != 0) {
            stats_error(ERR_IO);
            conn_close(c);
        }
        return;
    }
    session_delay_done(&c->s);
    drive(c);
}

static void on_write(uv_write_t *req, int status)
{
    uconn_t *c = req->data;
    c->writing = false;
    if (c->closing)
        return;
    if (status < 0) {
        stats_error(ERR_IO);
        conn_close(c);
        return;
    }
    outq_init(&c->s.out); /* uv_write completes only once every byte is written */
    drive(c);
}

/* Writes what the socket takes now; the rest goes to uv_write. Returns false if c was closed. */
static bool flush(uconn_t *c)
{
    outq_t *q = &c->s.out;
    if (outq_empty(q))
        return true;
    /* uv_buf_t is laid out like struct iovec on Unix. */
    uv_buf_t *bufs = (uv_buf_t *)&q->iov[q->first];
    int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, q->count);
    if (n > 0)
        outq_consume(q, (size_t)n);
    else if (n != UV_EAGAIN) {
        stats_error(ERR_IO);
        conn_close(c);
        return false;
    }
    if (outq_empty(q))
        return true;
    bufs = (uv_buf_t *)&q->iov[q->first];
    c->write_req.data = c;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, bufs, q->count, on_write) != 0) {
        stats_error(ERR_IO);
        conn_close(c);
        return false;
    }
    c->writing = true;
    return true;
}

static void drive(uconn_t *c)
{
    while (!c->closing && !c->writing) {
        session_step_t step = session_advance(&c->s);
        if (!flush(c))
            return;
        if (step == SESSION_DELAY && !uv_is_active((uv_handle_t *)&c->timer)) {
            c->delay_deadline = uv_hrtime() + c->s.pending.delay_ns;
            uv_update_time(loop);
            if (uv_timer_start(&c->timer, on_delay, (c->s.pending.delay_ns + 999999) / 1000000, 0) != 0) {
                stats_error(ERR_IO);
                conn_close(c);
                return;
            }
        }
        if (c->writing) { /* the client is not reading: stop reading from it too */
            stop_reading(c);
            return;
        }
        switch (step) {
        case SESSION_WRITE:
            continue;
        case SESSION_READ:
            start_reading(c);
            return;
        case SESSION_DELAY: {
            bool can_read = !c->s.peer_eof && (c->s.in_len < SESSION_IN_CAP || c->s.in_pos > 0);
            if (can_read)
                start_reading(c);
            else
                stop_reading(c);
            return;
        }
        case SESSION_CLOSE:
            if (c->s.linger)
                start_linger(c);
            else
                conn_close(c);
            return;
        }
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    uconn_t *c = stream->data;
    if (c->closing)
        return;
    if (c->lingering) {
        if (nread < 0 || (c->linger_bytes += (size_t)nread) >= LINGER_BYTES)
            conn_close(c);
        return;
    }
    if (nread > 0) {
        session_in_added(&c->s, (size_t)nread);
    } else if (nread == UV_EOF) {
        c->s.peer_eof = true;
        stop_reading(c);
    } else if (nread == UV_ENOBUFS) {
        stop_reading(c); /* buffer full of unanswered requests; drive() resumes reading */
    } else if (nread < 0) {
        stats_error(ERR_IO);
        conn_close(c);
        return;
    }
    drive(c);
}

/* Takes over an accepted, admitted socket. */
static void conn_start(int fd)
{
    uconn_t *c = malloc(sizeof *c);
    if (!c || uv_tcp_init(loop, &c->tcp) != 0) {
        free(c);
        stats_error(ERR_IO);
        close(fd);
        stats_conn_closed();
        return;
    }
    c->tcp.data = c;
    c->open_handles = 1;
    c->closing = c->writing = c->reading = c->lingering = false;
    c->linger_bytes = 0;
    session_init(&c->s, &opts);
    if (uv_tcp_open(&c->tcp, fd) != 0) {
        stats_error(ERR_IO);
        close(fd);
        stats_conn_closed();
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
        return;
    }
    if (uv_timer_init(loop, &c->timer) != 0) {
        stats_error(ERR_IO);
        c->timer.data = NULL;
        conn_close_tcp_only(c);
        return;
    }
    c->timer.data = c;
    c->open_handles = 2;
    start_reading(c);
    if (!c->reading) {
        stats_error(ERR_IO);
        conn_close(c);
    }
}

static void on_listener(uv_poll_t *w, int status, int events);

static void resume_accepting(uv_timer_t *t)
{
    /* Without a watched listener the server would never accept again: retry after a pause. */
    if (uv_poll_start(&listener_watch, UV_READABLE, on_listener) != 0 &&
        uv_timer_start(t, resume_accepting, ACCEPT_BACKOFF_MS, 0) != 0) {
        fprintf(stderr, "server-libuv: cannot watch the listener any more\n");
        g_stop = 1;
        uv_stop(loop);
    }
}

static void on_listener(uv_poll_t *w, int status, int events)
{
    (void)w, (void)status, (void)events;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd;
        switch (acceptor_accept(&acceptor, &fd)) {
        case ACCEPT_OK:
            if (acceptor_admit(fd, opts.max_conns, 0x7fffffffL))
                conn_start(fd);
            break;
        case ACCEPT_EMPTY:
            return;
        case ACCEPT_RETRY:
        case ACCEPT_INTERRUPTED:
            break;
        case ACCEPT_BACKOFF: /* nothing to shed: pause instead of spinning on a readable listener */
            if (uv_timer_start(&backoff_timer, resume_accepting, ACCEPT_BACKOFF_MS, 0) == 0)
                uv_poll_stop(&listener_watch);
            return;
        }
    }
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (uv_is_closing(h))
        return;
    if (h->data) /* a connection's tcp or timer: close the whole connection */
        conn_close(h->data);
    else
        uv_close(h, NULL);
}

static void on_stop_signal(uv_signal_t *w, int signum)
{
    (void)w, (void)signum;
    g_stop = 1;
    uv_walk(loop, close_any, NULL); /* with every handle closed, uv_run returns */
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "server-libuv: %s: %s\n", what, uv_strerror(rc));
        exit(1);
    }
}

static const model_traits_t model = {
    .name = "libuv", .rank = 60, .driver = "libuv", .mechanism = "libuv (epoll underneath)",
    .description = "one process, one libuv loop: uv_tcp streams and uv_timer delays over the shared session",
};

int main(int argc, char **argv)
{
    server_init(argc, argv, &model, &opts);
    int lfd = listener_open(&opts, model.name, true);
    signals_init(-1); /* SIGPIPE ignored; uv_signal takes SIGINT/SIGTERM over below */
    loop = uv_default_loop();
    acceptor_init(&acceptor, lfd, SOCK_NONBLOCK);
    check(uv_poll_init_socket(loop, &listener_watch, lfd), "uv_poll_init_socket");
    listener_watch.data = NULL;
    check(uv_poll_start(&listener_watch, UV_READABLE, on_listener), "uv_poll_start");
    check(uv_timer_init(loop, &backoff_timer), "uv_timer_init");
    backoff_timer.data = NULL;
    check(uv_signal_init(loop, &sigint_watcher), "uv_signal_init");
    check(uv_signal_init(loop, &sigterm_watcher), "uv_signal_init");
    sigint_watcher.data = sigterm_watcher.data = NULL;
    check(uv_signal_start(&sigint_watcher, on_stop_signal, SIGINT), "uv_signal_start");
    check(uv_signal_start(&sigterm_watcher, on_stop_signal, SIGTERM), "uv_signal_start");
    listener_announce(lfd);

    uv_run(loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(loop);
    if (rc != 0)
        fprintf(stderr, "server-libuv: uv_loop_close: %s\n", uv_strerror(rc));
    close(lfd); /* uv_poll does not own the fd */
    acceptor_close(&acceptor);
    return 0;
}
