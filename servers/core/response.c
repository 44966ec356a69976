#include "response.h"

#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_FMT                                                                                        \
    "HTTP/1.1 %d %s\r\nServer: c10k-%s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n\r\n"

static const char *server_model = "?";
static char *body_pattern;    /* max(--body-bytes, QUERY_BYTES_MAX) bytes of printable text */
static size_t default_body;
/* [keep_alive][head]: the whole default response, header and body. */
static char *canned[2][2];
static size_t canned_len[2][2];
static char refusal[256];
static size_t refusal_len;

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

static int format_header(char *buf, size_t cap, int status, const char *type, size_t length, bool keep_alive)
{
    int n = snprintf(buf, cap, HEADER_FMT, status, reason(status), server_model, type, length,
                     keep_alive ? "keep-alive" : "close");
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "response header does not fit in %zu bytes\n", cap);
        abort();
    }
    return n;
}

static void *alloc_or_report(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        fprintf(stderr, "out of memory allocating %zu bytes for responses\n", n);
    return p;
}

int responses_init(const char *model, const server_options_t *opts)
{
    server_model = model;
    default_body = opts->body_bytes;
    size_t pattern_len = default_body > QUERY_BYTES_MAX ? default_body : QUERY_BYTES_MAX;
    if (!(body_pattern = alloc_or_report(pattern_len)))
        return -1;
    static const char line[] = "c10k-bench reference response body.............................\n";
    for (size_t i = 0; i < pattern_len; i++)
        body_pattern[i] = line[i % (sizeof line - 1)];

    for (int ka = 0; ka < 2; ka++) {
        for (int head = 0; head < 2; head++) {
            char hdr[256];
            int n = format_header(hdr, sizeof hdr, 200, "text/plain", default_body, ka);
            size_t len = (size_t)n + (head ? 0 : default_body);
            if (!(canned[ka][head] = alloc_or_report(len)))
                return -1;
            memcpy(canned[ka][head], hdr, (size_t)n);
            if (!head)
                memcpy(canned[ka][head] + n, body_pattern, default_body);
            canned_len[ka][head] = len;
        }
    }
    static const char busy[] = "server busy\n";
    int n = format_header(refusal, sizeof refusal - sizeof busy, 503, "text/plain", sizeof busy - 1, false);
    memcpy(refusal + n, busy, sizeof busy - 1);
    refusal_len = (size_t)n + sizeof busy - 1;
    return 0;
}

int response_queue_ok(outq_t *q, const request_plan_t *plan)
{
    if (!plan->custom_body || plan->body_bytes == default_body) {
        outq_push(q, canned[plan->keep_alive][plan->head], canned_len[plan->keep_alive][plan->head]);
        return 0;
    }
    char *hdr = outq_alloc(q, 256);
    if (!hdr)
        return -1;
    int n = format_header(hdr, 256, 200, "text/plain", plan->body_bytes, plan->keep_alive);
    outq_shrink(q, 256, (size_t)n); /* give back what the header did not use */
    outq_push(q, hdr, (size_t)n);
    if (!plan->head)
        outq_push(q, body_pattern, plan->body_bytes);
    return 0;
}

int response_queue_stats(outq_t *q, const request_plan_t *plan, const server_stats_t *stats)
{
    char json[RESPONSE_MAX_ARENA - 256];
    int len = stats_to_json(stats, json, sizeof json);
    if (len < 0)
        return response_queue_error(q, 503);
    char *out = outq_alloc(q, 256 + (size_t)len);
    if (!out)
        return -1;
    int n = format_header(out, 256, 200, "application/json", (size_t)len, plan->keep_alive);
    if (!plan->head) {
        memcpy(out + n, json, (size_t)len);
        n += len;
    }
    outq_shrink(q, 256 + (size_t)len, (size_t)n);
    outq_push(q, out, (size_t)n);
    return 0;
}

int response_queue_error(outq_t *q, int status)
{
    char text[64];
    int tlen = snprintf(text, sizeof text, "%d %s\n", status, reason(status));
    char *out = outq_alloc(q, 256 + sizeof text);
    if (!out)
        return -1;
    int n = format_header(out, 256, status, "text/plain", (size_t)tlen, false);
    memcpy(out + n, text, (size_t)tlen);
    n += tlen;
    outq_shrink(q, 256 + sizeof text, (size_t)n);
    outq_push(q, out, (size_t)n);
    return 0;
}

void response_queue_continue(outq_t *q)
{
    outq_push(q, continue_line, sizeof continue_line - 1);
}

size_t response_refusal(const char **msg)
{
    *msg = refusal;
    return refusal_len;
}
