/* llhttp callbacks: only what the measurements need (status, body length, end). llhttp is
 * strict by default (RFC 9112): no space before a header's colon, no bare LF, no conflicting
 * Content-Length and Transfer-Encoding; no lenient flag is turned on here. One check is added:
 * llhttp 8.1 (Debian's) accepts any two bytes after a chunk's data, RFC 9112 7.1 asks CRLF. */
#include "http_response.h"

#include <string.h>
#include <strings.h>

static int on_headers_complete(llhttp_t *p)
{
    lg_response *r = (lg_response *)p;
    r->status = p->status_code;
    if (r->status == 101 && !(r->flags & LG_RESP_UPGRADE_ASKED)) {
        r->error = "101 Switching Protocols without an Upgrade in the request";
        return -1;
    }
    r->framing = (unsigned char)(p->flags & (F_CONTENT_LENGTH | F_CHUNKED));
    /* Returning 1 tells llhttp that no body follows (HEAD). */
    return (r->flags & LG_RESP_HEAD) ? 1 : 0;
}

/* Checks the CRLF due after a chunk's data against the bytes from at to the end of the feed;
 * what is not there yet is checked at the start of the next feed. */
static int check_chunk_crlf(lg_response *r, const char *at)
{
    static const char crlf[] = "\r\n";
    while (r->crlf_due && at < r->feed_end) {
        if (*at++ != crlf[2 - r->crlf_due]) {
            r->error = "chunk data not followed by CRLF";
            return -1;
        }
        r->crlf_due--;
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    lg_response *r = (lg_response *)p;
    r->body_bytes += len;
    if ((p->flags & F_CHUNKED) && p->content_length == 0) { /* this chunk's data ended here */
        r->crlf_due = 2;
        return check_chunk_crlf(r, at + len);
    }
    return 0;
}

static int on_message_complete(llhttp_t *p)
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
    r->keepalive = (signed char)llhttp_should_keep_alive(p);
    /* Stop here: bytes after a response we did not ask for are not parsed as another one. */
    return HPE_PAUSED;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    lg_header_capture *c = ((lg_response *)p)->capture;
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

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    lg_header_capture *c = ((lg_response *)p)->capture;
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

static const llhttp_settings_t plain_settings = {
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static const llhttp_settings_t capture_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* The parser is set up on the first feed, not here: most responses of a run are answered by
 * the head cache, and then the set-up would be the parser's whole cost. */
void lg_response_begin(lg_response *r, int flags, lg_header_capture *capture)
{
    r->parsing = 0;
    r->body_bytes = 0;
    r->status = 0;
    r->interim = 0;
    r->complete = 0;
    r->flags = (unsigned char)flags;
    r->framing = 0;
    r->crlf_due = 0;
    r->keepalive = 0;
    r->error = NULL;
    r->capture = capture;
    if (capture) {
        capture->in_value = 0;
        capture->flen = 0;
        capture->field_overflow = 0;
    }
}

int lg_response_feed(lg_response *r, const char *data, size_t len, size_t *extra)
{
    if (r->complete) { /* fed again after the end: everything is extra */
        *extra = len;
        return LG_RESP_OK;
    }
    if (!r->parsing) {
        llhttp_init(&r->parser, HTTP_RESPONSE, r->capture ? &capture_settings : &plain_settings);
        r->parsing = 1;
    }
    r->feed_end = data + len;
    if (r->crlf_due && check_chunk_crlf(r, data))
        return LG_RESP_PARSE_ERROR;
    llhttp_errno_t e = llhttp_execute(&r->parser, data, len);
    if (r->complete) {
        /* Paused at the message's end (or, for an asked-for 101, stopped at the upgrade). */
        const char *end = e == HPE_OK ? data + len : llhttp_get_error_pos(&r->parser);
        *extra = end ? len - (size_t)(end - data) : 0;
        return LG_RESP_OK;
    }
    if (e != HPE_OK)
        return LG_RESP_PARSE_ERROR;
    *extra = 0;
    return LG_RESP_OK;
}

int lg_response_eof(lg_response *r)
{
    if (r->complete)
        return LG_RESP_OK;
    if (!r->parsing || llhttp_get_errno(&r->parser) != HPE_OK)
        return LG_RESP_TRUNCATED;
    /* A body delimited by the close ends here (on_message_complete runs and pauses); anything
     * else was cut short. */
    llhttp_finish(&r->parser);
    return r->complete ? LG_RESP_OK : LG_RESP_TRUNCATED;
}

int lg_response_keepalive(const lg_response *r)
{
    if (r->status == 101)
        return 0; /* the connection now speaks another protocol */
    return r->keepalive;
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
    r->keepalive = (signed char)hc->keepalive;
    *extra = len - h - (size_t)hc->body_len;
    return 1;
}

void lg_head_cache_store(lg_head_cache *hc, const char *data, size_t consumed,
                         const lg_response *r)
{
    if (!r->complete || (r->flags & LG_RESP_HEAD) || r->interim || r->status < 200 ||
        r->status == 101 || r->framing != F_CONTENT_LENGTH || consumed < r->body_bytes)
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
    if (!r->parsing)
        return "no response";
    const char *reason = llhttp_get_error_reason(&r->parser);
    return reason ? reason : llhttp_errno_name(llhttp_get_errno(&r->parser));
}
