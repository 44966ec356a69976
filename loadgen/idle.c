/* The idle connections of one thread (idle.h): open, (mode request) one request and its answer,
 * then held; counted when they fail to open or when the server ends them. They use the run's
 * transport but never the load's counters, timers or schedule. */
#include "idle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "engine.h"
#include "worker.h"

lg_idle_set *lg_idle_new(lg_thread *t, int *err)
{
    const lg_options *o = t->sh->o;
    int T = t->sh->nthreads, N = o->idle;
    *err = 0;
    int n = N / T + (t->id < N % T);
    if (n == 0)
        return NULL;
    lg_idle_set *s = calloc(1, sizeof *s);
    lg_conn *conns = calloc((size_t)n, sizeof *conns);
    lg_options keep = *o;
    keep.keepalive = 1; /* an idle client keeps its connection, whatever the load does */
    size_t req_len = 0;
    char *req = o->idle_mode == LG_IDLE_REQUEST ? lg_build_request(&keep, &req_len) : NULL;
    if (!s || !conns || (o->idle_mode == LG_IDLE_REQUEST && !req)) {
        free(s);
        free(conns);
        free(req);
        *err = ENOMEM;
        return NULL;
    }
    s->conns = conns;
    s->n = n;
    s->req = req;
    s->req_len = req_len;
    for (int j = 0; j < n; j++) {
        conns[j].fd = -1;
        conns[j].thr = t;
        conns[j].state = LG_C_NEW;
        /* After the load's -c slots, round-robin over the threads like them: the source
         * addresses (--source) spread over both. */
        conns[j].gidx = (uint32_t)o->concurrency + (uint32_t)(j * T + t->id);
    }
    lg_timers_init(&s->connect_timers);
    lg_timers_init(&s->answer_timers);
    t->counts.idle_requested = (uint64_t)n;
    return s;
}

static void close_fd(lg_thread *t, lg_conn *c)
{
    if (c->fd >= 0) {
        t->tr.close(c);
        c->fd = -1;
    }
    lg_timer_remove(&c->timer);
}

void lg_idle_free(lg_thread *t, lg_idle_set *s)
{
    if (!s)
        return;
    for (int j = 0; j < s->n; j++)
        close_fd(t, &s->conns[j]);
    free(s->conns);
    free(s->req);
    free(s);
}

/* The idle connection never got there: no connect, or no whole answer to its request. */
static void failed(lg_thread *t, lg_conn *c, int err, const char *what)
{
    lg_idle_set *s = t->iset;
    if (t->sh->o->verbosity >= 2)
        fprintf(stderr, "WARNING: an idle connection failed to open: %s\n", what ? what : strerror(err));
    close_fd(t, c);
    c->state = LG_C_HOLD_DONE;
    s->pending--;
    t->counts.idle_failed_to_open++;
}

static void hold(lg_thread *t, lg_conn *c)
{
    lg_idle_set *s = t->iset;
    lg_timer_remove(&c->timer);
    c->state = LG_C_HELD;
    s->pending--;
    s->held++;
    t->counts.idle_opened++;
}

/* The server ended a held connection; cause is where it is counted. */
static void closed_by_server(lg_thread *t, lg_conn *c, uint64_t *cause)
{
    close_fd(t, c);
    c->state = LG_C_HOLD_DONE;
    t->iset->held--;
    (*cause)++;
}

/* Something happened on a held connection: one read tells what. Bytes are an answer nobody asked
 * for (a server's 408 when its idle or header timeout expires); 0 is its FIN; an error, a reset. */
static void held_event(lg_thread *t, lg_conn *c, uint32_t ev)
{
    if (!(ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        return; /* a writable edge: nothing was said */
    ssize_t n;
    do
        n = t->tr.read(c, t->rbuf, sizeof t->rbuf);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        closed_by_server(t, c, &t->counts.idle_closed_timeout_answer);
    else if (n == 0)
        closed_by_server(t, c, &t->counts.idle_closed_eof);
    else if (errno != EAGAIN && errno != EWOULDBLOCK)
        closed_by_server(t, c, &t->counts.idle_closed_reset);
}

/* Mode request: reads the one answer; bytes after it, or its close, end the connection at once. */
static void read_answer(lg_thread *t, lg_conn *c, uint32_t ev)
{
    int hangup = (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    for (;;) {
        ssize_t n = t->tr.read(c, t->rbuf, sizeof t->rbuf);
        if (n > 0) {
            size_t extra = 0;
            if (lg_response_feed(&c->resp, t->rbuf, (size_t)n, &extra) != LG_RESP_OK) {
                failed(t, c, 0, lg_response_error(&c->resp));
                return;
            }
            if (c->resp.complete) {
                hold(t, c);
                if (extra)
                    closed_by_server(t, c, &t->counts.idle_closed_timeout_answer);
                else if (hangup)
                    held_event(t, c, ev);
                return;
            }
            if ((size_t)n < sizeof t->rbuf && !hangup)
                return;
            continue;
        }
        if (n == 0) {
            if (lg_response_eof(&c->resp) != LG_RESP_OK) {
                failed(t, c, 0, "connection closed before the answer was complete");
                return;
            }
            hold(t, c); /* an answer delimited by the close: answered, then closed */
            closed_by_server(t, c, &t->counts.idle_closed_eof);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            failed(t, c, errno, NULL);
        return;
    }
}

static void write_request(lg_thread *t, lg_conn *c)
{
    int err = lg_conn_write_rest(t, c, t->iset->req, t->iset->req_len);
    if (err == EAGAIN)
        c->state = LG_C_HOLD_WRITING;
    else if (err)
        failed(t, c, err, NULL);
    else
        c->state = LG_C_HOLD_READING;
}

static void connected(lg_thread *t, lg_conn *c, uint64_t now)
{
    const lg_shared *sh = t->sh;
    lg_timer_remove(&c->timer);
    c->connected = 1;
    if (sh->o->idle_mode == LG_IDLE_CONNECT) {
        hold(t, c);
        return;
    }
    c->written = 0;
    lg_response_begin(&c->resp, sh->resp_flags, NULL);
    lg_timer_add(&t->iset->answer_timers, &c->timer, now + sh->timeout_us);
    write_request(t, c);
}

static void open_one(lg_thread *t, lg_conn *c, uint64_t now)
{
    enum lg_err cls = LG_ERR_EXCEPTION;
    t->iset->pending++;
    int rc = t->tr.connect(t, c, &cls);
    if (rc == 0) {
        connected(t, c, now);
    } else if (rc == EINPROGRESS) {
        c->state = LG_C_HOLD_CONNECTING;
        lg_timer_add(&t->iset->connect_timers, &c->timer, now + t->sh->connect_timeout_us);
    } else {
        failed(t, c, rc, NULL);
    }
}

/* --ramp spreads the idle connections too, over the same time, before the load's own. */
static uint64_t ramp_time(const lg_thread *t, const lg_conn *c)
{
    const lg_shared *sh = t->sh;
    uint32_t k = c->gidx - (uint32_t)sh->o->concurrency;
    return sh->idle_t0 + (uint64_t)((double)sh->ramp_us * k / (double)sh->o->idle);
}

int lg_idle_due(lg_thread *t, uint64_t now)
{
    lg_idle_set *s = t->iset;
    if (!s)
        return 1;
    for (int budget = LG_CONNECTS_PER_ROUND;
         budget > 0 && s->next_open < s->n && ramp_time(t, &s->conns[s->next_open]) <= now; budget--)
        open_one(t, &s->conns[s->next_open++], now);
    lg_timer *tm;
    while ((tm = lg_timers_first(&s->connect_timers)) && tm->deadline_us <= now)
        failed(t, lg_conn_of_timer(tm), ETIMEDOUT, "not connected within --connect-timeout");
    while ((tm = lg_timers_first(&s->answer_timers)) && tm->deadline_us <= now)
        failed(t, lg_conn_of_timer(tm), ETIMEDOUT, "no complete answer within -s");
    return s->next_open == s->n && s->pending == 0;
}

uint64_t lg_idle_next_deadline(lg_thread *t, uint64_t now)
{
    lg_idle_set *s = t->iset;
    uint64_t deadline = UINT64_MAX;
    if (!s)
        return deadline;
    if (s->next_open < s->n)
        deadline = ramp_time(t, &s->conns[s->next_open]);
    deadline = lg_timers_earlier(&s->connect_timers, deadline);
    deadline = lg_timers_earlier(&s->answer_timers, deadline);
    return deadline < now ? now : deadline;
}

void lg_idle_handle_event(lg_thread *t, lg_conn *c, uint32_t ev, uint64_t now)
{
    switch (c->state) {
    case LG_C_HOLD_CONNECTING:
        if (ev & (EPOLLERR | EPOLLHUP)) {
            failed(t, c, t->tr.connect_error(c), NULL);
            return;
        }
        if (ev & EPOLLOUT)
            connected(t, c, now);
        if (c->state == LG_C_HELD)
            held_event(t, c, ev); /* mode connect: the server may have closed already */
        else if ((c->state == LG_C_HOLD_READING || c->state == LG_C_HOLD_WRITING) &&
                 (ev & (EPOLLIN | EPOLLRDHUP)))
            read_answer(t, c, ev);
        return;
    case LG_C_HOLD_WRITING:
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            write_request(t, c);
        if ((c->state == LG_C_HOLD_READING || c->state == LG_C_HOLD_WRITING) &&
            (ev & (EPOLLIN | EPOLLRDHUP)))
            read_answer(t, c, ev);
        return;
    case LG_C_HOLD_READING:
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            read_answer(t, c, ev);
        return;
    case LG_C_HELD:
        held_event(t, c, ev);
        return;
    default:
        return; /* a load connection's state conn.c has no event for, or one already done */
    }
}

void lg_idle_finish(lg_thread *t)
{
    if (t->iset)
        t->counts.idle_held_at_end = (uint64_t)t->iset->held;
}
