/* Per-thread epoll loops, connections and the request state machine.
 *
 * Each thread owns its connections, its timers and its statistics; nothing is shared per
 * request (no lock, no shared counter), and the per-thread statistics are merged once at the
 * end. Sockets are registered once, edge-triggered for both directions, so a keep-alive request
 * costs one write(), one read() and a share of one epoll_wait(). */
#include "engine.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "http_response.h"
#include "progress.h"
#include "timers.h"
#include "timeseries.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define READ_BUF 65536
#define MAX_EVENTS 1024
/* Like ab: a target that refused this many connects and never accepted one ends the run. */
#define REFUSED_LIMIT 10

enum conn_state { C_NEW, C_IDLE, C_CONNECTING, C_WRITING, C_READING, C_RETIRED };
enum stop_reason { STOP_NONE, STOP_INTERRUPT, STOP_REFUSED, STOP_ERROR };

struct lg_thread;

typedef struct conn {
    int fd;
    unsigned char state;
    unsigned char reused;   /* this request went out on an already open connection */
    unsigned char retried;  /* it was already retried once after a stale keep-alive close */
    unsigned char counted;  /* started after the warm-up (or, -t only, ended after it): it counts */
    unsigned char connected;
    size_t written;
    uint32_t gidx;          /* global connection index: ramp slot and source address */
    uint64_t t_start;       /* request start (intended start with --rate) */
    uint64_t t_actual;      /* when it was actually started */
    uint64_t t_connected, t_write_end, t_first_byte;
    uint64_t bytes;
    lg_timer timer;         /* its timeout; conn_of_timer() maps back */
    lg_response resp;
    struct lg_thread *thr;
} conn;

typedef struct lg_shared {
    const lg_options *o;
    struct sockaddr_storage target;
    socklen_t target_len;
    char *req;
    size_t req_len;
    int head;
    int nthreads;
    uint64_t t0, measure_start, end_time, timeout_us, ramp_us;
    atomic_int stop;
    atomic_int ever_connected;
    atomic_llong doclen;
    atomic_int threads_done;
    pthread_t main_thread;
    pthread_mutex_t info_lock;
    char server[256];
    int has_server;
} lg_shared;

typedef struct lg_thread {
    lg_shared *sh;
    int id;
    pthread_t tid;
    int epfd, wakefd;
    conn *conns;
    int nconns;
    int unlimited;
    uint64_t quota, issued;
    int inflight, open_socks;
    int next_open;          /* ramp: next connection to bring in */
    conn **idle;            /* connections waiting to start a request */
    conn **idle_spare;      /* the closed loop swaps lists so that re-queued ones wait a round */
    int nidle;
    double rate_interval_us; /* 0 = closed loop */
    uint64_t rate_k;
    lg_timer_list timers;
    hist h_connect, h_waiting, h_processing, h_total, h_uncorrected;
    lg_timeseries ts;
    uint64_t next_tick;
    uint64_t complete, attempts, bytes, body, keepalive, opened, non2xx, warmup;
    uint64_t errors[LG_ERR_COUNT];
    uint64_t status[LG_STATUS_MAX];
    uint64_t connect_failures;
    int first_connect_errno;
    int capture_active;     /* the Server header has not been seen yet */
    conn *capture_owner;    /* the one connection collecting headers into cap */
    lg_header_capture cap;
    lg_head_cache head_cache;
    uint64_t end_us;
    int failed_alloc;
    uint64_t last_event_us; /* for --busy-poll */
    int no_pwait2;          /* epoll_pwait2 is missing: epoll_wait with ms timeouts */
    atomic_ullong prog_complete, prog_errors;
    char rbuf[READ_BUF];
} lg_thread;

static inline conn *conn_of_timer(lg_timer *t)
{
    return (conn *)((char *)t - offsetof(conn, timer));
}

static void close_socket(lg_thread *t, conn *c)
{
    if (c->fd >= 0) {
        /* close() removes the fd from epoll; EINTR on close must not be retried on Linux. */
        close(c->fd);
        c->fd = -1;
        c->connected = 0;
        t->open_socks--;
    }
}

static void push_idle(lg_thread *t, conn *c)
{
    c->state = C_IDLE;
    t->idle[t->nidle++] = c;
}

/* b - a, or 0 if the events came in the other order (e.g. an answer before the request was
 * fully written): a histogram never gets a wrapped-around value. */
static inline uint64_t span(uint64_t a, uint64_t b)
{
    return b > a ? b - a : 0;
}

/* Header collection (for "Server Software") runs on one connection at a time. */
static lg_header_capture *capture_for(lg_thread *t, conn *c)
{
    if (!t->capture_active || (t->capture_owner && t->capture_owner != c))
        return NULL;
    t->capture_owner = c;
    return &t->cap;
}

static void verbose_failure(const lg_thread *t, enum lg_err cls, int err, const char *what)
{
    if (t->sh->o->verbosity >= 2)
        fprintf(stderr, "WARNING: request failed (%s): %s\n", lg_err_names[cls],
                what ? what : strerror(err));
}

static void end_request(lg_thread *t, conn *c, uint64_t now)
{
    if (t->capture_owner == c)
        t->capture_owner = NULL;
    lg_timer_remove(&c->timer);
    t->inflight--;
    if (c->counted)
        t->end_us = now;
    push_idle(t, c);
}

/* A time-bound run measures a window: a request that ends inside it counts even if it began during
 * the warm-up, so a closed loop's complete / window is its rate, with nothing lost at the edges. */
static void count_if_in_window(lg_thread *t, conn *c, uint64_t now)
{
    if (t->unlimited && !c->counted && now >= t->sh->measure_start)
        c->counted = 1;
}

static void fail_request(lg_thread *t, conn *c, enum lg_err cls, int err, const char *what,
                         uint64_t now)
{
    count_if_in_window(t, c, now);
    if (c->counted) {
        t->errors[cls]++;
        t->attempts++;
        t->ts.errors++;
    }
    if (cls == LG_ERR_CONNECT) {
        t->connect_failures++;
        if (!t->first_connect_errno)
            t->first_connect_errno = err;
    }
    verbose_failure(t, cls, err, what);
    close_socket(t, c);
    end_request(t, c, now);
}

static void finish_response(lg_thread *t, conn *c, size_t extra, uint64_t now)
{
    lg_shared *sh = t->sh;
    const lg_options *o = sh->o;
    unsigned status = c->resp.status < LG_STATUS_MAX ? c->resp.status : 0;
    uint64_t body = c->resp.body_bytes;
    count_if_in_window(t, c, now);
    /* ab -l semantics: every body must be as long as the first complete response's. */
    long long expected = atomic_load_explicit(&sh->doclen, memory_order_relaxed);
    int length_error = 0;
    if (expected < 0) {
        long long none = -1;
        if (!atomic_compare_exchange_strong(&sh->doclen, &none, (long long)body))
            length_error = (uint64_t)none != body;
    } else {
        length_error = (uint64_t)expected != body;
    }
    if (o->variable_length)
        length_error = 0;
    if (t->capture_owner == c) {
        t->capture_active = 0; /* the first complete response tells, header or not */
        if (t->cap.found) {
            pthread_mutex_lock(&sh->info_lock);
            if (!sh->has_server) {
                memcpy(sh->server, t->cap.server, sizeof sh->server);
                sh->has_server = 1;
            }
            pthread_mutex_unlock(&sh->info_lock);
        }
    }
    if (o->verbosity >= 3)
        fprintf(stderr, "LOG: Response code = %u\n", c->resp.status);
    if (c->counted) {
        t->complete++;
        t->attempts++;
        t->bytes += c->bytes;
        t->body += body;
        t->status[status]++;
        if (status < 200 || status > 299)
            t->non2xx++;
        if (c->reused)
            t->keepalive++;
        if (length_error) {
            t->errors[LG_ERR_LENGTH]++;
            t->ts.errors++;
        }
        uint64_t total = span(c->t_start, now);
        hist_record(&t->h_total, total);
        lg_ts_record(&t->ts, total);
        if (t->rate_interval_us > 0)
            hist_record(&t->h_uncorrected, span(c->t_actual, now));
        if (!c->reused)
            hist_record(&t->h_connect, span(c->t_actual, c->t_connected));
        hist_record(&t->h_processing, span(c->reused ? c->t_actual : c->t_connected, now));
        hist_record(&t->h_waiting, span(c->t_write_end, c->t_first_byte));
    } else {
        t->warmup++;
    }
    /* Bytes after the response on a connection without pipelining: framing is lost, close. */
    if (!o->keepalive || extra > 0 || !lg_response_keepalive(&c->resp))
        close_socket(t, c);
    end_request(t, c, now);
}

static void open_connection(lg_thread *t, conn *c, uint64_t now);

/* A keep-alive connection the server closed while idle: reconnect and send the request again,
 * once, without counting an error (the server never saw it). */
static void retry_request(lg_thread *t, conn *c, uint64_t now)
{
    close_socket(t, c);
    c->retried = 1;
    c->reused = 0;
    c->bytes = 0;
    lg_response_begin(&c->resp, t->sh->head, capture_for(t, c));
    open_connection(t, c, now);
}

/* ev: the epoll events that woke us. A short read normally means the socket is drained (the
 * next arrival raises a new edge), but a FIN or error that came before this wake-up raises no
 * new edge: then read on until EOF or EAGAIN. */
static void read_response(lg_thread *t, conn *c, uint64_t now, uint32_t ev)
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
            size_t extra;
            int whole = c->bytes == (uint64_t)n; /* this read began the response */
            if (whole && !c->resp.capture && lg_head_cache_match(&t->head_cache, t->rbuf, (size_t)n,
                                                                 &c->resp, &extra)) {
                c->bytes -= extra;
                finish_response(t, c, extra, now);
                return;
            }
            if (lg_response_feed(&c->resp, t->rbuf, (size_t)n, &extra) != LG_RESP_OK) {
                fail_request(t, c, LG_ERR_PARSE, 0, lg_response_error(&c->resp), now);
                return;
            }
            if (c->resp.complete) {
                c->bytes -= extra;
                if (whole)
                    lg_head_cache_store(&t->head_cache, t->rbuf, (size_t)n - extra, &c->resp);
                finish_response(t, c, extra, now);
                return;
            }
            if ((size_t)n < sizeof t->rbuf && !hangup)
                return; /* drained: edge-triggered epoll reports the next arrival */
            continue;
        }
        if (n == 0) {
            if (c->bytes == 0 && c->reused && !c->retried) {
                retry_request(t, c, now);
                return;
            }
            if (lg_response_eof(&c->resp) == LG_RESP_OK)
                finish_response(t, c, 0, now);
            else
                fail_request(t, c, LG_ERR_READ, 0,
                             c->bytes ? "connection closed before the response was complete"
                                      : "connection closed without a response",
                             now);
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
        fail_request(t, c, LG_ERR_READ, errno, NULL, now);
        return;
    }
}

static void write_request(lg_thread *t, conn *c, uint64_t now)
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
            c->state = C_WRITING; /* edge-triggered EPOLLOUT tells when there is room */
            return;
        }
        int err = n < 0 ? errno : EIO;
        if (c->written == 0 && c->reused && !c->retried && (err == EPIPE || err == ECONNRESET)) {
            retry_request(t, c, now);
            return;
        }
        fail_request(t, c, LG_ERR_WRITE, err, NULL, now);
        return;
    }
    c->t_write_end = now;
    c->state = C_READING;
}

static void connected(lg_thread *t, conn *c, uint64_t now)
{
    c->connected = 1;
    c->t_connected = now;
    if (c->counted)
        t->opened++;
    if (!atomic_load_explicit(&t->sh->ever_connected, memory_order_relaxed))
        atomic_store(&t->sh->ever_connected, 1);
    c->written = 0;
    write_request(t, c, now);
}

static void open_connection(lg_thread *t, conn *c, uint64_t now)
{
    lg_shared *sh = t->sh;
    const lg_options *o = sh->o;
    int fd = socket(sh->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
        fail_request(t, c, LG_ERR_EXCEPTION, errno, NULL, now);
        return;
    }
    c->fd = fd;
    c->connected = 0;
    t->open_socks++;
    int one = 1;
    /* Requests are written whole; Nagle would only delay them. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        fail_request(t, c, LG_ERR_EXCEPTION, errno, NULL, now);
        return;
    }
    if (o->nsources) {
        /* Delay the port choice to connect() so each source address has its own port range. */
        if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0) {
            fail_request(t, c, LG_ERR_EXCEPTION, errno, NULL, now);
            return;
        }
        const struct sockaddr_storage *src = &o->sources[c->gidx % o->nsources];
        socklen_t sl = src->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                  : sizeof(struct sockaddr_in);
        if (bind(fd, (const struct sockaddr *)src, sl) < 0) {
            fail_request(t, c, LG_ERR_CONNECT, errno, NULL, now);
            return;
        }
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        fail_request(t, c, LG_ERR_EXCEPTION, errno, NULL, now);
        return;
    }
    int rc = connect(fd, (const struct sockaddr *)&sh->target, sh->target_len);
    if (rc == 0) {
        connected(t, c, now);
    } else if (errno == EINPROGRESS || errno == EINTR) {
        /* EINTR: the connect goes on asynchronously, like EINPROGRESS. */
        c->state = C_CONNECTING;
    } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        fail_request(t, c, LG_ERR_EXCEPTION, errno, NULL, now);
    } else {
        fail_request(t, c, LG_ERR_CONNECT, errno, NULL, now);
    }
}

/* Starts the next request on c; intended = when it should start (now, or the --rate slot). */
static void start_request(lg_thread *t, conn *c, uint64_t now, uint64_t intended)
{
    lg_shared *sh = t->sh;
    int counted = intended >= sh->measure_start;
    if (counted && !t->unlimited) {
        if (t->issued >= t->quota) {
            close_socket(t, c);
            c->state = C_RETIRED;
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
    lg_timer_add(&t->timers, &c->timer, now + sh->timeout_us);
    lg_response_begin(&c->resp, sh->head, capture_for(t, c));
    if (c->fd >= 0) {
        c->reused = 1;
        c->t_connected = now;
        write_request(t, c, now);
    } else {
        c->reused = 0;
        open_connection(t, c, now);
    }
}

static void handle_event(lg_thread *t, conn *c, uint32_t ev, uint64_t now)
{
    switch (c->state) {
    case C_CONNECTING:
        if (ev & (EPOLLERR | EPOLLHUP)) {
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
            fail_request(t, c, LG_ERR_CONNECT, err ? err : ECONNREFUSED, NULL, now);
            return;
        }
        if (ev & EPOLLOUT)
            connected(t, c, now);
        /* Edge-triggered: bytes that came with this event are not reported again. */
        if ((c->state == C_READING || c->state == C_WRITING) && (ev & (EPOLLIN | EPOLLRDHUP)))
            read_response(t, c, now, ev);
        return;
    case C_WRITING:
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            write_request(t, c, now);
        /* The server may answer (e.g. 413) before it read the whole request. */
        if ((c->state == C_READING || c->state == C_WRITING) && (ev & (EPOLLIN | EPOLLRDHUP)))
            read_response(t, c, now, ev);
        return;
    case C_READING:
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            read_response(t, c, now, ev);
        return;
    case C_IDLE:
        /* --rate: the server closed (or wrote to) a kept-alive connection between requests. */
        if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            close_socket(t, c);
        return;
    default:
        return;
    }
}

static uint64_t ramp_time(const lg_thread *t, const conn *c)
{
    const lg_shared *sh = t->sh;
    return sh->t0 + (uint64_t)((double)sh->ramp_us * c->gidx / (double)sh->o->concurrency);
}

static uint64_t rate_slot(const lg_thread *t, uint64_t k)
{
    return t->sh->t0 + (uint64_t)((double)k * t->rate_interval_us);
}

/* Starts requests on idle connections: all of them (closed loop) or those whose slot is due. */
static void dispatch(lg_thread *t, uint64_t now)
{
    if (t->rate_interval_us <= 0) {
        /* Only those idle now: one that fails at once (refused) waits for the next round, so a
         * dead target cannot recurse or spin here without epoll and the stop checks. */
        conn **batch = t->idle;
        int n = t->nidle;
        t->idle = t->idle_spare;
        t->idle_spare = batch;
        t->nidle = 0;
        for (int i = 0; i < n; i++)
            start_request(t, batch[i], now, now);
        return;
    }
    while (t->nidle > 0) {
        uint64_t slot = rate_slot(t, t->rate_k);
        if (slot > now)
            break;
        if (!t->unlimited && t->issued >= t->quota && slot >= t->sh->measure_start)
            break;
        conn *c = t->idle[--t->nidle];
        t->rate_k++;
        start_request(t, c, now, slot);
    }
}

static int quota_done(const lg_thread *t)
{
    return !t->unlimited && t->issued >= t->quota && t->inflight == 0;
}

static void close_seconds(lg_thread *t, uint64_t now)
{
    while (now >= t->next_tick) {
        if (lg_ts_close_second(&t->ts, (uint64_t)t->open_socks))
            t->failed_alloc = 1;
        t->next_tick += 1000000;
    }
}

static void publish_progress(lg_thread *t)
{
    uint64_t e = 0;
    for (int i = 0; i < LG_ERR_COUNT; i++)
        e += t->errors[i];
    atomic_store_explicit(&t->prog_complete, t->complete, memory_order_relaxed);
    atomic_store_explicit(&t->prog_errors, e, memory_order_relaxed);
}

static int wait_events(lg_thread *t, struct epoll_event *evs, uint64_t now, uint64_t deadline)
{
    struct timespec ts, *tsp = NULL;
    if (deadline != UINT64_MAX) {
        uint64_t d = deadline > now ? deadline - now : 0;
        ts.tv_sec = (time_t)(d / 1000000);
        ts.tv_nsec = (long)(d % 1000000) * 1000;
        tsp = &ts;
    }
    int n = -1;
    if (!t->no_pwait2) {
        n = epoll_pwait2(t->epfd, evs, MAX_EVENTS, tsp, NULL);
        if (n < 0 && errno == ENOSYS)
            t->no_pwait2 = 1; /* old kernel, or valgrind: ask once, then use epoll_wait */
    }
    if (t->no_pwait2) {
        int ms = -1;
        if (tsp)
            ms = (int)((deadline > now ? deadline - now + 999 : 0) / 1000);
        n = epoll_wait(t->epfd, evs, MAX_EVENTS, ms);
    }
    return n;
}

static void *thread_main(void *arg)
{
    lg_thread *t = arg;
    lg_shared *sh = t->sh;
    struct epoll_event *evs = malloc(MAX_EVENTS * sizeof *evs);
    if (!evs) {
        t->failed_alloc = 1;
        atomic_store(&sh->stop, STOP_ERROR);
    }
    uint64_t now = lg_now_us();
    t->next_tick = sh->measure_start + 1000000;
    while (evs) {
        now = lg_now_us();
        if (atomic_load_explicit(&sh->stop, memory_order_relaxed) != STOP_NONE) {
            t->end_us = now;
            break;
        }
        if (now >= sh->end_time) {
            t->end_us = sh->end_time;
            break;
        }
        while (t->next_open < t->nconns && ramp_time(t, &t->conns[t->next_open]) <= now)
            push_idle(t, &t->conns[t->next_open++]);
        lg_timer *tm;
        while ((tm = lg_timers_first(&t->timers)) && tm->deadline_us <= now) {
            conn *c = conn_of_timer(tm);
            fail_request(t, c, LG_ERR_TIMEOUT, ETIMEDOUT, "no complete response within -s", now);
        }
        dispatch(t, now);
        if (!atomic_load_explicit(&sh->ever_connected, memory_order_relaxed) &&
            t->connect_failures >= REFUSED_LIMIT) {
            int none = STOP_NONE;
            atomic_compare_exchange_strong(&sh->stop, &none, STOP_REFUSED);
            t->end_us = now;
            break;
        }
        if (now >= sh->measure_start)
            close_seconds(t, now);
        if (quota_done(t))
            break;
        if (t->failed_alloc) {
            atomic_store(&sh->stop, STOP_ERROR);
            break;
        }
        publish_progress(t);

        uint64_t deadline = sh->end_time;
        if (t->nidle > 0) {
            if (t->rate_interval_us <= 0)
                deadline = now;
            else if (rate_slot(t, t->rate_k) < deadline)
                deadline = rate_slot(t, t->rate_k);
        }
        if (t->next_open < t->nconns && ramp_time(t, &t->conns[t->next_open]) < deadline)
            deadline = ramp_time(t, &t->conns[t->next_open]);
        if ((tm = lg_timers_first(&t->timers)) && tm->deadline_us < deadline)
            deadline = tm->deadline_us;
        uint64_t tick = now >= sh->measure_start ? t->next_tick : sh->measure_start;
        if (tick < deadline)
            deadline = tick;
        int n;
        if (now - t->last_event_us < (uint64_t)sh->o->busy_poll_us) {
            /* Busy-poll: under load the next response is microseconds away, and sleeping costs
             * a schedule-out here and a cross-CPU wake-up (an IPI, a VM exit on VMs) charged to
             * the server that sends it. Polling keeps both sides on their fast path. */
            n = epoll_wait(t->epfd, evs, MAX_EVENTS, 0);
            if (n == 0)
                continue;
        } else {
            n = wait_events(t, evs, now, deadline);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "loadgen: epoll_wait: %s\n", strerror(errno));
            atomic_store(&sh->stop, STOP_ERROR);
            break;
        }
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) { /* the wake-up eventfd: stop requested */
                uint64_t v;
                ssize_t r = read(t->wakefd, &v, sizeof v);
                (void)r;
                continue;
            }
            t->last_event_us = lg_now_us(); /* starts the --busy-poll window */
            handle_event(t, c, evs[i].events, t->last_event_us);
        }
    }
    now = lg_now_us();
    if (t->end_us == 0)
        t->end_us = now;
    if (t->end_us > sh->measure_start) {
        close_seconds(t, t->end_us);
        if (t->end_us > t->next_tick - 1000000 && t->end_us < t->next_tick &&
            lg_ts_close_second(&t->ts, (uint64_t)t->open_socks))
            t->failed_alloc = 1;
    }
    publish_progress(t);
    free(evs);
    if (atomic_fetch_add(&sh->threads_done, 1) + 1 == sh->nthreads)
        pthread_kill(sh->main_thread, SIGUSR1);
    return NULL;
}

static void wake_all(lg_thread **th, int n)
{
    uint64_t one = 1;
    for (int i = 0; i < n; i++) {
        ssize_t r;
        do
            r = write(th[i]->wakefd, &one, sizeof one);
        while (r < 0 && errno == EINTR);
    }
}

static void merge_thread(lg_result *r, lg_thread *t)
{
    hist_add(&r->connect, &t->h_connect);
    hist_add(&r->waiting, &t->h_waiting);
    hist_add(&r->processing, &t->h_processing);
    hist_add(&r->total, &t->h_total);
    hist_add(&r->total_uncorrected, &t->h_uncorrected);
    r->complete += t->complete;
    r->attempts += t->attempts;
    r->bytes_total += t->bytes;
    r->body_bytes += t->body;
    r->keepalive_requests += t->keepalive;
    r->connections_opened += t->opened;
    r->non_2xx += t->non2xx;
    r->warmup_requests += t->warmup;
    for (int i = 0; i < LG_ERR_COUNT; i++)
        r->errors[i] += t->errors[i];
    for (int i = 0; i < LG_STATUS_MAX; i++)
        r->status[i] += t->status[i];
}

static void free_thread(lg_thread *t)
{
    if (!t)
        return;
    if (t->conns)
        for (int i = 0; i < t->nconns; i++)
            if (t->conns[i].fd >= 0)
                close(t->conns[i].fd);
    if (t->epfd >= 0)
        close(t->epfd);
    if (t->wakefd >= 0)
        close(t->wakefd);
    free(t->conns);
    free(t->idle);
    free(t->idle_spare);
    lg_ts_free(&t->ts);
    free(t);
}

static lg_thread *new_thread(lg_shared *sh, int id, char *err, size_t errlen)
{
    const lg_options *o = sh->o;
    lg_thread *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->sh = sh;
    t->id = id;
    t->epfd = t->wakefd = -1;
    int T = sh->nthreads, C = o->concurrency;
    t->nconns = C / T + (id < C % T);
    t->conns = calloc((size_t)t->nconns, sizeof *t->conns);
    t->idle = calloc((size_t)t->nconns, sizeof *t->idle);
    t->idle_spare = calloc((size_t)t->nconns, sizeof *t->idle_spare);
    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    t->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!t->conns || !t->idle || !t->idle_spare || t->epfd < 0 || t->wakefd < 0) {
        snprintf(err, errlen, "cannot set up thread %d: %s", id, strerror(errno ? errno : ENOMEM));
        free_thread(t);
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wakefd, &ev) < 0) {
        snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
        free_thread(t);
        return NULL;
    }
    for (int j = 0; j < t->nconns; j++) {
        conn *c = &t->conns[j];
        c->fd = -1;
        c->thr = t;
        c->gidx = (uint32_t)(j * T + id); /* round-robin: ramp slots interleave across threads */
        c->state = C_NEW;
    }
    t->unlimited = !o->requests_set && o->time_limit_s > 0;
    if (!t->unlimited)
        t->quota = o->requests / (uint64_t)T + ((uint64_t)id < o->requests % (uint64_t)T);
    if (o->rate > 0)
        t->rate_interval_us = 1e6 / (o->rate * t->nconns / C);
    lg_timers_init(&t->timers);
    hist_init(&t->h_connect);
    hist_init(&t->h_waiting);
    hist_init(&t->h_processing);
    hist_init(&t->h_total);
    hist_init(&t->h_uncorrected);
    lg_ts_init(&t->ts);
    t->capture_active = 1;
    return t;
}

int lg_engine_run(const lg_options *o, const struct sockaddr_storage *target, socklen_t target_len,
                  lg_result *r, char *err, size_t errlen)
{
    lg_shared sh;
    memset(&sh, 0, sizeof sh);
    sh.o = o;
    memcpy(&sh.target, target, sizeof sh.target);
    sh.target_len = target_len;
    sh.head = strcmp(o->method, "HEAD") == 0;
    sh.nthreads = o->threads;
    sh.timeout_us = (uint64_t)(o->timeout_s * 1e6);
    sh.ramp_us = (uint64_t)(o->ramp_s * 1e6);
    atomic_init(&sh.stop, STOP_NONE);
    atomic_init(&sh.ever_connected, 0);
    atomic_init(&sh.doclen, -1);
    atomic_init(&sh.threads_done, 0);
    sh.main_thread = pthread_self();
    pthread_mutex_init(&sh.info_lock, NULL);
    sh.req = lg_build_request(o, &sh.req_len);
    if (!sh.req) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    lg_thread **th = calloc((size_t)sh.nthreads, sizeof *th);
    if (!th) {
        free(sh.req);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = -1, created = 0;
    for (int i = 0; i < sh.nthreads; i++)
        if (!(th[i] = new_thread(&sh, i, err, errlen)))
            goto out;

    /* Only this thread takes SIGINT/SIGTERM (and the workers' "done" SIGUSR1), via sigtimedwait. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, &old);

    sh.t0 = lg_now_us();
    sh.measure_start = sh.t0 + (uint64_t)(o->warmup_s * 1e6);
    sh.end_time = o->time_limit_s > 0 ? sh.measure_start + (uint64_t)(o->time_limit_s * 1e6)
                                      : UINT64_MAX;
    for (; created < sh.nthreads; created++) {
        int e = pthread_create(&th[created]->tid, NULL, thread_main, th[created]);
        if (e) {
            snprintf(err, errlen, "cannot start thread: %s", strerror(e));
            atomic_store(&sh.stop, STOP_ERROR);
            wake_all(th, created);
            break;
        }
    }
    lg_progress prog;
    lg_progress_init(&prog, o->progress, o->quiet);
    while (created == sh.nthreads && atomic_load(&sh.threads_done) < sh.nthreads) {
        struct timespec tick = {0, 250 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
            int none = STOP_NONE;
            if (atomic_compare_exchange_strong(&sh.stop, &none, STOP_INTERRUPT))
                r->interrupted = 1;
            wake_all(th, sh.nthreads);
        }
        uint64_t done = 0, errs = 0;
        for (int i = 0; i < sh.nthreads; i++) {
            done += atomic_load_explicit(&th[i]->prog_complete, memory_order_relaxed);
            errs += atomic_load_explicit(&th[i]->prog_errors, memory_order_relaxed);
        }
        uint64_t now = lg_now_us();
        lg_progress_update(&prog, now > sh.measure_start ? (now - sh.measure_start) / 1e6 : 0,
                           now < sh.measure_start, done, errs);
    }
    lg_progress_finish(&prog);
    for (int i = 0; i < created; i++)
        pthread_join(th[i]->tid, NULL);
    /* Drop a pending SIGUSR1 and let a second Ctrl-C kill us while reporting. */
    struct timespec zero = {0, 0};
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    while (sigtimedwait(&usr1, NULL, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (created < sh.nthreads)
        goto out;

    uint64_t end = 0;
    int failed_alloc = 0;
    for (int i = 0; i < sh.nthreads; i++) {
        merge_thread(r, th[i]);
        if (lg_ts_move_into(&th[i]->ts, r))
            failed_alloc = 1;
        failed_alloc |= th[i]->failed_alloc;
        if (th[i]->end_us > end)
            end = th[i]->end_us;
    }
    r->has_uncorrected = o->rate > 0;
    r->duration_s = end > sh.measure_start ? (end - sh.measure_start) / 1e6 : 0;
    long long dl = atomic_load(&sh.doclen);
    r->doclen = dl;
    if (sh.has_server) {
        memcpy(r->server_software, sh.server, sizeof r->server_software);
        r->has_server_software = 1;
    }
    switch (atomic_load(&sh.stop)) {
    case STOP_INTERRUPT:
        r->stop_reason = "interrupted";
        break;
    case STOP_REFUSED:
        r->stop_reason = "refused";
        break;
    case STOP_ERROR:
        r->stop_reason = "error";
        break;
    default:
        r->stop_reason = (o->time_limit_s > 0 && (!o->requests_set || r->attempts < o->requests))
                             ? "time" : "requests";
    }
    if (failed_alloc) {
        snprintf(err, errlen, "out of memory while recording the time series");
        r->stop_reason = "error";
    }
    int first_errno = 0;
    for (int i = 0; i < sh.nthreads && !first_errno; i++)
        first_errno = th[i]->first_connect_errno;
    if (r->connections_opened == 0 && r->complete == 0 && r->errors[LG_ERR_CONNECT] > 0 &&
        !atomic_load(&sh.ever_connected)) {
        snprintf(err, errlen, "the target refused every connection (%llu attempts): %s",
                 (unsigned long long)r->errors[LG_ERR_CONNECT], strerror(first_errno));
        r->stop_reason = "refused";
    }
    rc = 0;
out:
    for (int i = 0; i < sh.nthreads; i++)
        free_thread(th[i]);
    free(th);
    free(sh.req);
    pthread_mutex_destroy(&sh.info_lock);
    return rc;
}
