/* http_parser callbacks: only what the measurements need (status, body length, end). */
#include "http_response.h"

#include <string.h>
#include <strings.h>

static int on_headers_complete(http_parser *p)
{
    lg_response *r = (lg_response *)p;
    r->status = p->status_code;
    if (r->status == 101 && !(r->flags & LG_RESP_UPGRADE_ASKED)) {
        r->error = "101 Switching Protocols without an Upgrade in the request";
        return -1;
    }
    /* Returning 1 tells http_parser that no body follows (HEAD). */
    return (r->flags & LG_RESP_HEAD) ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    (void)at;
    ((lg_response *)p)->body_bytes += len;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    lg_response *r = (lg_response *)p;
    if (r->status / 100 == 1 && r->status != 101) {
        /* An interim response (100 Continue, 103 Early Hints): the final one follows. */
        r->interim++;
        r->status = 0;
        if (r->capture) {
            r->capture->in_value = 0;
            r->capture->flen = 0;
        }
        return 0;
    }
    r->complete = 1;
    /* Stop here: bytes after a response we did not ask for are not parsed as another one. */
    http_parser_pause(p, 1);
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    lg_header_capture *c = ((lg_response *)p)->capture;
    if (!c)
        return 0;
    if (c->in_value) { /* a new field begins */
        c->in_value = 0;
        c->flen = 0;
        c->field_overflow = 0;
    }
    if (c->flen + len >= sizeof c->field) {
        c->field_overflow = 1;
        return 0;
    }
    memcpy(c->field + c->flen, at, len);
    c->flen += len;
    c->field[c->flen] = 0;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    lg_header_capture *c = ((lg_response *)p)->capture;
    if (!c)
        return 0;
    if (!c->in_value) {
        c->in_value = 1;
        c->is_server = !c->field_overflow && strcasecmp(c->field, "server") == 0;
        if (c->is_server)
            c->slen = 0;
    }
    if (c->is_server) {
        size_t room = sizeof c->server - 1 - c->slen;
        if (len > room)
            len = room;
        memcpy(c->server + c->slen, at, len);
        c->slen += len;
        c->server[c->slen] = 0;
        c->found = 1;
    }
    return 0;
}

static const http_parser_settings plain_settings = {
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static const http_parser_settings capture_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void lg_response_begin(lg_response *r, int flags, lg_header_capture *capture)
{
    http_parser_init(&r->parser, HTTP_RESPONSE);
    r->body_bytes = 0;
    r->status = 0;
    r->interim = 0;
    r->complete = 0;
    r->flags = (unsigned char)flags;
    r->error = NULL;
    r->capture = capture;
    r->cached_keepalive = -1;
    if (capture) {
        capture->in_value = 0;
        capture->flen = 0;
        capture->field_overflow = 0;
    }
}

int lg_response_feed(lg_response *r, const char *data, size_t len, size_t *extra)
{
    const http_parser_settings *s = r->capture ? &capture_settings : &plain_settings;
    size_t n = http_parser_execute(&r->parser, s, data, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
    if (r->complete) {
        *extra = len - n;
        return LG_RESP_OK;
    }
    if (e != HPE_OK || n != len)
        return LG_RESP_PARSE_ERROR;
    *extra = 0;
    return LG_RESP_OK;
}

int lg_response_eof(lg_response *r)
{
    if (r->complete)
        return LG_RESP_OK;
    const http_parser_settings *s = r->capture ? &capture_settings : &plain_settings;
    http_parser_execute(&r->parser, s, NULL, 0);
    return r->complete ? LG_RESP_OK : LG_RESP_TRUNCATED;
}

int lg_response_keepalive(const lg_response *r)
{
    if (r->status == 101)
        return 0; /* the connection now speaks another protocol */
    if (r->cached_keepalive >= 0)
        return r->cached_keepalive;
    return http_should_keep_alive(&r->parser);
}

int lg_head_cache_match(const lg_head_cache *hc, const char *data, size_t len, lg_response *r,
                        size_t *extra)
{
    size_t h = hc->head_len;
    if (h == 0 || len < h || len - h < hc->body_len || memcmp(data, hc->head, h) != 0)
        return 0;
    r->status = hc->status;
    r->body_bytes = hc->body_len;
    r->complete = 1;
    r->cached_keepalive = (signed char)hc->keepalive;
    *extra = len - h - (size_t)hc->body_len;
    return 1;
}

void lg_head_cache_store(lg_head_cache *hc, const char *data, size_t consumed,
                         const lg_response *r)
{
    unsigned flags = r->parser.flags;
    if (!r->complete || (r->flags & LG_RESP_HEAD) || r->interim || r->status < 200 ||
        r->parser.upgrade ||
        !(flags & F_CONTENTLENGTH) || (flags & F_CHUNKED) || consumed < r->body_bytes)
        return;
    size_t h = consumed - (size_t)r->body_bytes;
    if (h == 0 || h > sizeof hc->head)
        return;
    memcpy(hc->head, data, h);
    hc->head_len = h;
    hc->body_len = r->body_bytes;
    hc->status = r->status;
    hc->keepalive = lg_response_keepalive(r);
}

const char *lg_response_error(const lg_response *r)
{
    if (r->error)
        return r->error;
    return http_errno_description(HTTP_PARSER_ERRNO(&r->parser));
}
