/* Option parsing: every model accepts exactly the same flags, validated strictly. */
#include "options.h"

#include "c10k_version.h"
#include "describe.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int parse_double_in(const char *s, size_t len, double min, double max, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    /* strtod accepts hex, inf and nan; a delay is plain decimal. */
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789.", buf[i]))
            return -1;
    char *end;
    double v = strtod(buf, &end);
    if (*end != '\0' || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int parse_u64_in(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

#define MS 1000000ull

static void usage(FILE *f, const char *model)
{
    fprintf(f,
            "usage: server-%s [options]\n"
            "  --host ADDR        address to listen on (default 127.0.0.1; IPv6 allowed)\n"
            "  --port N           port, 0 picks a free one (default 0)\n"
            "  --delay-ms D       artificial per-request delay in ms, fractional allowed (default 0)\n"
            "  --work-us W        CPU time burned per request in microseconds (default 0;\n"
            "                     $C10K_EXTRA_WORK_US is added when set)\n"
            "  --body-bytes B     response body size (default %u)\n"
            "  --backlog N        listen backlog (default %d)\n"
            "  --max-conns N      refuse connections beyond N open ones with 503 (default 0 = no limit)\n"
            "  --threads N        worker threads (thread-pool models only)\n"
            "  --workers N        worker processes (multi-process models only)\n"
            "  --describe         print what this model is and the limits it is subject to (JSON)\n"
            "  --header-timeout-ms T  request head, from its first byte (or the connect) to its end;\n"
            "                     expiry answers 408 and closes (default 10000; 0 = none)\n"
            "  --idle-timeout-ms T    keep-alive wait for the next request (default 60000; 0 = none)\n"
            "  --write-timeout-ms T   peer taking no response bytes (default 30000; 0 = none)\n"
            "  --help             this text\n"
            "  --version          the c10k-bench version and git revision this server was built from\n"
            "Ready line on stdout: 'listening on HOST:PORT'. GET /__stats returns counters as JSON.\n"
            "Per-request overrides: /?delay_ms=D&bytes=N\n",
            model, OPT_DEFAULT_BODY_BYTES, OPT_DEFAULT_BACKLOG);
}

static void bad_value(const char *model, const char *opt, const char *value, const char *why)
{
    fprintf(stderr, "server-%s: invalid value '%s' for --%s: %s\n", model, value, opt, why);
    exit(2);
}

static uint64_t need_u64(const char *model, const char *opt, const char *v, uint64_t min, uint64_t max)
{
    uint64_t out;
    if (parse_u64_in(v, strlen(v), min, max, &out) != 0) {
        char why[96];
        snprintf(why, sizeof why, "expected an integer from %llu to %llu", (unsigned long long)min,
                 (unsigned long long)max);
        bad_value(model, opt, v, why);
    }
    return out;
}

/* A model-specific flag given to a model that has no use for it is a mistake, not a no-op. */
static void check_used(const model_traits_t *m, unsigned flag, const char *opt, const char *why)
{
    if (!(m->uses & flag)) {
        fprintf(stderr, "server-%s: --%s is not used by this model (%s)\n", m->name, opt, why);
        exit(2);
    }
}

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

void options_parse(int argc, char **argv, const model_traits_t *m, server_options_t *opts)
{
    const char *model = m->name;
    bool describe = false;
    enum { O_HOST = 1, O_PORT, O_DELAY, O_WORK, O_BODY, O_BACKLOG, O_MAXCONNS, O_THREADS, O_WORKERS, O_DESCRIBE,
           O_HELP, O_VERSION, O_HEADER_TIMEOUT, O_IDLE_TIMEOUT, O_WRITE_TIMEOUT };
    static const struct option longopts[] = {
        {"host", required_argument, NULL, O_HOST},
        {"port", required_argument, NULL, O_PORT},
        {"delay-ms", required_argument, NULL, O_DELAY},
        {"work-us", required_argument, NULL, O_WORK},
        {"body-bytes", required_argument, NULL, O_BODY},
        {"backlog", required_argument, NULL, O_BACKLOG},
        {"max-conns", required_argument, NULL, O_MAXCONNS},
        {"threads", required_argument, NULL, O_THREADS},
        {"workers", required_argument, NULL, O_WORKERS},
        {"describe", no_argument, NULL, O_DESCRIBE},
        {"header-timeout-ms", required_argument, NULL, O_HEADER_TIMEOUT},
        {"idle-timeout-ms", required_argument, NULL, O_IDLE_TIMEOUT},
        {"write-timeout-ms", required_argument, NULL, O_WRITE_TIMEOUT},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    *opts = (server_options_t){
        .host = "127.0.0.1", .port = 0, .delay_ns = 0, .work_us = 0,
        .body_bytes = OPT_DEFAULT_BODY_BYTES, .backlog = OPT_DEFAULT_BACKLOG, .max_conns = 0,
        .threads = (m->uses & MODEL_USES_THREADS) && !m->default_threads ? online_cpus() : m->default_threads,
        .workers = !(m->uses & MODEL_USES_WORKERS) ? 1u : m->default_workers ? m->default_workers : online_cpus(),
        .header_timeout_ns = 10000 * MS, .idle_timeout_ns = 60000 * MS, .write_timeout_ns = 30000 * MS,
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case O_HOST:
            if (optarg[0] == '\0')
                bad_value(model, "host", optarg, "empty address");
            opts->host = optarg;
            break;
        case O_PORT:
            opts->port = (unsigned)need_u64(model, "port", optarg, 0, 65535);
            break;
        case O_DELAY: {
            double ms;
            if (parse_double_in(optarg, strlen(optarg), 0, OPT_DELAY_MS_MAX, &ms) != 0)
                bad_value(model, "delay-ms", optarg, "expected a decimal number of ms from 0 to 3600000");
            opts->delay_ns = (uint64_t)llround(ms * 1e6);
            break;
        }
        case O_WORK:
            opts->work_us = (unsigned)need_u64(model, "work-us", optarg, 0, OPT_WORK_US_MAX);
            break;
        case O_BODY:
            opts->body_bytes = (size_t)need_u64(model, "body-bytes", optarg, 0, OPT_BODY_BYTES_MAX);
            break;
        case O_BACKLOG:
            opts->backlog = (int)need_u64(model, "backlog", optarg, 1, 65535);
            break;
        case O_MAXCONNS:
            opts->max_conns = (unsigned)need_u64(model, "max-conns", optarg, 0, 10000000);
            break;
        case O_THREADS:
            check_used(m, MODEL_USES_THREADS, "threads", "it has no thread pool");
            opts->threads = (unsigned)need_u64(model, "threads", optarg, 1, OPT_THREADS_MAX);
            break;
        case O_WORKERS:
            check_used(m, MODEL_USES_WORKERS, "workers", "it runs no worker processes");
            opts->workers = (unsigned)need_u64(model, "workers", optarg, 1, OPT_WORKERS_MAX);
            break;
        case O_DESCRIBE:
            describe = true;
            break;
        case O_HEADER_TIMEOUT:
            opts->header_timeout_ns = need_u64(model, "header-timeout-ms", optarg, 0, OPT_TIMEOUT_MS_MAX) * MS;
            break;
        case O_IDLE_TIMEOUT:
            opts->idle_timeout_ns = need_u64(model, "idle-timeout-ms", optarg, 0, OPT_TIMEOUT_MS_MAX) * MS;
            break;
        case O_WRITE_TIMEOUT:
            opts->write_timeout_ns = need_u64(model, "write-timeout-ms", optarg, 0, OPT_TIMEOUT_MS_MAX) * MS;
            break;
        case O_HELP:
            usage(stdout, model);
            exit(0);
        case O_VERSION:
            printf("server-%s (c10k-bench) %s\n", model, C10K_VERSION_FULL);
            exit(0);
        case ':':
            fprintf(stderr, "server-%s: option '%s' needs a value\n", model, argv[optind - 1]);
            exit(2);
        default:
            fprintf(stderr, "server-%s: unknown option '%s' (try --help)\n", model, argv[optind - 1]);
            exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "server-%s: unexpected argument '%s' (try --help)\n", model, argv[optind]);
        exit(2);
    }
    /* CI injects a known slowdown through the environment to check its regression gates. */
    const char *extra = getenv("C10K_EXTRA_WORK_US");
    if (extra && extra[0] != '\0') {
        uint64_t us;
        if (parse_u64_in(extra, strlen(extra), 0, OPT_WORK_US_MAX, &us) != 0) {
            fprintf(stderr, "server-%s: invalid C10K_EXTRA_WORK_US '%s': expected an integer from 0 to %u\n",
                    model, extra, OPT_WORK_US_MAX);
            exit(2);
        }
        if (opts->work_us + us > OPT_WORK_US_MAX) {
            fprintf(stderr, "server-%s: --work-us plus C10K_EXTRA_WORK_US exceeds %u\n", model, OPT_WORK_US_MAX);
            exit(2);
        }
        opts->work_us += (unsigned)us;
    }
    if (describe)
        exit(describe_print(m, opts) == 0 ? 0 : 1);
}
