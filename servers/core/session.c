#include "session.h"

#include "response.h"
#include "stats.h"
#include "work.h"

#include <string.h>

void session_init(session_t *s, const server_options_t *opts)
{
    s->opts = opts;
    s->peer_eof = s->closing = s->linger = s->delayed = false;
    s->in_pos = s->in_len = 0;
    http_request_init(&s->req);
    outq_init(&s->out);
}

char *session_in_space(session_t *s, size_t *avail)
{
    if (s->in_pos == s->in_len) {
        s->in_pos = s->in_len = 0;
    } else if (s->in_pos > 0 && s->in_len == SESSION_IN_CAP) {
        /* Unanswered pipelined requests fill the tail: slide them to the front. */
        memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
        s->in_len -= s->in_pos;
        s->in_pos = 0;
    }
    *avail = SESSION_IN_CAP - s->in_len;
    return s->in + s->in_len;
}

static stats_error_t error_kind(int status)
{
    switch (status) {
    case 413: return ERR_BODY_TOO_LARGE;
    case 414:
    case 431: return ERR_HEADER_TOO_LARGE;
    default: return ERR_BAD_REQUEST;
    }
}

static session_step_t fail(session_t *s, int status)
{
    stats_error(error_kind(status));
    response_queue_error(&s->out, status);
    s->closing = true;
    s->linger = !s->peer_eof;
    return SESSION_CLOSE;
}

static void answer(session_t *s, const request_plan_t *plan)
{
    work_burn_us(s->opts->work_us);
    response_queue_ok(&s->out, plan);
    stats_request_end(1);
    if (!plan->keep_alive)
        s->closing = true;
}

session_step_t session_advance(session_t *s)
{
    for (;;) {
        if (s->closing)
            return SESSION_CLOSE;
        if (s->delayed)
            return SESSION_DELAY;
        if (!outq_room(&s->out, RESPONSE_MAX_IOV, RESPONSE_MAX_ARENA))
            return SESSION_WRITE;
        if (s->in_pos == s->in_len) {
            if (!s->peer_eof)
                return SESSION_READ;
            if (http_request_truncated(&s->req))
                return fail(s, 400);
            s->closing = true;
            continue;
        }
        size_t used;
        int status = 0;
        req_status_t st = http_request_feed(&s->req, s->in + s->in_pos, s->in_len - s->in_pos, &used, &status);
        s->in_pos += used;
        if (st == REQ_FAILED)
            return fail(s, status);
        if (st == REQ_MORE) {
            if (s->req.expect_continue && s->req.headers_done && !s->req.continue_sent) {
                s->req.continue_sent = true;
                response_queue_continue(&s->out);
            }
            continue;
        }
        request_plan_t plan;
        status = request_plan_make(&s->req, s->opts, &plan);
        http_request_next(&s->req);
        if (status != 0)
            return fail(s, status);
        if (plan.stats) {
            response_queue_stats(&s->out, &plan);
            if (!plan.keep_alive)
                s->closing = true;
            continue;
        }
        stats_request_begin();
        if (plan.delay_ns > 0) {
            s->pending = plan;
            s->delayed = true;
            return SESSION_DELAY;
        }
        answer(s, &plan);
    }
}

void session_delay_done(session_t *s)
{
    s->delayed = false;
    answer(s, &s->pending);
}

void session_abandon(session_t *s)
{
    if (s->delayed) {
        s->delayed = false;
        stats_request_end(0);
    }
}
