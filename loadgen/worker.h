/* The engine's inside: one worker thread's connections, loop and statistics, and the state the
 * threads share. Each job lives in its own file:
 *   conn.c      a connection's state machine (open, write, read, retry, events, verdicts)
 *   outcome.c   how a request ends: counted as complete or failed
 *   schedule.c  when requests start: closed loop, --rate slots, --ramp, -n quotas
 *   loop.c      the per-thread event loop
 *   worker.c    a worker's setup and teardown, and merging its statistics into the result
 *   engine.c    the whole run: shared setup, threads, signals, the result */
#ifndef LG_WORKER_H
#define LG_WORKER_H
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "backoff.h"
#include "hist.h"
#include "http_response.h"
#include "options.h"
#include "result.h"
#include "selfwatch.h"
#include "timers.h"
#include "timeseries.h"
#include "transport.h"

#define LG_READ_BUF 65536
#define LG_MAX_EVENTS 1024
/* Like ab: a target that refused this many connects and never accepted one ends the run. */
#define LG_REFUSED_LIMIT 10
/* New connections a thread opens per loop round before it handles events again: a connect can
 * take milliseconds when the kernel searches for a free port, and 20,000 of them in a row once
 * left every response waiting until all were opened. */
#define LG_CONNECTS_PER_ROUND 64
/* A connect still pending after this long most likely lost its SYN to a full listen queue (the
 * kernel resends it after 1 s): new connections may then race it for the last requests of -n. */
#define LG_CONNECT_STALE_US 200000

enum lg_conn_state {
    LG_C_NEW, LG_C_IDLE, LG_C_CONNECTING, LG_C_HANDSHAKE, LG_C_WRITING, LG_C_READING, LG_C_RETIRED,
    /* --idle connections (idle.c), never in the load: opening, then held or done. */
    LG_C_HOLD_CONNECTING, LG_C_HOLD_WRITING, LG_C_HOLD_READING, LG_C_HELD, LG_C_HOLD_DONE
};
enum lg_stop { LG_STOP_NONE, LG_STOP_INTERRUPT, LG_STOP_REFUSED, LG_STOP_ERROR };

struct lg_thread;

/* An engine: how a worker thread waits for its connections and hears about them. Both engines
 * drive the same state machine (conn.c, idle.c) through lg_conn_handle_event; the io_uring one
 * turns each completion into the readiness it stands for, and its transport reads from the
 * completed buffers instead of the socket. */
typedef struct lg_loop_ops {
    const char *name;              /* as in --engine and the report's config.engine */
    const lg_transport *transport;
    /* In the worker thread, before its loop: 0, or -1 with a message printed. */
    int (*start)(struct lg_thread *t);
    /* Sleeps until an event or deadline (UINT64_MAX: none; poll: not at all) and hands the
     * events to the connections. Returns how many, or -1 with errno. */
    int (*wait)(struct lg_thread *t, uint64_t now, uint64_t deadline, int poll);
    /* In the worker thread once its loop ended: frees what start made. */
    void (*stop)(struct lg_thread *t);
} lg_loop_ops;

extern const lg_loop_ops lg_loop_readiness;
#ifdef LG_HAVE_URING
extern const lg_loop_ops lg_loop_uring;
/* Whether this kernel lets the process make an io_uring: 0, or -1 with the reason in err. */
int lg_uring_probe(char *err, size_t errlen);
#endif

typedef struct lg_conn {
    int fd;
    unsigned char state;
    unsigned char reused;   /* this request went out on an already open connection */
    unsigned char retried;  /* it was already retried once after a stale keep-alive close */
    unsigned char counted;  /* started after the warm-up (or, -t only, ended after it): it counts */
    unsigned char connected;
    unsigned char backoff_level; /* consecutive failed connects: sets the next wait */
    unsigned char claim_pending; /* closed loop with -n: the request takes its place among the n
                                    when its connect ends, not when it starts (conn.c) */
    unsigned char handshook; /* this connection ran the transport's handshake (timed apart) */
    size_t written;
    uint32_t gidx;          /* global connection index: ramp slot and source address */
    uint64_t t_start;       /* request start (intended start with --rate) */
    uint64_t t_actual;      /* when it was actually started */
    uint64_t t_tcp_up;      /* TCP connected; t_connected is later by the transport's handshake */
    uint64_t t_connected, t_write_end, t_first_byte;
    uint64_t t_first_2xx;   /* this slot's first 2xx answer, warm-up included (0 = none yet) */
    uint64_t bytes;
    lg_timer timer;         /* its connect or request timeout; lg_conn_of_timer() maps back */
    lg_response resp;
    struct lg_thread *thr;
    void *tr_conn;          /* the transport's own data for this connection (TLS: its SSL) */
} lg_conn;

typedef struct lg_shared {
    const lg_options *o;
    struct sockaddr_storage target;
    socklen_t target_len;
    char *req;
    size_t req_len;
    int resp_flags;         /* LG_RESP_*: what every request asks for */
    const lg_transport *transport; /* how connections connect, read, write, close */
    void *tr_ctx;           /* the transport's shared state (TLS: its SSL_CTX), from setup */
    const lg_loop_ops *loop;       /* how the threads wait: the --engine */
    int nthreads;
    uint64_t t0, measure_start, end_time, timeout_us, connect_timeout_us, ramp_us;
    atomic_int stop;
    atomic_int ever_connected;
    atomic_llong doclen;
    atomic_int threads_done;
    /* --idle: the threads open their idle connections before the load; the main thread starts
     * the clock (t0) once every thread is ready, then sets idle_go. */
    uint64_t idle_t0;       /* the idle connections' own ramp starts here */
    atomic_int idle_ready;
    atomic_int idle_go;
    pthread_t main_thread;
    pthread_mutex_t info_lock;
    char server[256];
    int has_server;
    char negotiated[128];   /* the transport's describe() of the first handshake (under info_lock) */
    int has_negotiated;
} lg_shared;

typedef struct lg_thread {
    lg_shared *sh;
    lg_transport tr;        /* a copy of sh->transport: one load less per read and write */
    void *tr_state;         /* the transport's per-thread state (TLS: the session to resume) */
    int described;          /* this thread already offered what its transport negotiated */
    int id;
    pthread_t tid;
    int epfd, wakefd;
    lg_conn *conns;
    int nconns;
    int unlimited;
    uint64_t quota, issued;
    int inflight, open_socks;
    int next_open;          /* ramp: next connection to bring in */
    int pending_claims;     /* connects whose request has no place among the n yet */
    uint64_t held_until;    /* closed loop: idle connections wait for pending connects until
                               then (0: none is held, wake at once) */
    lg_conn **idle;            /* connections waiting to start a request */
    lg_conn **idle_spare;      /* the closed loop swaps lists so that re-queued ones wait a round */
    int nidle;
    double rate_interval_us; /* 0 = closed loop */
    uint64_t rate_k;
    lg_timer_list timers;          /* request timeouts (-s), armed once connected */
    lg_timer_list connect_timers;  /* connect timeouts (--connect-timeout) */
    int connect_budget;            /* connects left in this loop round */
    lg_counts counts;       /* this thread's; added into the result when it stops */
    lg_timeseries ts;
    lg_selfwatch watch;
    uint64_t next_tick;
    uint64_t last_first_2xx; /* establishment: when the last slot got its first 2xx */
    uint64_t connects_failed; /* every failed connect, counted or not (ends a dead run) */
    lg_backoff_heap backoff;       /* connections waiting to reconnect */
    int first_connect_errno;
    int capture_active;     /* the Server header has not been seen yet */
    lg_conn *capture_owner;    /* the one connection collecting headers into cap */
    lg_header_capture cap;
    lg_head_cache head_cache;
    uint64_t end_us;
    int failed_alloc;
    struct lg_idle_set *iset; /* --idle: this thread's idle connections (idle.h), or NULL */
    uint64_t last_event_us; /* for --busy-poll */
    int no_pwait2;          /* epoll_pwait2 is missing: epoll_wait with ms timeouts */
    struct epoll_event *evs; /* the readiness engine's event buffer */
    struct lg_uring *uring; /* the io_uring engine's ring and buffers (engine_uring.c) */
    atomic_ullong prog_complete, prog_errors;
    char rbuf[LG_READ_BUF];
} lg_thread;

static inline lg_conn *lg_conn_of_timer(lg_timer *t)
{
    return (lg_conn *)((char *)t - offsetof(lg_conn, timer));
}

/* b - a, or 0 if the events came in the other order (e.g. an answer before the request was
 * fully written): a histogram never gets a wrapped-around value. */
static inline uint64_t lg_span(uint64_t a, uint64_t b)
{
    return b > a ? b - a : 0;
}

/* Writes what is left of buf[0..len) on c (c->written bytes went out before). Returns 0 once all
 * of it is written, EAGAIN when the socket is full (an edge-triggered EPOLLOUT tells when there is
 * room), or the errno of the failure. Inline: a kept-alive request passes here every time. */
static inline int lg_conn_write_rest(lg_thread *t, lg_conn *c, const char *buf, size_t len)
{
    while (c->written < len) {
        ssize_t n = t->tr.write(c, buf + c->written, len - c->written);
        if (n > 0) {
            c->written += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return EAGAIN;
        return n < 0 ? errno : EIO;
    }
    return 0;
}

/* conn.c */
void lg_conn_start_request(lg_thread *t, lg_conn *c, uint64_t now, uint64_t intended);
void lg_conn_handle_event(lg_thread *t, lg_conn *c, uint32_t ev, uint64_t now);
void lg_conn_push_idle(lg_thread *t, lg_conn *c);
/* A request failed (cls, errno err, or what): counted, then its connection closes or backs off. */
void lg_conn_fail(lg_thread *t, lg_conn *c, enum lg_err cls, int err, const char *what, uint64_t now);
/* The run's last request was taken: connects still pending are closed, counted as abandoned. */
void lg_conn_abandon_pending(lg_thread *t);

/* outcome.c: counts how a request ended and says what its connection should do next. */
enum lg_verdict {
    LG_KEEP,           /* keep the connection open and idle for the next request */
    LG_CLOSE,          /* close it: the next request opens a new one */
    LG_CLOSE_BACK_OFF, /* close it and wait before reconnecting (its connect failed) */
};
enum lg_verdict lg_outcome_fail(lg_thread *t, lg_conn *c, enum lg_err cls, int err, const char *what,
                             uint64_t now);
enum lg_verdict lg_outcome_complete(lg_thread *t, lg_conn *c, size_t extra, uint64_t now);


/* schedule.c */
uint64_t lg_schedule_ramp_time(const lg_thread *t, const lg_conn *c);
uint64_t lg_schedule_rate_slot(const lg_thread *t, uint64_t k);
void lg_schedule_dispatch(lg_thread *t, uint64_t now);
int lg_schedule_quota_done(const lg_thread *t);
/* --rate: measured slots due by now that were never sent (0 in closed loop). */
uint64_t lg_schedule_not_sent(const lg_thread *t, uint64_t now);
/* The earliest moment the schedule wants the loop awake (<= deadline). */
uint64_t lg_schedule_next_deadline(const lg_thread *t, uint64_t now, uint64_t deadline);

/* loop.c */
/* The worker thread (scripts/insn_gate.py counts instructions inside it, by this name). */
void *thread_main(void *arg);

/* worker.c */
lg_thread *lg_worker_new(lg_shared *sh, int id, char *err, size_t errlen);
void lg_worker_free(lg_thread *t);
void lg_worker_merge_into(lg_result *r, const lg_thread *t);

#endif
