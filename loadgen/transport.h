/* A connection's transport: how it connects, reads, writes and closes. The state machine in conn.c
 * calls nothing else on a connection, so another transport (TLS, an io_uring engine) is a new
 * file beside transport_tcp.c, not a change to the machine.
 *
 * read and write keep recv()'s and send()'s contract: the bytes moved, 0 when the peer closed
 * (read), or -1 with errno; EAGAIN means "call again once the connection is ready", so a
 * transport that has to wait for its own reasons (TLS wanting to read before it can write)
 * says EAGAIN as a socket would.
 *
 * A transport that must talk before the first request (TLS) has a handshake op; conn.c runs it
 * between the TCP connect and the request, and counts and times it without knowing what it is. */
#ifndef LG_TRANSPORT_H
#define LG_TRANSPORT_H
#include <sys/types.h>

#include "counts.h"

struct lg_thread;
struct lg_conn;
struct lg_shared;

/* What one handshake step says. */
enum lg_hs {
    LG_HS_DONE,     /* ready for requests: a full handshake */
    LG_HS_RESUMED,  /* ready for requests: the server resumed an earlier session */
    LG_HS_AGAIN,    /* waiting for the socket: call again on its next event */
    LG_HS_VERIFY,   /* failed: the peer's certificate did not verify */
    LG_HS_PROTOCOL, /* failed: the peer does not speak the protocol, or no common version/cipher */
    LG_HS_RESET,    /* failed: the peer closed or reset the connection during the handshake */
};

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
    /* NULL when none is needed. One step of the handshake on a connected c; on failure *err
     * gets an errno value (what the connect failure is counted as) and *what a message or NULL. */
    enum lg_hs (*handshake)(struct lg_conn *c, int *err, const char **what);
    /* NULL when none: what a finished handshake negotiated, for the report. */
    void (*describe)(const struct lg_conn *c, char *buf, size_t len);
    /* NULL when there is nothing to set up: the run's shared state (sh->tr_ctx), built once
     * before the threads start; 0, or -1 with a message in err. */
    int (*setup)(struct lg_shared *sh, char *err, size_t errlen);
    void (*teardown)(struct lg_shared *sh);
    /* NULL when none: frees a thread's own state (t->tr_state) once the thread stopped. */
    void (*thread_free)(struct lg_thread *t);
} lg_transport;

/* Makes c->fd: a TCP socket (type_flags: SOCK_NONBLOCK or 0) with TCP_NODELAY, bound to c's
 * --source address if any. 0 or an errno value, *cls as for connect. Every TCP-based transport
 * starts here. */
int lg_tcp_socket(struct lg_thread *t, struct lg_conn *c, int type_flags, enum lg_err *cls);

/* Plain TCP: a non-blocking socket, TCP_NODELAY, an optional --source address, connect(). */
extern const lg_transport lg_transport_tcp;
/* TLS over that TCP (OpenSSL): handshake in the event loop, SNI, ALPN http/1.1, resumption. */
extern const lg_transport lg_transport_tls;
struct lg_options;
/* Whether -Z, -f and --cacert are usable here (before any connection); 0, or -1 with a message. */
int lg_tls_check_options(const struct lg_options *o, char *err, size_t errlen);
/* TCP through io_uring (engine_uring.c): reads return what the ring's receives completed. */
extern const lg_transport lg_transport_uring;

#endif
