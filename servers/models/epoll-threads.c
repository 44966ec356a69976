/* epoll-threads model: --threads N (default: one per CPU) event loops in one process, one per
 * thread, each with its own SO_REUSEPORT listener, epoll set, timers and counters. The kernel
 * spreads connections over the listeners and a connection stays with its loop for life: nothing
 * is shared between loops but the read-only responses and the server-wide counters (h2o's and
 * memcached's layout; Kegel's "serve many clients with each thread"). Unlike reuseport's
 * processes, all loops share one process's open-file limit. A stop signal lands on one thread;
 * the stop fd (signals.h) wakes the others. The main thread runs loop 0: N threads in all.
 * Build: c10k_loop epoll.c Threads::Threads */
#include "event_server.h"
#include "listener.h"
#include "server_init.h"
#include "signals.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const model_traits_t model = {
    .name = "epoll-threads", .rank = 115, .driver = "readiness loop", .mechanism = "epoll x threads, SO_REUSEPORT",
    .description = "--threads epoll loops in one process, one per thread, each with its own SO_REUSEPORT listener",
    .uses = MODEL_USES_THREADS, .loop_per_thread = true,
};

typedef struct loop_thread {
    pthread_t tid;
    int listen_fd;
    stats_t *stats;
    const server_options_t *opts;
    int status;
} loop_thread_t;

static void *run_loop(void *arg)
{
    loop_thread_t *t = arg;
    t->status = event_server_run(t->listen_fd, t->opts, t->stats, false);
    if (t->status != 0)
        signals_request_stop(); /* one loop failed: stop the server rather than serve with a hole */
    return NULL;
}

int main(int argc, char **argv)
{
    server_options_t opts;
    server_stats_t *stats;
    if (server_init(argc, argv, &model, &opts, &stats) != 0)
        return 1;
    unsigned n = opts.threads;
    int *fds = malloc(n * sizeof *fds);
    loop_thread_t *loops = calloc(n, sizeof *loops);
    if (!fds || !loops) {
        perror("loops");
        return 1;
    }
    int rc = listener_open_reuseport(&opts, model.name, n, fds);
    if (rc != 0)
        return listener_exit_status(rc);
    if (signals_init(-1) != 0 || signals_stop_fd() < 0) /* made once, before the loops' threads */
        return 1;
    for (unsigned i = 0; i < n; i++)
        loops[i] = (loop_thread_t){.listen_fd = fds[i], .stats = stats_instance(stats, i), .opts = &opts};
    unsigned started = 1; /* loop 0 is this thread's */
    for (; started < n; started++) {
        if ((rc = pthread_create(&loops[started].tid, NULL, run_loop, &loops[started])) != 0) {
            fprintf(stderr, "server-%s: starting loop thread %u of %u: %s\n", model.name, started + 1, n,
                    strerror(rc));
            signals_request_stop(); /* the loops already started end at once */
            break;
        }
    }
    int status = started == n ? event_server_run(fds[0], &opts, loops[0].stats, true) : 1;
    if (status != 0)
        signals_request_stop();
    for (unsigned i = 1; i < started; i++) {
        pthread_join(loops[i].tid, NULL);
        status |= loops[i].status;
    }
    for (unsigned i = started; i < n; i++)
        close(fds[i]); /* never served */
    if (started < n)
        close(fds[0]);
    free(loops);
    free(fds);
    stats_destroy(stats);
    return status;
}
