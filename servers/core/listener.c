#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int listener_open(const server_options_t *opts, const char *model, bool nonblocking)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[8];
    snprintf(port, sizeof port, "%u", opts->port);
    int rc = getaddrinfo(opts->host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "server-%s: cannot resolve --host '%s': %s\n", model, opts->host, gai_strerror(rc));
        return LISTENER_BAD_HOST;
    }
    int fd = -1, last_errno = 0;
    const char *step = "socket";
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        int type = ai->ai_socktype | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
        fd = socket(ai->ai_family, type, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno, step = "socket";
            continue;
        }
        int one = 1;
        /* Restarted benchmarks must not wait for TIME_WAIT on the port. */
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
            last_errno = errno, step = "setsockopt(SO_REUSEADDR)";
        } else if (opts->reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
            last_errno = errno, step = "setsockopt(SO_REUSEPORT)";
        } else if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            last_errno = errno, step = "bind";
        } else if (listen(fd, opts->backlog) != 0) {
            last_errno = errno, step = "listen";
        } else {
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "server-%s: cannot listen on %s:%u: %s: %s\n", model, opts->host, opts->port, step,
                strerror(last_errno));
        return -1;
    }
    return fd;
}

int listener_open_reuseport(server_options_t *opts, const char *model, unsigned n, int *fds)
{
    opts->reuse_port = true;
    for (unsigned i = 0; i < n; i++) {
        fds[i] = listener_open(opts, model, true);
        if (fds[i] >= 0 && i == 0 && (opts->port = listener_port(fds[0])) == 0) {
            close(fds[0]);
            fds[i] = -1;
        }
        if (fds[i] < 0) {
            int rc = fds[i];
            while (i-- > 0)
                close(fds[i]);
            return rc;
        }
    }
    return 0;
}

unsigned listener_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        perror("getsockname");
        return 0;
    }
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

int listener_announce(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        perror("getsockname");
        return -1;
    }
    char host[INET6_ADDRSTRLEN];
    unsigned port;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        port = ntohs(s6->sin6_port);
        printf("listening on [%s]:%u\n", host, port);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        port = ntohs(s4->sin_port);
        printf("listening on %s:%u\n", host, port);
    }
    if (fflush(stdout) != 0) {
        perror("stdout");
        return -1;
    }
    return 0;
}
