/* Prefork model: --workers N processes forked up front, each a blocking accept loop on the one
 * shared listener, serving one connection at a time (Apache prefork). At most N requests are in
 * flight: flat at N/D past C = N. The master only supervises (core/workers.c).
 * Build: c10k_blocking */
#include "acceptor.h"
#include "blocking.h"
#include "listener.h"
#include "signals.h"
#include "workers.h"

#include <unistd.h>

static const model_traits_t model = {
    .name = "prefork", .rank = 100, .driver = "blocking", .mechanism = "accept/read/write",
    .description = "--workers processes forked up front, each a blocking accept loop on the shared listener",
    .inflight = INFLIGHT_WORKERS, .uses = MODEL_USES_WORKERS, .default_workers = 64,
};

static server_options_t opts;
static server_stats_t *stats;

static int serve(unsigned index, void *arg)
{
    int lfd = *(int *)arg;
    if (signals_init(lfd) != 0) /* a stop shuts the shared listener: every worker's accept() returns */
        return 1;
    acceptor_t acc;
    acceptor_init(&acc, lfd, 0, stats_instance(stats, index)); /* each worker its own counters */
    serve_in_turn(&acc, &opts); /* the blocking model, in each worker */
    acceptor_close(&acc);
    return 0;
}

int main(int argc, char **argv)
{
    int lfd, rc;
    if ((rc = blocking_server_open(argc, argv, &model, &opts, &stats, &lfd, NULL)) != 0)
        return rc;
    if (workers_start(opts.workers, serve, &lfd, stats) != 0)
        return 1;
    if (listener_announce(lfd) != 0)
        return 1;
    workers_supervise();
    close(lfd);
    return 0;
}
