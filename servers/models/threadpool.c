/* Thread-pool model: a fixed pool of --threads N blocking workers behind a queue of accepted
 * connections (the Apache worker / Tomcat shape). The accepting thread only queues; each worker
 * serves one connection to its end, so at most N requests are in flight: flat at N/D past C = N.
 * Build: c10k_blocking Threads::Threads */
#include "acceptor.h"
#include "blocking.h"
#include "clock.h"
#include "listener.h"
#include "signals.h"
#include "stats.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKER_STACK_BYTES (256 * 1024) /* the driver keeps its buffers on the heap */

static const model_traits_t model = {
    .name = "threadpool", .rank = 90, .driver = "blocking", .mechanism = "accept/read/write",
    .description = "a fixed pool of --threads blocking workers behind a queue of accepted connections",
    .inflight = INFLIGHT_THREADS, .uses = MODEL_USES_THREADS, .default_threads = 64,
};

static server_options_t opts;

/* An accepted connection and when: its first head is timed from the accept, not the pickup. */
typedef struct queued {
    int fd;
    uint64_t accepted_ns;
} queued_t;

/* Accepted connections waiting for a worker: a ring that grows, guarded by one mutex. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t nonempty;
    queued_t *fds;
    size_t head, len, cap;
} queue = {.mu = PTHREAD_MUTEX_INITIALIZER, .nonempty = PTHREAD_COND_INITIALIZER};

static bool queue_push(queued_t q)
{
    pthread_mutex_lock(&queue.mu);
    bool ok = true;
    if (queue.len == queue.cap) {
        size_t cap = queue.cap ? queue.cap * 2 : 1024;
        queued_t *p = malloc(cap * sizeof *p);
        if (p) {
            for (size_t i = 0; i < queue.len; i++) /* unwrap the ring into the new array */
                p[i] = queue.fds[(queue.head + i) % queue.cap];
            free(queue.fds);
            queue.fds = p, queue.cap = cap, queue.head = 0;
        } else {
            ok = false;
        }
    }
    if (ok) {
        queue.fds[(queue.head + queue.len++) % queue.cap] = q;
        pthread_cond_signal(&queue.nonempty);
    }
    pthread_mutex_unlock(&queue.mu);
    return ok;
}

static queued_t queue_pop(void)
{
    pthread_mutex_lock(&queue.mu);
    while (queue.len == 0)
        pthread_cond_wait(&queue.nonempty, &queue.mu);
    queued_t q = queue.fds[queue.head];
    queue.head = (queue.head + 1) % queue.cap;
    queue.len--;
    pthread_mutex_unlock(&queue.mu);
    return q;
}

static void *worker(void *arg)
{
    stats_t *stats = arg; /* the acceptor's: the pool is one instance */
    for (;;) {
        queued_t q = queue_pop();
        serve_connection_blocking(q.fd, &opts, stats, q.accepted_ns);
        stats_conn_closed(stats);
    }
    return NULL;
}

/* Workers start with the stop signals blocked (they inherit the mask), so a stop lands on the
 * accepting thread; they end with the process. */
static int start_workers(unsigned n, stats_t *stats)
{
    pthread_attr_t attr;
    sigset_t stop, old;
    signals_stop_set(&stop);
    int rc = pthread_attr_init(&attr);
    if (rc == 0)
        rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (rc == 0)
        rc = pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
    if (rc == 0 && (rc = pthread_sigmask(SIG_BLOCK, &stop, &old)) == 0) {
        for (unsigned i = 0; rc == 0 && i < n; i++) {
            pthread_t tid;
            rc = pthread_create(&tid, &attr, worker, stats);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_attr_destroy(&attr);
    if (rc != 0)
        fprintf(stderr, "server-%s: starting %u worker threads: %s\n", model.name, n, strerror(rc));
    return rc;
}

int main(int argc, char **argv)
{
    server_stats_t *stats;
    int lfd, rc;
    acceptor_t acc;
    if ((rc = blocking_server_open(argc, argv, &model, &opts, &stats, &lfd, &acc)) != 0)
        return rc;
    if (start_workers(opts.threads, acc.stats) != 0)
        return 1;
    if (listener_announce(lfd) != 0)
        return 1;

    int fd;
    while ((fd = acceptor_next_blocking(&acc)) >= 0) {
        if (!acceptor_admit(&acc, fd, opts.max_conns, LONG_MAX))
            continue;
        if (!queue_push((queued_t){.fd = fd, .accepted_ns = now_ns()})) {
            stats_conn_closed(acc.stats);
            refuse_connection(acc.stats, fd, ERR_SPAWN);
        }
    }
    /* Workers die with the process; the listener is closed first so no client waits in the
     * backlog. Queued connections are closed by the exit. */
    close(lfd);
    acceptor_close(&acc);
    return 0;
}
