/* Server counters. One MAP_SHARED mapping, made before any fork, holds the server-wide figures and
 * one block per serving instance (an event loop, a worker process, the one acceptor of a
 * threaded model). An instance bumps only its own block, which sits on its own cache lines, so
 * loops in different threads or processes do not bounce a line per request; /__stats, served by
 * any instance, totals every block. */
#ifndef C10K_STATS_H
#define C10K_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef enum stats_error {
    ERR_BAD_REQUEST,       /* 400: malformed or truncated request, bad query override */
    ERR_HEADER_TOO_LARGE,  /* 431 (and 414 for an over-long URL) */
    ERR_BODY_TOO_LARGE,    /* 413 */
    ERR_REFUSED,           /* over --max-conns, an fd select() cannot watch, or shed at EMFILE */
    ERR_ACCEPT,            /* accept() failed; out of fds/memory counts once per episode */
    ERR_SPAWN,             /* pthread_create() or fork() failed */
    ERR_IO,                /* read/write errors, resets */
    ERR_KIND_COUNT
} stats_error_t;

/* Connections closed because a timeout expired (--header-timeout-ms, --idle-timeout-ms,
 * --write-timeout-ms). */
typedef enum stats_timeout {
    TIMEOUT_HEADER,
    TIMEOUT_IDLE,
    TIMEOUT_WRITE,
    TIMEOUT_KIND_COUNT
} stats_timeout_t;

#define STATS_LINE 64

typedef struct server_stats server_stats_t;

/* One instance's counters. Atomics all the same: the threads of a threaded model, or the forked
 * children of the forking model, share their acceptor's block. */
typedef struct stats {
    _Alignas(STATS_LINE) server_stats_t *server; /* the mapping it belongs to (same address after fork) */
    _Atomic uint64_t accepted;
    _Atomic uint64_t requests;
    _Atomic uint64_t errors[ERR_KIND_COUNT];
    _Atomic uint64_t timeouts[TIMEOUT_KIND_COUNT];
} stats_t;

struct server_stats {
    const char *model;
    unsigned instances;
    /* Server-wide, not per instance: --max-conns bounds the whole server's open connections, and
     * the peak of the server's in-flight count cannot be rebuilt from per-instance peaks (the
     * instances peak at different moments; their sum overstates it). Each connection touches
     * this line twice and each request twice, plus a compare-and-swap while the peak rises. */
    _Alignas(STATS_LINE) _Atomic int64_t active;
    _Atomic int64_t inflight;
    _Atomic int64_t peak_inflight;
    stats_t instance[];
};

/* Maps the counters for `instances` (>= 1) instances; NULL (reported) if that fails. */
server_stats_t *stats_create(const char *model, unsigned instances);
void stats_destroy(server_stats_t *all);

/* Zeroes every counter (a harness replaying runs that must read alike). */
void stats_reset(server_stats_t *all);

static inline stats_t *stats_instance(server_stats_t *all, unsigned i)
{
    return &all->instance[i];
}

/* accept() returned a socket (refused ones included). */
static inline void stats_conn_accepted(stats_t *st)
{
    atomic_fetch_add_explicit(&st->accepted, 1, memory_order_relaxed);
}

/* The socket was admitted and will be served. */
static inline void stats_conn_opened(stats_t *st)
{
    atomic_fetch_add_explicit(&st->server->active, 1, memory_order_relaxed);
}

static inline void stats_conn_closed(stats_t *st)
{
    atomic_fetch_sub_explicit(&st->server->active, 1, memory_order_relaxed);
}

/* Open connections, server-wide. */
static inline int64_t stats_active(const stats_t *st)
{
    return atomic_load_explicit(&st->server->active, memory_order_relaxed);
}

static inline void stats_error(stats_t *st, stats_error_t kind)
{
    atomic_fetch_add_explicit(&st->errors[kind], 1, memory_order_relaxed);
}

static inline void stats_timeout(stats_t *st, stats_timeout_t kind)
{
    atomic_fetch_add_explicit(&st->timeouts[kind], 1, memory_order_relaxed);
}

/* A workload request was parsed and is now waiting for its answer. */
void stats_request_begin(stats_t *st);

/* Its response is on its way (answered = 1), or the connection died first (answered = 0). */
static inline void stats_request_end(stats_t *st, int answered)
{
    atomic_fetch_sub_explicit(&st->server->inflight, 1, memory_order_relaxed);
    if (answered)
        atomic_fetch_add_explicit(&st->requests, 1, memory_order_relaxed);
}

/* The figures of the whole server: every instance's counters summed, and the server-wide ones. */
typedef struct stats_totals {
    uint64_t accepted, requests;
    uint64_t errors[ERR_KIND_COUNT];
    uint64_t timeouts[TIMEOUT_KIND_COUNT];
    int64_t active, inflight, peak_inflight;
} stats_totals_t;

void stats_sum(const server_stats_t *all, stats_totals_t *out);

/* Writes the /__stats JSON document into buf: the totals, then `per_instance` (each instance's
 * accepted and requests, or null when that list does not fit). Returns its length, or -1 if even
 * the totals do not fit. */
int stats_to_json(const server_stats_t *all, char *buf, size_t cap);

#endif
