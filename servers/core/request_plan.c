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

int request_plan_make(const http_request_t *r, const server_options_t *opts, request_plan_t *plan)
{
    *plan = (request_plan_t){
        .head = r->method == HTTP_HEAD,
        .keep_alive = r->keep_alive,
        .body_bytes = opts->body_bytes,
        .delay_ns = opts->delay_ns,
    };
    const char *url = http_request_url(r);
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(url, r->url_len, r->method == HTTP_CONNECT, &u) != 0)
        return 400;
    const char *path = "";
    size_t path_len = 0;
    if (u.field_set & (1 << UF_PATH)) {
        path = url + u.field_data[UF_PATH].off;
        path_len = u.field_data[UF_PATH].len;
    }
    if (span_equals(path, path_len, "/__stats")) {
        plan->stats = true;
        plan->delay_ns = 0;
        return 0;
    }
    if (u.field_set & (1 << UF_QUERY))
        return apply_query(url + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len, plan);
    return 0;
}
