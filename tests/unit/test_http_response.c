/* The loadgen's response parser: framing by Content-Length, chunked and close, HEAD, pipelined
 * responses (the bytes after one are left for the next), keep-alive rules, and the head cache. */
#include "check.h"
#include "http_response.h"

#include <stdlib.h>

typedef struct parsed {
    int rc;            /* LG_RESP_* of the last feed (or of eof) */
    int complete;
    unsigned status;
    uint64_t body;
    size_t extra;      /* bytes after the response */
    int keepalive;
} parsed_t;

/* Feeds text in pieces of `step` bytes (0: at once); eof after the end if asked. */
static parsed_t feed(const char *text, size_t step, int head, int eof, lg_header_capture *cap)
{
    lg_response *r = malloc(sizeof *r);
    lg_response_begin(r, head, cap);
    parsed_t p = {0};
    size_t len = strlen(text), pos = 0;
    while (pos < len) {
        size_t n = step == 0 || len - pos < step ? len - pos : step, extra = 0;
        p.rc = lg_response_feed(r, text + pos, n, &extra);
        if (p.rc != LG_RESP_OK)
            break;
        if (r->complete) {
            p.extra = extra + (len - pos - n);
            break;
        }
        pos += n;
    }
    if (eof && p.rc == LG_RESP_OK && !r->complete)
        p.rc = lg_response_eof(r);
    p.complete = r->complete;
    p.status = r->status;
    p.body = r->body_bytes;
    if (r->complete)
        p.keepalive = lg_response_keepalive(r);
    free(r);
    return p;
}

/* The same result for every split. */
static parsed_t feed_every_way(const char *text, int head, int eof)
{
    parsed_t whole = feed(text, 0, head, eof, NULL);
    size_t steps[] = {1, 2, 5, 13};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        parsed_t p = feed(text, steps[i], head, eof, NULL);
        CHECK_INT(p.rc, whole.rc);
        CHECK_INT(p.complete, whole.complete);
        CHECK_INT(p.status, whole.status);
        CHECK_U64(p.body, whole.body);
        CHECK_U64(p.extra, whole.extra);
        CHECK_INT(p.keepalive, whole.keepalive);
    }
    return whole;
}

static void test_content_length(void)
{
    parsed_t p = feed_every_way("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, 0);
    CHECK_INT(p.rc, LG_RESP_OK);
    CHECK(p.complete);
    CHECK_INT(p.status, 200);
    CHECK_U64(p.body, 5);
    CHECK_U64(p.extra, 0);
    CHECK(p.keepalive);

    p = feed_every_way("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc", 0, 0);
    CHECK_INT(p.status, 404);
    CHECK(!p.keepalive);
    p = feed_every_way("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0);
    CHECK(p.complete);
    CHECK(!p.keepalive); /* 1.0 without keep-alive */
    p = feed_every_way("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 0, 0);
    CHECK(p.keepalive);
}

static void test_pipelined(void)
{
    static const char two[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
                              "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    parsed_t p = feed_every_way(two, 0, 0);
    CHECK(p.complete);
    CHECK_INT(p.status, 200);
    CHECK_U64(p.body, 2);
    CHECK_U64(p.extra, strlen(two) - strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"));
}

static void test_chunked(void)
{
    parsed_t p = feed_every_way("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "4\r\nwiki\r\n5;ext=x\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT",
                                0, 0);
    CHECK_INT(p.rc, LG_RESP_OK);
    CHECK(p.complete);
    CHECK_U64(p.body, 9);
    CHECK_U64(p.extra, 4);
    CHECK(p.keepalive);
    p = feed_every_way("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", 0, 0);
    CHECK_INT(p.rc, LG_RESP_PARSE_ERROR);
    p = feed_every_way("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwi", 0, 1);
    CHECK_INT(p.rc, LG_RESP_TRUNCATED);
}

static void test_close_delimited_and_truncated(void)
{
    parsed_t p = feed_every_way("HTTP/1.1 200 OK\r\n\r\nuntil the end", 0, 1);
    CHECK_INT(p.rc, LG_RESP_OK);
    CHECK(p.complete);
    CHECK_U64(p.body, 13);
    CHECK(!p.keepalive);
    p = feed_every_way("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 0, 1);
    CHECK_INT(p.rc, LG_RESP_TRUNCATED);
    CHECK(!p.complete);
    p = feed_every_way("HTTP/1.1 200 OK\r\nContent-Le", 0, 1);
    CHECK_INT(p.rc, LG_RESP_TRUNCATED);
}

static void test_head(void)
{
    /* A HEAD response has no body whatever its Content-Length says. */
    parsed_t p = feed_every_way("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\n", 1, 0);
    CHECK(p.complete);
    CHECK_U64(p.body, 0);
    CHECK_U64(p.extra, strlen("HTTP/1.1 200 OK\r\n"));
}

static void test_garbage(void)
{
    CHECK_INT(feed_every_way("SSH-2.0-OpenSSH_9.2\r\n", 0, 0).rc, LG_RESP_PARSE_ERROR);
    CHECK_INT(feed_every_way("HTTP/1.1 2000 OK\r\n\r\n", 0, 0).rc, LG_RESP_PARSE_ERROR);
    CHECK_INT(feed_every_way("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 0, 0).rc,
              LG_RESP_PARSE_ERROR);
}

static void test_server_capture(void)
{
    lg_header_capture cap = {0};
    parsed_t p = feed("HTTP/1.1 200 OK\r\nX-Long-Header-Name-Over-Sixteen: nginx\r\nSERVER: c10k-epoll\r\n"
                      "Content-Length: 0\r\n\r\n",
                      3, 0, 0, &cap);
    CHECK(p.complete);
    CHECK(cap.found);
    CHECK_STR(cap.server, "c10k-epoll");
}

static void test_head_cache(void)
{
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    lg_head_cache hc = {0};
    lg_response r;
    lg_response_begin(&r, 0, NULL);
    size_t extra;
    CHECK(!lg_head_cache_match(&hc, resp, strlen(resp), &r, &extra)); /* empty cache */
    CHECK_INT(lg_response_feed(&r, resp, strlen(resp), &extra), LG_RESP_OK);
    CHECK(r.complete);
    lg_head_cache_store(&hc, resp, strlen(resp) - extra, &r);
    CHECK_U64(hc.head_len, strlen(resp) - 3);

    lg_response r2;
    lg_response_begin(&r2, 0, NULL);
    static const char again[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyzMORE";
    CHECK(lg_head_cache_match(&hc, again, strlen(again), &r2, &extra));
    CHECK(r2.complete);
    CHECK_INT(r2.status, 200);
    CHECK_U64(r2.body_bytes, 3);
    CHECK_U64(extra, 4);
    CHECK(lg_response_keepalive(&r2));
    /* Not all of the body yet, or another head: no match. */
    lg_response_begin(&r2, 0, NULL);
    CHECK(!lg_head_cache_match(&hc, again, strlen(resp) - 1, &r2, &extra));
    CHECK(!lg_head_cache_match(&hc, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd", 42, &r2, &extra));

    /* Chunked responses are never memoized. */
    lg_head_cache hc2 = {0};
    static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    lg_response_begin(&r, 0, NULL);
    CHECK_INT(lg_response_feed(&r, chunked, strlen(chunked), &extra), LG_RESP_OK);
    lg_head_cache_store(&hc2, chunked, strlen(chunked), &r);
    CHECK_U64(hc2.head_len, 0);
}

int main(void)
{
    test_content_length();
    test_pipelined();
    test_chunked();
    test_close_delimited_and_truncated();
    test_head();
    test_garbage();
    test_server_capture();
    test_head_cache();
    return check_exit();
}
