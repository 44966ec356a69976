/* The io_uring driver of the session contract (session.h): one ring, completion-based. The
 * listener has a multishot accept, each connection a multishot receive into a ring of provided
 * buffers and one send at a time. The sessions' deadlines (delays and timeouts) live in a heap
 * here, and the wait for completions ends at the earliest: one kernel timeout per connection would
 * cost O(n) whenever a deadline moves earlier (io_uring keeps its timeouts in a list sorted on
 * insertion), which at 10,000 delayed connections cost more than all the I/O. Everything prepared
 * while handling a batch of completions goes to the kernel in the next io_uring_enter, batched
 * across connections: the only way to spend less than one read and one write syscall per request.
 * The HTTP side is the shared session; this file only applies its wants. */
#include "uring_server.h"

#include "acceptor.h"
#include "clock.h"
#include "container_of.h"
#include "listener.h"
#include "session.h"
#include "signals.h"
#include "stats.h"
#include "timer_heap.h"

#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define RING_ENTRIES 4096
#define BUF_COUNT 1024  /* provided receive buffers, shared by all connections */
#define BUF_SIZE 4096
#define BUF_GROUP 1
#define UNAVAILABLE (-2)
#define ACCEPT_BACKOFF_NS (ACCEPT_BACKOFF_MS * 1000000ll)

/* What a completion is about: the low bits of its user_data (connections are 16-byte aligned). */
enum { OP_NONE, OP_RECV, OP_SEND, OP_ACCEPT, OP_ACCEPT_RETRY, OP_STOP, OP_KIND_MASK = 7 };

typedef struct conn {
    int fd;
    unsigned ops;       /* operations in flight that name this connection: freed at 0 once closing */
    bool recv_armed, sending, closing;
    heap_entry_t timer; /* the session's next deadline, in `timers` */
    char *spill;        /* received bytes the session had no room for yet */
    size_t spill_off, spill_len;
    struct msghdr msg;
    struct conn *prev, *next; /* every open connection, for the stop */
    uring_server_t *srv;
    session_t s;
} conn_t;

/* One ring with its listener: all of its state, so that a process could run several. */
struct uring_server {
    const char *name; /* the model's, for messages */
    const server_options_t *opts;
    struct io_uring ring;
    struct io_uring_buf_ring *buf_ring;
    char *buffers;
    acceptor_t acceptor;
    struct __kernel_timespec accept_backoff_ts;
    conn_t *conns;
    timer_heap_t timers;
    bool stopping; /* the stop fd became readable: the ring's loop ends after this batch */
};

static uint64_t tag(void *p, unsigned kind)
{
    return (uint64_t)(uintptr_t)p | kind;
}

/* A submission slot; when the queue is full, what is queued goes to the kernel first. */
static struct io_uring_sqe *sqe_get(uring_server_t *srv)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&srv->ring);
    while (!sqe) {
        io_uring_submit(&srv->ring);
        sqe = io_uring_get_sqe(&srv->ring);
    }
    io_uring_sqe_set_data64(sqe, 0);
    return sqe;
}

static void buffer_recycle(uring_server_t *srv, unsigned bid)
{
    io_uring_buf_ring_add(srv->buf_ring, srv->buffers + (size_t)bid * BUF_SIZE, BUF_SIZE, (unsigned short)bid,
                          io_uring_buf_ring_mask(BUF_COUNT), 0);
    io_uring_buf_ring_advance(srv->buf_ring, 1);
}

static void arm_accept(uring_server_t *srv)
{
    struct io_uring_sqe *sqe = sqe_get(srv);
    io_uring_prep_multishot_accept(sqe, srv->acceptor.listen_fd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, OP_ACCEPT);
}

/* ---- one connection: the session's wants become submissions ---- */

static void cancel(conn_t *c, unsigned kind)
{
    struct io_uring_sqe *sqe = sqe_get(c->srv);
    io_uring_prep_cancel64(sqe, tag(c, kind), 0);
}

static void release_if_done(conn_t *c)
{
    if (!c->closing || c->ops > 0)
        return;
    close(c->fd);
    stats_conn_closed(c->s.stats);
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->spill);
    free(c);
}

static void start_close(conn_t *c)
{
    c->closing = true;
    session_end(&c->s);
    if (c->recv_armed)
        cancel(c, OP_RECV);
    if (c->sending)
        cancel(c, OP_SEND);
    timer_heap_remove(&c->srv->timers, &c->timer);
    release_if_done(c);
}

static void arm_recv(conn_t *c)
{
    struct io_uring_sqe *sqe = sqe_get(c->srv);
    io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BUF_GROUP;
    io_uring_sqe_set_data64(sqe, tag(c, OP_RECV));
    c->recv_armed = true;
    c->ops++;
}

static void send_output(conn_t *c)
{
    unsigned count;
    const struct iovec *iov = session_out(&c->s, &count);
    struct io_uring_sqe *sqe = sqe_get(c->srv);
    c->msg.msg_iovlen = count; /* what was offered: on_send tells a short send from a whole one */
    if (count == 1) { /* the usual case: a plain send skips copying and checking a msghdr */
        io_uring_prep_send(sqe, c->fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
    } else {
        c->msg = (struct msghdr){.msg_iov = (struct iovec *)iov, .msg_iovlen = count};
        io_uring_prep_sendmsg(sqe, c->fd, &c->msg, MSG_NOSIGNAL);
    }
    io_uring_sqe_set_data64(sqe, tag(c, OP_SEND));
    session_out_begin(&c->s);
    c->sending = true;
    c->ops++;
}

/* The connection's deadline in the heap: kept when it comes no later than needed (drive() then
 * just re-reads the session's deadline), moved earlier otherwise. Returns 0, or -1 (ENOMEM). */
static int arm_timer(conn_t *c, uint64_t deadline)
{
    if (deadline == 0 || (heap_entry_active(&c->timer) && c->timer.deadline_ns <= deadline))
        return 0;
    return timer_heap_set(&c->srv->timers, &c->timer, deadline);
}

/* Hands bytes to the session; what does not fit waits in the spill buffer, and the receive stops
 * until the session has room again. */
static void feed(conn_t *c, const char *data, size_t len)
{
    size_t taken = c->spill_len ? 0 : session_in_copy(&c->s, data, len);
    if (taken == len)
        return;
    char *p = realloc(c->spill, c->spill_off + c->spill_len + len - taken);
    if (!p) {
        session_io_failed(&c->s);
        return;
    }
    memcpy(p + c->spill_off + c->spill_len, data + taken, len - taken);
    c->spill = p;
    c->spill_len += len - taken;
    if (c->recv_armed)
        cancel(c, OP_RECV);
}

static void drive(conn_t *c)
{
    while (!c->closing) {
        uint64_t now = now_ns();
        session_want_t w = session_next(&c->s, now);
        if (w.close) {
            start_close(c);
            return;
        }
        if (w.read && c->spill_len) {
            size_t taken = session_in_copy(&c->s, c->spill + c->spill_off, c->spill_len);
            c->spill_off += taken, c->spill_len -= taken;
            if (c->spill_len == 0)
                c->spill_off = 0;
            if (taken)
                continue;
        }
        if (w.write)
            send_output(c);
        if (w.shut_write) {
            session_shut_write(&c->s, c->fd, now);
            continue;
        }
        if (w.read && !c->recv_armed && !c->spill_len)
            arm_recv(c);
        if (w.deadline_ns && now >= w.deadline_ns) {
            session_timer(&c->s, c->fd, now);
            continue;
        }
        if (arm_timer(c, w.deadline_ns) != 0) {
            session_io_failed(&c->s);
            continue;
        }
        return;
    }
}

static void on_recv(conn_t *c, struct io_uring_cqe *cqe)
{
    if (cqe->flags & IORING_CQE_F_BUFFER) {
        unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        if (cqe->res > 0 && !c->closing)
            feed(c, c->srv->buffers + (size_t)bid * BUF_SIZE, (size_t)cqe->res);
        buffer_recycle(c->srv, bid);
    }
    if (!(cqe->flags & IORING_CQE_F_MORE)) { /* the multishot receive ended */
        c->recv_armed = false;
        c->ops--;
    }
    if (c->closing)
        return;
    if (cqe->res == 0)
        session_in_eof(&c->s);
    else if (cqe->res < 0 && cqe->res != -ENOBUFS && cqe->res != -ECANCELED)
        session_io_failed(&c->s);
    /* -ENOBUFS: every buffer was in use; they are back now, drive() re-arms. */
}

static void on_send(conn_t *c, struct io_uring_cqe *cqe)
{
    c->sending = false;
    c->ops--;
    if (c->closing)
        return;
    uint64_t now = now_ns();
    if (cqe->res >= 0) { /* a short send: the socket is full */
        unsigned count;
        const struct iovec *iov = session_out(&c->s, &count);
        size_t offered = 0;
        for (size_t i = 0; i < c->msg.msg_iovlen; i++)
            offered += iov[i].iov_len;
        if ((size_t)cqe->res < offered)
            session_out_blocked(&c->s, c->fd, now);
    }
    session_out_done(&c->s, cqe->res > 0 ? (size_t)cqe->res : 0, now);
    if (cqe->res < 0 && cqe->res != -EINTR && cqe->res != -EAGAIN)
        session_io_failed(&c->s);
}

/* A connection whose deadline has come: drive() reads the session's deadline and calls
 * session_timer once it has passed. */
static void on_deadline(heap_entry_t *e, void *unused)
{
    (void)unused;
    drive(container_of(e, conn_t, timer));
}

static void conn_open(int fd, void *server)
{
    uring_server_t *srv = server;
    conn_t *c = aligned_alloc(16, (sizeof(conn_t) + 15) & ~(size_t)15);
    if (!c) {
        stats_error(srv->acceptor.stats, ERR_IO);
        close(fd);
        stats_conn_closed(srv->acceptor.stats);
        return;
    }
    memset(c, 0, sizeof *c);
    heap_entry_init(&c->timer);
    c->fd = fd;
    c->srv = srv;
    session_init(&c->s, srv->opts, srv->acceptor.stats, now_ns());
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    drive(c);
}

/* ---- the listener ---- */

/* A connection the kernel accepted for us: what acceptor_accept does after accept4(). */
static void took_connection(uring_server_t *srv, int fd)
{
    int one = 1;
    /* Small responses must leave at once, not wait for the previous one's ACK (Nagle). */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 && errno != EINVAL && errno != ECONNRESET)
        perror("setsockopt(TCP_NODELAY)");
    stats_conn_accepted(srv->acceptor.stats);
    if (acceptor_admit(&srv->acceptor, fd, srv->opts->max_conns, 0x7fffffffL))
        conn_open(fd, srv);
}

/* The multishot accept failed or ended: accept what is pending the ordinary way (the acceptor
 * sheds a connection at EMFILE and counts the episode), then re-arm, after a pause if starved. */
static void on_accept_error(uring_server_t *srv)
{
    accept_result_t r;
    while ((r = acceptor_drain(&srv->acceptor, ACCEPT_BATCH, srv->opts->max_conns, 0x7fffffffL, conn_open, srv)) ==
           ACCEPT_OK) {
    }
    if (r == ACCEPT_EMPTY) {
        arm_accept(srv);
        return;
    }
    struct io_uring_sqe *sqe = sqe_get(srv);
    io_uring_prep_timeout(sqe, &srv->accept_backoff_ts, 0, 0);
    io_uring_sqe_set_data64(sqe, OP_ACCEPT_RETRY);
}

static void on_completion(uring_server_t *srv, struct io_uring_cqe *cqe)
{
    uint64_t data = io_uring_cqe_get_data64(cqe);
    conn_t *c = (conn_t *)(uintptr_t)(data & ~(uint64_t)OP_KIND_MASK);
    switch (data & OP_KIND_MASK) {
    case OP_ACCEPT:
        if (cqe->res >= 0)
            took_connection(srv, cqe->res);
        if (!(cqe->flags & IORING_CQE_F_MORE) && !srv->stopping)
            on_accept_error(srv);
        return;
    case OP_ACCEPT_RETRY:
        on_accept_error(srv);
        return;
    case OP_STOP:
        srv->stopping = true;
        return;
    case OP_RECV:
        on_recv(c, cqe);
        break;
    case OP_SEND:
        on_send(c, cqe);
        break;
    default:
        return; /* cancellations: their targets complete on their own */
    }
    if (c->closing)
        release_if_done(c);
    else
        drive(c);
}

/* ---- set-up: the ring and the provided buffers ---- */

/* Returns 0, UNAVAILABLE when the kernel refuses what this driver needs, or -1. */
static int setup_ring(uring_server_t *srv)
{
    /* One thread submits and reaps (SINGLE_ISSUER), so completions can wait for our next
     * io_uring_enter instead of interrupting us as task work (DEFER_TASKRUN, Linux 6.1): fewer
     * context switches per batch. Older kernels refuse the flags; the ring then works without. */
    unsigned base = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
    struct io_uring_params p = {.flags = base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
                                .cq_entries = RING_ENTRIES * 4};
    int rc = io_uring_queue_init_params(RING_ENTRIES, &srv->ring, &p);
    if (rc == -EINVAL) {
        p = (struct io_uring_params){.flags = base, .cq_entries = RING_ENTRIES * 4};
        rc = io_uring_queue_init_params(RING_ENTRIES, &srv->ring, &p);
    }
    if (rc < 0) {
        fprintf(stderr, "server-%s: not available here: io_uring_setup: %s (kernel.io_uring_disabled, "
                "seccomp or an old kernel)\n", srv->name, strerror(-rc));
        return UNAVAILABLE;
    }
    size_t ring_bytes = BUF_COUNT * sizeof(struct io_uring_buf);
    srv->buf_ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    srv->buffers = malloc((size_t)BUF_COUNT * BUF_SIZE);
    if (srv->buf_ring == MAP_FAILED || !srv->buffers) {
        perror("receive buffers");
        return -1;
    }
    struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)srv->buf_ring, .ring_entries = BUF_COUNT, .bgid = BUF_GROUP};
    rc = io_uring_register_buf_ring(&srv->ring, &reg, 0);
    if (rc < 0) {
        fprintf(stderr, "server-%s: not available here: provided buffer rings: %s (needs Linux 5.19)\n", srv->name,
                strerror(-rc));
        return UNAVAILABLE;
    }
    io_uring_buf_ring_init(srv->buf_ring);
    for (unsigned i = 0; i < BUF_COUNT; i++)
        io_uring_buf_ring_add(srv->buf_ring, srv->buffers + (size_t)i * BUF_SIZE, BUF_SIZE, (unsigned short)i,
                              io_uring_buf_ring_mask(BUF_COUNT), (int)i);
    io_uring_buf_ring_advance(srv->buf_ring, BUF_COUNT);
    /* Each enter then skips looking up the ring's file; an optimisation only, so a refusal is fine. */
    (void)io_uring_register_ring_fd(&srv->ring);
    return 0;
}

uring_server_t *uring_server_new(const char *name, int *status)
{
    uring_server_t *srv = calloc(1, sizeof *srv);
    if (!srv) {
        perror("uring server");
        *status = 1;
        return NULL;
    }
    srv->name = name;
    srv->buf_ring = MAP_FAILED;
    srv->accept_backoff_ts = (struct __kernel_timespec){.tv_nsec = ACCEPT_BACKOFF_NS};
    int rc = setup_ring(srv);
    if (rc != 0) {
        *status = rc == UNAVAILABLE ? 2 : 1;
        if (srv->buf_ring != MAP_FAILED)
            munmap(srv->buf_ring, BUF_COUNT * sizeof(struct io_uring_buf));
        free(srv->buffers);
        free(srv); /* a ring that was made goes with the process, which exits */
        return NULL;
    }
    return srv;
}

int uring_server_serve(uring_server_t *srv, int lfd, const server_options_t *opts, stats_t *stats)
{
    sigset_t wait_mask;
    if (signals_block_stop(&wait_mask) != 0) {
        perror("blocking the stop signals");
        return 1;
    }
    /* A stop signal interrupts a wait, but liburing's wait goes on waiting when the same enter also
     * submitted something: the stop must be a completion. The handler makes the stop fd readable;
     * a stop requested before the fd existed is seen in g_stop below. */
    int stop_fd = signals_stop_fd();
    if (stop_fd < 0)
        return 1;
    struct io_uring_sqe *sqe = sqe_get(srv);
    io_uring_prep_poll_add(sqe, stop_fd, POLLIN);
    io_uring_sqe_set_data64(sqe, OP_STOP);
    srv->opts = opts;
    acceptor_init(&srv->acceptor, lfd, SOCK_NONBLOCK, stats);
    arm_accept(srv);
    if (listener_announce(lfd) != 0)
        return 1;

    int status = 0;
    srv->stopping = g_stop;
    while (!srv->stopping) {
        struct io_uring_cqe *cqe;
        struct timespec wait;
        struct __kernel_timespec ts, *timeout = NULL;
        if (timer_heap_timeout(&srv->timers, now_ns, &wait)) { /* wake no later than the earliest deadline */
            ts = (struct __kernel_timespec){.tv_sec = wait.tv_sec, .tv_nsec = wait.tv_nsec};
            timeout = &ts;
        }
        int got = io_uring_submit_and_wait_timeout(&srv->ring, &cqe, 1, timeout, &wait_mask);
        /* -EAGAIN, -ENOMEM: the kernel could not take the submissions now; they stay queued in the
         * ring and go with the next enter. */
        if (got < 0 && got != -EINTR && got != -ETIME && got != -EBUSY && got != -EAGAIN && got != -ENOMEM) {
            fprintf(stderr, "server-%s: io_uring_enter: %s\n", srv->name, strerror(-got));
            status = 1;
            break;
        }
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&srv->ring, head, cqe)
        {
            on_completion(srv, cqe);
            seen++;
        }
        io_uring_cq_advance(&srv->ring, seen);
        timer_heap_run_due(&srv->timers, now_ns(), on_deadline, NULL);
    }

    /* The ring's exit cancels what is in flight, but asynchronously: until then its operations
     * hold the sockets open. Shut them now, so no client connects to or waits on a stopped server. */
    shutdown(lfd, SHUT_RDWR);
    while (srv->conns) {
        conn_t *c = srv->conns;
        srv->conns = c->next;
        if (!c->closing)
            session_end(&c->s);
        shutdown(c->fd, SHUT_RDWR);
        close(c->fd);
        stats_conn_closed(srv->acceptor.stats);
        free(c->spill);
        free(c);
    }
    timer_heap_free(&srv->timers);
    io_uring_queue_exit(&srv->ring);
    munmap(srv->buf_ring, BUF_COUNT * sizeof(struct io_uring_buf));
    free(srv->buffers);
    close(lfd);
    acceptor_close(&srv->acceptor);
    free(srv);
    return status;
}
