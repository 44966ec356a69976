/* Server counters, kept in a MAP_SHARED mapping so forked children update the same figures. */
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

typedef struct server_stats {
    _Atomic uint64_t accepted;
    _Atomic int64_t active;
    _Atomic uint64_t requests;
    _Atomic int64_t inflight;
    _Atomic int64_t peak_inflight;
    _Atomic uint64_t errors[ERR_KIND_COUNT];
    _Atomic uint64_t timeouts[TIMEOUT_KIND_COUNT];
} server_stats_t;

extern server_stats_t *g_stats;

/* Maps the shared counters; returns 0, or -1 (reported) if that fails. */
int stats_init(const char *model);

/* accept() returned a socket (refused ones included). */
static inline void stats_conn_accepted(void)
{
    atomic_fetch_add_explicit(&g_stats->accepted, 1, memory_order_relaxed);
}

/* The socket was admitted and will be served. */
static inline void stats_conn_opened(void)
{
    atomic_fetch_add_explicit(&g_stats->active, 1, memory_order_relaxed);
}

static inline void stats_conn_closed(void)
{
    atomic_fetch_sub_explicit(&g_stats->active, 1, memory_order_relaxed);
}

static inline int64_t stats_active(void)
{
    return atomic_load_explicit(&g_stats->active, memory_order_relaxed);
}

static inline void stats_error(stats_error_t kind)
{
    atomic_fetch_add_explicit(&g_stats->errors[kind], 1, memory_order_relaxed);
}

static inline void stats_timeout(stats_timeout_t kind)
{
    atomic_fetch_add_explicit(&g_stats->timeouts[kind], 1, memory_order_relaxed);
}

/* A workload request was parsed and is now waiting for its answer. */
void stats_request_begin(void);

/* Its response is on its way (answered = 1), or the connection died first (answered = 0). */
static inline void stats_request_end(int answered)
{
    atomic_fetch_sub_explicit(&g_stats->inflight, 1, memory_order_relaxed);
    if (answered)
        atomic_fetch_add_explicit(&g_stats->requests, 1, memory_order_relaxed);
}

/* Writes the /__stats JSON document into buf; returns its length, or -1 if it does not fit. */
int stats_to_json(char *buf, size_t cap);

#endif
