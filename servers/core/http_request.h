/* Incremental HTTP/1.x request parsing on top of llhttp (Node.js's parser, strict by default;
 * built from Debian node-llhttp's generated sources).
 *
 * Bytes are fed as they arrive; the parser pauses after each complete request so that pipelined
 * requests are answered strictly one at a time, in order: the rest waits in the caller's buffer.
 * What RFC 9112 says to reject and llhttp 8.1 still lets through is rejected here (400): bare LF
 * line ends where it takes them, a chunk's data not followed by CRLF, and HTTP/0.9 (505). */
#ifndef C10K_HTTP_REQUEST_H
#define C10K_HTTP_REQUEST_H

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 8192       /* request line + headers; beyond: 431 */
#define HTTP_URL_MAX 1024        /* beyond: 414 */
#define HTTP_BODY_MAX (1u << 20) /* request body; beyond: 413 */

typedef enum req_status {
    REQ_MORE,     /* everything fed was consumed; the request is not complete yet */
    REQ_COMPLETE, /* a request is complete: read its fields, then call http_request_next() */
    REQ_FAILED,   /* malformed or over a limit: answer *status and close the connection */
} req_status_t;

typedef struct http_request {
    llhttp_t parser;
    /* The current message. */
    bool in_message;      /* some of it has been seen (a close now means a truncated request) */
    bool headers_done;
    bool complete;
    bool keep_alive;      /* llhttp_should_keep_alive(): 1.1 default, 1.0 + Connection: keep-alive */
    bool has_host;
    bool expect_continue; /* Expect: 100-continue, and a body is coming */
    bool continue_sent;   /* owned by the caller: the interim 100 response was queued */
    int fail_status;      /* set by a callback before it aborts the parser */
    int method;           /* llhttp_method_t */
    uint64_t body_seen;
    size_t url_len;
    bool url_done;        /* the request target is complete */
    /* Matching the few header names we care about, across split callbacks. */
    int header_kind;
    bool in_value;
    unsigned name_len, value_len;
    char name[8];
    char value[16];
    /* The URL is not copied: it stays in the caller's input buffer, at url_off from `base`. The
     * caller sets base before each feed and keeps the bytes from the URL on (it may move them:
     * see http_request_shift). */
    const char *base;
    size_t url_off;
    size_t head_bytes;    /* of the current head so far: llhttp has no limit of its own */
    /* Strict framing on top of llhttp 8.1, which takes a bare LF after the last header line and
     * any two bytes after a chunk's data. */
    bool prev_cr;           /* the last byte consumed was CR */
    unsigned crlf_checked;  /* of the CRLF after a chunk's data: bytes verified so far (2: none due) */
    const char *feed_end;   /* end of the bytes given to the current execute */
    const char *body_end;   /* end of the last body bytes reported in it */
} http_request_t;

/* Sets the library-wide header limit; call once before any parsing. */
void http_request_global_init(void);

void http_request_init(http_request_t *r);

/* Feeds up to len bytes; *consumed tells how many were used. */
req_status_t http_request_feed(http_request_t *r, const char *data, size_t len, size_t *consumed, int *status);

/* After REQ_COMPLETE: get ready for the next request on the connection. */
void http_request_next(http_request_t *r);

/* After REQ_COMPLETE: the request target. */
static inline const char *http_request_url(const http_request_t *r)
{
    return r->base + r->url_off;
}

/* The caller moved its buffer's bytes n places towards the start. */
static inline void http_request_shift(http_request_t *r, size_t n)
{
    if (r->url_len > 0)
        r->url_off -= n;
}

/* The peer closed its side: was a request cut short? */
static inline bool http_request_truncated(const http_request_t *r)
{
    return r->in_message && !r->complete;
}

#endif
