#include "request_plan.h"

#include <math.h>
#include <string.h>

static bool span_equals(const char *s, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

/* Applies `key=value&key=value`; unknown keys are ignored, known ones must be valid. */
static int apply_query(const char *q, size_t len, request_plan_t *plan)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && q[end] != '&')
            end++;
        const char *pair = q + i;
        size_t pair_len = end - i;
        const char *eq = memchr(pair, '=', pair_len);
        size_t key_len = eq ? (size_t)(eq - pair) : pair_len;
        const char *val = eq ? eq + 1 : pair + pair_len;
        size_t val_len = pair_len - key_len - (eq ? 1 : 0);
        if (span_equals(pair, key_len, "delay_ms")) {
            double ms;
            if (parse_double_in(val, val_len, 0, QUERY_DELAY_MS_MAX, &ms) != 0)
                return 400;
            plan->delay_ns = (uint64_t)llround(ms * 1e6);
        } else if (span_equals(pair, key_len, "bytes")) {
            uint64_t n;
            if (parse_u64_in(val, val_len, 0, QUERY_BYTES_MAX, &n) != 0)
                return 400;
            plan->body_bytes = (size_t)n;
            plan->custom_body = true;
        }
        i = end + 1;
    }
    return 0;
}

/* The path and query of a request target (RFC 9112 3.2): origin-form `/p?q`, absolute-form
 * `http://host/p?q`, asterisk-form `*`; the authority-form of CONNECT has neither. The parser has
 * already checked the characters. Returns 0, or -1 for a target of no known form. */
static int split_target(const char *url, size_t len, bool connect, const char **path, size_t *path_len,
                        const char **query, size_t *query_len)
{
    size_t i = 0;
    *path = *query = url;
    *path_len = *query_len = 0;
    if (connect || (len == 1 && url[0] == '*'))
        return 0;
    if (len == 0)
        return -1;
    if (url[0] != '/') { /* absolute-form: skip the scheme and the authority */
        const char *sep = memmem(url, len, "://", 3);
        if (!sep || sep == url)
            return -1;
        i = (size_t)(sep - url) + 3;
        while (i < len && url[i] != '/' && url[i] != '?' && url[i] != '#')
            i++;
    }
    size_t end = i;
    while (end < len && url[end] != '?' && url[end] != '#')
        end++;
    *path = url + i;
    *path_len = end - i;
    if (end < len && url[end] == '?') {
        size_t q = end + 1, qend = q;
        while (qend < len && url[qend] != '#')
            qend++;
        *query = url + q;
        *query_len = qend - q;
    }
    return 0;
}

int request_plan_make(const http_request_t *r, const server_options_t *opts, request_plan_t *plan)
{
    *plan = (request_plan_t){
        .head = r->method == HTTP_HEAD,
        .keep_alive = r->keep_alive,
        .body_bytes = opts->body_bytes,
        .delay_ns = opts->delay_ns,
    };
    const char *path, *query;
    size_t path_len, query_len;
    if (split_target(http_request_url(r), r->url_len, r->method == HTTP_CONNECT, &path, &path_len, &query,
                     &query_len) != 0)
        return 400;
    if (span_equals(path, path_len, "/__stats")) {
        plan->stats = true;
        plan->delay_ns = 0;
        return 0;
    }
    return apply_query(query, query_len, plan);
}
