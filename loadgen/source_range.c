/* --source address ranges. */
#include "source_range.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* One address, or an inclusive range A-B of the same family (the last bytes counting up). */
int lg_sources_parse(const char *spec, struct sockaddr_storage **out, size_t *nout)
{
    char first[INET6_ADDRSTRLEN + 1], last[INET6_ADDRSTRLEN + 1];
    const char *dash = strchr(spec, '-');
    size_t fl = dash ? (size_t)(dash - spec) : strlen(spec);
    if (fl == 0 || fl >= sizeof first)
        return -1;
    memcpy(first, spec, fl);
    first[fl] = 0;
    snprintf(last, sizeof last, "%s", dash ? dash + 1 : first);
    unsigned char a[16], b[16];
    int family = strchr(first, ':') ? AF_INET6 : AF_INET;
    size_t alen = family == AF_INET6 ? 16 : 4;
    if (inet_pton(family, first, a) != 1 || inet_pton(family, last, b) != 1)
        return -1;
    if (memcmp(a, b, alen) > 0)
        return -1;
    /* Count the range: the prefix must agree above the last 4 bytes. */
    if (alen == 16 && memcmp(a, b, 12) != 0)
        return -1;
    uint32_t lo = ((uint32_t)a[alen - 4] << 24) | ((uint32_t)a[alen - 3] << 16) |
                  ((uint32_t)a[alen - 2] << 8) | a[alen - 1];
    uint32_t hi = ((uint32_t)b[alen - 4] << 24) | ((uint32_t)b[alen - 3] << 16) |
                  ((uint32_t)b[alen - 2] << 8) | b[alen - 1];
    uint64_t count = (uint64_t)hi - lo + 1;
    if (count > 65536)
        return -1;
    struct sockaddr_storage *s = calloc(count, sizeof *s);
    if (!s)
        return -1;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t v = lo + (uint32_t)i;
        unsigned char addr[16];
        memcpy(addr, a, alen);
        addr[alen - 4] = (unsigned char)(v >> 24);
        addr[alen - 3] = (unsigned char)(v >> 16);
        addr[alen - 2] = (unsigned char)(v >> 8);
        addr[alen - 1] = (unsigned char)v;
        if (family == AF_INET) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&s[i];
            sin->sin_family = AF_INET;
            memcpy(&sin->sin_addr, addr, 4);
        } else {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s[i];
            sin6->sin6_family = AF_INET6;
            memcpy(&sin6->sin6_addr, addr, 16);
        }
    }
    *out = s;
    *nout = (size_t)count;
    return 0;
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* 0 if fd-less bind of a works here, else the errno value. */
static int try_bind(const struct sockaddr_storage *a)
{
    int fd = socket(a->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int one = 1, e = 0;
    /* No port is taken: the address alone is checked. */
    if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0 ||
        bind(fd, (const struct sockaddr *)a, addr_len(a)) < 0)
        e = errno;
    close(fd);
    return e;
}

int lg_sources_check(const struct sockaddr_storage *s, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int e = try_bind(&s[i]);
        if (!e)
            continue;
        char text[INET6_ADDRSTRLEN] = "?";
        const void *raw = s[i].ss_family == AF_INET6
                              ? (const void *)&((const struct sockaddr_in6 *)&s[i])->sin6_addr
                              : (const void *)&((const struct sockaddr_in *)&s[i])->sin_addr;
        inet_ntop(s[i].ss_family, raw, text, sizeof text);
        snprintf(err, errlen, "--source: cannot bind to %s: %s%s", text, strerror(e),
                 e == EADDRNOTAVAIL ? " (not an address of this machine: see 'ip addr'; "
                                      "all of 127.0.0.0/8 is loopback)" : "");
        return -1;
    }
    return 0;
}
