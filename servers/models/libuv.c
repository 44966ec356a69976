/* libuv model: one process, one libuv loop; the driver (drivers/uv_server.c) applies the shared
 * session's wants with uv_tcp streams and the connections' deadlines in one heap behind one uv_timer.
 * Build: c10k_uv_driver PkgConfig::LIBUV */
#include "listener.h"
#include "server_init.h"
#include "signals.h"
#include "uv_server.h"

static const model_traits_t model = {
    .name = "libuv", .rank = 60, .driver = "libuv", .mechanism = "libuv (epoll underneath)",
    .description = "one process, one libuv loop: uv_tcp streams, the connections' deadlines in one heap behind one uv_timer, over the shared session contract",
};

int main(int argc, char **argv)
{
    server_options_t opts;
    server_stats_t *stats;
    if (server_init(argc, argv, &model, &opts, &stats) != 0)
        return 1;
    int lfd = listener_open(&opts, model.name, true);
    if (lfd < 0)
        return listener_exit_status(lfd);
    if (signals_init(-1) != 0) /* SIGPIPE ignored; uv_signal takes SIGINT/SIGTERM over */
        return 1;
    return uv_server_serve(lfd, &opts, stats_instance(stats, 0));
}
