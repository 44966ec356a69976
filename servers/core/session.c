#include "session.h"

#include "response.h"
#include "stats.h"
#include "work.h"

#include <assert.h>
#include <pthread.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- works: taken while a connection works on a request, kept per thread in between ---- */

/* Each event loop runs in one thread, so a thread's free list is its loop's, and taking or giving
 * back needs no lock. A thread that ends frees its list (a key's destructor). */
static _Thread_local session_work_t *pool;
static _Thread_local unsigned pool_len;
static _Thread_local bool pool_registered;
static pthread_key_t pool_key;
static pthread_once_t pool_key_once = PTHREAD_ONCE_INIT;

static void pool_at_thread_exit(void *unused)
{
    (void)unused;
    session_pool_drain();
}

static void pool_key_create(void)
{
    if (pthread_key_create(&pool_key, pool_at_thread_exit) != 0)
        pool_key = (pthread_key_t)-1; /* no destructor: the thread keeps its list until exit */
}

unsigned session_pool_len(void)
{
    return pool_len;
}

void session_pool_drain(void)
{
    while (pool) {
        session_work_t *w = pool;
        pool = w->next_free;
        free(w->block);
        free(w);
    }
    pool_len = 0;
}

static void drop_input(session_work_t *w)
{
    free(w->block);
    w->block = NULL;
    w->in_pos = w->in_len = w->in_cap = 0;
}

/* The connection's work, taken from the free list (or allocated) when it has none: NULL (the
 * session is then dead) when out of memory. A work from the list may come from any connection,
 * so its parser starts afresh; its input buffer (empty) is kept. */
static session_work_t *work_of(session_t *s)
{
    if (s->work)
        return s->work;
    session_work_t *w = pool;
    if (w) {
        pool = w->next_free;
        pool_len--;
    } else if ((w = malloc(sizeof *w))) {
        w->block = NULL;
        w->in_cap = 0;
        outq_init(&w->out);
    } else {
        s->dead = true;
        stats_error(s->stats, ERR_IO);
        return NULL;
    }
    http_request_init(&w->req);
    w->planned = false;
    w->in_pos = w->in_len = 0;
    w->linger_bytes = 0;
    return s->work = w;
}

/* Gives the work back (its output queue empty): onto the free list, or freed when the list is full.
 * An input buffer that grew is freed: the list keeps only first-size buffers. */
static void work_release(session_t *s)
{
    session_work_t *w = s->work;
    s->work = NULL;
    outq_free(&w->out);
    if (w->in_cap > SESSION_IN_FIRST)
        drop_input(w);
    if (pool_len >= SESSION_POOL_MAX) {
        free(w->block);
        free(w);
        return;
    }
    if (!pool_registered) {
        pool_registered = true;
        pthread_once(&pool_key_once, pool_key_create);
        if (pool_key != (pthread_key_t)-1)
            pthread_setspecific(pool_key, &pool_registered); /* non-NULL: the destructor runs */
    }
    w->next_free = pool;
    pool = w;
    pool_len++;
}

void session_init(session_t *s, const server_options_t *opts, stats_t *stats, uint64_t now)
{
    memset(s, 0, sizeof *s);
    s->opts = opts;
    s->stats = stats;
    /* A new connection's first request head is timed from the connect (as nginx does), so a
     * connection that never sends a byte is bounded by the header timeout. */
    s->head_since = s->idle_since = now;
}

void session_end(session_t *s)
{
    if (s->delayed) {
        s->delayed = false;
        stats_request_end(s->stats, 0);
    }
    if (s->work)
        work_release(s);
}

/* ---- input ---- */

char *session_in_space(session_t *s, size_t *avail)
{
    *avail = 0;
    session_work_t *w = work_of(s);
    if (!w)
        return NULL;
    if (!w->block) {
        if (!(w->block = malloc(SESSION_IN_FIRST))) {
            s->dead = true;
            stats_error(s->stats, ERR_IO);
            return NULL;
        }
        w->in_cap = SESSION_IN_FIRST;
    }
    /* Parsed bytes are free again, except the URL of a head not yet planned (it is not copied). */
    bool url_pinned = w->req.in_message && w->req.url_len > 0 && !w->planned;
    size_t keep = url_pinned ? w->req.url_off : w->in_pos;
    if (s->shut || keep == w->in_len) { /* lingering input is dropped: reuse the space */
        w->in_pos = w->in_len = 0;
    } else if (w->in_len == w->in_cap && keep > 0) {
        /* Unanswered pipelined requests fill the tail: slide them to the front. */
        memmove(w->block, w->block + keep, w->in_len - keep);
        if (url_pinned)
            http_request_shift(&w->req, keep);
        w->in_len -= keep;
        w->in_pos -= keep;
    }
    if (w->in_len == w->in_cap && w->in_cap < SESSION_IN_CAP) { /* a long head, or a pipelined burst */
        size_t cap = w->in_cap * 2 < SESSION_IN_CAP ? w->in_cap * 2 : SESSION_IN_CAP;
        char *p = realloc(w->block, cap);
        if (!p) {
            s->dead = true;
            stats_error(s->stats, ERR_IO);
            return NULL;
        }
        w->block = p;
        w->in_cap = cap;
    }
    *avail = w->in_cap - w->in_len;
    return w->block + w->in_len;
}

void session_in_added(session_t *s, size_t n)
{
    session_work_t *w = s->work;
    assert(w && w->block && n <= w->in_cap - w->in_len);
    if (s->shut) {
        w->linger_bytes += n;
        return;
    }
    w->in_len += n;
}

size_t session_in_copy(session_t *s, const char *data, size_t len)
{
    size_t taken = 0;
    while (taken < len) {
        size_t avail;
        char *space = session_in_space(s, &avail);
        if (avail == 0)
            break;
        size_t n = len - taken < avail ? len - taken : avail;
        memcpy(space, data + taken, n);
        session_in_added(s, n);
        taken += n;
    }
    return taken;
}

void session_in_eof(session_t *s)
{
    s->peer_eof = true;
}

/* ---- answering ---- */

static stats_error_t error_kind(int status)
{
    switch (status) {
    case 413: return ERR_BODY_TOO_LARGE;
    case 414:
    case 431: return ERR_HEADER_TOO_LARGE;
    default: return ERR_BAD_REQUEST;
    }
}

/* Queues an error answer and closes after it (draining the peer's input first when it may
 * still be sending, so the close does not reset the answer away). */
static void fail(session_t *s, int status, bool linger)
{
    session_work_t *w = work_of(s); /* a header timeout may come before any byte */
    if (w && response_queue_error(&w->out, status) != 0) {
        s->dead = true;
        stats_error(s->stats, ERR_IO);
    }
    s->closing = true;
    s->linger = linger && !s->peer_eof;
}

static void answer(session_t *s, const request_plan_t *plan)
{
    work_burn_us(s->opts->work_us);
    if (response_queue_ok(&s->work->out, plan) != 0) {
        s->dead = true;
        stats_error(s->stats, ERR_IO);
        stats_request_end(s->stats, 0);
        return;
    }
    stats_request_end(s->stats, 1);
    if (!plan->keep_alive)
        s->closing = true;
}

/* Answers every request that can be answered now, in order. */
static void advance(session_t *s, uint64_t now)
{
    session_work_t *w = s->work;
    if (!w) { /* resting: no request begun */
        if (s->peer_eof && !s->dead)
            s->closing = true;
        return;
    }
    while (!s->closing && !s->dead && !s->delayed && outq_room(&w->out, RESPONSE_MAX_IOV, RESPONSE_MAX_ARENA)) {
        if (w->in_pos == w->in_len) {
            if (s->peer_eof) {
                if (http_request_truncated(&w->req)) {
                    stats_error(s->stats, ERR_BAD_REQUEST);
                    fail(s, 400, false);
                } else {
                    s->closing = true;
                }
            }
            return;
        }
        bool was_in_message = w->req.in_message;
        size_t used;
        int status = 0;
        w->req.base = w->block;
        req_status_t st = http_request_feed(&w->req, w->block + w->in_pos, w->in_len - w->in_pos, &used, &status);
        w->in_pos += used;
        s->idle_since = now; /* input made progress */
        if (!was_in_message && w->req.in_message && s->seen_request)
            s->head_since = now;
        if (st == REQ_FAILED) {
            stats_error(s->stats, error_kind(status));
            fail(s, status, true);
            return;
        }
        if (w->req.in_message && w->req.headers_done && !w->planned) { /* the URL is whole, still buffered */
            w->planned = true;
            w->plan_status = request_plan_make(&w->req, s->opts, &w->plan);
        }
        if (st == REQ_MORE) {
            if (w->req.expect_continue && w->req.headers_done && !w->req.continue_sent) {
                w->req.continue_sent = true;
                response_queue_continue(&w->out);
            }
            continue;
        }
        s->seen_request = true;
        request_plan_t plan = w->plan;
        plan.keep_alive = w->req.keep_alive; /* final only now (an upgrade request closes) */
        status = w->plan_status;
        w->planned = false;
        http_request_next(&w->req);
        if (status != 0) {
            stats_error(s->stats, error_kind(status));
            fail(s, status, true);
            return;
        }
        if (plan.stats) {
            if (response_queue_stats(&w->out, &plan, s->stats->server) != 0) {
                s->dead = true;
                stats_error(s->stats, ERR_IO);
            }
            if (!plan.keep_alive)
                s->closing = true;
            continue;
        }
        stats_request_begin(s->stats);
        if (plan.delay_ns > 0) {
            w->plan = plan;
            s->delayed = true;
            w->delay_until = now + plan.delay_ns;
            return;
        }
        answer(s, &plan);
    }
}

/* ---- deciding what the connection needs ---- */

static bool wants_input(const session_t *s)
{
    const session_work_t *w = s->work;
    bool room = !w || !w->block || w->in_len < w->in_cap || w->in_pos > 0 || w->in_cap < SESSION_IN_CAP;
    return !s->peer_eof && (!w || outq_empty(&w->out)) && room;
}

static bool in_message(const session_t *s)
{
    return s->work && s->work->req.in_message;
}

static uint64_t after(uint64_t since, uint64_t timeout_ns)
{
    return timeout_ns ? since + timeout_ns : 0;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
    return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/* While the connection only waits for input: which timeout bounds that wait, and when it ends. */
static uint64_t input_deadline(const session_t *s, stats_timeout_t *kind)
{
    if (!s->seen_request || (in_message(s) && !s->work->req.headers_done)) {
        *kind = TIMEOUT_HEADER;
        return after(s->head_since, s->opts->header_timeout_ns);
    }
    *kind = TIMEOUT_IDLE; /* between keep-alive requests, or inside a body */
    return after(s->idle_since, s->opts->idle_timeout_ns);
}

static bool only_waits_for_input(const session_t *s)
{
    return !s->closing && !s->delayed && (!s->work || s->work->in_pos == s->work->in_len) && wants_input(s);
}

session_want_t session_next(session_t *s, uint64_t now)
{
    advance(s, now);
    session_want_t w = {0};
    if (s->dead) {
        w.close = true;
        return w;
    }
    session_work_t *wk = s->work;
    bool out_pending = wk && !outq_empty(&wk->out);
    if (out_pending && !s->was_writing) {
        wk->write_since = now;
        wk->sent_mark = SESSION_NOT_BLOCKED;
    }
    s->was_writing = out_pending;
    if (out_pending) {
        w.write = !wk->out.in_flight;
        w.deadline_ns = after(wk->write_since, s->opts->write_timeout_ns);
    }
    if (s->closing) {
        if (out_pending)
            return w;
        if (s->linger && !s->peer_eof && wk && wk->linger_bytes < SESSION_LINGER_BYTES) {
            w.shut_write = !s->shut;
            w.read = s->shut;
            w.deadline_ns = s->shut ? wk->linger_until : 0;
            if (!s->shut)
                drop_input(wk);
            return w;
        }
        w.close = true;
        return w;
    }
    if (s->delayed)
        w.deadline_ns = earliest(w.deadline_ns, wk->delay_until);
    w.read = wants_input(s);
    if (only_waits_for_input(s)) {
        stats_timeout_t kind;
        w.deadline_ns = earliest(w.deadline_ns, input_deadline(s, &kind));
    } else if (!in_message(s)) {
        s->idle_since = now;
    }
    /* Lean waiting: nothing unparsed and no request in progress. At rest the whole work goes back
     * (its input buffer with it, for the next request); a delay keeps the work, not the buffer.
     * A CR as the last byte keeps the work too: its parser must see that the next LF is not bare. */
    if (wk && wk->in_pos == wk->in_len && !wk->req.in_message) {
        if (!s->delayed && !out_pending && !wk->req.prev_cr)
            work_release(s);
        else if (s->delayed && wk->block)
            drop_input(wk);
    }
    return w;
}

/* ---- output ---- */

const struct iovec *session_out(const session_t *s, unsigned *count)
{
    if (!s->work) {
        *count = 0;
        return NULL;
    }
    *count = s->work->out.count;
    return &s->work->out.iov[s->work->out.first];
}

void session_out_begin(session_t *s)
{
    assert(s->work && !s->work->out.in_flight && !outq_empty(&s->work->out));
    s->work->out.in_flight = true;
}

void session_out_done(session_t *s, size_t written, uint64_t now)
{
    session_work_t *w = s->work;
    assert(w && w->out.in_flight);
    w->out.in_flight = false;
    (void)now; /* progress is what the peer acknowledges (session_timer), not what a write took */
    outq_consume(&w->out, written);
}

/* What fd's TCP sent (retransmissions left out) and what the peer acknowledged of it: false when
 * unknown (not a TCP socket). A write that succeeds proves nothing about the peer, as the kernel
 * may grow the send buffer of a peer that reads nothing; an acknowledgement beyond what was already
 * sent when the socket filled does: the peer made room by reading. */
static bool tcp_counts(int fd, uint64_t *sent, uint64_t *acked)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_retrans) + sizeof info.tcpi_bytes_retrans)
        return false;
    *sent = info.tcpi_bytes_sent - info.tcpi_bytes_retrans;
    *acked = info.tcpi_bytes_acked;
    return true;
}

void session_out_blocked(session_t *s, int fd, uint64_t now)
{
    session_work_t *w = s->work;
    if (!w || w->sent_mark != SESSION_NOT_BLOCKED)
        return; /* already waiting on the peer: the wait goes on from the first full socket */
    uint64_t acked;
    if (!tcp_counts(fd, &w->sent_mark, &acked))
        w->sent_mark = SESSION_NOT_BLOCKED - 1; /* no progress can be shown: the timeout just runs */
    w->write_since = now;
}

flush_result_t session_flush(session_t *s, int fd, uint64_t now)
{
    size_t written;
    assert(s->work);
    flush_result_t r = outq_flush(&s->work->out, fd, &written);
    if (r == FLUSH_AGAIN)
        session_out_blocked(s, fd, now);
    else if (r == FLUSH_ERROR)
        session_io_failed(s);
    return r;
}

void session_io_failed(session_t *s)
{
    if (!s->shut && !s->dead)
        stats_error(s->stats, ERR_IO);
    s->dead = true;
}

void session_write_shut(session_t *s, uint64_t now)
{
    assert(s->closing && s->linger && !s->shut && s->work && outq_empty(&s->work->out));
    s->shut = true;
    s->work->linger_until = now + SESSION_LINGER_NS;
}

void session_shut_write(session_t *s, int fd, uint64_t now)
{
    if (shutdown(fd, SHUT_WR) != 0)
        session_io_failed(s);
    else
        session_write_shut(s, now);
}

/* ---- deadlines ---- */

void session_timer(session_t *s, int fd, uint64_t now)
{
    if (s->dead)
        return;
    session_work_t *w = s->work;
    if (s->delayed && now >= w->delay_until) {
        s->delayed = false;
        answer(s, &w->plan);
        return; /* the other deadlines are measured again by session_next */
    }
    if (s->shut) {
        if (now >= w->linger_until)
            s->linger = false; /* enough waiting for the peer: close */
        return;
    }
    uint64_t write_end = w ? after(w->write_since, s->opts->write_timeout_ns) : 0;
    if (s->was_writing && w && !outq_empty(&w->out) && write_end && now >= write_end) {
        uint64_t sent, acked;
        if (w->sent_mark != SESSION_NOT_BLOCKED && tcp_counts(fd, &sent, &acked) && acked > w->sent_mark) {
            w->sent_mark = sent; /* the peer took bytes: a new period begins */
            w->write_since = now;
            return;
        }
        stats_timeout(s->stats, TIMEOUT_WRITE);
        s->dead = true; /* the peer stopped reading: nothing more can reach it */
        /* So the close resets the connection: a graceful one would keep the socket, with its full
         * send queue, waiting for the peer (FIN_WAIT1) as long as the peer holds it open. A refusal
         * leaves the graceful close, which is all the driver could do anyway. */
        if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){.l_onoff = 1}, sizeof(struct linger)) != 0)
            stats_error(s->stats, ERR_IO);
        return;
    }
    stats_timeout_t kind;
    uint64_t input_end;
    if (!only_waits_for_input(s) || !(input_end = input_deadline(s, &kind)) || now < input_end)
        return;
    stats_timeout(s->stats, kind);
    if (kind == TIMEOUT_HEADER)
        fail(s, 408, false);
    else
        s->dead = true; /* an idle keep-alive connection just closes */
}
