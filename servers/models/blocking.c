/* Blocking model: one connection at a time, served to the end before the next accept().
 * Build: c10k_blocking */
#include "acceptor.h"
#include "blocking.h"
#include "listener.h"

#include <unistd.h>

static const model_traits_t model = {
    .name = "blocking", .rank = 10, .driver = "blocking", .mechanism = "accept/read/write",
    .description = "one connection at a time, served to its end before the next accept()",
    .inflight = INFLIGHT_ONE,
};

int main(int argc, char **argv)
{
    server_options_t opts;
    server_stats_t *stats;
    int lfd, rc;
    acceptor_t acc;
    if ((rc = blocking_server_open(argc, argv, &model, &opts, &stats, &lfd, &acc)) != 0)
        return rc;
    if (listener_announce(lfd) != 0)
        return 1;

    serve_in_turn(&acc, &opts);
    acceptor_close(&acc);
    close(lfd);
    return 0;
}
