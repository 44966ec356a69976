/* ab-compatible option parsing; every bad argument is a clear message and exit status 2. */
#include "options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char usage_text[] =
    "Usage: loadgen [options] http://host[:port]/path\n"
    "       loadgen --merge a.json b.json ... [--json OUT|-]\n"
    "ab-compatible options:\n"
    "  -n requests      Number of requests to perform (default 1; unlimited with -t alone)\n"
    "  -c concurrency   Number of connections, all opened at once (default 1)\n"
    "  -t timelimit     Seconds to run at most (no 50,000-request cap, unlike ab)\n"
    "  -s timeout       Seconds to wait for each response (default 30)\n"
    "  -k               Use HTTP keep-alive\n"
    "  -H header        Add a header, e.g. 'Accept-Encoding: gzip' (repeatable)\n"
    "  -m method        HTTP method (default GET, POST with -p, PUT with -u, HEAD with -i)\n"
    "  -p file          File with the request body (POST)\n"
    "  -u file          File with the request body (PUT)\n"
    "  -T type          Content-Type of the body\n"
    "  -i               Use HEAD instead of GET\n"
    "  -C name=value    Add a Cookie header\n"
    "  -q               No progress output\n"
    "  -v level         Verbosity: 2 prints each failure, 3 status lines, 4 raw responses\n"
    "  -l               Accept variable document length (no Length failures)\n"
    "  -r               Do not exit on receive errors (always the case here; accepted for ab)\n"
    "  -W threads       Same as --threads\n"
    "  -V, --version    Print the version and exit\n"
    "  -h, --help       Print this help and exit\n"
    "Beyond ab:\n"
    "  --threads N      Event-loop threads (default 1)\n"
    "  --rate R         Open loop: R requests/s in total; latency from the intended send time\n"
    "  --duration D     Time limit like -t; accepts 500ms, 10s, 2m, 1h\n"
    "  --warmup S       Run S seconds first without counting anything\n"
    "  --ramp S         Spread opening the connections over S seconds\n"
    "  --busy-poll US   Poll for US microseconds after the last event before sleeping\n"
    "                   (default 50; 0 sleeps at once, using the least CPU at low rates)\n"
    "  --json FILE|-    Write the result as JSON (- = stdout, replacing the text report)\n"
    "  --source A[-B]   Bind client sockets to local addresses A..B in turn (IP_BIND_ADDRESS_NO_PORT)\n"
    "  --progress       Progress on stderr (default: on when stderr is a terminal)\n"
    "  --no-progress    No progress on stderr\n"
    "  --merge F...     Merge loadgen JSON results exactly and report the combined result\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "loadgen: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'loadgen -h' for help.\n");
    return 2;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, double min_exclusive, double *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v <= min_exclusive || v > 1e7)
        return -1;
    *out = v;
    return 0;
}

/* wrk-style duration: a number with an optional unit ms, s, m, h. */
static int parse_duration(const char *s, double *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v <= 0)
        return -1;
    double mul = 1;
    if (!*end || strcmp(end, "s") == 0)
        mul = 1;
    else if (strcmp(end, "ms") == 0)
        mul = 0.001;
    else if (strcmp(end, "m") == 0)
        mul = 60;
    else if (strcmp(end, "h") == 0)
        mul = 3600;
    else
        return -1;
    *out = v * mul;
    return *out > 1e7 ? -1 : 0;
}

static int read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return -1;
    }
    for (;;) {
        if (n == cap) {
            char *nb = cap > (SIZE_MAX / 2) ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            int bad = ferror(f);
            fclose(f);
            if (bad) {
                free(buf);
                errno = EIO;
                return -1;
            }
            break;
        }
    }
    *data = buf;
    *len = n;
    return 0;
}

/* One address, or an inclusive range A-B of the same family (the last bytes counting up). */
static int parse_sources(lg_options *o, const char *spec)
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
    o->sources = calloc(count, sizeof *o->sources);
    if (!o->sources)
        return -1;
    o->nsources = count;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t v = lo + (uint32_t)i;
        unsigned char addr[16];
        memcpy(addr, a, alen);
        addr[alen - 4] = (unsigned char)(v >> 24);
        addr[alen - 3] = (unsigned char)(v >> 16);
        addr[alen - 2] = (unsigned char)(v >> 8);
        addr[alen - 1] = (unsigned char)v;
        if (family == AF_INET) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&o->sources[i];
            sin->sin_family = AF_INET;
            memcpy(&sin->sin_addr, addr, 4);
        } else {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&o->sources[i];
            sin6->sin6_family = AF_INET6;
            memcpy(&sin6->sin6_addr, addr, 16);
        }
    }
    return 0;
}

enum {
    OPT_THREADS = 1000, OPT_RATE, OPT_DURATION, OPT_WARMUP, OPT_RAMP, OPT_JSON, OPT_SOURCE,
    OPT_PROGRESS, OPT_NO_PROGRESS, OPT_MERGE, OPT_BUSY_POLL
};

static int add_header(lg_options *o, const char *h)
{
    const char **nh = realloc(o->headers, (o->nheaders + 1) * sizeof *nh);
    if (!nh)
        return -1;
    o->headers = nh;
    o->headers[o->nheaders++] = h;
    return 0;
}

int lg_options_parse(int argc, char **argv, lg_options *o)
{
    static const struct option longopts[] = {
        {"threads", required_argument, NULL, OPT_THREADS},
        {"rate", required_argument, NULL, OPT_RATE},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"ramp", required_argument, NULL, OPT_RAMP},
        {"busy-poll", required_argument, NULL, OPT_BUSY_POLL},
        {"json", required_argument, NULL, OPT_JSON},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"merge", no_argument, NULL, OPT_MERGE},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static char cookie_buf[4096];
    memset(o, 0, sizeof *o);
    o->concurrency = 1;
    o->timeout_s = 30;
    o->threads = 1;
    o->busy_poll_us = 50;
    o->progress = -1;
    int merge = 0, method_set = 0;
    const char *put_file = NULL;
    uint64_t v;
    int c;
    opterr = 0;
    optind = 0; /* not 1: glibc then also resets its own state (a second parse starts clean) */
    while ((c = getopt_long(argc, argv, ":n:c:t:s:kH:m:p:u:T:iC:qv:lrW:Vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_u64(optarg, 1, UINT64_MAX / 2, &v))
                return usage_error("-n needs a positive number of requests, got '%s'", optarg);
            o->requests = v;
            o->requests_set = 1;
            break;
        case 'c':
            if (parse_u64(optarg, 1, 1000000, &v))
                return usage_error("-c needs a concurrency between 1 and 1000000, got '%s'", optarg);
            o->concurrency = (int)v;
            break;
        case 't':
            if (parse_seconds(optarg, 0, &o->time_limit_s))
                return usage_error("-t needs a positive number of seconds, got '%s'", optarg);
            break;
        case OPT_DURATION:
            if (parse_duration(optarg, &o->time_limit_s))
                return usage_error("--duration needs a positive duration (e.g. 10s, 500ms, 2m), got '%s'",
                                   optarg);
            break;
        case 's':
            if (parse_seconds(optarg, 0, &o->timeout_s))
                return usage_error("-s needs a positive number of seconds, got '%s'", optarg);
            break;
        case 'k':
            o->keepalive = 1;
            break;
        case 'H':
            if (!strchr(optarg, ':') || optarg[0] == ':' || strpbrk(optarg, "\r\n"))
                return usage_error("-H needs 'Name: value' without line breaks, got '%s'", optarg);
            if (add_header(o, optarg))
                return usage_error("%s", "out of memory");
            break;
        case 'C':
            if (strpbrk(optarg, "\r\n") || strlen(optarg) > sizeof cookie_buf - 16)
                return usage_error("-C needs a short name=value, got '%s'", optarg);
            snprintf(cookie_buf, sizeof cookie_buf, "Cookie: %s", optarg);
            if (add_header(o, cookie_buf))
                return usage_error("%s", "out of memory");
            break;
        case 'm':
            if (!*optarg || strpbrk(optarg, " \t\r\n"))
                return usage_error("-m needs a method name, got '%s'", optarg);
            o->method = optarg;
            method_set = 1;
            break;
        case 'i':
            if (!method_set)
                o->method = "HEAD";
            break;
        case 'p':
            o->body_file = optarg;
            if (!method_set)
                o->method = "POST";
            break;
        case 'u':
            put_file = optarg;
            o->body_file = optarg;
            if (!method_set)
                o->method = "PUT";
            break;
        case 'T':
            if (strpbrk(optarg, "\r\n"))
                return usage_error("-T must not contain line breaks, got '%s'", optarg);
            o->content_type = optarg;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'v':
            if (parse_u64(optarg, 0, 10, &v))
                return usage_error("-v needs a verbosity level 0..10, got '%s'", optarg);
            o->verbosity = (int)v;
            break;
        case 'l':
            o->variable_length = 1;
            break;
        case 'r':
            break; /* we never exit on receive errors: they are counted */
        case 'W':
        case OPT_THREADS:
            if (parse_u64(optarg, 1, 256, &v))
                return usage_error("--threads needs a number between 1 and 256, got '%s'", optarg);
            o->threads = (int)v;
            break;
        case OPT_RATE: {
            double r;
            if (parse_seconds(optarg, 0, &r))
                return usage_error("--rate needs a positive number of requests per second, got '%s'",
                                   optarg);
            o->rate = r;
            break;
        }
        case OPT_WARMUP:
            if (parse_seconds(optarg, -1e-300, &o->warmup_s) && strcmp(optarg, "0") != 0)
                return usage_error("--warmup needs a number of seconds >= 0, got '%s'", optarg);
            break;
        case OPT_RAMP:
            if (parse_seconds(optarg, -1e-300, &o->ramp_s) && strcmp(optarg, "0") != 0)
                return usage_error("--ramp needs a number of seconds >= 0, got '%s'", optarg);
            break;
        case OPT_BUSY_POLL: {
            uint64_t v;
            if (parse_u64(optarg, 0, 1000000, &v))
                return usage_error("--busy-poll needs microseconds from 0 to 1000000, got '%s'",
                                   optarg);
            o->busy_poll_us = (int)v;
            break;
        }
        case OPT_JSON:
            if (!*optarg)
                return usage_error("--json needs a file name or -, got '%s'", optarg);
            o->json_path = optarg;
            break;
        case OPT_SOURCE:
            free(o->sources);
            o->sources = NULL;
            o->source_spec = optarg;
            if (parse_sources(o, optarg))
                return usage_error("--source needs an address or a range like 127.0.0.1-127.0.0.8 "
                                   "(at most 65536 addresses), got '%s'", optarg);
            break;
        case OPT_PROGRESS:
            o->progress = 1;
            break;
        case OPT_NO_PROGRESS:
            o->progress = 0;
            break;
        case OPT_MERGE:
            merge = 1;
            break;
        case 'V':
            printf("loadgen %s (c10k-bench)\n", LG_VERSION);
            return 1;
        case 'h':
            fputs(usage_text, stdout);
            return 1;
        case ':':
            if (optopt)
                fprintf(stderr, "loadgen: option -%c needs an argument\n", optopt);
            else
                fprintf(stderr, "loadgen: option %s needs an argument\n", argv[optind - 1]);
            fprintf(stderr, "Try 'loadgen -h' for help.\n");
            return 2;
        default:
            if (optopt)
                fprintf(stderr, "loadgen: unknown option -%c\n", optopt);
            else
                fprintf(stderr, "loadgen: unknown option %s\n", argv[optind - 1]);
            fprintf(stderr, "Try 'loadgen -h' for help.\n");
            return 2;
        }
    }
    (void)put_file;
    if (merge) {
        if (optind >= argc)
            return usage_error("%s", "--merge needs at least one JSON result file");
        o->merge_files = (const char **)(argv + optind);
        o->nmerge = (size_t)(argc - optind);
        return 0;
    }
    if (optind >= argc)
        return usage_error("%s", "missing the URL (http://host[:port]/path)");
    if (optind + 1 < argc)
        return usage_error("unexpected argument '%s' after the URL", argv[optind + 1]);
    o->url_text = argv[optind];
    char err[512];
    if (lg_url_parse(o->url_text, &o->url, err, sizeof err))
        return usage_error("%s", err);
    if (!o->method)
        o->method = "GET";
    if (o->body_file) {
        if (read_file(o->body_file, &o->body, &o->body_len)) {
            fprintf(stderr, "loadgen: cannot read body file '%s': %s\n", o->body_file, strerror(errno));
            return 2;
        }
    }
    if (!o->requests_set && o->time_limit_s == 0)
        o->requests = 1; /* ab's default */
    if (o->requests_set && (uint64_t)o->concurrency > o->requests) {
        fprintf(stderr, "loadgen: cannot use concurrency level greater than total number of requests "
                        "(-c %d > -n %llu)\n", o->concurrency, (unsigned long long)o->requests);
        return 2;
    }
    if (o->threads > o->concurrency)
        o->threads = o->concurrency;
    if (o->sources) {
        int fam = o->sources[0].ss_family;
        if (o->url.ipv6_literal ? fam != AF_INET6 : (fam == AF_INET6 && strchr(o->url.host, '.'))) {
            fprintf(stderr, "loadgen: --source address family does not match the target %s\n", o->url.host);
            return 2;
        }
    }
    return 0;
}

void lg_options_free(lg_options *o)
{
    free(o->headers);
    free(o->body);
    free(o->sources);
    o->headers = NULL;
    o->body = NULL;
    o->sources = NULL;
}
