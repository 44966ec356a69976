/* The plain TCP transport (transport.h): a non-blocking socket, an optional source address,
 * connect(); then recv() and send(). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"
#include "worker.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* Binds fd to this connection's --source address; returns 0 or an errno value. */
static int bind_source(const lg_options *o, const lg_conn *c, int fd)
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

int lg_tcp_socket(lg_thread *t, lg_conn *c, int type_flags, enum lg_err *cls)
{
    const lg_shared *sh = t->sh;
    *cls = LG_ERR_EXCEPTION;
    int fd = socket(sh->target.ss_family, SOCK_STREAM | SOCK_CLOEXEC | type_flags, IPPROTO_TCP);
    if (fd < 0)
        return errno;
    c->fd = fd;
    int one = 1;
    /* Requests are written whole; Nagle would only delay them. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        return errno;
    if (sh->o->nsources) {
        int e = bind_source(sh->o, c, fd);
        if (e) {
            *cls = LG_ERR_CONNECT;
            return e;
        }
    }
    return 0;
}

static int tcp_connect(lg_thread *t, lg_conn *c, enum lg_err *cls)
{
    const lg_shared *sh = t->sh;
    int e = lg_tcp_socket(t, c, SOCK_NONBLOCK, cls);
    if (e)
        return e;
    int fd = c->fd;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return errno;
    if (connect(fd, (const struct sockaddr *)&sh->target, sh->target_len) == 0)
        return 0;
    if (errno == EINPROGRESS || errno == EINTR)
        return EINPROGRESS; /* EINTR: the connect goes on asynchronously, like EINPROGRESS */
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        return errno;
    *cls = LG_ERR_CONNECT;
    return errno;
}

static int tcp_connect_error(lg_conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    return err ? err : ECONNREFUSED;
}

/* recv/send skip the VFS layer that read/write go through: cheaper per request. */
static ssize_t tcp_read(lg_conn *c, void *buf, size_t len)
{
    return recv(c->fd, buf, len, 0);
}

static ssize_t tcp_write(lg_conn *c, const void *buf, size_t len)
{
    return send(c->fd, buf, len, MSG_NOSIGNAL);
}

static void tcp_close(lg_conn *c)
{
    /* close() removes the fd from epoll; EINTR on close must not be retried on Linux. */
    close(c->fd);
}

/* No handshake, nothing shared to set up: the optional ops stay NULL. */
const lg_transport lg_transport_tcp = {.name = "tcp", .connect = tcp_connect,
                                       .connect_error = tcp_connect_error, .read = tcp_read,
                                       .write = tcp_write, .close = tcp_close};
