#include "acceptor.h"

#include "response.h"
#include "signals.h"
#include "work.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static int open_reserve(void)
{
    return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void acceptor_init(acceptor_t *a, int listen_fd, int accept_flags, stats_t *stats)
{
    a->stats = stats;
    a->listen_fd = listen_fd;
    a->accept_flags = accept_flags | SOCK_CLOEXEC;
    a->starved = false;
    a->reserve_fd = open_reserve();
    if (a->reserve_fd < 0)
        perror("open(/dev/null) for the reserve fd");
}

void acceptor_close(acceptor_t *a)
{
    if (a->reserve_fd >= 0)
        close(a->reserve_fd);
    a->reserve_fd = -1;
}

/* At EMFILE the pending connection would make the listener readable forever: give up the reserve
 * fd, accept the connection and close it at once, then take the reserve back (libuv does this). */
static accept_result_t shed_one(acceptor_t *a)
{
    if (a->reserve_fd < 0) {
        a->reserve_fd = open_reserve();
        return ACCEPT_BACKOFF;
    }
    /* Linux reports EMFILE before looking at the queue: shed only what is really pending, and
     * never block in accept() (the listener may be a blocking socket). */
    struct pollfd pfd = {.fd = a->listen_fd, .events = POLLIN};
    if (poll(&pfd, 1, 0) <= 0)
        return ACCEPT_BACKOFF;
    close(a->reserve_fd);
    a->reserve_fd = -1;
    int fd;
    do
        fd = accept(a->listen_fd, NULL, NULL);
    while (fd < 0 && errno == EINTR);
    if (fd >= 0) {
        stats_conn_accepted(a->stats);
        close(fd);
        stats_error(a->stats, ERR_REFUSED);
    }
    a->reserve_fd = open_reserve();
    if (fd < 0 || a->reserve_fd < 0)
        return ACCEPT_BACKOFF;
    return ACCEPT_RETRY;
}

/* Linux reports EMFILE on every accept() while the process is at its limit, pending connection
 * or not: a server sitting at the limit would count hundreds of errors a second. */
static void count_starvation(acceptor_t *a)
{
    if (!a->starved)
        stats_error(a->stats, ERR_ACCEPT);
    a->starved = true;
}

accept_result_t acceptor_accept(acceptor_t *a, int *fd_out)
{
    int fd = accept4(a->listen_fd, NULL, NULL, a->accept_flags);
    if (fd >= 0) {
        a->starved = false;
        int one = 1;
        /* Small responses must leave at once, not wait for the previous one's ACK (Nagle). */
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 && errno != EINVAL &&
            errno != ECONNRESET)
            perror("setsockopt(TCP_NODELAY)");
        stats_conn_accepted(a->stats);
        *fd_out = fd;
        return ACCEPT_OK;
    }
    switch (errno) {
    case EAGAIN:
        return ACCEPT_EMPTY;
    case EINTR:
    case EINVAL: /* the stop handler shut the listener down */
        return ACCEPT_INTERRUPTED;
    case EMFILE:
    case ENFILE:
        count_starvation(a);
        return shed_one(a);
    case ENOBUFS:
    case ENOMEM:
        count_starvation(a);
        return ACCEPT_BACKOFF;
    default:
        /* ECONNABORTED, EPROTO, EPERM (firewall) and the network errors accept(2) passes on
         * concern one connection only. */
        stats_error(a->stats, ERR_ACCEPT);
        return ACCEPT_RETRY;
    }
}

void refusal_send(int fd)
{
    const char *msg;
    size_t len = response_refusal(&msg);
    /* Best effort: never block here, and never let a vanished peer raise SIGPIPE. */
    ssize_t n = send(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)n;
    shutdown(fd, SHUT_WR);
}

void refuse_connection(stats_t *stats, int fd, stats_error_t why)
{
    /* Counted before the client can see the answer: a client that got its 503 and asks /__stats
     * (perhaps of another worker process) finds the refusal counted. */
    stats_error(stats, why);
    refusal_send(fd);
    close(fd);
}

bool acceptor_admit(acceptor_t *a, int fd, unsigned max_conns, long fd_limit)
{
    if (fd >= fd_limit || (max_conns > 0 && stats_active(a->stats) >= (int64_t)max_conns)) {
        refuse_connection(a->stats, fd, ERR_REFUSED);
        return false;
    }
    stats_conn_opened(a->stats);
    return true;
}

accept_result_t acceptor_drain(acceptor_t *a, int batch, unsigned max_conns, long fd_limit,
                               void (*take)(int fd, void *ctx), void *ctx)
{
    for (int i = 0; i < batch; i++) {
        int fd;
        switch (acceptor_accept(a, &fd)) {
        case ACCEPT_OK:
            if (acceptor_admit(a, fd, max_conns, fd_limit))
                take(fd, ctx);
            break;
        case ACCEPT_RETRY:
        case ACCEPT_INTERRUPTED:
            break;
        case ACCEPT_EMPTY:
            return ACCEPT_EMPTY;
        case ACCEPT_BACKOFF:
            return ACCEPT_BACKOFF;
        }
    }
    return ACCEPT_OK;
}

/* Blocks until a connection is pending (or the stop handler shuts the listener down), so that
 * accept() is not retried blindly while nothing could be accepted. */
static void wait_pending(acceptor_t *a)
{
    struct pollfd pfd = {.fd = a->listen_fd, .events = POLLIN};
    while (!g_stop && poll(&pfd, 1, -1) < 0 && errno == EINTR) {
    }
}

int acceptor_next_blocking(acceptor_t *a)
{
    while (!g_stop) {
        int fd;
        switch (acceptor_accept(a, &fd)) {
        case ACCEPT_OK:
            return fd;
        case ACCEPT_BACKOFF:
            if (work_sleep_ns((uint64_t)ACCEPT_BACKOFF_MS * 1000000u) == 0)
                wait_pending(a);
            break;
        default:
            break;
        }
    }
    return -1;
}
