#include "http_request.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { HDR_OTHER, HDR_HOST, HDR_EXPECT };

static int on_message_begin(llhttp_t *p)
{
    http_request_t *r = p->data;
    r->in_message = true;
    r->headers_done = false;
    r->complete = false;
    r->keep_alive = false;
    r->has_host = false;
    r->expect_continue = false;
    r->continue_sent = false;
    r->fail_status = 0;
    r->body_seen = 0;
    r->url_len = 0;
    r->url_done = false;
    r->header_kind = HDR_OTHER;
    r->in_value = false;
    r->name_len = r->value_len = 0;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    http_request_t *r = p->data;
    if (len > HTTP_URL_MAX - r->url_len) {
        r->fail_status = 414;
        return -1;
    }
    if (r->url_len == 0)
        r->url_off = (size_t)(at - r->base);
    r->url_len += len; /* later pieces follow in the caller's buffer */
    return 0;
}

static bool lower_equals(const char *s, size_t len, const char *lit)
{
    if (len != strlen(lit))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return false;
    }
    return true;
}

/* llhttp takes `GET /` + CRLF as HTTP/0.9 and would wait for headers that never come: answer at
 * once instead. */
static int on_url_complete(llhttp_t *p)
{
    http_request_t *r = p->data;
    r->url_done = true;
    if (p->http_major == 0 && p->http_minor == 9) {
        r->fail_status = 505;
        return -1;
    }
    return 0;
}

/* Called when a header's value is complete. */
static void finish_header(http_request_t *r)
{
    if (r->header_kind == HDR_EXPECT && lower_equals(r->value, r->value_len, "100-continue"))
        r->expect_continue = true;
    r->header_kind = HDR_OTHER;
    r->in_value = false;
    r->name_len = r->value_len = 0;
}

/* Whether a byte of the two words is a space. Names are short and come with every request, so
 * their bytes are tested a word at a time (a byte loop or memchr cost 2 % more instructions per
 * request): with SSE2 (every x86-64) one compare of both words, else the zero-byte test. */
static inline bool space_in(uint64_t a, uint64_t b)
{
#ifdef __SSE2__
    __m128i v = _mm_set_epi64x((long long)a, (long long)b);
    return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(' '))) != 0;
#else
    const uint64_t ones = 0x0101010101010101u;
    a ^= ones * ' ';
    b ^= ones * ' ';
    return ((((a - ones) & ~a) | ((b - ones) & ~b)) & (ones << 7)) != 0;
#endif
}

static inline uint64_t load4(const char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Whether the n bytes at p hold a space: whole words, the last overlapping the one before rather
 * than reading past the end. */
static bool has_space(const char *p, size_t n)
{
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if (p[i] == ' ')
                return true;
        return false;
    }
    if (n <= 8)
        return space_in(load4(p), load4(p + n - 4));
    for (size_t i = 0; i + 16 < n; i += 16) /* names over 16 bytes */
        if (space_in(load8(p + i), load8(p + i + 8)))
            return true;
    return space_in(load8(p + (n > 16 ? n - 16 : 0)), load8(p + n - 8));
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    http_request_t *r = p->data;
    if (r->in_value)
        finish_header(r);
    /* A field name is a token (RFC 9110 5.1), and whitespace before the colon gets 400 (RFC 9112
     * 5.1). llhttp 8 refuses every other non-token byte, but outside its strict mode (a build-time
     * switch, which also refuses `GET /` + CRLF with no version) it lets spaces into a name. */
    bool fits = r->name_len + len <= sizeof r->name;
    bool space;
    if (fits && len >= 4) { /* the usual short name in one piece: two overlapping words copy it */
        uint32_t head, tail;
        memcpy(&head, at, sizeof head);
        memcpy(&tail, at + len - 4, sizeof tail);
        memcpy(r->name + r->name_len, &head, sizeof head);
        memcpy(r->name + r->name_len + len - 4, &tail, sizeof tail);
        space = space_in(head, tail);
    } else {
        space = has_space(at, len);
        for (size_t i = 0; fits && i < len; i++) /* a piece of fewer than 4 bytes */
            r->name[r->name_len + i] = at[i];
    }
    if (space) {
        r->fail_status = 400;
        return -1;
    }
    /* Names longer than the buffer are none we care about: mark them with an impossible length. */
    r->name_len = fits ? r->name_len + (unsigned)len : sizeof r->name + 1;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    http_request_t *r = p->data;
    if (!r->in_value) {
        r->in_value = true;
        if (r->name_len <= sizeof r->name) {
            if (lower_equals(r->name, r->name_len, "host")) {
                if (r->has_host) { /* RFC 9112 3.2: more than one Host is a 400 */
                    r->fail_status = 400;
                    return -1;
                }
                r->header_kind = HDR_HOST, r->has_host = true;
            }
            else if (lower_equals(r->name, r->name_len, "expect"))
                r->header_kind = HDR_EXPECT;
        }
    }
    if (r->header_kind == HDR_EXPECT) {
        if (r->value_len + len <= sizeof r->value) {
            memcpy(r->value + r->value_len, at, len);
            r->value_len += (unsigned)len;
        } else {
            r->value_len = sizeof r->value + 1;
        }
    }
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    http_request_t *r = p->data;
    if (r->in_value)
        finish_header(r);
    r->method = p->method;
    r->keep_alive = llhttp_should_keep_alive(p) != 0;
    if (p->http_major != 1) {
        r->fail_status = 505;
        return -1;
    }
    /* RFC 9112 3.2: a 1.1 request without Host must get 400. */
    if (p->http_minor >= 1 && !r->has_host) {
        r->fail_status = 400;
        return -1;
    }
    bool has_length = (p->flags & F_CONTENT_LENGTH) != 0;
    if (has_length && p->content_length > HTTP_BODY_MAX) {
        r->fail_status = 413;
        return -1;
    }
    bool body_coming = (has_length && p->content_length > 0) || (p->flags & F_CHUNKED);
    if (!body_coming || p->http_minor < 1)
        r->expect_continue = false;
    r->headers_done = true;
    return 0;
}

/* Checks what has arrived of the CRLF due after a chunk's data, from p on. */
static bool chunk_crlf_ok(http_request_t *r, const char *p, const char *end)
{
    while (r->crlf_checked < 2 && p < end) {
        if (*p++ != "\r\n"[r->crlf_checked])
            return false;
        r->crlf_checked++;
    }
    return true;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    http_request_t *r = p->data; /* bodies are consumed and dropped */
    if (len == 0)
        return 0;
    r->body_end = at + len;
    /* The last piece of a chunk's data: llhttp 8.1 would skip the next two bytes unchecked. */
    if ((p->flags & F_CHUNKED) && p->content_length == 0) {
        r->crlf_checked = 0;
        if (!chunk_crlf_ok(r, at + len, r->feed_end)) {
            r->fail_status = 400;
            return -1;
        }
    }
    r->body_seen += len;
    if (r->body_seen > HTTP_BODY_MAX) { /* chunked bodies have no length up front */
        r->fail_status = 413;
        return -1;
    }
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    http_request_t *r = p->data;
    r->complete = true;
    /* After an upgrade the bytes that follow are not HTTP: answer, then close. */
    r->keep_alive = llhttp_should_keep_alive(p) != 0 && !p->upgrade;
    return HPE_PAUSED;
}

static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_url_complete = on_url_complete,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_request_global_init(void)
{
}

void http_request_init(http_request_t *r)
{
    memset(r, 0, sizeof *r);
    r->crlf_checked = 2;
    llhttp_init(&r->parser, HTTP_REQUEST, &settings);
    r->parser.data = r;
}

/* The first LF in [p, p+n) not preceded by CR (prev_cr tells about the byte before p). */
static const char *find_bare_lf(const http_request_t *r, const char *p, size_t n)
{
    const char *end = p + n;
    for (const char *q = p; (q = memchr(q, '\n', (size_t)(end - q))); q++)
        if (q > p ? q[-1] != '\r' : !r->prev_cr)
            return q;
    return NULL;
}

static req_status_t failed(http_request_t *r, int *status)
{
    *status = r->fail_status ? r->fail_status : 400;
    return REQ_FAILED;
}

req_status_t http_request_feed(http_request_t *r, const char *data, size_t len, size_t *consumed, int *status)
{
    *consumed = 0;
    /* A bare LF is legal only inside a body: run the parser up to each one, then ask whether it
     * went into the body. A head is run at most to one byte past its limit. */
    while (*consumed < len) {
        const char *start = data + *consumed;
        const char *lf = find_bare_lf(r, start, len - *consumed);
        size_t limit = lf ? (size_t)(lf - start) + 1 : len - *consumed;
        bool in_head = !r->headers_done || !r->in_message;
        if (in_head && limit > HTTP_HEAD_MAX + 1 - r->head_bytes) {
            limit = HTTP_HEAD_MAX + 1 - r->head_bytes;
            lf = NULL;
        }
        /* llhttp reports a target's length (on_url) only at the end of a run or of the target, so
         * a run that meets a bad byte past the URL limit would answer 400 where one split earlier
         * answers 414. Running at most one byte past the limit makes the first limit crossed win,
         * however the bytes arrive. */
        size_t url_room = HTTP_URL_MAX + 1 - (r->in_message ? r->url_len : 0);
        if ((!r->in_message || !r->url_done) && limit > url_room) {
            limit = url_room;
            lf = NULL;
        }
        if (r->crlf_checked < 2 && !chunk_crlf_ok(r, start, start + limit)) { /* due from the last run */
            r->fail_status = 400;
            return failed(r, status);
        }
        r->feed_end = start + limit;
        r->body_end = NULL;
        llhttp_errno_t err = llhttp_execute(&r->parser, start, limit);
        size_t n = err == HPE_OK ? limit : (size_t)(llhttp_get_error_pos(&r->parser) - start);
        *consumed += n;
        if (n > 0)
            r->prev_cr = start[n - 1] == '\r';
        if (in_head && !(r->in_message && r->headers_done) && (r->head_bytes += n) > HTTP_HEAD_MAX) {
            r->fail_status = 431;
            return failed(r, status);
        }
        if (lf && n == limit && r->body_end != lf + 1) { /* the parser took it as a line end */
            r->fail_status = 400;
            return failed(r, status);
        }
        if (r->complete)
            return REQ_COMPLETE;
        if (err != HPE_OK)
            return failed(r, status);
    }
    return REQ_MORE;
}

void http_request_next(http_request_t *r)
{
    r->complete = false;
    r->in_message = false;
    r->head_bytes = 0;
    if (llhttp_get_errno(&r->parser) == HPE_PAUSED)
        llhttp_resume(&r->parser);
}
