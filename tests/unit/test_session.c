/* The session: bytes in, responses out, in order; errors answer and close; the interim 100
 * Continue, delays, a full output queue and a full input buffer each give their step. */
#include "check.h"
#include "response.h"
#include "session.h"
#include "stats.h"

#include <stdlib.h>

static server_options_t opts = {.host = "127.0.0.1", .body_bytes = 5, .backlog = 16};

/* Appends the whole string to the session's input (it must fit). */
static void give(session_t *s, const char *text)
{
    size_t len = strlen(text), avail;
    char *p = session_in_space(s, &avail);
    CHECK(len <= avail);
    memcpy(p, text, len);
    session_in_added(s, len);
}

/* Takes everything queued for writing, as if the socket had accepted it all. */
static char *take_output(session_t *s)
{
    static char buf[1 << 16];
    size_t n = 0;
    for (unsigned i = s->out.first; i < s->out.first + s->out.count; i++) {
        size_t len = s->out.iov[i].iov_len;
        if (n + len >= sizeof buf)
            len = sizeof buf - 1 - n;
        memcpy(buf + n, s->out.iov[i].iov_base, len);
        n += len;
    }
    buf[n] = '\0';
    outq_consume(&s->out, SIZE_MAX);
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static session_t *new_session(void)
{
    session_t *s = malloc(sizeof *s);
    session_init(s, &opts);
    return s;
}

static void test_pipelined_in_order(void)
{
    session_t *s = new_session();
    uint64_t before = g_stats->requests;
    give(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /?bytes=3 HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(session_advance(s), SESSION_READ);
    char *out = take_output(s);
    CHECK_INT(count(out, "HTTP/1.1 200 OK\r\n"), 3);
    char *first = strstr(out, "Content-Length: 5\r\n");
    char *third = strstr(out, "Content-Length: 3\r\n");
    CHECK(first && third && first < third);
    CHECK_U64(g_stats->requests - before, 3);
    /* The peer closes between requests: a clean close. */
    s->peer_eof = true;
    CHECK_INT(session_advance(s), SESSION_CLOSE);
    CHECK(!s->linger);
    CHECK_STR(take_output(s), "");
    free(s);
}

static void test_connection_close(void)
{
    session_t *s = new_session();
    give(s, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(session_advance(s), SESSION_CLOSE);
    char *out = take_output(s);
    CHECK_INT(count(out, "HTTP/1.1 200"), 1);
    CHECK(strstr(out, "Connection: close\r\n") != NULL);
    free(s);
}

static void test_bad_request_answers_and_lingers(void)
{
    session_t *s = new_session();
    uint64_t bad = g_stats->errors[ERR_BAD_REQUEST];
    give(s, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n");
    CHECK_INT(session_advance(s), SESSION_CLOSE);
    CHECK(s->linger); /* the peer may still be sending: drain before close */
    char *out = take_output(s);
    char *ok = strstr(out, "HTTP/1.1 200 OK"), *err = strstr(out, "HTTP/1.1 400 Bad Request");
    CHECK(ok && err && ok < err);
    CHECK_U64(g_stats->errors[ERR_BAD_REQUEST] - bad, 1);
    CHECK_INT(session_advance(s), SESSION_CLOSE); /* stays closed */
    free(s);

    s = new_session();
    uint64_t big = g_stats->errors[ERR_BODY_TOO_LARGE];
    give(s, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n");
    CHECK_INT(session_advance(s), SESSION_CLOSE);
    CHECK(strstr(take_output(s), "HTTP/1.1 413 ") != NULL);
    CHECK_U64(g_stats->errors[ERR_BODY_TOO_LARGE] - big, 1);
    free(s);

    s = new_session();
    give(s, "GET /?delay_ms=abc HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(session_advance(s), SESSION_CLOSE);
    CHECK(strstr(take_output(s), "HTTP/1.1 400 ") != NULL);
    free(s);
}

static void test_truncated_request(void)
{
    session_t *s = new_session();
    give(s, "GET / HTTP/1.1\r\nHo");
    CHECK_INT(session_advance(s), SESSION_READ);
    CHECK_STR(take_output(s), "");
    s->peer_eof = true;
    CHECK_INT(session_advance(s), SESSION_CLOSE);
    CHECK(!s->linger); /* nothing more will come */
    CHECK(strstr(take_output(s), "HTTP/1.1 400 ") != NULL);
    free(s);
}

static void test_expect_continue(void)
{
    session_t *s = new_session();
    give(s, "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    CHECK_INT(session_advance(s), SESSION_READ);
    CHECK_STR(take_output(s), "HTTP/1.1 100 Continue\r\n\r\n");
    give(s, "bo");
    CHECK_INT(session_advance(s), SESSION_READ);
    CHECK_STR(take_output(s), ""); /* only once */
    give(s, "dy");
    CHECK_INT(session_advance(s), SESSION_READ);
    CHECK(strncmp(take_output(s), "HTTP/1.1 200 OK\r\n", 17) == 0);
    free(s);
}

static void test_delay(void)
{
    session_t *s = new_session();
    int64_t inflight = g_stats->inflight;
    give(s, "GET /?delay_ms=5 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(session_advance(s), SESSION_DELAY);
    CHECK_U64(s->pending.delay_ns, 5000000);
    CHECK_STR(take_output(s), ""); /* the second request waits behind the first */
    CHECK_INT(g_stats->inflight - inflight, 1);
    CHECK_INT(session_advance(s), SESSION_DELAY);
    session_delay_done(s);
    CHECK_INT(session_advance(s), SESSION_READ);
    CHECK_INT(count(take_output(s), "HTTP/1.1 200 OK"), 2);
    CHECK_INT(g_stats->inflight - inflight, 0);

    /* Abandoned while waiting: the in-flight count goes back down, nothing is answered. */
    uint64_t requests = g_stats->requests;
    give(s, "GET /?delay_ms=5 HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(session_advance(s), SESSION_DELAY);
    session_abandon(s);
    CHECK_INT(g_stats->inflight - inflight, 0);
    CHECK_U64(g_stats->requests, requests);
    free(s);
}

static void test_full_output_then_full_input(void)
{
    /* More pipelined requests than the output queue holds: SESSION_WRITE until it drains. */
    session_t *s = new_session();
    static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t nreq = SESSION_IN_CAP / (sizeof req - 1);
    size_t avail;
    char *p = session_in_space(s, &avail);
    for (size_t i = 0; i < nreq; i++)
        memcpy(p + i * (sizeof req - 1), req, sizeof req - 1);
    session_in_added(s, nreq * (sizeof req - 1));
    int answered = 0, writes = 0;
    session_step_t step;
    while ((step = session_advance(s)) == SESSION_WRITE) {
        writes++;
        answered += count(take_output(s), "HTTP/1.1 200 OK");
        if (writes > 10000)
            break;
    }
    CHECK(writes > 0);
    CHECK_INT(step, SESSION_READ);
    answered += count(take_output(s), "HTTP/1.1 200 OK");
    CHECK_INT(answered, (int)nreq);

    /* A partial request left at the end of a full buffer slides to the front. */
    session_init(s, &opts);
    p = session_in_space(s, &avail);
    CHECK_U64(avail, SESSION_IN_CAP);
    size_t fill = SESSION_IN_CAP - 10;
    size_t whole = fill / (sizeof req - 1);
    for (size_t i = 0; i < whole; i++)
        memcpy(p + i * (sizeof req - 1), req, sizeof req - 1);
    size_t used = whole * (sizeof req - 1);
    memcpy(p + used, req, SESSION_IN_CAP - used); /* the start of one more */
    session_in_added(s, SESSION_IN_CAP);
    answered = 0;
    while ((step = session_advance(s)) == SESSION_WRITE)
        answered += count(take_output(s), "HTTP/1.1 200 OK");
    CHECK_INT(step, SESSION_READ);
    answered += count(take_output(s), "HTTP/1.1 200 OK");
    CHECK_INT(answered, (int)whole);
    p = session_in_space(s, &avail);
    size_t rest = (sizeof req - 1) - (SESSION_IN_CAP - used);
    CHECK(avail >= rest);
    memcpy(p, req + (SESSION_IN_CAP - used), rest);
    session_in_added(s, rest);
    CHECK_INT(session_advance(s), SESSION_READ);
    CHECK_INT(count(take_output(s), "HTTP/1.1 200 OK"), 1);
    free(s);
}

static void test_stats_page(void)
{
    session_t *s = new_session();
    uint64_t requests = g_stats->requests;
    give(s, "GET /__stats HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(session_advance(s), SESSION_READ);
    char *out = take_output(s);
    CHECK(strstr(out, "application/json") != NULL);
    CHECK(strstr(out, "\"model\":\"unit\"") != NULL);
    CHECK_U64(g_stats->requests, requests); /* not workload */
    free(s);
}

int main(void)
{
    http_request_global_init();
    stats_init("unit");
    responses_init("unit", &opts);
    test_pipelined_in_order();
    test_connection_close();
    test_bad_request_answers_and_lingers();
    test_truncated_request();
    test_expect_continue();
    test_delay();
    test_full_output_then_full_input();
    test_stats_page();
    return check_exit();
}
