/* The loadgen's response parser over a stream of pipelined responses (1xx, chunked, close-
 * delimited, HEAD): the input parsed whole and in random pieces must give the same sequence of
 * responses, and the head cache must agree with the parser whenever it claims a match. The first
 * byte chooses the split, HEAD requests and header capture. */
#include "http_response.h"
#include "split.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESPONSES 64

typedef struct outcome {
    int n;
    int rc[MAX_RESPONSES];
    unsigned status[MAX_RESPONSES];
    uint64_t body[MAX_RESPONSES];
    int keepalive[MAX_RESPONSES];
} outcome_t;

static void differ(const char *what, int i)
{
    fprintf(stderr, "%s differs at response %d\n", what, i);
    abort();
}

/* Checks a head-cache hit against what the parser made of the same bytes. */
static void check_cache(const lg_head_cache *hc, const uint8_t *data, size_t len, int head)
{
    lg_response cached, parsed;
    size_t cextra, pextra = 0;
    lg_response_begin(&cached, head, NULL);
    if (head || !lg_head_cache_match(hc, (const char *)data, len, &cached, &cextra))
        return;
    lg_response_begin(&parsed, head, NULL);
    if (lg_response_feed(&parsed, (const char *)data, len, &pextra) != LG_RESP_OK || !parsed.complete)
        differ("head cache hit on bytes the parser rejects:", 0);
    if (parsed.status != cached.status || parsed.body_bytes != cached.body_bytes || pextra != cextra ||
        lg_response_keepalive(&parsed) != lg_response_keepalive(&cached))
        differ("head cache", 0);
}

static outcome_t parse(const uint8_t *data, size_t len, splitter_t sp, int head, int capture, int use_cache)
{
    static lg_response r;
    static lg_header_capture cap;
    static lg_head_cache hc;
    memset(&hc, 0, sizeof hc);
    outcome_t o = {0};
    size_t pos = 0;
    while (o.n < MAX_RESPONSES) {
        size_t start = pos;
        if (use_cache)
            check_cache(&hc, data + start, len - start, head);
        lg_response_begin(&r, head, capture ? &cap : NULL);
        int rc = LG_RESP_OK;
        while (pos < len && !r.complete) {
            size_t n = splitter_next(&sp, len - pos), extra = 0;
            rc = lg_response_feed(&r, (const char *)data + pos, n, &extra);
            if (rc != LG_RESP_OK)
                break;
            pos += n - (r.complete ? extra : 0);
        }
        if (rc == LG_RESP_OK && !r.complete)
            rc = lg_response_eof(&r);
        if (rc == LG_RESP_PARSE_ERROR)
            (void)lg_response_error(&r);
        o.rc[o.n] = rc;
        o.status[o.n] = r.status;
        o.body[o.n] = r.body_bytes;
        o.keepalive[o.n] = r.complete ? lg_response_keepalive(&r) : -1;
        o.n++;
        if (rc != LG_RESP_OK || !r.complete || pos >= len || !o.keepalive[o.n - 1])
            break;
        if (use_cache)
            lg_head_cache_store(&hc, (const char *)data + start, pos - start, &r);
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    int head = (flags & 0x10) != 0, capture = (flags & 0x20) != 0;
    outcome_t whole = parse(data + 1, size - 1, splitter_new(flags & 0x0f, 1), head, capture, 1);
    outcome_t split = parse(data + 1, size - 1, splitter_new(flags & 0x0f, 0), head, capture, 0);
    if (whole.n != split.n)
        differ("the number of responses", whole.n < split.n ? whole.n : split.n);
    for (int i = 0; i < whole.n; i++) {
        if (whole.rc[i] != split.rc[i])
            differ("the result", i);
        if (whole.rc[i] != LG_RESP_PARSE_ERROR &&
            (whole.status[i] != split.status[i] || whole.body[i] != split.body[i] ||
             whole.keepalive[i] != split.keepalive[i]))
            differ("status, body or keep-alive", i);
    }
    return 0;
}
