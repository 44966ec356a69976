/* URL parsing and name resolution for the target. */
#include "url.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

int lg_url_parse(const char *text, lg_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (strncasecmp(text, "https://", 8) == 0) {
        u->tls = 1;
    } else if (strncasecmp(text, "http://", 7) != 0) {
        snprintf(err, errlen, "invalid URL (expected http[s]://host[:port]/path): %s", text);
        return -1;
    }
    const char *p = text + (u->tls ? 8 : 7), *host_end, *after;
    size_t authority_len = strcspn(p, "/?#");
    if (memchr(p, '@', authority_len)) {
        snprintf(err, errlen,
                 "invalid URL (user:password@ is not supported; send credentials with "
                 "-H 'Authorization: Basic ...'): %s", text);
        return -1;
    }
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (!host_end) {
            snprintf(err, errlen, "invalid URL (unterminated IPv6 literal): %s", text);
            return -1;
        }
        p++;
        after = host_end + 1;
        u->ipv6_literal = 1;
    } else {
        host_end = p + strcspn(p, ":/?#");
        after = host_end;
    }
    size_t hl = (size_t)(host_end - p);
    if (hl == 0 || hl >= sizeof u->host) {
        snprintf(err, errlen, "invalid URL (empty or too long host): %s", text);
        return -1;
    }
    memcpy(u->host, p, hl);
    u->host[hl] = 0;
    u->port = u->tls ? 443 : 80;
    if (*after == ':') {
        char *end;
        long port = strtol(after + 1, &end, 10);
        if (end == after + 1 || port < 1 || port > 65535 || (*end && *end != '/' && *end != '?')) {
            snprintf(err, errlen, "invalid URL (bad port): %s", text);
            return -1;
        }
        u->port = (int)port;
        after = end;
    } else if (*after && *after != '/' && *after != '?') {
        snprintf(err, errlen, "invalid URL: %s", text);
        return -1;
    }
    snprintf(u->port_str, sizeof u->port_str, "%d", u->port);
    const char *path = *after ? after : "/";
    if (strlen(path) + 2 > sizeof u->path) {
        snprintf(err, errlen, "invalid URL (path too long)");
        return -1;
    }
    if (*path == '?')
        snprintf(u->path, sizeof u->path, "/%s", path);
    else
        snprintf(u->path, sizeof u->path, "%s", path);
    for (const char *c = u->path; *c; c++) {
        if (*c == ' ' || *c == '\r' || *c == '\n' || *c == '#') {
            if (*c == '#') { /* a fragment is never sent */
                u->path[c - u->path] = 0;
                break;
            }
            snprintf(err, errlen, "invalid URL (space or line break in path): %s", text);
            return -1;
        }
    }
    return 0;
}

/* Whether a blocking connect with a 1 s timeout succeeds. */
static int probe(const struct addrinfo *a)
{
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int ok = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    close(fd);
    return ok;
}

int lg_url_resolve(const lg_url *u, struct sockaddr_storage *ss, socklen_t *len, char *err,
                   size_t errlen)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    int rc = getaddrinfo(u->host, u->port_str, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve host '%s': %s", u->host, gai_strerror(rc));
        return -1;
    }
    /* A name with several addresses (localhost: ::1 and 127.0.0.1): use the first that accepts
     * a connection, so a server listening on only one family is still found. */
    struct addrinfo *pick = res;
    if (res->ai_next) {
        for (struct addrinfo *a = res; a; a = a->ai_next) {
            if (probe(a)) {
                pick = a;
                break;
            }
        }
    }
    memcpy(ss, pick->ai_addr, pick->ai_addrlen);
    *len = pick->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}
