/* uring model: one process, one io_uring, completion-based: multishot accept and receive, sends
 * and the wake-up for the earliest deadline batched per io_uring_enter. The driver is
 * drivers/uring_server.c.
 * Build: c10k_uring_driver PkgConfig::LIBURING */
#include "listener.h"
#include "server_init.h"
#include "signals.h"
#include "uring_server.h"

static const model_traits_t model = {
    .name = "uring", .rank = 120, .driver = "io_uring", .mechanism = "io_uring (multishot accept/recv)",
    .description = "one process, one io_uring: multishot accept and receive, sends and timeouts batched per enter",
};

int main(int argc, char **argv)
{
    server_options_t opts;
    server_stats_t *stats;
    if (server_init(argc, argv, &model, &opts, &stats) != 0)
        return 1;
    int status;
    uring_server_t *srv = uring_server_new(model.name, &status);
    if (!srv)
        return status;
    int lfd = listener_open(&opts, model.name, true);
    if (lfd < 0)
        return listener_exit_status(lfd);
    if (signals_init(-1) != 0)
        return 1;
    return uring_server_serve(srv, lfd, &opts, stats_instance(stats, 0));
}
