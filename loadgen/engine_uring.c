/* The io_uring engine (--engine uring): the same connection state machine as the readiness engine
 * (conn.c, idle.c), driven by completions instead of epoll.
 *
 * Per worker thread, one ring (single issuer, task work deferred to our own wait) with:
 *   - a registered file table, one slot per connection, so no op looks up a file descriptor;
 *   - a provided-buffer ring, so a connection's one multishot receive needs no buffer of its own
 *     and never has to be re-submitted while data keeps coming;
 *   - every op of a loop turn queued and submitted with the wait for completions, in one
 *     io_uring_enter (the loop's deadline is that wait's timeout).
 * A completion becomes the readiness it stands for (connected: writable; bytes, close or error:
 * readable) and goes to lg_conn_handle_event; this file's transport then reads the completed
 * bytes as recv() would read the socket. A send is queued and counted as written at once: the
 * socket is blocking for io_uring's sake, and only a failed send completes (it then reads as the
 * connection's error, as a reset would). */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "idle.h"
#include "uring_parts.h"
#include "worker.h"

/* Provided buffers: a response bigger than one arrives in several completions. Half the
 * readiness engine's read buffer: 32 KiB x 64..512 buffers is 2-16 MiB a thread. */
#define LG_UBUF_SIZE 32768
#define LG_UBUF_GROUP 0

typedef struct lg_uconn {
    lg_urx rx;
    uint16_t gen; /* bumped on close: older completions are stale */
} lg_uconn;

typedef struct lg_uring {
    struct io_uring ring;
    struct io_uring_buf_ring *br;
    size_t br_bytes;
    char *bufs;
    unsigned nbufs, recycled; /* recycled: buffers given back since the last advance */
    lg_uconn *uc;             /* per connection: the load's first, then the idle ones */
    uint32_t nuc;
} lg_uring;

static uint32_t index_of(const lg_thread *t, const lg_conn *c)
{
    uintptr_t p = (uintptr_t)c, base = (uintptr_t)t->conns;
    if (p >= base && p < base + (uintptr_t)t->nconns * sizeof *c)
        return (uint32_t)(c - t->conns);
    return (uint32_t)t->nconns + (uint32_t)(c - t->iset->conns);
}

static lg_conn *conn_at(lg_thread *t, uint32_t idx)
{
    return idx < (uint32_t)t->nconns ? &t->conns[idx] : &t->iset->conns[idx - (uint32_t)t->nconns];
}

/* A free submission slot; a full queue is submitted first. NULL only if that fails. */
static struct io_uring_sqe *sqe_of(lg_uring *u)
{
    struct io_uring_sqe *s = io_uring_get_sqe(&u->ring);
    if (!s && io_uring_submit(&u->ring) >= 0)
        s = io_uring_get_sqe(&u->ring);
    return s;
}

static void recycle(lg_uring *u, unsigned bid)
{
    io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * LG_UBUF_SIZE, LG_UBUF_SIZE, (unsigned short)bid,
                          io_uring_buf_ring_mask(u->nbufs), (int)u->recycled++);
}

static int arm_recv(lg_uring *u, uint32_t idx)
{
    struct io_uring_sqe *s = sqe_of(u);
    if (!s)
        return EBUSY;
    io_uring_prep_recv_multishot(s, (int)idx, NULL, 0, 0);
    s->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
    s->buf_group = LG_UBUF_GROUP;
    io_uring_sqe_set_data64(s, lg_utag(idx, u->uc[idx].gen, LG_UOP_RECV));
    return 0;
}

static int arm_wake(lg_thread *t)
{
    struct io_uring_sqe *s = sqe_of(t->uring);
    if (!s)
        return EBUSY;
    io_uring_prep_poll_multishot(s, t->wakefd, POLLIN);
    io_uring_sqe_set_data64(s, lg_utag(0, 0, LG_UOP_WAKE));
    return 0;
}

/* The transport (transport.h) over the ring. */
static int uring_connect(lg_thread *t, lg_conn *c, enum lg_err *cls)
{
    int e = lg_tcp_socket(t, c, 0, cls);
    if (e)
        return e;
    lg_uring *u = t->uring;
    uint32_t idx = index_of(t, c);
    memset(&u->uc[idx].rx, 0, sizeof u->uc[idx].rx);
    int rc = io_uring_register_files_update(&u->ring, idx, &c->fd, 1);
    if (rc < 0)
        return -rc;
    struct io_uring_sqe *s = sqe_of(u);
    if (!s)
        return EBUSY;
    io_uring_prep_connect(s, (int)idx, (const struct sockaddr *)&t->sh->target, t->sh->target_len);
    s->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(s, lg_utag(idx, u->uc[idx].gen, LG_UOP_CONNECT));
    return EINPROGRESS;
}

static int uring_connect_error(lg_conn *c)
{
    lg_thread *t = c->thr;
    int err = t->uring->uc[index_of(t, c)].rx.err;
    return err ? err : ECONNREFUSED;
}

static ssize_t uring_read(lg_conn *c, void *buf, size_t len)
{
    lg_thread *t = c->thr;
    int err = 0;
    ssize_t n = lg_urx_take(&t->uring->uc[index_of(t, c)].rx, buf, len, &err);
    if (n < 0)
        errno = err;
    return n;
}

/* buf outlives the send: it is the run's request (or the idle connections'), built once. */
static ssize_t uring_write(lg_conn *c, const void *buf, size_t len)
{
    lg_thread *t = c->thr;
    lg_uring *u = t->uring;
    uint32_t idx = index_of(t, c);
    struct io_uring_sqe *s = sqe_of(u);
    if (!s) {
        errno = EBUSY;
        return -1;
    }
    /* MSG_WAITALL: io_uring sends the rest of a short send itself. */
    io_uring_prep_send(s, (int)idx, buf, len, MSG_NOSIGNAL | MSG_WAITALL);
    s->flags |= IOSQE_FIXED_FILE | IOSQE_CQE_SKIP_SUCCESS;
    io_uring_sqe_set_data64(s, lg_utag(idx, u->uc[idx].gen, LG_UOP_SEND));
    return (ssize_t)len;
}

static void uring_close(lg_conn *c)
{
    lg_thread *t = c->thr;
    if (t->uring) {
        lg_uconn *uc = &t->uring->uc[index_of(t, c)];
        uc->gen++;
        memset(&uc->rx, 0, sizeof uc->rx);
        /* The registered slot and the pending receive keep the socket alive past close();
         * shutdown ends the connection now and completes the receive. */
        shutdown(c->fd, SHUT_RDWR);
    }
    close(c->fd); /* EINTR on close must not be retried on Linux */
}

const lg_transport lg_transport_uring = {.name = "uring", .connect = uring_connect,
                                         .connect_error = uring_connect_error, .read = uring_read,
                                         .write = uring_write, .close = uring_close};

/* Hands a completion to the state machine as the readiness it stands for. */
static void deliver(lg_thread *t, lg_conn *c, uint32_t ev)
{
    t->last_event_us = lg_now_us(); /* starts the --busy-poll window */
    lg_conn_handle_event(t, c, ev, t->last_event_us);
}

static void on_recv(lg_thread *t, lg_conn *c, uint32_t idx, const struct io_uring_cqe *cqe)
{
    lg_uring *u = t->uring;
    lg_uconn *uc = &u->uc[idx];
    uint16_t gen = uc->gen;
    int res = cqe->res;
    if (res > 0) {
        unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        uc->rx.data = u->bufs + (size_t)bid * LG_UBUF_SIZE;
        uc->rx.len = (size_t)res;
        deliver(t, c, EPOLLIN);
        if (uc->gen == gen)
            uc->rx.len = 0; /* bytes the machine left are dropped, as after a read it stopped */
        recycle(u, bid);
    } else if (res == 0) {
        uc->rx.eof = 1;
        deliver(t, c, EPOLLIN | EPOLLRDHUP);
    } else if (res != -ENOBUFS) {
        uc->rx.err = -res;
        deliver(t, c, EPOLLIN | EPOLLERR);
    }
    /* A multishot receive ends on a close, an error or (ENOBUFS) no free buffer: only the last
     * needs a new one, and only while the same socket is still open. */
    if (!(cqe->flags & IORING_CQE_F_MORE) && (res > 0 || res == -ENOBUFS) && uc->gen == gen &&
        c->fd >= 0 && arm_recv(u, idx))
        lg_conn_fail(t, c, LG_ERR_EXCEPTION, EBUSY, "io_uring submission queue unavailable",
                     lg_now_us());
}

static void on_cqe(lg_thread *t, const struct io_uring_cqe *cqe)
{
    lg_uring *u = t->uring;
    uint64_t tag = io_uring_cqe_get_data64(cqe);
    unsigned op = lg_utag_op(tag);
    if (op == LG_UOP_WAKE) { /* stop requested */
        uint64_t v;
        ssize_t r = read(t->wakefd, &v, sizeof v);
        (void)r; /* EAGAIN: another wake-up already drained it */
        if (!(cqe->flags & IORING_CQE_F_MORE) && arm_wake(t))
            atomic_store(&t->sh->stop, LG_STOP_ERROR);
        return;
    }
    uint32_t idx = lg_utag_idx(tag);
    lg_conn *c = conn_at(t, idx);
    if (lg_utag_gen(tag) != u->uc[idx].gen || c->fd < 0) { /* its socket was closed since */
        if (cqe->flags & IORING_CQE_F_BUFFER)
            recycle(u, cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        return;
    }
    if (op == LG_UOP_RECV) {
        on_recv(t, c, idx, cqe);
    } else if (op == LG_UOP_CONNECT) {
        if (cqe->res == 0 && arm_recv(u, idx) == 0) {
            deliver(t, c, EPOLLOUT);
        } else {
            u->uc[idx].rx.err = cqe->res < 0 ? -cqe->res : EBUSY;
            deliver(t, c, EPOLLERR | EPOLLHUP);
        }
    } else if (op == LG_UOP_SEND && cqe->res < 0) {
        u->uc[idx].rx.err = -cqe->res;
        deliver(t, c, EPOLLIN | EPOLLERR);
    }
}

static int uring_wait(lg_thread *t, uint64_t now, uint64_t deadline, int poll)
{
    lg_uring *u = t->uring;
    struct __kernel_timespec ts = {0, 0}, *tsp = NULL;
    if (poll) {
        tsp = &ts;
    } else if (deadline != UINT64_MAX) {
        uint64_t d = deadline > now ? deadline - now : 0;
        ts.tv_sec = (long long)(d / 1000000);
        ts.tv_nsec = (long long)(d % 1000000) * 1000;
        tsp = &ts;
    }
    struct io_uring_cqe *first;
    /* The turn's queued ops and the wait, in one system call. */
    int rc = io_uring_submit_and_wait_timeout(&u->ring, &first, 1, tsp, NULL);
    if (rc < 0 && rc != -ETIME && rc != -EINTR) {
        errno = -rc;
        return -1;
    }
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&u->ring, head, cqe) {
        on_cqe(t, cqe);
        n++;
    }
    io_uring_cq_advance(&u->ring, n);
    if (u->recycled) {
        io_uring_buf_ring_advance(u->br, (int)u->recycled);
        u->recycled = 0;
    }
    return (int)n;
}

static void uring_free(lg_uring *u)
{
    io_uring_queue_exit(&u->ring);
    if (u->br)
        munmap(u->br, u->br_bytes);
    free(u->bufs);
    free(u->uc);
    free(u);
}

/* The buffer ring: liburing 2.3 has no io_uring_setup_buf_ring, so it is mapped here. */
static int setup_buffers(lg_uring *u)
{
    u->br_bytes = u->nbufs * sizeof(struct io_uring_buf);
    void *br = mmap(NULL, u->br_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (br == MAP_FAILED)
        return errno;
    u->br = br;
    u->bufs = malloc((size_t)u->nbufs * LG_UBUF_SIZE);
    if (!u->bufs)
        return ENOMEM;
    struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)br, .ring_entries = u->nbufs,
                                   .bgid = LG_UBUF_GROUP};
    int rc = io_uring_register_buf_ring(&u->ring, &reg, 0);
    if (rc < 0)
        return -rc;
    io_uring_buf_ring_init(u->br);
    for (unsigned i = 0; i < u->nbufs; i++)
        recycle(u, i);
    io_uring_buf_ring_advance(u->br, (int)u->recycled);
    u->recycled = 0;
    return 0;
}

/* In the worker thread: the ring's single issuer is the thread that made it. */
static int uring_start(lg_thread *t)
{
    lg_uring *u = calloc(1, sizeof *u);
    if (!u) {
        t->failed_alloc = 1;
        return -1;
    }
    u->nuc = (uint32_t)t->nconns + (uint32_t)(t->iset ? t->iset->n : 0);
    u->uc = calloc(u->nuc, sizeof *u->uc);
    /* Enough buffers for every busy connection to have a response waiting in one turn, and at
     * least 64 so that a large response keeps streaming between turns (a dry ring ends the
     * multishot receive: ENOBUFS, re-armed); past 512 a shortage only costs such re-arms. */
    u->nbufs = lg_upow2_clamp((unsigned long)t->nconns, 64, 512);
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
    /* A turn queues a few ops per connection; the completion ring holds every connection's
     * receive and connect, and the kernel keeps overflow beyond it. */
    p.cq_entries = lg_upow2_clamp(4ul * u->nuc + 64, 256, 1u << 16);
    int rc = u->uc ? io_uring_queue_init_params(lg_upow2_clamp(2ul * u->nuc + 8, 64, 4096), &u->ring, &p)
                   : -ENOMEM;
    if (rc < 0) {
        fprintf(stderr, "loadgen: io_uring_queue_init: %s\n", strerror(-rc));
        free(u->uc);
        free(u);
        return -1;
    }
    const char *what = "io_uring_register_files_sparse";
    rc = -io_uring_register_files_sparse(&u->ring, u->nuc);
    if (rc == 0) {
        what = "the provided-buffer ring";
        rc = setup_buffers(u);
    }
    t->uring = u;
    if (rc == 0) {
        what = "the wake-up poll";
        rc = arm_wake(t);
    }
    if (rc) {
        fprintf(stderr, "loadgen: %s: %s\n", what, strerror(rc));
        uring_free(u);
        t->uring = NULL;
        return -1;
    }
    return 0;
}

static void uring_stop(lg_thread *t)
{
    if (t->uring)
        uring_free(t->uring);
    t->uring = NULL; /* lg_worker_free then closes what is still open with close() alone */
}

int lg_uring_probe(char *err, size_t errlen)
{
    struct io_uring ring;
    int rc = io_uring_queue_init(2, &ring, 0);
    if (rc < 0) {
        snprintf(err, errlen, "--engine uring: this kernel does not let loadgen use io_uring: %s",
                 strerror(-rc));
        return -1;
    }
    io_uring_queue_exit(&ring);
    return 0;
}

const lg_loop_ops lg_loop_uring = {"uring", &lg_transport_uring, uring_start, uring_wait,
                                   uring_stop};
