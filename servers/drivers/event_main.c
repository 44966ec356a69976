/* main() of the single-process readiness-loop models (select, poll, epoll, ...): the model's file
 * is the backend (backend.h) and names the model (backend_model). */
#include "backend.h"
#include "event_server.h"
#include "listener.h"
#include "server_init.h"
#include "signals.h"

int main(int argc, char **argv)
{
    server_options_t opts;
    server_stats_t *stats;
    if (server_init(argc, argv, &backend_model, &opts, &stats) != 0)
        return 1;
    int lfd = listener_open(&opts, backend_model.name, true);
    if (lfd < 0)
        return listener_exit_status(lfd);
    if (signals_init(-1) != 0)
        return 1;
    return event_server_run(lfd, &opts, stats_instance(stats, 0), true);
}
