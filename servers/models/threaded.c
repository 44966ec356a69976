/* Threaded model: one detached thread per connection, each running the blocking driver.
 * Build: c10k_blocking Threads::Threads */
#include "acceptor.h"
#include "blocking.h"
#include "clock.h"
#include "listener.h"
#include "signals.h"
#include "stats.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Small stacks so that thousands of connections fit: the driver keeps its buffers on the heap. */
#define THREAD_STACK_BYTES (256 * 1024)

static const model_traits_t model = {
    .name = "threaded", .rank = 20, .driver = "blocking", .mechanism = "accept/read/write",
    .description = "one thread per connection (pthread_create), each blocking on its own socket",
    .task_per_connection = TASK_THREAD,
};

static server_options_t opts;
static stats_t *counters; /* one instance: the acceptor and every connection thread */

static void *connection_thread(void *arg)
{
    serve_connection_blocking((int)(intptr_t)arg, &opts, counters, now_ns());
    stats_conn_closed(counters);
    return NULL;
}

static void init_attr(pthread_attr_t *attr)
{
    sigset_t stop;
    signals_stop_set(&stop);
    int rc = pthread_attr_init(attr);
    if (rc == 0)
        rc = pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
    if (rc == 0)
        rc = pthread_attr_setstacksize(attr, THREAD_STACK_BYTES);
    /* Stop signals go to the accepting thread only; workers just end with the process. */
    if (rc == 0)
        rc = pthread_attr_setsigmask_np(attr, &stop);
    if (rc != 0) {
        fprintf(stderr, "server-threaded: pthread attributes: %s\n", strerror(rc));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    server_stats_t *stats;
    int lfd, rc;
    acceptor_t acc;
    if ((rc = blocking_server_open(argc, argv, &model, &opts, &stats, &lfd, &acc)) != 0)
        return rc;
    counters = acc.stats;
    pthread_attr_t attr;
    init_attr(&attr);
    if (listener_announce(lfd) != 0)
        return 1;

    int fd;
    while ((fd = acceptor_next_blocking(&acc)) >= 0) {
        if (!acceptor_admit(&acc, fd, opts.max_conns, LONG_MAX))
            continue;
        pthread_t tid;
        if (pthread_create(&tid, &attr, connection_thread, (void *)(intptr_t)fd) != 0) {
            stats_conn_closed(counters);
            refuse_connection(counters, fd, ERR_SPAWN);
        }
    }
    /* Connection threads die with the process; the listener is closed first so no client is
     * left waiting in the backlog. */
    close(lfd);
    acceptor_close(&acc);
    pthread_attr_destroy(&attr);
    return 0;
}
