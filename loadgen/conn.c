/* A connection's request state machine: open it, start a request, write it, read the response,
 * retry a request that a stale keep-alive connection lost, react to epoll events, and apply the
 * verdict outcome.c gives when a request ends.
 *
 * Sockets are registered once, edge-triggered for both directions, so a keep-alive request
 * costs one write(), one read() and a share of one epoll_wait(). */
#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>

#include "clock.h"
#include "idle.h"
#include "worker.h"

static void lg_conn_close_socket(lg_thread *t, lg_conn *c)
{
    if (c->fd >= 0) {
        t->tr.close(c);
        c->fd = -1;
        c->connected = 0;
        t->open_socks--;
    }
}

void lg_conn_push_idle(lg_thread *t, lg_conn *c)
{
    if (t->nidle == 0 && t->rate_interval_us > 0 && c->state != LG_C_NEW)
        t->watch.idle_since = lg_now_us(); /* --rate: slots due before now waited for a connection */
    c->state = LG_C_IDLE;
    t->idle[t->nidle++] = c;
}

static void lg_conn_write_request(lg_thread *t, lg_conn *c, uint64_t now);

/* A connection whose connect failed waits before it tries again. */
static void wait_before_reconnecting(lg_thread *t, lg_conn *c, uint64_t now)
{
    unsigned level = c->backoff_level - 1u;
    uint64_t wait = lg_backoff_delay(&t->backoff, &level);
    c->backoff_level = (unsigned char)(level + 1u);
    c->state = LG_C_IDLE;
    lg_backoff_push(&t->backoff, now + wait, c);
}

/* Applies what the end of a request asked of its connection (outcome.c decides, this acts).
 * Inline: a kept-alive request passes here every time. */
static inline void apply(lg_thread *t, lg_conn *c, enum lg_verdict v, uint64_t now)
{
    if (v != LG_KEEP)
        lg_conn_close_socket(t, c);
    lg_timer_remove(&c->timer);
    if (v == LG_CLOSE_BACK_OFF)
        wait_before_reconnecting(t, c, now);
    else
        lg_conn_push_idle(t, c);
}

/* Closed loop with -n, like ab: a new connection's request takes its place among the n when its
 * connect ends, not when it starts. A connect whose SYN a full listen queue dropped waits 1 s for
 * the kernel to resend it; meanwhile the connections that got through take the remaining requests,
 * and the run ends when the n are done instead of waiting for the stuck connect. Returns 0 when
 * every place was already taken: the connection is then abandoned. */
static int claim(lg_thread *t, lg_conn *c)
{
    if (!c->claim_pending)
        return 1;
    c->claim_pending = 0;
    t->pending_claims--;
    if (t->issued >= t->quota)
        return 0;
    t->issued++;
    return 1;
}

/* A connect that ended (or never ended) after the run's last request was taken: closed, and
 * counted as abandoned, neither as a request nor as a failure. */
static void abandon(lg_thread *t, lg_conn *c)
{
    lg_conn_close_socket(t, c);
    lg_timer_remove(&c->timer);
    if (t->capture_owner == c)
        t->capture_owner = NULL;
    t->inflight--;
    t->counts.connects_abandoned++;
    c->state = LG_C_RETIRED;
}

void lg_conn_abandon_pending(lg_thread *t)
{
    for (int i = 0; i < t->nconns && t->pending_claims > 0; i++)
        if (t->conns[i].claim_pending && !claim(t, &t->conns[i]))
            abandon(t, &t->conns[i]);
}

void lg_conn_fail(lg_thread *t, lg_conn *c, enum lg_err cls, int err, const char *what, uint64_t now)
{
    if (c->state == LG_C_HANDSHAKE && c->counted && cls == LG_ERR_CONNECT && err == ETIMEDOUT)
        t->counts.tls_failed_timeout++; /* the connect timeout ran out during the handshake */
    if (!claim(t, c)) {
        abandon(t, c);
        return;
    }
    apply(t, c, lg_outcome_fail(t, c, cls, err, what, now), now);
}

static void complete(lg_thread *t, lg_conn *c, size_t extra, uint64_t now)
{
    apply(t, c, lg_outcome_complete(t, c, extra, now), now);
}

static void lg_conn_connected(lg_thread *t, lg_conn *c, uint64_t now)
{
    if (!claim(t, c)) {
        abandon(t, c);
        return;
    }
    c->connected = 1;
    c->backoff_level = 0;
    c->t_connected = now;
    /* The request's -s clock starts now; the connect had its own timeout. */
    lg_timer_add(&t->timers, &c->timer, now + t->sh->timeout_us);
    if (c->counted)
        t->counts.connections_opened++;
    if (!atomic_load_explicit(&t->sh->ever_connected, memory_order_relaxed))
        atomic_store(&t->sh->ever_connected, 1);
    c->written = 0;
    lg_conn_write_request(t, c, now);
}

/* The first finished handshake tells what was negotiated, for the report. */
static void publish_negotiated(lg_thread *t, const lg_conn *c)
{
    lg_shared *sh = t->sh;
    if (!t->tr.describe || t->described)
        return;
    t->described = 1;
    pthread_mutex_lock(&sh->info_lock);
    if (!sh->has_negotiated) {
        t->tr.describe(c, sh->negotiated, sizeof sh->negotiated);
        sh->has_negotiated = 1;
    }
    pthread_mutex_unlock(&sh->info_lock);
}

/* One step of the transport's handshake; done, it is connected (the connect timeout covers the
 * handshake too). */
static void lg_conn_handshake_step(lg_thread *t, lg_conn *c, uint64_t now)
{
    int err = 0;
    const char *what = NULL;
    enum lg_hs hs = t->tr.handshake(c, &err, &what);
    switch (hs) {
    case LG_HS_AGAIN:
        return;
    case LG_HS_DONE:
    case LG_HS_RESUMED:
        if (c->counted) {
            t->counts.tls_handshakes++;
            t->counts.tls_resumed += hs == LG_HS_RESUMED;
        }
        publish_negotiated(t, c);
        lg_conn_connected(t, c, now);
        return;
    case LG_HS_VERIFY:
    case LG_HS_PROTOCOL:
    case LG_HS_RESET:
        if (c->counted) {
            uint64_t *n = hs == LG_HS_VERIFY     ? &t->counts.tls_failed_verify
                          : hs == LG_HS_PROTOCOL ? &t->counts.tls_failed_protocol
                                                 : &t->counts.tls_failed_reset;
            ++*n;
        }
        lg_conn_fail(t, c, LG_ERR_CONNECT, err, what, now);
        return;
    }
}

/* TCP is up: the transport's handshake, when it has one, comes before the request. */
static void lg_conn_tcp_up(lg_thread *t, lg_conn *c, uint64_t now)
{
    c->t_tcp_up = now;
    c->handshook = t->tr.handshake != NULL;
    if (!c->handshook) {
        lg_conn_connected(t, c, now);
        return;
    }
    c->state = LG_C_HANDSHAKE;
    lg_conn_handshake_step(t, c, now);
}

/* Opens c through the transport; the connect has its own timeout (--connect-timeout). */
static void lg_conn_open(lg_thread *t, lg_conn *c, uint64_t now)
{
    enum lg_err cls = LG_ERR_EXCEPTION;
    c->connected = 0;
    int rc = t->tr.connect(t, c, &cls);
    if (c->fd >= 0) {
        t->open_socks++;
        t->connect_budget--;
        lg_timer_add(&t->connect_timers, &c->timer, now + t->sh->connect_timeout_us);
    }
    if (rc == 0)
        lg_conn_tcp_up(t, c, now);
    else if (rc == EINPROGRESS)
        c->state = LG_C_CONNECTING;
    else
        lg_conn_fail(t, c, cls, rc, NULL, now);
}

/* Header collection (for "Server Software") runs on one connection at a time. */
static lg_header_capture *lg_conn_capture_for(lg_thread *t, lg_conn *c)
{
    if (!t->capture_active || (t->capture_owner && t->capture_owner != c))
        return NULL;
    t->capture_owner = c;
    return &t->cap;
}

/* A keep-alive connection the server closed while idle: reconnect and send the request again,
 * once, without counting an error (the server never saw it). */
static void retry_request(lg_thread *t, lg_conn *c, uint64_t now)
{
    lg_conn_close_socket(t, c);
    c->retried = 1;
    c->reused = 0;
    c->bytes = 0;
    lg_response_begin(&c->resp, t->sh->resp_flags, lg_conn_capture_for(t, c));
    lg_conn_open(t, c, now);
}

/* The peer closed (n == 0 from recv). */
static void read_eof(lg_thread *t, lg_conn *c, uint64_t now)
{
    if (c->bytes == 0 && c->reused && !c->retried) {
        retry_request(t, c, now);
        return;
    }
    if (lg_response_eof(&c->resp) == LG_RESP_OK)
        complete(t, c, 0, now);
    else
        lg_conn_fail(t, c, LG_ERR_READ, 0,
                     c->bytes ? "connection closed before the response was complete"
                              : "connection closed without a response",
                     now);
}

/* Parses n fresh bytes in t->rbuf; returns 1 when the request ended (complete or failed). */
static int parse_received(lg_thread *t, lg_conn *c, size_t n, uint64_t now)
{
    size_t extra;
    int whole = c->bytes == (uint64_t)n; /* this read began the response */
    if (!whole || c->resp.capture ||
        !lg_head_cache_match(&t->head_cache, t->rbuf, n, &c->resp, &extra)) {
        if (lg_response_feed(&c->resp, t->rbuf, n, &extra) != LG_RESP_OK) {
            lg_conn_fail(t, c, LG_ERR_PARSE, 0, lg_response_error(&c->resp), now);
            return 1;
        }
        if (!c->resp.complete)
            return 0;
        if (whole)
            lg_head_cache_store(&t->head_cache, t->rbuf, n - extra, &c->resp);
    }
    complete(t, c, extra, now);
    return 1;
}

/* ev: the epoll events that woke us. A short read normally means the socket is drained (the
 * next arrival raises a new edge), but a FIN or error that came before this wake-up raises no
 * new edge: then read on until EOF or EAGAIN. */
static void read_response(lg_thread *t, lg_conn *c, uint64_t now, uint32_t ev)
{
    int hangup = (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    const lg_options *o = t->sh->o;
    for (;;) {
        ssize_t n = t->tr.read(c, t->rbuf, sizeof t->rbuf);
        if (n > 0) {
            if (c->bytes == 0)
                c->t_first_byte = now;
            c->bytes += (uint64_t)n;
            if (o->verbosity >= 4)
                fprintf(stderr, "LOG: received %zd bytes:\n%.*s\n", n, (int)n, t->rbuf);
            if (parse_received(t, c, (size_t)n, now))
                return;
            if ((size_t)n < sizeof t->rbuf && !hangup)
                return; /* drained: edge-triggered epoll reports the next arrival */
            continue;
        }
        if (n == 0) {
            read_eof(t, c, now);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (c->bytes == 0 && c->reused && !c->retried && errno == ECONNRESET) {
            retry_request(t, c, now);
            return;
        }
        lg_conn_fail(t, c, LG_ERR_READ, errno, NULL, now);
        return;
    }
}

/* The server stopped taking our request: it may have answered first (a 413 before the body,
 * then close). Like curl, read what it sent before calling the request a write failure.
 * Returns 1 when that answer ended the request. */
static int early_answer(lg_thread *t, lg_conn *c, uint64_t now)
{
    for (;;) {
        ssize_t n = t->tr.read(c, t->rbuf, sizeof t->rbuf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        if (c->bytes == 0)
            c->t_first_byte = now;
        c->bytes += (uint64_t)n;
        if (parse_received(t, c, (size_t)n, now))
            return 1;
    }
}

static void lg_conn_write_request(lg_thread *t, lg_conn *c, uint64_t now)
{
    lg_shared *sh = t->sh;
    int err = lg_conn_write_rest(t, c, sh->req, sh->req_len);
    if (err == EAGAIN) {
        c->state = LG_C_WRITING; /* edge-triggered EPOLLOUT tells when there is room */
        return;
    }
    if (err) {
        if (c->written == 0 && c->reused && !c->retried && (err == EPIPE || err == ECONNRESET)) {
            retry_request(t, c, now);
            return;
        }
        if (!early_answer(t, c, now))
            lg_conn_fail(t, c, LG_ERR_WRITE, err, NULL, now);
        return;
    }
    c->t_write_end = now;
    c->state = LG_C_READING;
}

/* Starts the next request on c; intended = when it should start (now, or the --rate slot). */
void lg_conn_start_request(lg_thread *t, lg_conn *c, uint64_t now, uint64_t intended)
{
    lg_shared *sh = t->sh;
    int counted = intended >= sh->measure_start;
    if (counted && !t->unlimited) {
        if (t->issued >= t->quota) {
            lg_conn_close_socket(t, c);
            c->state = LG_C_RETIRED;
            return;
        }
        if (c->fd < 0 && t->rate_interval_us <= 0) { /* claimed when its connect ends */
            c->claim_pending = 1;
            t->pending_claims++;
        } else { /* --rate: a request belongs to its slot, however long its connect takes */
            t->issued++;
        }
    }
    c->counted = (unsigned char)counted;
    c->t_start = intended;
    c->t_actual = now;
    c->bytes = 0;
    c->retried = 0;
    c->written = 0;
    c->t_write_end = now; /* until the write ends; an early answer then waits 0, not garbage */
    t->inflight++;
    lg_response_begin(&c->resp, sh->resp_flags, lg_conn_capture_for(t, c));
    if (c->fd >= 0) {
        c->reused = 1;
        c->t_connected = now;
        lg_timer_add(&t->timers, &c->timer, now + sh->timeout_us);
        lg_conn_write_request(t, c, now);
    } else {
        c->reused = 0;
        lg_conn_open(t, c, now);
    }
}

void lg_conn_handle_event(lg_thread *t, lg_conn *c, uint32_t ev, uint64_t now)
{
    switch (c->state) {
    case LG_C_CONNECTING:
        if (ev & (EPOLLERR | EPOLLHUP)) {
            int err = t->tr.connect_error(c);
            lg_conn_fail(t, c, LG_ERR_CONNECT, err, NULL, now);
            return;
        }
        if (ev & EPOLLOUT)
            lg_conn_tcp_up(t, c, now);
        /* Edge-triggered: bytes that came with this event are not reported again. */
        if ((c->state == LG_C_READING || c->state == LG_C_WRITING) && (ev & (EPOLLIN | EPOLLRDHUP)))
            read_response(t, c, now, ev);
        return;
    case LG_C_HANDSHAKE:
        lg_conn_handshake_step(t, c, now); /* the transport reads or writes what it waits for */
        if ((c->state == LG_C_READING || c->state == LG_C_WRITING) && (ev & (EPOLLIN | EPOLLRDHUP)))
            read_response(t, c, now, ev);
        return;
    case LG_C_WRITING:
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            lg_conn_write_request(t, c, now);
        /* The server may answer (e.g. 413) before it read the whole request. */
        if ((c->state == LG_C_READING || c->state == LG_C_WRITING) && (ev & (EPOLLIN | EPOLLRDHUP)))
            read_response(t, c, now, ev);
        return;
    case LG_C_READING:
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            read_response(t, c, now, ev);
        return;
    case LG_C_IDLE:
        /* --rate: the server closed (or wrote to) a kept-alive connection between requests. */
        if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            lg_conn_close_socket(t, c);
        return;
    default:
        lg_idle_handle_event(t, c, ev, now); /* an --idle connection, or one with nothing to do */
        return;
    }
}
