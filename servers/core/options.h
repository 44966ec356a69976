/* Command-line options shared by every server model. */
#ifndef C10K_OPTIONS_H
#define C10K_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds: generous enough for every scenario, small enough that a typo cannot eat the machine. */
#define OPT_DELAY_MS_MAX 3600000.0       /* one hour */
#define OPT_WORK_US_MAX 10000000u        /* ten seconds of CPU per request */
#define OPT_BODY_BYTES_MAX (64u << 20)   /* 64 MiB */
#define OPT_DEFAULT_BODY_BYTES 64u
#define OPT_DEFAULT_BACKLOG 4096
#define OPT_THREADS_MAX 100000u
#define OPT_WORKERS_MAX 4096u

struct model_traits;
#define OPT_TIMEOUT_MS_MAX 86400000u     /* one day */

typedef struct server_options {
    const char *host;
    unsigned port;
    uint64_t delay_ns;     /* --delay-ms, converted once */
    unsigned work_us;      /* --work-us plus $C10K_EXTRA_WORK_US */
    size_t body_bytes;
    int backlog;
    unsigned max_conns;    /* 0 = unlimited */
    unsigned threads;      /* --threads: worker threads, for models with a thread pool */
    unsigned workers;      /* --workers: worker processes, for multi-process models */
    bool reuse_port;       /* each worker opens its own SO_REUSEPORT listener */
    /* Timeouts in ns, 0 = none: a request head's first byte (or the connect) to its end; a
     * keep-alive connection waiting for its next request; a peer not taking the response. */
    uint64_t header_timeout_ns, idle_timeout_ns, write_timeout_ns;
} server_options_t;

/* Parses argv into *opts for the given model. Prints usage and exits 0 on --help, the model's
 * description and exits 0 on --describe; prints a message and exits 2 on any unknown option, bad
 * value or flag the model does not use, so callers never see invalid options. */
void options_parse(int argc, char **argv, const struct model_traits *model, server_options_t *opts);

/* Strict number parsers shared with the query-string overrides: the whole string must be a
 * number within [min, max]. Return 0 on success, -1 otherwise. */
int parse_double_in(const char *s, size_t len, double min, double max, double *out);
int parse_u64_in(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);

#endif
