/* --source address ranges. */
#include "source_range.h"

#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static int is_ipv4_loopback(const struct sockaddr_storage *a)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)a;
    return a->ss_family == AF_INET && (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
}

/* A block of n addresses at a random place in 127.64.0.1 .. 127.127.255.254. */
static int choose_loopback_block(struct lg_options *o, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint32_t seed = (uint32_t)ts.tv_nsec ^ ((uint32_t)getpid() << 16);
    seed = seed * 2654435761u;
    uint32_t span = (64u << 16) - (uint32_t)n - 2;
    uint32_t lo = (127u << 24) | (64u << 16) | (1u + (seed >> 8) % span), hi = lo + (uint32_t)n - 1;
    struct in_addr a = {htonl(lo)}, b = {htonl(hi)};
    char first[INET_ADDRSTRLEN], last[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, first, sizeof first);
    inet_ntop(AF_INET, &b, last, sizeof last);
    snprintf(o->auto_source_spec, sizeof o->auto_source_spec, "%s-%s", first, last);
    if (lg_sources_parse(o->auto_source_spec, &o->sources, &o->nsources))
        return -1;
    o->source_spec = o->auto_source_spec;
    o->sources_automatic = 1;
    return 0;
}

/* First and last port of ip_local_port_range, or the Linux defaults. */
static long local_ports(void)
{
    long lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &lo, &hi) != 2)
            lo = 32768, hi = 60999;
        fclose(f);
    }
    return hi >= lo ? hi - lo + 1 : 0;
}

/* TCP sockets in TIME_WAIT now (/proc/net/sockstat's "tw"), or -1. */
static long time_wait_sockets(void)
{
    FILE *f = fopen("/proc/net/sockstat", "r");
    if (!f)
        return -1;
    char line[256];
    long tw = -1;
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, " tw ");
        if (strncmp(line, "TCP:", 4) == 0 && p)
            tw = strtol(p + 4, NULL, 10);
    }
    fclose(f);
    return tw;
}

int lg_sources_choose(struct lg_options *o, const struct sockaddr_storage *target, char *note,
                      size_t notelen)
{
    note[0] = 0;
    size_t conns = (size_t)o->concurrency + (size_t)o->idle; /* --idle ones take ports too */
    if (o->nsources || conns <= LG_CONNS_PER_SOURCE)
        return 0;
    if (is_ipv4_loopback(target)) {
        size_t n = (conns + LG_CONNS_PER_SOURCE - 1) / LG_CONNS_PER_SOURCE;
        if (choose_loopback_block(o, n))
            return -1;
        char idle[48] = "";
        if (o->idle)
            snprintf(idle, sizeof idle, " plus --idle %d", o->idle);
        snprintf(note, notelen, "-c %d%s to a loopback target: source addresses %s, %d "
                 "connections each at most (--source overrides)", o->concurrency, idle,
                 o->source_spec, LG_CONNS_PER_SOURCE);
        return 0;
    }
    long ports = local_ports(), tw = time_wait_sockets();
    if (2L * o->concurrency < ports)
        return 0;
    char tws[96] = "";
    if (tw >= 0)
        snprintf(tws, sizeof tws, "; %ld sockets are in TIME_WAIT now and may hold more", tw);
    snprintf(note, notelen, "-c %d from one source address uses %d of its %ld local ports to this "
             "target%s: connect() slows once about half are taken. --source A-B spreads the "
             "connections over several local addresses", o->concurrency, o->concurrency, ports, tws);
    return 0;
}

int lg_sources_check_ports(const struct lg_options *o, long conns,
                           const struct sockaddr_storage *target, char *err, size_t errlen)
{
    if (!o->nsources && is_ipv4_loopback(target))
        return 0; /* lg_sources_choose spreads them over as many addresses as they need */
    long addrs = o->nsources ? (long)o->nsources : 1;
    long per_addr = (conns + addrs - 1) / addrs, ports = local_ports();
    if (per_addr <= ports)
        return 0;
    snprintf(err, errlen, "-c %d plus --idle %d over %ld source address%s need %ld local ports of one "
             "address, but a source address has %ld to one destination (ip_local_port_range): use "
             "--source with at least %ld addresses", o->concurrency, o->idle, addrs,
             addrs == 1 ? "" : "es", per_addr, ports, (conns + ports - 1) / ports);
    return -1;
}
