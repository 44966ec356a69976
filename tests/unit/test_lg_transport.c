/* The connection state machine (conn.c) over a fake transport: no socket, every byte scripted.
 * Connects that are in progress, writes that take a few bytes then say EAGAIN, responses that
 * come in pieces, a keep-alive connection that is reused, and bytes after a response (the
 * connection is then closed) all go through the transport interface alone. */
#include "check.h"
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

/* The script: what the next reads return, how much each write takes. */
static struct {
    const char *chunks[8]; /* successive reads; NULL = EAGAIN; past the end = EAGAIN */
    size_t nchunks, next_chunk;
    size_t write_limit;    /* bytes the next write takes at most (0 = EAGAIN once, then all) */
    char written[4096];
    size_t nwritten;
    int connects, closes, next_fd;
} fk;

static int fake_connect(lg_thread *t, lg_conn *c, enum lg_err *cls)
{
    (void)t;
    *cls = LG_ERR_CONNECT;
    c->fd = 100 + fk.next_fd++;
    fk.connects++;
    return EINPROGRESS;
}

static int fake_connect_error(lg_conn *c)
{
    (void)c;
    return ECONNREFUSED;
}

static ssize_t fake_read(lg_conn *c, void *buf, size_t len)
{
    (void)c;
    if (fk.next_chunk >= fk.nchunks || !fk.chunks[fk.next_chunk]) {
        fk.next_chunk++;
        errno = EAGAIN;
        return -1;
    }
    const char *s = fk.chunks[fk.next_chunk++];
    size_t n = strlen(s) < len ? strlen(s) : len;
    memcpy(buf, s, n);
    return (ssize_t)n;
}

static ssize_t fake_write(lg_conn *c, const void *buf, size_t len)
{
    (void)c;
    if (fk.write_limit == 0) {
        fk.write_limit = SIZE_MAX;
        errno = EAGAIN;
        return -1;
    }
    size_t n = len < fk.write_limit ? len : fk.write_limit;
    memcpy(fk.written + fk.nwritten, buf, n);
    fk.nwritten += n;
    fk.write_limit = 0; /* the next write finds the buffer full */
    return (ssize_t)n;
}

static void fake_close(lg_conn *c)
{
    (void)c;
    fk.closes++;
}

static const lg_transport fake = {.name = "fake", .connect = fake_connect,
                                  .connect_error = fake_connect_error, .read = fake_read,
                                  .write = fake_write, .close = fake_close};

static void script_reads(const char *a, const char *b, const char *c)
{
    fk.chunks[0] = a;
    fk.chunks[1] = b;
    fk.chunks[2] = c;
    fk.nchunks = 3;
    fk.next_chunk = 0;
}

static const char ok_response[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/* One thread with one connection over transport tr, for -n requests (keep-alive or not). */
static lg_thread *one_thread(lg_options *o, lg_shared *sh, const lg_transport *tr, uint64_t requests,
                             int keepalive)
{
    memset(o, 0, sizeof *o);
    o->requests = requests;
    o->requests_set = 1;
    o->concurrency = 1;
    o->threads = 1;
    o->keepalive = keepalive;
    o->timeout_s = 30;
    o->method = "GET";
    memset(sh, 0, sizeof *sh);
    sh->o = o;
    sh->transport = tr;
    sh->req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    sh->req_len = strlen(sh->req);
    sh->nthreads = 1;
    sh->timeout_us = sh->connect_timeout_us = 30000000;
    atomic_init(&sh->doclen, -1);
    pthread_mutex_init(&sh->info_lock, NULL);
    char err[256];
    lg_thread *t = lg_worker_new(sh, 0, err, sizeof err);
    CHECK(t != NULL);
    if (t)
        t->connect_budget = 64;
    return t;
}

static void test_partial_io_keepalive_and_junk(void)
{
    lg_options o;
    lg_shared sh;
    lg_thread *t = one_thread(&o, &sh, &fake, 3, 1);
    if (!t)
        return;
    lg_conn *c = &t->conns[0];
    uint64_t now = 1000;

    /* A connect in progress, then writable: the request goes out 7 bytes at a time. */
    lg_conn_start_request(t, c, now, now);
    CHECK_INT(c->state, LG_C_CONNECTING);
    CHECK_INT(fk.connects, 1);
    fk.write_limit = 7;
    lg_conn_handle_event(t, c, EPOLLOUT, now + 10);
    CHECK_INT(c->state, LG_C_WRITING);
    CHECK_U64(fk.nwritten, 7);
    while (c->state == LG_C_WRITING) {
        fk.write_limit = 7;
        lg_conn_handle_event(t, c, EPOLLOUT, now + 20);
    }
    CHECK_INT(c->state, LG_C_READING);
    CHECK_U64(fk.nwritten, sh.req_len);
    CHECK(memcmp(fk.written, sh.req, sh.req_len) == 0);
    CHECK_U64(t->counts.connections_opened, 1);

    /* The response in three reads, with an EAGAIN in between: still reading after the first. */
    script_reads("HTTP/1.1 200 OK\r\nCont", NULL, NULL);
    lg_conn_handle_event(t, c, EPOLLIN, now + 30);
    CHECK_INT(c->state, LG_C_READING);
    CHECK_U64(t->counts.complete, 0);
    script_reads("ent-Length: 5\r\n\r\nhel", "lo", NULL);
    lg_conn_handle_event(t, c, EPOLLIN, now + 40);
    lg_conn_handle_event(t, c, EPOLLIN, now + 50);
    CHECK_U64(t->counts.complete, 1);
    CHECK_U64(t->counts.status[200], 1);
    CHECK_U64(t->counts.body_bytes, 5);
    CHECK_INT(c->state, LG_C_IDLE); /* kept alive: not closed */
    CHECK_INT(fk.closes, 0);
    CHECK(c->fd >= 0);

    /* The next request reuses the connection; the write goes out whole. */
    fk.nwritten = 0;
    fk.write_limit = 4096;
    t->nidle = 0;
    lg_conn_start_request(t, c, now + 60, now + 60);
    CHECK_INT(fk.connects, 1);
    CHECK_INT(c->state, LG_C_READING);
    /* Bytes after the response: framing is lost, the connection is closed. */
    script_reads(ok_response, NULL, NULL);
    fk.chunks[0] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloJUNK";
    lg_conn_handle_event(t, c, EPOLLIN, now + 70);
    CHECK_U64(t->counts.complete, 2);
    CHECK_U64(t->counts.keepalive_requests, 1);
    CHECK_INT(fk.closes, 1);
    CHECK(c->fd < 0);

    /* The third request opens a new connection, whose connect fails: a connect error, backoff. */
    t->nidle = 0;
    lg_conn_start_request(t, c, now + 80, now + 80);
    CHECK_INT(fk.connects, 2);
    lg_conn_handle_event(t, c, EPOLLERR | EPOLLHUP, now + 90);
    CHECK_U64(t->counts.errors[LG_ERR_CONNECT], 1);
    CHECK_U64(t->counts.connect_failures[LG_CF_REFUSED], 1);
    CHECK_INT(fk.closes, 2);
    CHECK_INT(t->inflight, 0);
    CHECK(lg_backoff_first(&t->backoff) != NULL); /* it waits before reconnecting */
    lg_worker_free(t);
    CHECK_INT(fk.closes, 2); /* nothing left open */
    pthread_mutex_destroy(&sh.info_lock);
}

/* What the fake handshake's successive steps return. */
static struct {
    enum lg_hs steps[4];
    size_t nsteps, next;
    int calls;
} hs;

static enum lg_hs fake_handshake(lg_conn *c, int *err, const char **what)
{
    (void)c;
    hs.calls++;
    *what = NULL;
    *err = EPROTO;
    return hs.next < hs.nsteps ? hs.steps[hs.next++] : LG_HS_AGAIN;
}

static void script_handshake(enum lg_hs a, enum lg_hs b)
{
    hs.steps[0] = a;
    hs.steps[1] = b;
    hs.nsteps = 2;
    hs.next = 0;
}

static const lg_transport fake_hs = {.name = "fake-hs", .connect = fake_connect,
                                     .connect_error = fake_connect_error, .read = fake_read,
                                     .write = fake_write, .close = fake_close,
                                     .handshake = fake_handshake};

/* A transport with a handshake: the request waits for it, its time is apart from the connect's,
 * and the machine counts handshakes, resumptions and failures by cause without knowing TLS. */
static void test_handshake_step_timing_and_causes(void)
{
    memset(&fk, 0, sizeof fk);
    fk.write_limit = 4096;
    lg_options o;
    lg_shared sh;
    lg_thread *t = one_thread(&o, &sh, &fake_hs, 4, 0);
    if (!t)
        return;
    lg_conn *c = &t->conns[0];
    uint64_t now = 1000;

    /* Connected at +10; the handshake waits once, is done at +25; the request goes out then. */
    script_handshake(LG_HS_AGAIN, LG_HS_DONE);
    lg_conn_start_request(t, c, now, now);
    lg_conn_handle_event(t, c, EPOLLOUT, now + 10);
    CHECK_INT(c->state, LG_C_HANDSHAKE);
    CHECK_U64(fk.nwritten, 0);
    lg_conn_handle_event(t, c, EPOLLIN, now + 25);
    CHECK_INT(c->state, LG_C_READING);
    CHECK_U64(fk.nwritten, sh.req_len);
    script_reads(ok_response, NULL, NULL);
    lg_conn_handle_event(t, c, EPOLLIN, now + 40);
    CHECK_U64(t->counts.complete, 1);
    CHECK_U64(t->counts.tls_handshakes, 1);
    CHECK_U64(t->counts.tls_resumed, 0);
    CHECK_U64(t->counts.connect.max, 10);
    CHECK_U64(t->counts.tls_handshake.count, 1);
    CHECK_U64(t->counts.tls_handshake.max, 15);
    CHECK_U64(t->counts.first_byte.max, 40);

    /* Not kept alive: the next request connects again; the server resumes at once. */
    t->nidle = 0;
    script_handshake(LG_HS_RESUMED, LG_HS_AGAIN);
    fk.write_limit = 4096;
    lg_conn_start_request(t, c, now + 50, now + 50);
    lg_conn_handle_event(t, c, EPOLLOUT, now + 60);
    CHECK_INT(c->state, LG_C_READING);
    script_reads(ok_response, NULL, NULL);
    lg_conn_handle_event(t, c, EPOLLIN, now + 70);
    CHECK_U64(t->counts.tls_handshakes, 2);
    CHECK_U64(t->counts.tls_resumed, 1);

    /* A certificate that does not verify: a connect failure, counted by its cause. */
    t->nidle = 0;
    script_handshake(LG_HS_AGAIN, LG_HS_VERIFY);
    fk.write_limit = 4096;
    lg_conn_start_request(t, c, now + 80, now + 80);
    lg_conn_handle_event(t, c, EPOLLOUT, now + 90);
    lg_conn_handle_event(t, c, EPOLLIN, now + 95);
    CHECK_U64(t->counts.tls_failed_verify, 1);
    CHECK_U64(t->counts.errors[LG_ERR_CONNECT], 1);
    CHECK(c->fd < 0);

    /* A handshake still waiting when the connect timeout runs out. The failed connection waits in
     * the back-off heap first: its wait ends here. */
    CHECK(lg_backoff_pop(&t->backoff) == c);
    c->backoff_level = 0;
    lg_timer_remove(&c->timer);
    t->nidle = 0;
    script_handshake(LG_HS_AGAIN, LG_HS_AGAIN);
    lg_conn_start_request(t, c, now + 100, now + 100);
    lg_conn_handle_event(t, c, EPOLLOUT, now + 110);
    CHECK_INT(c->state, LG_C_HANDSHAKE);
    lg_conn_fail(t, c, LG_ERR_CONNECT, ETIMEDOUT, "timeout", now + 200);
    CHECK_U64(t->counts.tls_failed_timeout, 1);
    CHECK_U64(t->counts.tls_failed_protocol + t->counts.tls_failed_reset, 0);
    CHECK_U64(t->counts.errors[LG_ERR_CONNECT], 2);
    CHECK_INT(t->inflight, 0);
    lg_worker_free(t);
    pthread_mutex_destroy(&sh.info_lock);
}

int main(void)
{
    test_partial_io_keepalive_and_junk();
    test_handshake_step_timing_and_causes();
    return check_exit();
}
