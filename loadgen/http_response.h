/* HTTP/1.x response framing with llhttp (Node.js's parser, strict as RFC 9112 asks): status,
 * Content-Length, chunked, read-until-close bodies, keep-alive rules of 1.0 and 1.1. */
#ifndef LG_HTTP_RESPONSE_H
#define LG_HTTP_RESPONSE_H
#include <llhttp.h>
#include <stddef.h>
#include <stdint.h>

/* Collects the Server header of one response (the report's "Server Software"). */
typedef struct lg_header_capture {
    char field[16];
    size_t flen;
    int field_overflow;
    int in_value, is_server;
    char server[256];
    size_t slen;
    int found;
} lg_header_capture;

/* lg_response_begin's flags: what the request asked for. */
enum {
    LG_RESP_HEAD = 1,           /* a HEAD request: the response has no body whatever it says */
    LG_RESP_UPGRADE_ASKED = 2,  /* the request carried Upgrade: a 101 is its final answer */
};

typedef struct lg_response {
    llhttp_t parser;
    uint64_t body_bytes;
    unsigned status;
    unsigned interim;           /* 1xx responses skipped before the final one */
    unsigned char complete;
    unsigned char flags;        /* LG_RESP_* */
    unsigned char framing;      /* the final response's F_CONTENT_LENGTH / F_CHUNKED flags */
    unsigned char parsing;      /* the parser was set up (only when the head cache missed) */
    unsigned char crlf_due;     /* bytes of a chunk's closing CRLF still to check (0..2) */
    const char *feed_end;       /* end of the bytes being fed: what on_body may look at */
    signed char keepalive;      /* llhttp's answer when the message ended */
    const char *error;          /* our own reason for a parse error, or NULL */
    lg_header_capture *capture; /* non-NULL: collect headers for this response */
} lg_response;

/* Memo of the last Content-Length-framed head llhttp parsed on this thread. A head that
 * is byte-for-byte the same gets the same status, body length and keep-alive answer from the
 * parser (they are a function of those bytes), so it is not parsed again. Every head that
 * differs (another status, length, Date second, header) goes through llhttp. */
typedef struct lg_head_cache {
    char head[1024];
    size_t head_len;  /* 0 = empty */
    uint64_t body_len;
    unsigned status;
    int keepalive;
} lg_head_cache;

/* If data (the first bytes of a response) holds a whole response whose head equals the
 * memoized one, completes r from the memo, sets *extra and returns 1; else returns 0. */
int lg_head_cache_match(const lg_head_cache *hc, const char *data, size_t len, lg_response *r,
                        size_t *extra);
/* After r completed while parsing data[0..consumed) from the response's first byte, memoizes
 * its head if the framing was Content-Length. */
void lg_head_cache_store(lg_head_cache *hc, const char *data, size_t consumed,
                         const lg_response *r);

enum { LG_RESP_OK = 0, LG_RESP_PARSE_ERROR = -1, LG_RESP_TRUNCATED = -2 };

/* Prepares for the next response on a connection; flags are LG_RESP_*. Interim 1xx responses
 * are skipped (RFC 9110 15.2); a 101 the request did not ask for is a parse error. */
void lg_response_begin(lg_response *r, int flags, lg_header_capture *capture);
/* Feeds received bytes. Returns LG_RESP_OK (r->complete tells whether the message ended;
 * *extra = bytes after its end) or LG_RESP_PARSE_ERROR. */
int lg_response_feed(lg_response *r, const char *data, size_t len, size_t *extra);
/* The peer closed: LG_RESP_OK if that completed the message (body delimited by close),
 * LG_RESP_TRUNCATED if the response was cut short. */
int lg_response_eof(lg_response *r);
/* Whether the connection may carry another request after this complete response. */
int lg_response_keepalive(const lg_response *r);
const char *lg_response_error(const lg_response *r);

#endif
