/* The server's request parser: one request at a time in order, any split of the input gives the
 * same answers, and every limit maps to its status (400, 413, 414, 431, 505). */
#include "check.h"
#include "http_request.h"

#include <stdlib.h>

#define MAX_EVENTS 16

/* What the parser made of a byte stream: each complete request's method, URL and flags, then
 * the failure status if any. */
typedef struct outcome {
    int complete;
    int method[MAX_EVENTS];
    char url[MAX_EVENTS][64];
    bool keep_alive[MAX_EVENTS];
    bool expect_continue_seen[MAX_EVENTS];
    int fail_status; /* 0: none */
    bool truncated;  /* a request was cut short at the end of the input */
} outcome_t;

/* Feeds `in` in pieces of `step` bytes (0: all at once), the way a session does. */
static outcome_t parse(const char *in, size_t len, size_t step)
{
    outcome_t o = {0};
    http_request_t *r = malloc(sizeof *r);
    http_request_init(r);
    size_t pos = 0, avail = 0; /* bytes [pos, avail) have arrived but are not consumed */
    while (pos < len && !o.fail_status) {
        if (avail == pos || step == 0)
            avail = step == 0 ? len : (avail + step < len ? avail + step : len);
        size_t used = 0;
        int status = 0;
        r->base = in; /* the URL is read in place from the caller's buffer */
        req_status_t st = http_request_feed(r, in + pos, avail - pos, &used, &status);
        pos += used;
        if (st == REQ_FAILED) {
            o.fail_status = status;
        } else if (st == REQ_COMPLETE) {
            if (o.complete < MAX_EVENTS) {
                o.method[o.complete] = r->method;
                snprintf(o.url[o.complete], sizeof o.url[0], "%.*s", (int)r->url_len, http_request_url(r));
                o.keep_alive[o.complete] = r->keep_alive;
                o.expect_continue_seen[o.complete] = r->expect_continue;
            }
            o.complete++;
            http_request_next(r);
        } else {
            CHECK_U64(pos, avail); /* REQ_MORE consumed everything offered */
        }
    }
    o.truncated = http_request_truncated(r);
    free(r);
    return o;
}

/* The same outcome whether the bytes come at once, one by one, or in odd pieces. */
static outcome_t parse_every_way(const char *in)
{
    size_t len = strlen(in);
    outcome_t whole = parse(in, len, 0);
    size_t steps[] = {1, 2, 3, 7, 64};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        outcome_t o = parse(in, len, steps[i]);
        CHECK_INT(o.complete, whole.complete);
        CHECK_INT(o.fail_status, whole.fail_status);
        CHECK_INT(o.truncated, whole.truncated);
        for (int k = 0; k < whole.complete && k < MAX_EVENTS; k++) {
            CHECK_STR(o.url[k], whole.url[k]);
            CHECK_INT(o.keep_alive[k], whole.keep_alive[k]);
        }
    }
    return whole;
}

static void test_simple_and_pipelined(void)
{
    /* A request that closes the connection comes last: nothing after it is HTTP to the parser. */
    outcome_t o = parse_every_way("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                                  "POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                                  "GET /e HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                                  "HEAD /b?delay_ms=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK_INT(o.complete, 4);
    CHECK_INT(o.fail_status, 0);
    CHECK(!o.truncated);
    CHECK_INT(o.method[0], HTTP_GET);
    CHECK_STR(o.url[0], "/a");
    CHECK(o.keep_alive[0]);
    CHECK_INT(o.method[1], HTTP_POST);
    CHECK(o.keep_alive[1]);
    CHECK(o.keep_alive[2]); /* 1.0 with Connection: keep-alive */
    CHECK_INT(o.method[3], HTTP_HEAD);
    CHECK_STR(o.url[3], "/b?delay_ms=1");
    CHECK(!o.keep_alive[3]);
    o = parse_every_way("GET /d HTTP/1.0\r\n\r\n");
    CHECK_INT(o.complete, 1);
    CHECK(!o.keep_alive[0]); /* 1.0 closes by default */
}

static void test_chunked_body(void)
{
    outcome_t o = parse_every_way("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: t\r\n\r\n"
                                  "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(o.complete, 2);
    CHECK_INT(o.fail_status, 0);
    CHECK_STR(o.url[1], "/next");
}

static void test_truncated(void)
{
    outcome_t o = parse_every_way("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /half HTTP/1.1\r\nHo");
    CHECK_INT(o.complete, 1);
    CHECK_INT(o.fail_status, 0);
    CHECK(o.truncated);
    o = parse_every_way("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    CHECK_INT(o.complete, 0);
    CHECK(o.truncated);
}

static void test_expect_continue(void)
{
    outcome_t o = parse_every_way("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok");
    CHECK_INT(o.complete, 1);
    CHECK(o.expect_continue_seen[0]);
    /* No body coming, or HTTP/1.0: no interim response. */
    o = parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n");
    CHECK(!o.expect_continue_seen[0]);
    o = parse_every_way("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
    CHECK(!o.expect_continue_seen[0]);
    o = parse_every_way("POST / HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nContent-Length: 2\r\n\r\nok");
    CHECK(!o.expect_continue_seen[0]);
}

static void test_errors(void)
{
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\n\r\n").fail_status, 400); /* no Host */
    /* RFC 9112 3.2: more than one Host is a 400, whatever the values or their case. */
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n").fail_status, 400);
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nhOST: b\r\n\r\n").fail_status, 400);
    /* RFC 9110 5.1: a field name is a token; a space in a known name or before the colon is a 400. */
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHo st: x\r\n\r\n").fail_status, 400);
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHost : x\r\n\r\n").fail_status, 400);
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nFoo Bar: y\r\n\r\n").fail_status, 400);
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nFoo : y\r\n\r\n").fail_status, 400);
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nFoo Bar: y\r\nHost: x\r\n\r\n").fail_status, 400);
    /* Names of every length class the check reads in words, with the space anywhere in them. */
    static const char *const spaced[] = {"A B", "Ab C", "Twelve-Char :", "X-Sixteen-Bytes :", "X-Seventeen Bytes",
                                         "X-A-Rather-Long-Name-Of-Forty-Bytes-Or- So"};
    for (size_t i = 0; i < sizeof spaced / sizeof spaced[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: x\r\n%s%s y\r\n\r\n", spaced[i],
                 strchr(spaced[i], ':') ? "" : ":");
        CHECK_INT(parse_every_way(req).fail_status, 400);
    }
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nAbc: 2\r\nX-Sixteen-Bytes-: 3\r\n"
                              "X-A-Rather-Long-Name-Of-Forty-Bytes-Or-So: 4\r\n\r\n").fail_status, 0);
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nX-A_b.c~!#$%&'*+^`|: z\r\n\r\n").fail_status, 0);
    CHECK_INT(parse_every_way("GET / HTTP/2.0\r\nHost: x\r\n\r\n").fail_status, 505);
    CHECK_INT(parse_every_way("GET /\r\n").fail_status, 505); /* HTTP/0.9: at once, no wait for headers */
    /* Framing a lenient parser lets through (RFC 9112): rejected, however the bytes are split. */
    CHECK_INT(parse_every_way("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n").fail_status,
              400);
    CHECK_INT(parse_every_way("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n")
                  .fail_status,
              400);
    CHECK_INT(parse_every_way("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n")
                  .fail_status,
              400);
    CHECK_INT(parse_every_way("GET / HTTP/1.1\nHost: x\n\n").fail_status, 400);
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHost: x\n\r\n").fail_status, 400);
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHost: x\r\n\n").fail_status, 400);
    /* A bare LF inside body data is data. */
    CHECK_INT(parse_every_way("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na\nb").complete, 1);
    CHECK_INT(parse_every_way("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3\r\na\nb\r\n2\r\n\n\n\r\n0\r\n\r\n")
                  .complete,
              1);
    CHECK_INT(parse_every_way("BREW / HTTP/1.1\r\nHost: x\r\n\r\n").fail_status, 400);
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                  .fail_status,
              400);
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n").fail_status, 400);
    CHECK_INT(parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                  .fail_status,
              400); /* smuggling: both framings */
    CHECK_INT(parse_every_way("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").fail_status,
              400);
    /* The first request is answered; the error comes after it. */
    outcome_t o = parse_every_way("GET /ok HTTP/1.1\r\nHost: x\r\n\r\nNOT HTTP\r\n\r\n");
    CHECK_INT(o.complete, 1);
    CHECK_INT(o.fail_status, 400);
}

static void test_limits(void)
{
    static char buf[HTTP_HEAD_MAX * 2 + HTTP_URL_MAX + 256];
    /* A URL of exactly HTTP_URL_MAX bytes is fine; one more is 414. */
    for (int extra = 0; extra <= 1; extra++) {
        size_t url = HTTP_URL_MAX + (size_t)extra;
        int n = snprintf(buf, sizeof buf, "GET /");
        memset(buf + n, 'u', url - 1);
        snprintf(buf + n + url - 1, sizeof buf - (size_t)n - url + 1, " HTTP/1.1\r\nHost: x\r\n\r\n");
        outcome_t o = parse_every_way(buf);
        CHECK_INT(o.fail_status, extra ? 414 : 0);
        CHECK_INT(o.complete, extra ? 0 : 1);
    }
    /* A URL past the limit with a bad byte after it: the limit came first, so 414 however the
     * bytes arrive (whole, the parser would meet the bad byte before it reports the length). */
    {
        int n0 = snprintf(buf, sizeof buf, "GET /");
        memset(buf + n0, 'u', HTTP_URL_MAX + 100);
        buf[n0 + HTTP_URL_MAX + 50] = '\x01';
        snprintf(buf + n0 + HTTP_URL_MAX + 100, sizeof buf - (size_t)n0 - HTTP_URL_MAX - 100, " HTTP/1.1\r\n\r\n");
        CHECK_INT(parse_every_way(buf).fail_status, 414);
    }
    /* Headers past HTTP_HEAD_MAX: 431. */
    int n = snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(buf + n, 'h', HTTP_HEAD_MAX);
    snprintf(buf + n + HTTP_HEAD_MAX, sizeof buf - (size_t)n - HTTP_HEAD_MAX, "\r\n\r\n");
    CHECK_INT(parse_every_way(buf).fail_status, 431);
    /* Bodies: a declared length over the limit is refused before any body byte arrives. */
    snprintf(buf, sizeof buf, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %u\r\n\r\n", HTTP_BODY_MAX + 1);
    CHECK_INT(parse_every_way(buf).fail_status, 413);
    snprintf(buf, sizeof buf, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n");
    CHECK(parse_every_way(buf).fail_status != 0);
}

static void test_chunked_over_limit(void)
{
    /* A chunked body has no length up front: it fails when it passes the limit. */
    size_t chunk = 64 * 1024, chunks = HTTP_BODY_MAX / chunk + 1;
    size_t cap = 128 + chunks * (chunk + 16);
    char *buf = malloc(cap);
    size_t n = (size_t)snprintf(buf, cap, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t i = 0; i < chunks; i++) {
        n += (size_t)snprintf(buf + n, cap - n, "%zx\r\n", chunk);
        memset(buf + n, 'b', chunk);
        n += chunk;
        n += (size_t)snprintf(buf + n, cap - n, "\r\n");
    }
    n += (size_t)snprintf(buf + n, cap - n, "0\r\n\r\n");
    outcome_t o = parse(buf, n, 0);
    CHECK_INT(o.fail_status, 413);
    CHECK_INT(o.complete, 0);
    free(buf);
}

int main(void)
{
    http_request_global_init();
    test_simple_and_pipelined();
    test_chunked_body();
    test_truncated();
    test_expect_continue();
    test_errors();
    test_limits();
    test_chunked_over_limit();
    return check_exit();
}
