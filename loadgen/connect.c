/* Opening a connection: a non-blocking socket, an optional source address, connect(). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "worker.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

void conn_connected(lg_thread *t, conn *c, uint64_t now)
{
    c->connected = 1;
    c->backoff_level = 0;
    c->t_connected = now;
    /* The request's -s clock starts now; the connect had its own timeout. */
    lg_timer_add(&t->timers, &c->timer, now + t->sh->timeout_us);
    if (c->counted)
        t->counts.connections_opened++;
    if (!atomic_load_explicit(&t->sh->ever_connected, memory_order_relaxed))
        atomic_store(&t->sh->ever_connected, 1);
    c->written = 0;
    conn_write_request(t, c, now);
}

/* Binds fd to this connection's --source address; returns 0 or an errno value. */
static int bind_source(const lg_options *o, const conn *c, int fd)
{
    int one = 1;
    /* Delay the port choice to connect() so each source address has its own port range. */
    if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) < 0)
        return errno;
    const struct sockaddr_storage *src = &o->sources[c->gidx % o->nsources];
    socklen_t sl = src->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
    return bind(fd, (const struct sockaddr *)src, sl) < 0 ? errno : 0;
}

void conn_open(lg_thread *t, conn *c, uint64_t now)
{
    lg_shared *sh = t->sh;
    const lg_options *o = sh->o;
    int fd = socket(sh->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
        conn_apply(t, c, outcome_fail(t, c, LG_ERR_EXCEPTION, errno, NULL, now), now);
        return;
    }
    c->fd = fd;
    c->connected = 0;
    t->open_socks++;
    t->connect_budget--;
    lg_timer_add(&t->connect_timers, &c->timer, now + sh->connect_timeout_us);
    int one = 1;
    /* Requests are written whole; Nagle would only delay them. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        conn_apply(t, c, outcome_fail(t, c, LG_ERR_EXCEPTION, errno, NULL, now), now);
        return;
    }
    if (o->nsources) {
        int e = bind_source(o, c, fd);
        if (e) {
            conn_apply(t, c, outcome_fail(t, c, LG_ERR_CONNECT, e, NULL, now), now);
            return;
        }
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        conn_apply(t, c, outcome_fail(t, c, LG_ERR_EXCEPTION, errno, NULL, now), now);
        return;
    }
    int rc = connect(fd, (const struct sockaddr *)&sh->target, sh->target_len);
    if (rc == 0) {
        conn_connected(t, c, now);
    } else if (errno == EINPROGRESS || errno == EINTR) {
        /* EINTR: the connect goes on asynchronously, like EINPROGRESS. */
        c->state = C_CONNECTING;
    } else if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        conn_apply(t, c, outcome_fail(t, c, LG_ERR_EXCEPTION, errno, NULL, now), now);
    } else {
        conn_apply(t, c, outcome_fail(t, c, LG_ERR_CONNECT, errno, NULL, now), now);
    }
}
