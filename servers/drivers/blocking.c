/* The blocking driver of the session contract (session.h): this thread waits in poll() on its one
 * socket for what the session wants, or for its deadline (a delay or a timeout). The socket is
 * non-blocking so a write never hangs on a peer that stopped reading: the write timeout holds. */
#include "blocking.h"

#include "clock.h"
#include "listener.h"
#include "server_init.h"
#include "session.h"
#include "signals.h"
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void read_some(int fd, session_t *s)
{
    size_t avail;
    char *space = session_in_space(s, &avail);
    if (avail == 0)
        return; /* out of memory: the session closes */
    ssize_t n = read(fd, space, avail);
    if (n > 0)
        session_in_added(s, (size_t)n);
    else if (n == 0)
        session_in_eof(s);
    else if (errno != EAGAIN && errno != EINTR)
        session_io_failed(s);
}

static int poll_timeout_ms(uint64_t deadline, uint64_t now)
{
    if (deadline == 0)
        return -1;
    uint64_t ms = (deadline - now + 999999) / 1000000; /* round up: waking early would only spin */
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

static void drive(int fd, session_t *s)
{
    for (;;) {
        uint64_t now = now_ns();
        session_want_t w = session_next(s, now);
        if (w.close)
            return;
        if (w.write) {
            flush_result_t r = session_flush(s, fd, now);
            if (r != FLUSH_AGAIN)
                continue; /* written, or failed (the session closes) */
        }
        if (w.shut_write) {
            session_shut_write(s, fd, now);
            continue;
        }
        if (w.deadline_ns && now >= w.deadline_ns) {
            session_timer(s, fd, now);
            continue;
        }
        struct pollfd pfd = {.fd = fd, .events = (short)((w.read ? POLLIN : 0) | (w.write ? POLLOUT : 0))};
        int rc = poll(&pfd, 1, poll_timeout_ms(w.deadline_ns, now));
        if (g_stop)
            return;
        if (rc < 0) {
            if (errno != EINTR)
                session_io_failed(s);
            continue;
        }
        if (rc == 0)
            session_timer(s, fd, now_ns());
        else if (w.read && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
            read_some(fd, s);
        else if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
            session_io_failed(s); /* reset or hung up: nothing can be delivered any more */
    }
}

void serve_connection_blocking(int fd, const server_options_t *opts, stats_t *stats, uint64_t accepted_ns)
{
    session_t *s = malloc(sizeof *s);
    int flags = fcntl(fd, F_GETFL);
    if (!s || flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        stats_error(stats, ERR_IO);
        free(s);
        close(fd);
        return;
    }
    session_init(s, opts, stats, accepted_ns);
    drive(fd, s);
    session_end(s);
    free(s);
    close(fd);
}

void serve_in_turn(acceptor_t *acc, const server_options_t *opts)
{
    int fd;
    while ((fd = acceptor_next_blocking(acc)) >= 0) {
        if (!acceptor_admit(acc, fd, opts->max_conns, LONG_MAX))
            continue;
        signals_watch_conn(fd); /* a stop request now also ends this connection */
        if (!g_stop)
            serve_connection_blocking(fd, opts, acc->stats, now_ns());
        else
            close(fd);
        signals_watch_conn(-1);
        stats_conn_closed(acc->stats);
    }
}

int blocking_server_open(int argc, char **argv, const model_traits_t *m, server_options_t *opts,
                         server_stats_t **stats, int *lfd, acceptor_t *acc)
{
    if (server_init(argc, argv, m, opts, stats) != 0)
        return 1;
    if ((*lfd = listener_open(opts, m->name, false)) < 0)
        return listener_exit_status(*lfd);
    if (signals_init(acc ? *lfd : -1) != 0)
        return 1;
    if (acc)
        acceptor_init(acc, *lfd, 0, stats_instance(*stats, 0));
    return 0;
}
