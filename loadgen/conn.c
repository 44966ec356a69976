/* A connection's request state machine: open it, start a request, write it, read the response,
 * retry a request that a stale keep-alive connection lost, react to epoll events, and apply the
 * verdict outcome.c gives when a request ends.
 *
 * Sockets are registered once, edge-triggered for both directions, so a keep-alive request
 * costs one write(), one read() and a share of one epoll_wait(). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "worker.h"

static void lg_conn_close_socket(lg_thread *t, lg_conn *c)
{
    if (c->fd >= 0) {
        /* close() removes the fd from epoll; EINTR on close must not be retried on Linux. */
        close(c->fd);
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

/* Applies what the end of a request asked of its connection (outcome.c decides, this acts). */
void lg_conn_apply(lg_thread *t, lg_conn *c, enum lg_verdict v, uint64_t now)
{
    if (v != LG_KEEP)
        lg_conn_close_socket(t, c);
    if (t->capture_owner == c)
        t->capture_owner = NULL;
    lg_timer_remove(&c->timer);
    if (v == LG_CLOSE_BACK_OFF)
        wait_before_reconnecting(t, c, now);
    else
        lg_conn_push_idle(t, c);
}

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static void lg_conn_connected(lg_thread *t, lg_conn *c, uint64_t now)
{
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

/* Binds fd to this connection's --source address; returns 0 or an errno value. */
static int bind_source(const lg_options *o, const lg_conn *c, int fd)
{
    int one = 1;
    /* Delay the port choice to connect() so each source address has its own port range. */
    if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0)
        return errno;
    const struct sockaddr_storage *src = &o->sources[c->gidx % o->nsources];
    socklen_t sl = src->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
    return bind(fd, (const struct sockaddr *)src, sl) < 0 ? errno : 0;
}

/* Opening a connection: a non-blocking socket, an optional source address, connect(). */
static void lg_conn_open(lg_thread *t, lg_conn *c, uint64_t now)
{
    lg_shared *sh = t->sh;
    const lg_options *o = sh->o;
    int fd = socket(sh->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
        lg_conn_apply(t, c, lg_outcome_fail(t, c, LG_ERR_EXCEPTION, errno, NULL, now), now);
        return;
    }
    c->fd = fd;
    c->connected = 0;
    t->open_socks++;
    t->connect_budget--;
    lg_timer_add(&t->connect_timers, &c->timer, now + sh->connect_timeout_us);
    int one = 1;
    /* Requests are written whole; Nagle would only delay them. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        lg_conn_apply(t, c, lg_outcome_fail(t, c, LG_ERR_EXCEPTION, errno, NULL, now), now);
        return;
    }
    if (o->nsources) {
        int e = bind_source(o, c, fd);
        if (e) {
            lg_conn_apply(t, c, lg_outcome_fail(t, c, LG_ERR_CONNECT, e, NULL, now), now);
            return;
        }
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        lg_conn_apply(t, c, lg_outcome_fail(t, c, LG_ERR_EXCEPTION, errno, NULL, now), now);
        return;
    }
    int rc = connect(fd, (const struct sockaddr *)&sh->target, sh->target_len);
    if (rc == 0) {
        lg_conn_connected(t, c, now);
    } else if (errno == EINPROGRESS || errno == EINTR) {
        /* EINTR: the connect goes on asynchronously, like EINPROGRESS. */
        c->state = LG_C_CONNECTING;
    } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        lg_conn_apply(t, c, lg_outcome_fail(t, c, LG_ERR_EXCEPTION, errno, NULL, now), now);
    } else {
        lg_conn_apply(t, c, lg_outcome_fail(t, c, LG_ERR_CONNECT, errno, NULL, now), now);
    }
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
        lg_conn_apply(t, c, lg_outcome_complete(t, c, 0, now), now);
    else
        lg_conn_apply(t, c, lg_outcome_fail(t, c, LG_ERR_READ, 0,
                     c->bytes ? "connection closed before the response was complete"
                              : "connection closed without a response",
                     now), now);
}

/* Parses n fresh bytes in t->rbuf; returns 1 when the request ended (complete or failed). */
static int parse_received(lg_thread *t, lg_conn *c, size_t n, uint64_t now)
{
    size_t extra;
    int whole = c->bytes == (uint64_t)n; /* this read began the response */
    if (whole && !c->resp.capture &&
        lg_head_cache_match(&t->head_cache, t->rbuf, n, &c->resp, &extra)) {
        lg_conn_apply(t, c, lg_outcome_complete(t, c, extra, now), now);
        return 1;
    }
    if (lg_response_feed(&c->resp, t->rbuf, n, &extra) != LG_RESP_OK) {
        lg_conn_apply(t, c, lg_outcome_fail(t, c, LG_ERR_PARSE, 0, lg_response_error(&c->resp), now), now);
        return 1;
    }
    if (!c->resp.complete)
        return 0;
    if (whole)
        lg_head_cache_store(&t->head_cache, t->rbuf, n - extra, &c->resp);
    lg_conn_apply(t, c, lg_outcome_complete(t, c, extra, now), now);
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
        /* recv/send skip the VFS layer that read/write go through: cheaper per request. */
        ssize_t n = recv(c->fd, t->rbuf, sizeof t->rbuf, 0);
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
        lg_conn_apply(t, c, lg_outcome_fail(t, c, LG_ERR_READ, errno, NULL, now), now);
        return;
    }
}

/* The server stopped taking our request: it may have answered first (a 413 before the body,
 * then close). Like curl, read what it sent before calling the request a write failure.
 * Returns 1 when that answer ended the request. */
static int early_answer(lg_thread *t, lg_conn *c, uint64_t now)
{
    for (;;) {
        ssize_t n = recv(c->fd, t->rbuf, sizeof t->rbuf, 0);
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
    while (c->written < sh->req_len) {
        ssize_t n = send(c->fd, sh->req + c->written, sh->req_len - c->written, MSG_NOSIGNAL);
        if (n > 0) {
            c->written += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->state = LG_C_WRITING; /* edge-triggered EPOLLOUT tells when there is room */
            return;
        }
        int err = n < 0 ? errno : EIO;
        if (c->written == 0 && c->reused && !c->retried && (err == EPIPE || err == ECONNRESET)) {
            retry_request(t, c, now);
            return;
        }
        if (!early_answer(t, c, now))
            lg_conn_apply(t, c, lg_outcome_fail(t, c, LG_ERR_WRITE, err, NULL, now), now);
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
        t->issued++;
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
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
            lg_conn_apply(t, c, lg_outcome_fail(t, c, LG_ERR_CONNECT, err ? err : ECONNREFUSED, NULL, now), now);
            return;
        }
        if (ev & EPOLLOUT)
            lg_conn_connected(t, c, now);
        /* Edge-triggered: bytes that came with this event are not reported again. */
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
        return;
    }
}
