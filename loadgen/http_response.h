/* HTTP/1.x response framing with http_parser (the library the servers use): status,
 * Content-Length, chunked, read-until-close bodies, keep-alive rules of 1.0 and 1.1. */
#ifndef LG_HTTP_RESPONSE_H
#define LG_HTTP_RESPONSE_H
#include <http_parser.h>
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

typedef struct lg_response {
    http_parser parser;
    uint64_t body_bytes;
    unsigned status;
    unsigned char complete;
    unsigned char head_request; /* a HEAD response has no body whatever its headers say */
    lg_header_capture *capture; /* non-NULL: collect headers for this response */
} lg_response;

enum { LG_RESP_OK = 0, LG_RESP_PARSE_ERROR = -1, LG_RESP_TRUNCATED = -2 };

/* Prepares for the next response on a connection. */
void lg_response_begin(lg_response *r, int head_request, lg_header_capture *capture);
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
