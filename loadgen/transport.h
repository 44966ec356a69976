/* A connection's transport: how it connects, reads, writes and closes. The state machine in conn.c
 * calls nothing else on a connection, so another transport (TLS, an io_uring engine) is a new
 * file beside transport_tcp.c, not a change to the machine.
 *
 * read and write keep recv()'s and send()'s contract: the bytes moved, 0 when the peer closed
 * (read), or -1 with errno; EAGAIN means "call again once the connection is ready", so a
 * transport that has to wait for its own reasons (TLS wanting to read before it can write)
 * says EAGAIN as a socket would. */
#ifndef LG_TRANSPORT_H
#define LG_TRANSPORT_H
#include <sys/types.h>

#include "counts.h"

struct lg_thread;
struct lg_conn;

typedef struct lg_transport {
    const char *name;
    /* Makes c->fd, registers it with the thread's event loop (readable and writable, edge-
     * triggered, data = c) and starts connecting. Returns 0 once connected, EINPROGRESS when the
     * connection reports writable once connected, or an errno value, with *cls telling a connect
     * failure (LG_ERR_CONNECT) from a local one (LG_ERR_EXCEPTION). c->fd is >= 0 on return
     * whenever a socket was made, failure included: the caller closes it. */
    int (*connect)(struct lg_thread *t, struct lg_conn *c, enum lg_err *cls);
    /* Why a connect in progress failed (the event loop reported an error or a hang-up). */
    int (*connect_error)(struct lg_conn *c);
    ssize_t (*read)(struct lg_conn *c, void *buf, size_t len);
    ssize_t (*write)(struct lg_conn *c, const void *buf, size_t len);
    /* Releases c->fd (the caller marks it closed). */
    void (*close)(struct lg_conn *c);
} lg_transport;

/* Makes c->fd: a TCP socket (type_flags: SOCK_NONBLOCK or 0) with TCP_NODELAY, bound to c's
 * --source address if any. 0 or an errno value, *cls as for connect. Every TCP-based transport
 * starts here. */
int lg_tcp_socket(struct lg_thread *t, struct lg_conn *c, int type_flags, enum lg_err *cls);

/* Plain TCP: a non-blocking socket, TCP_NODELAY, an optional --source address, connect(). */
extern const lg_transport lg_transport_tcp;
/* TCP through io_uring (engine_uring.c): reads return what the ring's receives completed. */
extern const lg_transport lg_transport_uring;

#endif
