#include "blocking_conn.h"

#include "session.h"
#include "signals.h"
#include "stats.h"
#include "work.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINGER_MS 500
#define LINGER_BYTES (256 * 1024)

void linger_close_blocking(int fd)
{
    if (shutdown(fd, SHUT_WR) == 0) {
        uint64_t deadline = now_ns() + (uint64_t)LINGER_MS * 1000000u;
        size_t dropped = 0;
        char buf[4096];
        while (dropped < LINGER_BYTES && !g_stop) {
            uint64_t now = now_ns();
            if (now >= deadline)
                break;
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            int rc = poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000));
            if (rc < 0 && errno == EINTR)
                continue;
            if (rc <= 0)
                break;
            ssize_t n = read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            dropped += (size_t)n;
        }
    }
    close(fd);
}

/* Returns false when the connection is over (EOF is recorded in the session, not here). */
static bool read_more(int fd, session_t *s)
{
    size_t avail;
    char *space = session_in_space(s, &avail);
    for (;;) {
        ssize_t n = read(fd, space, avail);
        if (n > 0) {
            session_in_added(s, (size_t)n);
            return true;
        }
        if (n == 0) {
            s->peer_eof = true;
            return true;
        }
        if (errno == EINTR && !g_stop)
            continue;
        if (errno != EINTR)
            stats_error(ERR_IO);
        return false;
    }
}

void serve_connection_blocking(int fd, const server_options_t *opts)
{
    session_t *s = malloc(sizeof *s);
    if (!s) {
        stats_error(ERR_IO);
        close(fd);
        return;
    }
    session_init(s, opts);
    bool linger = false;
    for (;;) {
        session_step_t step = session_advance(s);
        if (outq_flush(&s->out, fd) != FLUSH_DONE) {
            stats_error(ERR_IO);
            break;
        }
        if (step == SESSION_CLOSE) {
            linger = s->linger;
            break;
        }
        if (step == SESSION_DELAY) {
            if (work_sleep_ns(s->pending.delay_ns) != 0)
                break;
            session_delay_done(s);
        } else if (step == SESSION_READ) {
            if (!read_more(fd, s))
                break;
        }
    }
    session_abandon(s);
    free(s);
    if (linger)
        linger_close_blocking(fd);
    else
        close(fd);
}
