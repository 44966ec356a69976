/* The request is built once and written as-is for every request (no per-request formatting). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

int lg_request_has_header(const lg_options *o, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < o->nheaders; i++)
        if (strncasecmp(o->headers[i], name, n) == 0 && o->headers[i][n] == ':')
            return 1;
    return 0;
}

char *lg_build_request(const lg_options *o, size_t *len)
{
    /* 512: the fixed text of the request line and of our own headers, with room to spare. */
    size_t cap = 512 + strlen(o->method) + strlen(o->url.path) + strlen(o->url.host) +
                 o->body_len + (o->content_type ? strlen(o->content_type) : 0);
    for (size_t i = 0; i < o->nheaders; i++)
        cap += strlen(o->headers[i]) + 2;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    size_t n = 0;
    /* A miscount above must truncate, never write past the buffer: n stops at cap. */
#define PUT(...)                                                                             \
    do {                                                                                     \
        if (n < cap) {                                                                       \
            int w_ = snprintf(buf + n, cap - n, __VA_ARGS__);                                \
            n = w_ < 0 || (size_t)w_ >= cap - n ? cap : n + (size_t)w_;                      \
        }                                                                                    \
    } while (0)
    PUT("%s %s HTTP/1.1\r\n", o->method, o->url.path);
    if (!lg_request_has_header(o, "Host")) {
        const char *lb = o->url.ipv6_literal ? "[" : "", *rb = o->url.ipv6_literal ? "]" : "";
        if (o->url.port == 80)
            PUT("Host: %s%s%s\r\n", lb, o->url.host, rb);
        else
            PUT("Host: %s%s%s:%d\r\n", lb, o->url.host, rb, o->url.port);
    }
    if (!lg_request_has_header(o, "User-Agent"))
        PUT("User-Agent: c10k-loadgen/%s\r\n", LG_VERSION);
    if (!lg_request_has_header(o, "Accept"))
        PUT("Accept: */*\r\n");
    if (!o->keepalive && !lg_request_has_header(o, "Connection"))
        PUT("Connection: close\r\n");
    if (o->body) {
        if (o->content_type && !lg_request_has_header(o, "Content-Type"))
            PUT("Content-Type: %s\r\n", o->content_type);
        PUT("Content-Length: %zu\r\n", o->body_len);
    }
    for (size_t i = 0; i < o->nheaders; i++)
        PUT("%s\r\n", o->headers[i]);
    PUT("\r\n");
#undef PUT
    if (n >= cap || o->body_len > cap - n) { /* cannot happen with the size above; never send a torn request */
        free(buf);
        return NULL;
    }
    if (o->body) {
        memcpy(buf + n, o->body, o->body_len);
        n += o->body_len;
    }
    *len = n;
    return buf;
}
