#include "session.h"

#include "response.h"
#include "stats.h"
#include "work.h"

#include <assert.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void session_init(session_t *s, const server_options_t *opts, stats_t *stats, uint64_t now)
{
    memset(s, 0, sizeof *s);
    s->opts = opts;
    s->stats = stats;
    /* A new connection's first request head is timed from the connect (as nginx does), so a
     * connection that never sends a byte is bounded by the header timeout. */
    s->head_since = s->idle_since = now;
    http_request_init(&s->req);
    outq_init(&s->out);
}

static void drop_input(session_t *s)
{
    free(s->block);
    s->block = NULL;
    s->in_pos = s->in_len = s->in_cap = 0;
}

void session_end(session_t *s)
{
    if (s->delayed) {
        s->delayed = false;
        stats_request_end(s->stats, 0);
    }
    drop_input(s);
    outq_free(&s->out);
}

/* ---- input ---- */

char *session_in_space(session_t *s, size_t *avail)
{
    *avail = 0;
    if (!s->block) {
        if (!(s->block = malloc(SESSION_IN_FIRST))) {
            s->dead = true;
            stats_error(s->stats, ERR_IO);
            return NULL;
        }
        s->in_cap = SESSION_IN_FIRST;
    }
    /* Parsed bytes are free again, except the URL of a head not yet planned (it is not copied). */
    bool url_pinned = s->req.in_message && s->req.url_len > 0 && !s->planned;
    size_t keep = url_pinned ? s->req.url_off : s->in_pos;
    if (s->shut || keep == s->in_len) { /* lingering input is dropped: reuse the space */
        s->in_pos = s->in_len = 0;
    } else if (s->in_len == s->in_cap && keep > 0) {
        /* Unanswered pipelined requests fill the tail: slide them to the front. */
        memmove(s->block, s->block + keep, s->in_len - keep);
        if (url_pinned)
            http_request_shift(&s->req, keep);
        s->in_len -= keep;
        s->in_pos -= keep;
    }
    if (s->in_len == s->in_cap && s->in_cap < SESSION_IN_CAP) { /* a long head, or a pipelined burst */
        size_t cap = s->in_cap * 2 < SESSION_IN_CAP ? s->in_cap * 2 : SESSION_IN_CAP;
        char *p = realloc(s->block, cap);
        if (!p) {
            s->dead = true;
            stats_error(s->stats, ERR_IO);
            return NULL;
        }
        s->block = p;
        s->in_cap = cap;
    }
    *avail = s->in_cap - s->in_len;
    return s->block + s->in_len;
}

void session_in_added(session_t *s, size_t n)
{
    assert(s->block && n <= s->in_cap - s->in_len);
    if (s->shut) {
        s->linger_bytes += n;
        return;
    }
    s->in_len += n;
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
    if (response_queue_error(&s->out, status) != 0) {
        s->dead = true;
        stats_error(s->stats, ERR_IO);
    }
    s->closing = true;
    s->linger = linger && !s->peer_eof;
}

static void answer(session_t *s, const request_plan_t *plan)
{
    work_burn_us(s->opts->work_us);
    if (response_queue_ok(&s->out, plan) != 0) {
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
    while (!s->closing && !s->dead && !s->delayed && outq_room(&s->out, RESPONSE_MAX_IOV, RESPONSE_MAX_ARENA)) {
        if (s->in_pos == s->in_len) {
            if (s->peer_eof) {
                if (http_request_truncated(&s->req)) {
                    stats_error(s->stats, ERR_BAD_REQUEST);
                    fail(s, 400, false);
                } else {
                    s->closing = true;
                }
            }
            return;
        }
        bool was_in_message = s->req.in_message;
        size_t used;
        int status = 0;
        s->req.base = s->block;
        req_status_t st = http_request_feed(&s->req, s->block + s->in_pos, s->in_len - s->in_pos, &used, &status);
        s->in_pos += used;
        s->idle_since = now; /* input made progress */
        if (!was_in_message && s->req.in_message && s->seen_request)
            s->head_since = now;
        if (st == REQ_FAILED) {
            stats_error(s->stats, error_kind(status));
            fail(s, status, true);
            return;
        }
        if (s->req.in_message && s->req.headers_done && !s->planned) { /* the URL is whole, still buffered */
            s->planned = true;
            s->plan_status = request_plan_make(&s->req, s->opts, &s->plan);
        }
        if (st == REQ_MORE) {
            if (s->req.expect_continue && s->req.headers_done && !s->req.continue_sent) {
                s->req.continue_sent = true;
                response_queue_continue(&s->out);
            }
            continue;
        }
        s->seen_request = true;
        request_plan_t plan = s->plan;
        plan.keep_alive = s->req.keep_alive; /* final only now (an upgrade request closes) */
        status = s->plan_status;
        s->planned = false;
        http_request_next(&s->req);
        if (status != 0) {
            stats_error(s->stats, error_kind(status));
            fail(s, status, true);
            return;
        }
        if (plan.stats) {
            if (response_queue_stats(&s->out, &plan, s->stats->server) != 0) {
                s->dead = true;
                stats_error(s->stats, ERR_IO);
            }
            if (!plan.keep_alive)
                s->closing = true;
            continue;
        }
        stats_request_begin(s->stats);
        if (plan.delay_ns > 0) {
            s->pending = plan;
            s->delayed = true;
            s->delay_until = now + plan.delay_ns;
            return;
        }
        answer(s, &plan);
    }
}

/* ---- deciding what the connection needs ---- */

static bool wants_input(const session_t *s)
{
    bool room = !s->block || s->in_len < s->in_cap || s->in_pos > 0 || s->in_cap < SESSION_IN_CAP;
    return !s->peer_eof && outq_empty(&s->out) && room;
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
    if (!s->seen_request || (s->req.in_message && !s->req.headers_done)) {
        *kind = TIMEOUT_HEADER;
        return after(s->head_since, s->opts->header_timeout_ns);
    }
    *kind = TIMEOUT_IDLE; /* between keep-alive requests, or inside a body */
    return after(s->idle_since, s->opts->idle_timeout_ns);
}

static bool only_waits_for_input(const session_t *s)
{
    return !s->closing && !s->delayed && s->in_pos == s->in_len && wants_input(s);
}

session_want_t session_next(session_t *s, uint64_t now)
{
    advance(s, now);
    session_want_t w = {0};
    if (s->dead) {
        w.close = true;
        return w;
    }
    bool out_pending = !outq_empty(&s->out);
    if (out_pending && !s->was_writing) {
        s->write_since = now;
        s->sent_mark = SESSION_NOT_BLOCKED;
    }
    s->was_writing = out_pending;
    if (out_pending) {
        w.write = !s->out.in_flight;
        w.deadline_ns = after(s->write_since, s->opts->write_timeout_ns);
    }
    if (s->closing) {
        if (out_pending)
            return w;
        if (s->linger && !s->peer_eof && s->linger_bytes < SESSION_LINGER_BYTES) {
            w.shut_write = !s->shut;
            w.read = s->shut;
            w.deadline_ns = s->shut ? s->linger_until : 0;
            if (!s->shut)
                drop_input(s);
            return w;
        }
        w.close = true;
        return w;
    }
    if (s->delayed)
        w.deadline_ns = earliest(w.deadline_ns, s->delay_until);
    w.read = wants_input(s);
    if (only_waits_for_input(s)) {
        stats_timeout_t kind;
        w.deadline_ns = earliest(w.deadline_ns, input_deadline(s, &kind));
    } else if (!s->req.in_message) {
        s->idle_since = now;
    }
    /* Lean waiting: nothing unparsed and no request in progress, so no input buffer. */
    if (s->block && s->in_pos == s->in_len && !s->req.in_message)
        drop_input(s);
    return w;
}

/* ---- output ---- */

const struct iovec *session_out(const session_t *s, unsigned *count)
{
    *count = s->out.count;
    return &s->out.iov[s->out.first];
}

void session_out_begin(session_t *s)
{
    assert(!s->out.in_flight && !outq_empty(&s->out));
    s->out.in_flight = true;
}

void session_out_done(session_t *s, size_t written, uint64_t now)
{
    assert(s->out.in_flight);
    s->out.in_flight = false;
    (void)now; /* progress is what the peer acknowledges (session_timer), not what a write took */
    outq_consume(&s->out, written);
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
    if (s->sent_mark != SESSION_NOT_BLOCKED)
        return; /* already waiting on the peer: the wait goes on from the first full socket */
    uint64_t acked;
    if (!tcp_counts(fd, &s->sent_mark, &acked))
        s->sent_mark = SESSION_NOT_BLOCKED - 1; /* no progress can be shown: the timeout just runs */
    s->write_since = now;
}

flush_result_t session_flush(session_t *s, int fd, uint64_t now)
{
    size_t written;
    flush_result_t r = outq_flush(&s->out, fd, &written);
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
    assert(s->closing && s->linger && !s->shut && outq_empty(&s->out));
    s->shut = true;
    s->linger_until = now + SESSION_LINGER_NS;
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
    if (s->delayed && now >= s->delay_until) {
        s->delayed = false;
        answer(s, &s->pending);
        return; /* the other deadlines are measured again by session_next */
    }
    if (s->shut) {
        if (now >= s->linger_until)
            s->linger = false; /* enough waiting for the peer: close */
        return;
    }
    uint64_t write_end = after(s->write_since, s->opts->write_timeout_ns);
    if (s->was_writing && !outq_empty(&s->out) && write_end && now >= write_end) {
        uint64_t sent, acked;
        if (s->sent_mark != SESSION_NOT_BLOCKED && tcp_counts(fd, &sent, &acked) && acked > s->sent_mark) {
            s->sent_mark = sent; /* the peer took bytes: a new period begins */
            s->write_since = now;
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
