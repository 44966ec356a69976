/* ab-compatible option parsing; every bad argument is a clear message and exit status 2. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "option_values.h"
#include "source_range.h"

static const char usage_text[] =
    "Usage: loadgen [options] http[s]://host[:port]/path\n"
    "       loadgen --merge a.json b.json ... [--json OUT|-]\n"
    "ab-compatible options:\n"
    "  -n requests      Number of requests to perform (default 1; unlimited with -t alone). As in\n"
    "                   ab, a new connection's request counts once it is connected; connects still\n"
    "                   pending when the last request is taken are closed (\"Connects abandoned\")\n"
    "  -c concurrency   Number of connections, all opened at once (default 1)\n"
    "  -t timelimit     Seconds to run at most (no 50,000-request cap, unlike ab)\n"
    "  -s timeout       Seconds to wait for each response once connected (default 30)\n"
    "  -k               Use HTTP keep-alive\n"
    "  -H header        Add a header, e.g. 'Accept-Encoding: gzip' (repeatable)\n"
    "  -m method        HTTP method (default GET, POST with -p, PUT with -u, HEAD with -i)\n"
    "  -p file          File with the request body (POST)\n"
    "  -u file          File with the request body (PUT)\n"
    "  -T type          Content-Type of the body\n"
    "  -i               Use HEAD instead of GET\n"
    "  -C name=value    Add a Cookie header\n"
    "  -q               Quiet: no progress and no notes on stderr (warnings and errors still\n"
    "                   print); ab's -q hides its progress lines only\n"
    "  -v level         Verbosity: 2 prints each failure, 3 status lines, 4 raw responses\n"
    "  -l               Accept variable document length (no Length failures)\n"
    "  -r               Do not exit on receive errors (always the case here; accepted for ab)\n"
    "  -W threads       Same as --threads\n"
    "  -Z ciphers       TLS: OpenSSL cipher list, or TLS 1.3 cipher suites (openssl ciphers)\n"
    "  -f protocol      TLS: SSL3, TLS1, TLS1.1, TLS1.2, TLS1.3 or ALL (default ALL)\n"
    "  -V, --version    Print the version and exit\n"
    "  -h, --help       Print this help and exit\n"
    "Beyond ab:\n"
    "  --threads N      Event-loop threads (default 1), in each process\n"
    "  --processes P    Split -c, -n and --rate over P worker processes and merge their results\n"
    "                   (default: as many as -c needs under the open-file limit)\n"
    "  --start-at EPOCH Start at this wall-clock time (Unix seconds, fractions allowed): shards on\n"
    "                   several hosts start together\n"
    "  --rate R         Open loop: R requests/s in total; latency from the intended send time\n"
    "  --duration D     Time limit like -t; accepts 500ms, 10s, 2m, 1h\n"
    "  --warmup S       Run S seconds first without counting anything\n"
    "  --ramp S         Spread opening the connections over S seconds (a burst of connects can\n"
    "                   overflow a small listen queue: SYNs dropped, sent again after 1 s)\n"
    "  --idle N         Hold N more connections open for the whole run, opened before the load\n"
    "                   (paced by --ramp) and never measured; the report says how many the\n"
    "                   server closed, and why\n"
    "  --idle-mode M    request (default): each idle connection sends one keep-alive request,\n"
    "                   reads the answer, then stays silent; connect: it never sends anything\n"
    "  --connect-timeout S  Seconds to wait for a connect (default: the -s value)\n"
    "  --engine E       readiness (default): epoll, then recv()/send(); uring: io_uring with\n"
    "                   multishot receives into provided buffers and one submission per loop turn\n"
    "  --busy-poll US   Poll for US microseconds after the last event before sleeping\n"
    "                   (default 50 with --engine readiness, 0 with uring; 0 sleeps at once)\n"
    "  --json FILE|-    Write the result as JSON (- = stdout, replacing the text report)\n"
    "  --source A[-B]   Bind client sockets to local addresses A..B in turn (IP_BIND_ADDRESS_NO_PORT)\n"
    "  --progress       Progress on stderr (default: on when stderr is a terminal)\n"
    "  --no-progress    No progress on stderr\n"
    "  --merge F...     Merge loadgen JSON results exactly and report the combined result\n"
    "  --allow-mixed-targets  With --merge: accept results for different URLs\n"
    "  --tls-verify     TLS: verify the server's certificate and name (off by default, as in ab)\n"
    "  --cacert FILE    TLS: with --tls-verify, trust the certificates in FILE (not the system's)\n"
    "  --tls-resume     TLS: resume sessions (tickets) across the connections of a thread\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "loadgen: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'loadgen -h' for help.\n");
    return 2;
}

enum {
    OPT_THREADS = 1000, OPT_PROCESSES, OPT_START_AT, OPT_RATE, OPT_DURATION, OPT_WARMUP, OPT_RAMP,
    OPT_JSON, OPT_SOURCE, OPT_PROGRESS, OPT_NO_PROGRESS, OPT_MERGE, OPT_BUSY_POLL, OPT_CONNECT_TIMEOUT,
    OPT_ALLOW_MIXED_TARGETS, OPT_IDLE, OPT_IDLE_MODE, OPT_TLS_VERIFY, OPT_CACERT, OPT_TLS_RESUME,
    OPT_ENGINE
};

/* ab_option and long_option return this for an option that is not theirs. */
#define NOT_MINE (-1)

/* What the parse needs to remember besides the options themselves. */
typedef struct parse_state {
    int merge, method_set;
} parse_state;

static int add_header(lg_options *o, const char *h)
{
    const char **nh = realloc(o->headers, (o->nheaders + 1) * sizeof *nh);
    if (!nh)
        return -1;
    o->headers = nh;
    o->headers[o->nheaders++] = h;
    return 0;
}

/* Every -C is sent, like ab; they share one Cookie header, as RFC 6265 asks of clients. */
static int add_cookie(lg_options *o, const char *arg)
{
    if (!*arg || strpbrk(arg, "\r\n"))
        return usage_error("-C needs name=value without line breaks, got '%s'", arg);
    const char *prefix = o->cookie_header ? "; " : "Cookie: ";
    size_t old = o->cookie_header ? strlen(o->cookie_header) : 0;
    char *h = realloc(o->cookie_header, old + strlen(prefix) + strlen(arg) + 1);
    if (!h)
        return usage_error("%s", "out of memory");
    h[old] = 0;
    strcat(strcat(h, prefix), arg);
    if (!o->cookie_header) {
        o->cookie_header = h;
        if (add_header(o, h))
            return usage_error("%s", "out of memory");
        o->cookie_slot = o->nheaders - 1;
    }
    o->cookie_header = h;
    o->headers[o->cookie_slot] = h;
    return 0;
}

/* -p, -u, -m and -i: a method given with -m wins over the one a body option implies. */
static int method_option(lg_options *o, parse_state *st, int c, const char *arg)
{
    switch (c) {
    case 'm':
        if (!*arg || strpbrk(arg, " \t\r\n"))
            return usage_error("-m needs a method name, got '%s'", arg);
        o->method = arg;
        st->method_set = 1;
        return 0;
    case 'i':
        if (!st->method_set)
            o->method = "HEAD";
        return 0;
    case 'p':
    case 'u':
        o->body_file = arg;
        if (!st->method_set)
            o->method = c == 'p' ? "POST" : "PUT";
        return 0;
    default:
        return NOT_MINE;
    }
}

/* The options ab has, with ab's meaning (the request-shaping ones in method_option). */
static int ab_option(lg_options *o, parse_state *st, int c, const char *arg)
{
    uint64_t v;
    switch (c) {
    case 'n':
        if (lg_parse_u64(arg, 1, UINT64_MAX / 2, &v))
            return usage_error("-n needs a positive number of requests, got '%s'", arg);
        o->requests = v;
        o->requests_set = 1;
        return 0;
    case 'c':
        if (lg_parse_u64(arg, 1, 1000000, &v))
            return usage_error("-c needs a concurrency between 1 and 1000000, got '%s'", arg);
        o->concurrency = (int)v;
        return 0;
    case 't':
        if (lg_parse_seconds(arg, 0, &o->time_limit_s))
            return usage_error("-t needs a positive number of seconds, got '%s'", arg);
        return 0;
    case 's':
        if (lg_parse_seconds(arg, 0, &o->timeout_s))
            return usage_error("-s needs a positive number of seconds, got '%s'", arg);
        return 0;
    case 'k':
        o->keepalive = 1;
        return 0;
    case 'H':
        if (!strchr(arg, ':') || arg[0] == ':' || strpbrk(arg, "\r\n"))
            return usage_error("-H needs 'Name: value' without line breaks, got '%s'", arg);
        if (add_header(o, arg))
            return usage_error("%s", "out of memory");
        return 0;
    case 'C':
        return add_cookie(o, arg);
    case 'T':
        if (strpbrk(arg, "\r\n"))
            return usage_error("-T must not contain line breaks, got '%s'", arg);
        o->content_type = arg;
        return 0;
    case 'q':
        o->quiet = 1;
        return 0;
    case 'v':
        if (lg_parse_u64(arg, 0, 10, &v))
            return usage_error("-v needs a verbosity level 0..10, got '%s'", arg);
        o->verbosity = (int)v;
        return 0;
    case 'l':
        o->variable_length = 1;
        return 0;
    case 'r':
        return 0; /* we never exit on receive errors: they are counted */
    case 'Z':
        if (!*arg)
            return usage_error("-Z needs an OpenSSL cipher list, got '%s'", arg);
        o->tls_ciphers = arg;
        return 0;
    case 'f': {
        static const char *const names[] = {"SSL3", "TLS1", "TLS1.1", "TLS1.2", "TLS1.3", "ALL"};
        if (strcasecmp(arg, "SSL2") == 0)
            return usage_error("-f %s: OpenSSL 3 has no SSL 2", arg);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcasecmp(arg, names[i]) == 0) {
                o->tls_protocol = names[i];
                return 0;
            }
        return usage_error("-f needs SSL3, TLS1, TLS1.1, TLS1.2, TLS1.3 or ALL, got '%s'", arg);
    }
    case 'V':
        printf("loadgen (c10k-bench) %s\n", C10K_VERSION_FULL);
        return 1;
    case 'h':
        fputs(usage_text, stdout);
        return 1;
    default:
        return method_option(o, st, c, arg);
    }
}

/* Options beyond ab (-W is ab's spelling of --threads). */
static int long_option(lg_options *o, parse_state *st, int c, const char *arg)
{
    uint64_t v;
    switch (c) {
    case 'W':
    case OPT_THREADS:
        if (lg_parse_u64(arg, 1, 256, &v))
            return usage_error("--threads needs a number between 1 and 256, got '%s'", arg);
        o->threads = (int)v;
        return 0;
    case OPT_PROCESSES:
        if (lg_parse_u64(arg, 1, 256, &v))
            return usage_error("--processes needs a number between 1 and 256, got '%s'", arg);
        o->processes = (int)v;
        return 0;
    case OPT_START_AT: {
        char *end;
        errno = 0;
        o->start_at = strtod(arg, &end);
        if (errno || end == arg || *end || !isfinite(o->start_at) || o->start_at <= 0 || o->start_at > 1e11)
            return usage_error("--start-at needs a Unix time in seconds, got '%s'", arg);
        return 0;
    }
    case OPT_DURATION:
        if (lg_parse_duration(arg, &o->time_limit_s))
            return usage_error("--duration needs a positive duration (e.g. 10s, 500ms, 2m), got '%s'",
                               arg);
        return 0;
    case OPT_RATE:
        /* The bounds keep every schedule slot (microseconds, 64 bits) representable. */
        if (lg_parse_seconds(arg, 0, &o->rate) || o->rate < LG_RATE_MIN)
            return usage_error("--rate needs requests per second from 0.001 to 10000000, got '%s'",
                               arg);
        return 0;
    case OPT_WARMUP:
        if (lg_parse_seconds(arg, -1e-300, &o->warmup_s) && strcmp(arg, "0") != 0)
            return usage_error("--warmup needs a number of seconds >= 0, got '%s'", arg);
        return 0;
    case OPT_RAMP:
        if (lg_parse_seconds(arg, -1e-300, &o->ramp_s) && strcmp(arg, "0") != 0)
            return usage_error("--ramp needs a number of seconds >= 0, got '%s'", arg);
        return 0;
    case OPT_IDLE:
        if (lg_parse_u64(arg, 0, 1000000, &v))
            return usage_error("--idle needs a number of connections from 0 to 1000000, got '%s'", arg);
        o->idle = (int)v;
        return 0;
    case OPT_IDLE_MODE:
        if (strcmp(arg, "request") == 0)
            o->idle_mode = LG_IDLE_REQUEST;
        else if (strcmp(arg, "connect") == 0)
            o->idle_mode = LG_IDLE_CONNECT;
        else
            return usage_error("--idle-mode needs 'request' or 'connect', got '%s'", arg);
        return 0;
    case OPT_ENGINE:
        if (strcmp(arg, "readiness") == 0)
            o->engine = LG_ENGINE_READINESS;
        else if (strcmp(arg, "uring") == 0)
            o->engine = LG_ENGINE_URING;
        else
            return usage_error("--engine needs 'readiness' or 'uring', got '%s'", arg);
#ifndef LG_HAVE_URING
        if (o->engine == LG_ENGINE_URING)
            return usage_error("%s", "--engine uring: this loadgen was built without liburing");
#endif
        return 0;
    case OPT_CONNECT_TIMEOUT:
        if (lg_parse_seconds(arg, 0, &o->connect_timeout_s))
            return usage_error("--connect-timeout needs a positive number of seconds, got '%s'", arg);
        return 0;
    case OPT_BUSY_POLL:
        if (lg_parse_u64(arg, 0, 1000000, &v))
            return usage_error("--busy-poll needs microseconds from 0 to 1000000, got '%s'", arg);
        o->busy_poll_us = (int)v;
        return 0;
    case OPT_JSON:
        if (!*arg)
            return usage_error("--json needs a file name or -, got '%s'", arg);
        o->json_path = arg;
        return 0;
    case OPT_SOURCE:
        free(o->sources);
        o->sources = NULL;
        o->source_spec = arg;
        if (lg_sources_parse(arg, &o->sources, &o->nsources))
            return usage_error("--source needs an address or a range like 127.0.0.1-127.0.0.8 "
                               "(at most 65536 addresses), got '%s'", arg);
        return 0;
    case OPT_PROGRESS:
    case OPT_NO_PROGRESS:
        o->progress = c == OPT_PROGRESS;
        return 0;
    case OPT_MERGE:
        st->merge = 1;
        return 0;
    case OPT_ALLOW_MIXED_TARGETS:
        o->allow_mixed_targets = 1;
        return 0;
    case OPT_TLS_VERIFY:
        o->tls_verify = 1;
        return 0;
    case OPT_CACERT:
        if (!*arg)
            return usage_error("--cacert needs a file name, got '%s'", arg);
        o->tls_cacert = arg;
        return 0;
    case OPT_TLS_RESUME:
        o->tls_resume = 1;
        return 0;
    default:
        return NOT_MINE;
    }
}

/* getopt's report of a missing argument (':') or an unknown option. */
static int getopt_error(int c, char **argv)
{
    const char *what = c == ':' ? "option %s%s needs an argument\n" : "unknown option %s%s\n";
    char short_opt[2] = {(char)optopt, 0};
    fprintf(stderr, "loadgen: ");
    fprintf(stderr, what, optopt ? "-" : "", optopt ? short_opt : argv[optind - 1]);
    fprintf(stderr, "Try 'loadgen -h' for help.\n");
    return 2;
}

/* After the options: the URL (or the --merge files), the body, and the checks across options. */
static int finish(lg_options *o, const parse_state *st, int argc, char **argv)
{
    /* The uring engine collects a whole turn's completions in one wait, and a poll is a system
     * call there too: polling only adds calls that find nothing (measured: more CPU per request). */
    if (o->busy_poll_us < 0)
        o->busy_poll_us = o->engine == LG_ENGINE_URING ? 0 : 50;
    if (st->merge) {
        if (optind >= argc)
            return usage_error("%s", "--merge needs at least one JSON result file");
        o->merge_files = (const char **)(argv + optind);
        o->nmerge = (size_t)(argc - optind);
        return 0;
    }
    if (optind >= argc)
        return usage_error("%s", "missing the URL (http[s]://host[:port]/path)");
    if (optind + 1 < argc)
        return usage_error("unexpected argument '%s' after the URL", argv[optind + 1]);
    o->url_text = argv[optind];
    if (o->engine == LG_ENGINE_URING && strncmp(o->url_text, "https://", 8) == 0)
        return usage_error("--engine uring speaks cleartext HTTP only; use --engine readiness for "
                           "'%s'", o->url_text);
    char err[512];
    if (lg_url_parse(o->url_text, &o->url, err, sizeof err))
        return usage_error("%s", err);
    if (!o->url.tls && (o->tls_ciphers || o->tls_protocol || o->tls_verify || o->tls_cacert ||
                        o->tls_resume))
        return usage_error("-Z, -f, --tls-verify, --cacert and --tls-resume need an https:// URL, "
                           "got %s", o->url_text);
    if (o->url.tls && o->idle)
        return usage_error("--idle holds plain TCP connections only, not https:// ones (got %s)",
                           o->url_text);
    if (!o->method)
        o->method = "GET";
    if (o->body_file && lg_read_file(o->body_file, &o->body, &o->body_len)) {
        fprintf(stderr, "loadgen: cannot read body file '%s': %s\n", o->body_file, strerror(errno));
        return 2;
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

int lg_options_parse(int argc, char **argv, lg_options *o)
{
    static const struct option longopts[] = {
        {"threads", required_argument, NULL, OPT_THREADS},
        {"processes", required_argument, NULL, OPT_PROCESSES},
        {"start-at", required_argument, NULL, OPT_START_AT},
        {"rate", required_argument, NULL, OPT_RATE},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"ramp", required_argument, NULL, OPT_RAMP},
        {"busy-poll", required_argument, NULL, OPT_BUSY_POLL},
        {"idle", required_argument, NULL, OPT_IDLE},
        {"idle-mode", required_argument, NULL, OPT_IDLE_MODE},
        {"engine", required_argument, NULL, OPT_ENGINE},
        {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
        {"json", required_argument, NULL, OPT_JSON},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
        {"merge", no_argument, NULL, OPT_MERGE},
        {"allow-mixed-targets", no_argument, NULL, OPT_ALLOW_MIXED_TARGETS},
        {"tls-verify", no_argument, NULL, OPT_TLS_VERIFY},
        {"cacert", required_argument, NULL, OPT_CACERT},
        {"tls-resume", no_argument, NULL, OPT_TLS_RESUME},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->concurrency = 1;
    o->timeout_s = 30;
    o->threads = 1;
    o->busy_poll_us = -1; /* finish() picks the engine's default */
    o->progress = -1;
    parse_state st = {0, 0};
    int c;
    opterr = 0;
    optind = 0; /* not 1: glibc then also resets its own state (a second parse starts clean) */
    while ((c = getopt_long(argc, argv, ":n:c:t:s:kH:m:p:u:T:iC:qv:lrW:Z:f:Vh", longopts, NULL)) != -1) {
        int rc = ab_option(o, &st, c, optarg);
        if (rc == NOT_MINE)
            rc = long_option(o, &st, c, optarg);
        if (rc == NOT_MINE)
            rc = getopt_error(c, argv);
        if (rc)
            return rc;
    }
    return finish(o, &st, argc, argv);
}

void lg_options_free(lg_options *o)
{
    free(o->headers);
    free(o->cookie_header);
    free(o->body);
    free(o->sources);
    o->headers = NULL;
    o->cookie_header = NULL;
    o->body = NULL;
    o->sources = NULL;
}
