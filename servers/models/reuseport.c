/* reuseport model: --workers W processes (default: one per CPU), each an epoll event loop with
 * its own SO_REUSEPORT listener on the same port, the kernel spreading connections over them
 * (nginx's layout). Each worker has its own open-file limit, so the server as a whole holds W
 * times what one process can. The master binds every listener before it forks, keeps them for
 * workers it replaces, and only supervises (core/workers.c); /__stats totals all workers.
 * Build: c10k_loop epoll.c */
#include "event_server.h"
#include "listener.h"
#include "server_init.h"
#include "signals.h"
#include "workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const model_traits_t model = {
    .name = "reuseport", .rank = 110, .driver = "readiness loop", .mechanism = "epoll x workers, SO_REUSEPORT",
    .description = "--workers processes, each an epoll loop with its own SO_REUSEPORT listener (nginx's layout)",
    .uses = MODEL_USES_WORKERS,
};

static server_options_t opts;
static server_stats_t *stats; /* made before the fork: one block per worker, all in one mapping */
static int *listeners; /* one per worker, by index */

static int serve(unsigned index, void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < opts.workers; i++) /* the others' queues are not ours to drain */
        if (i != index)
            close(listeners[i]);
    return event_server_run(listeners[index], &opts, stats_instance(stats, index), false);
}

int main(int argc, char **argv)
{
    if (server_init(argc, argv, &model, &opts, &stats) != 0)
        return 1;
    listeners = malloc(opts.workers * sizeof *listeners);
    if (!listeners) {
        perror("listeners");
        return 1;
    }
    int rc = listener_open_reuseport(&opts, model.name, opts.workers, listeners);
    if (rc != 0)
        return listener_exit_status(rc);
    if (signals_init(-1) != 0)
        return 1;
    if (workers_start(opts.workers, serve, NULL, stats) != 0)
        return 1;
    if (listener_announce(listeners[0]) != 0)
        return 1;
    workers_supervise();
    for (unsigned i = 0; i < opts.workers; i++)
        close(listeners[i]);
    free(listeners);
    return 0;
}
