/* What a concurrency model is and which limits bind it, declared once in the model's own file
 * (a `const model_traits_t`) and printed by `server-MODEL --describe`. Scripts and tests discover
 * the models from the binaries and these descriptions instead of keeping lists of names. */
#ifndef C10K_DESCRIBE_H
#define C10K_DESCRIBE_H

#include "options.h"

#include <stdbool.h>

/* Model-specific flags a model accepts; a model given one it does not take refuses to start. */
enum { MODEL_USES_THREADS = 1u, MODEL_USES_WORKERS = 2u };

/* What spawns per connection (a thread or a process): pid_max and threads-max cap those models. */
typedef enum model_task { TASK_NONE, TASK_THREAD, TASK_PROCESS } model_task_t;

/* How many requests the model can have in flight at once, by design. */
typedef enum model_inflight {
    INFLIGHT_CONNECTIONS, /* one per open connection: as many as it holds */
    INFLIGHT_ONE,         /* one connection at a time */
    INFLIGHT_THREADS,     /* one per worker thread (--threads) */
    INFLIGHT_WORKERS,     /* one per worker process (--workers) */
} model_inflight_t;

typedef struct model_traits {
    const char *name;        /* the binary is server-<name> */
    unsigned rank;           /* place in the C10K story (blocking first): listings sort by it */
    const char *description; /* one line */
    const char *driver;      /* how connections are driven: "blocking", "readiness loop", "libuv", "io_uring" */
    const char *mechanism;   /* the system interface that waits: "accept/read", "select", "epoll", ... */
    model_task_t task_per_connection;
    model_inflight_t inflight;
    unsigned uses;           /* MODEL_USES_* */
    long watch_fd_limit;     /* fds the wait mechanism can watch (FD_SETSIZE for select), 0 = no own limit */
    bool edge_triggered;     /* readiness is reported once per change: read and write until EAGAIN */
    unsigned default_threads; /* 0 with MODEL_USES_THREADS: one per online CPU */
    unsigned default_workers; /* 0 with MODEL_USES_WORKERS: one per online CPU */
    bool loop_per_thread;    /* --threads independent event loops, one per thread */
} model_traits_t;

/* Worker processes the model runs with these options (1 for single-process models). */
unsigned model_processes(const model_traits_t *m, const server_options_t *opts);

/* Serving instances, each with its own listener and counters: one per worker process or per
 * loop thread, else 1. */
unsigned model_instances(const model_traits_t *m, const server_options_t *opts);

/* Prints the description as one JSON object on stdout; returns 0, or -1 if it could not. */
int describe_print(const model_traits_t *m, const server_options_t *opts);

#endif
