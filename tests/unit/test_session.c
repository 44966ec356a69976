/* The session and its driver contract: bytes in, responses out, in order; errors answer and
 * close (lingering when the peer may still send); the interim 100 Continue; delays and the three
 * timeouts as deadlines; a write in flight while a delayed answer is queued; no input buffer
 * while a connection waits, and no work at all while it rests (taken back from a bounded free list). Time is simulated: every call gets an explicit `now`. */
#include "check.h"
#include "response.h"
#include "session.h"
#include "stats.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define MS 1000000ull
#define T0 (1000 * MS)

static server_options_t opts = {.host = "127.0.0.1", .body_bytes = 5, .backlog = 16,
                                .header_timeout_ns = 300 * MS, .idle_timeout_ns = 600 * MS,
                                .write_timeout_ns = 900 * MS};

static server_stats_t *all; /* one instance: the session under test counts into it */
static stats_t *counters;

/* Appends the whole string to the session's input. */
static void give(session_t *s, const char *text)
{
    size_t len = strlen(text);
    CHECK_U64(session_in_copy(s, text, len), len);
}

/* Takes everything queued for writing, as an asynchronous writer whose write completes. */
static char *take_output(session_t *s, uint64_t now)
{
    static char buf[1 << 16];
    size_t n = 0, total = 0;
    unsigned count;
    const struct iovec *iov = session_out(s, &count);
    if (count == 0) {
        buf[0] = '\0';
        return buf;
    }
    for (unsigned i = 0; i < count; i++) {
        size_t len = iov[i].iov_len;
        total += len;
        if (n + len >= sizeof buf)
            len = sizeof buf - 1 - n;
        memcpy(buf + n, iov[i].iov_base, len);
        n += len;
    }
    buf[n] = '\0';
    session_out_begin(s);
    session_out_done(s, total, now);
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static session_t *new_session(void)
{
    session_t *s = malloc(sizeof *s);
    session_init(s, &opts, counters, T0);
    return s;
}

static void end(session_t *s)
{
    session_end(s);
    free(s);
}

static void test_pipelined_in_order(void)
{
    session_t *s = new_session();
    uint64_t before = counters->requests;
    give(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /?bytes=3 HTTP/1.1\r\nHost: x\r\n\r\n");
    session_want_t w = session_next(s, T0);
    CHECK(w.write && !w.read && !w.close);
    char *out = take_output(s, T0);
    CHECK_INT(count(out, "HTTP/1.1 200 OK\r\n"), 3);
    char *first = strstr(out, "Content-Length: 5\r\n");
    char *third = strstr(out, "Content-Length: 3\r\n");
    CHECK(first && third && first < third);
    CHECK_U64(counters->requests - before, 3);
    w = session_next(s, T0);
    CHECK(w.read && !w.write && w.deadline_ns == T0 + opts.idle_timeout_ns); /* keep-alive idleness */
    /* The peer closes between requests: a clean close, no answer. */
    session_in_eof(s);
    w = session_next(s, T0);
    CHECK(w.close && !w.write && !w.shut_write);
    end(s);
}

static void test_connection_close(void)
{
    session_t *s = new_session();
    give(s, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(session_next(s, T0).write);
    char *out = take_output(s, T0);
    CHECK_INT(count(out, "HTTP/1.1 200"), 1);
    CHECK(strstr(out, "Connection: close\r\n") != NULL);
    CHECK(session_next(s, T0).close);
    end(s);
}

static void test_bad_request_answers_and_lingers(void)
{
    session_t *s = new_session();
    uint64_t bad = counters->errors[ERR_BAD_REQUEST];
    give(s, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n");
    CHECK(session_next(s, T0).write);
    char *out = take_output(s, T0);
    char *ok = strstr(out, "HTTP/1.1 200 OK"), *err = strstr(out, "HTTP/1.1 400 Bad Request");
    CHECK(ok && err && ok < err);
    CHECK_U64(counters->errors[ERR_BAD_REQUEST] - bad, 1);
    /* The peer may still be sending: shut the write side, drain, then close. */
    session_want_t w = session_next(s, T0);
    CHECK(w.shut_write && !w.close);
    session_write_shut(s, T0);
    w = session_next(s, T0);
    CHECK(w.read && w.deadline_ns == T0 + SESSION_LINGER_NS);
    give(s, "more garbage, dropped");
    CHECK(session_next(s, T0).read);
    CHECK_STR(take_output(s, T0), ""); /* nothing more is answered */
    session_timer(s, -1, T0 + SESSION_LINGER_NS);
    CHECK(session_next(s, T0 + SESSION_LINGER_NS).close);
    end(s);

    s = new_session();
    uint64_t big = counters->errors[ERR_BODY_TOO_LARGE];
    give(s, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n");
    CHECK(session_next(s, T0).write);
    CHECK(strstr(take_output(s, T0), "HTTP/1.1 413 ") != NULL);
    CHECK_U64(counters->errors[ERR_BODY_TOO_LARGE] - big, 1);
    session_in_eof(s); /* lingering ends with the peer's EOF */
    CHECK(session_next(s, T0).close);
    end(s);

    s = new_session();
    give(s, "GET /?delay_ms=abc HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(session_next(s, T0).write);
    CHECK(strstr(take_output(s, T0), "HTTP/1.1 400 ") != NULL);
    end(s);

    s = new_session();
    give(s, "GET /\r\n"); /* HTTP/0.9: answered at once */
    CHECK(session_next(s, T0).write);
    CHECK(strstr(take_output(s, T0), "HTTP/1.1 505 ") != NULL);
    end(s);
}

static void test_truncated_request(void)
{
    session_t *s = new_session();
    give(s, "GET / HTTP/1.1\r\nHo");
    session_want_t w = session_next(s, T0);
    CHECK(w.read && !w.write);
    session_in_eof(s);
    CHECK(session_next(s, T0).write);
    CHECK(strstr(take_output(s, T0), "HTTP/1.1 400 ") != NULL);
    CHECK(session_next(s, T0).close); /* nothing more will come: no lingering */
    end(s);
}

static void test_expect_continue(void)
{
    session_t *s = new_session();
    give(s, "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    CHECK(session_next(s, T0).write);
    CHECK_STR(take_output(s, T0), "HTTP/1.1 100 Continue\r\n\r\n");
    give(s, "bo");
    CHECK(session_next(s, T0).read);
    CHECK_STR(take_output(s, T0), ""); /* only once */
    give(s, "dy");
    CHECK(session_next(s, T0).write);
    CHECK(strncmp(take_output(s, T0), "HTTP/1.1 200 OK\r\n", 17) == 0);
    end(s);
}

static void test_delay(void)
{
    session_t *s = new_session();
    int64_t inflight = all->inflight;
    give(s, "GET /?delay_ms=5 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    session_want_t w = session_next(s, T0);
    CHECK(!w.write && w.deadline_ns == T0 + 5 * MS); /* only the delay: no timeout runs meanwhile */
    CHECK_INT(all->inflight - inflight, 1);
    session_timer(s, -1, T0 + 4 * MS); /* early: nothing happens */
    w = session_next(s, T0 + 4 * MS);
    CHECK(!w.write && w.deadline_ns == T0 + 5 * MS);
    session_timer(s, -1, T0 + 5 * MS);
    CHECK(session_next(s, T0 + 5 * MS).write);
    CHECK_INT(count(take_output(s, T0 + 5 * MS), "HTTP/1.1 200 OK"), 2); /* the second waited behind */
    CHECK_INT(all->inflight - inflight, 0);

    /* Ended while waiting: the in-flight count goes back down, nothing is answered. */
    uint64_t requests = counters->requests;
    give(s, "GET /?delay_ms=5 HTTP/1.1\r\nHost: x\r\n\r\n");
    session_next(s, T0);
    end(s);
    CHECK_INT(all->inflight - inflight, 0);
    CHECK_U64(counters->requests, requests);
}

/* An asynchronous writer holds a large answer while a delay ends: the delayed answer is queued
 * behind it, and the completion of the first write must not drop it. */
static void test_answer_queued_while_a_write_is_in_flight(void)
{
    session_t *s = new_session();
    give(s, "GET /?bytes=100000 HTTP/1.1\r\nHost: x\r\n\r\nGET /?delay_ms=1&bytes=7 HTTP/1.1\r\nHost: x\r\n\r\n");
    session_want_t w = session_next(s, T0);
    CHECK(w.write);
    unsigned n;
    const struct iovec *iov = session_out(s, &n);
    size_t first = 0;
    for (unsigned i = 0; i < n; i++)
        first += iov[i].iov_len;
    session_out_begin(s);
    w = session_next(s, T0);
    CHECK(!w.write && !w.read); /* in flight: nothing more to write yet, and no reading */
    session_timer(s, -1, T0 + MS);   /* the delay ends meanwhile */
    w = session_next(s, T0 + MS);
    CHECK(!w.write);
    session_out_done(s, first - 10, T0 + MS); /* a partial completion */
    w = session_next(s, T0 + MS);
    CHECK(w.write);
    char *out = take_output(s, T0 + MS);
    CHECK(strstr(out, "Content-Length: 7\r\n") != NULL); /* the delayed answer is there */
    end(s);
}

static void test_many_pipelined_requests(void)
{
    /* More pipelined requests than the output queue holds: answered in rounds, all of them. */
    session_t *s = new_session();
    static const char req[] = "GET /?bytes=1 HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t nreq = 2000, len = nreq * (sizeof req - 1), sent = 0;
    char *all = malloc(len);
    for (size_t i = 0; i < nreq; i++)
        memcpy(all + i * (sizeof req - 1), req, sizeof req - 1);
    int answered = 0;
    for (int rounds = 0; rounds < 100000 && answered < (int)nreq; rounds++) {
        session_want_t w = session_next(s, T0);
        CHECK(!w.close);
        if (w.write) {
            answered += count(take_output(s, T0), "HTTP/1.1 200 OK");
            continue;
        }
        CHECK(w.read);
        if (!w.read)
            break;
        sent += session_in_copy(s, all + sent, len - sent); /* as much as it takes: requests split */
    }
    free(all);
    CHECK_INT(answered, (int)nreq);
    end(s);
}

/* Line ends between requests arrive on their own: the next request is planned from its own head. */
static void test_stray_line_end_between_requests(void)
{
    session_t *s = new_session();
    give(s, "GET /?bytes=3 HTTP/1.1\r\nHost: x\r\n\r\n");
    session_next(s, T0);
    take_output(s, T0);
    give(s, "\r\n");
    session_next(s, T0);
    give(s, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(session_next(s, T0).write);
    char *out = take_output(s, T0);
    CHECK(strstr(out, "Content-Length: 5\r\n") != NULL); /* not the first request's plan */
    CHECK(strstr(out, "\r\n\r\n")[4] == '\0');        /* HEAD: no body */
    end(s);
}

static void test_stats_page(void)
{
    session_t *s = new_session();
    uint64_t requests = counters->requests;
    give(s, "GET /__stats HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(session_next(s, T0).write);
    char *out = take_output(s, T0);
    CHECK(strstr(out, "application/json") != NULL);
    CHECK(strstr(out, "\"model\":\"unit\"") != NULL);
    CHECK(strstr(out, "\"timeouts\":{") != NULL);
    CHECK_U64(counters->requests, requests); /* not workload */
    end(s);
}

static void test_header_timeout(void)
{
    uint64_t before = counters->timeouts[TIMEOUT_HEADER];
    /* A connection that never sends: timed from the connect. */
    session_t *s = new_session();
    session_want_t w = session_next(s, T0);
    CHECK(w.read && w.deadline_ns == T0 + opts.header_timeout_ns);
    session_timer(s, -1, T0 + opts.header_timeout_ns - 1);
    CHECK(session_next(s, T0).read);
    session_timer(s, -1, T0 + opts.header_timeout_ns);
    CHECK(session_next(s, T0 + opts.header_timeout_ns).write);
    char *out = take_output(s, T0 + opts.header_timeout_ns);
    CHECK(strstr(out, "HTTP/1.1 408 ") && strstr(out, "Connection: close\r\n"));
    CHECK(session_next(s, T0 + opts.header_timeout_ns).close);
    end(s);

    /* A later request's head: timed from its first byte. */
    s = new_session();
    give(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    session_next(s, T0);
    take_output(s, T0);
    uint64_t t1 = T0 + 100 * MS;
    give(s, "GET / HT");
    w = session_next(s, t1);
    CHECK(w.read && w.deadline_ns == t1 + opts.header_timeout_ns);
    session_timer(s, -1, t1 + opts.header_timeout_ns);
    CHECK(strstr(take_output(s, t1 + opts.header_timeout_ns), "HTTP/1.1 408 ") != NULL);
    end(s);
    CHECK_U64(counters->timeouts[TIMEOUT_HEADER] - before, 2);
}

static void test_idle_and_write_timeouts(void)
{
    uint64_t idle = counters->timeouts[TIMEOUT_IDLE], wr = counters->timeouts[TIMEOUT_WRITE];
    session_t *s = new_session();
    give(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    session_next(s, T0);
    take_output(s, T0);
    session_want_t w = session_next(s, T0);
    CHECK(w.deadline_ns == T0 + opts.idle_timeout_ns);
    session_timer(s, -1, w.deadline_ns);
    w = session_next(s, w.deadline_ns);
    CHECK(w.close && !w.write); /* idle: closed without an answer */
    end(s);
    CHECK_U64(counters->timeouts[TIMEOUT_IDLE] - idle, 1);

    s = new_session(); /* no socket to ask: only a write that drains the output is progress */
    give(s, "GET /?bytes=100000 HTTP/1.1\r\nHost: x\r\n\r\n");
    w = session_next(s, T0);
    CHECK(w.write && w.deadline_ns == T0 + opts.write_timeout_ns);
    session_out_begin(s);
    session_out_done(s, 1000, T0 + 500 * MS);
    w = session_next(s, T0 + 500 * MS);
    CHECK(w.write && w.deadline_ns == T0 + opts.write_timeout_ns);
    session_timer(s, -1, w.deadline_ns);
    CHECK(session_next(s, w.deadline_ns).close);
    end(s);
    CHECK_U64(counters->timeouts[TIMEOUT_WRITE] - wr, 1);
}

/* A connected loopback TCP pair: *server non-blocking with a small send buffer, *client with a
 * small receive buffer that it does not read. */
static void tcp_pair(int *server, int *client)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int small = 4096, lfd = socket(AF_INET, SOCK_STREAM, 0);
    *client = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(lfd >= 0 && *client >= 0);
    CHECK(setsockopt(*client, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    CHECK(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 1) == 0);
    CHECK(getsockname(lfd, (struct sockaddr *)&a, &len) == 0);
    CHECK(connect(*client, (struct sockaddr *)&a, sizeof a) == 0);
    *server = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    CHECK(*server >= 0);
    CHECK(setsockopt(*server, SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
    close(lfd);
}

/* Reads what the client's socket holds now, without waiting. */
static size_t client_reads(int fd)
{
    static char buf[1 << 16];
    size_t total = 0;
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
        total += (size_t)n;
    return total;
}

/* Four pipelined requests for 1 MiB each: more than any send buffer here takes. */
static void give_big_requests(session_t *s)
{
    for (int i = 0; i < 4; i++)
        give(s, "GET /?bytes=1048576 HTTP/1.1\r\nHost: x\r\n\r\n");
}

/* The write timeout counts what the peer takes, not what the socket takes: the kernel can grow
 * the send buffer of a peer that reads nothing, and writes into the grown buffer are no progress. */
static void test_write_timeout_counts_what_the_peer_took(void)
{
    uint64_t wr = counters->timeouts[TIMEOUT_WRITE];
    int sfd, cfd;
    tcp_pair(&sfd, &cfd);
    session_t *s = new_session();
    give_big_requests(s);
    CHECK(session_next(s, T0).write);
    CHECK(session_flush(s, sfd, T0) == FLUSH_AGAIN); /* full: the wait for the peer begins */
    usleep(50000);                                   /* the peer's window is filled and acknowledged */
    int big = 1 << 18;                               /* the kernel grows the send buffer */
    CHECK(setsockopt(sfd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big) == 0);
    CHECK(session_next(s, T0 + 500 * MS).write);
    CHECK(session_flush(s, sfd, T0 + 500 * MS) == FLUSH_AGAIN);
    session_want_t w = session_next(s, T0 + 500 * MS);
    CHECK(w.write && w.deadline_ns == T0 + opts.write_timeout_ns); /* those writes moved nothing */
    session_timer(s, sfd, w.deadline_ns);
    CHECK(session_next(s, w.deadline_ns).close);
    CHECK_U64(counters->timeouts[TIMEOUT_WRITE] - wr, 1);
    end(s);
    close(sfd);
    close(cfd);

    /* A peer that reads, however slowly, has taken bytes by the deadline: a new period begins. */
    tcp_pair(&sfd, &cfd);
    s = new_session();
    give_big_requests(s);
    CHECK(session_next(s, T0).write);
    CHECK(session_flush(s, sfd, T0) == FLUSH_AGAIN);
    usleep(50000);
    CHECK(client_reads(cfd) > 0);
    usleep(50000); /* what the read made room for is sent and acknowledged */
    uint64_t deadline = T0 + opts.write_timeout_ns;
    session_timer(s, sfd, deadline);
    w = session_next(s, deadline);
    CHECK(!w.close && w.write && w.deadline_ns == deadline + opts.write_timeout_ns);
    session_flush(s, sfd, deadline); /* the socket took what the read made room for */
    session_timer(s, sfd, w.deadline_ns); /* nothing read since */
    CHECK(session_next(s, w.deadline_ns).close);
    CHECK_U64(counters->timeouts[TIMEOUT_WRITE] - wr, 2);
    end(s);
    close(sfd);
    close(cfd);
}

static void test_waiting_connections_hold_no_input_buffer(void)
{
    session_t *s = new_session();
    session_next(s, T0);
    CHECK(s->work == NULL); /* nothing read yet */
    give(s, "GET /?delay_ms=50 HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(s->work != NULL && s->work->block != NULL);
    session_next(s, T0);
    CHECK(s->work != NULL && s->work->block == NULL); /* waiting for its delay: the plan, no buffer */
    session_timer(s, -1, T0 + 50 * MS);
    session_next(s, T0 + 50 * MS);
    take_output(s, T0 + 50 * MS);
    session_next(s, T0 + 50 * MS);
    CHECK(s->work == NULL); /* waiting for the next request: no parser, queue or buffer */
    give(s, "GET / HT"); /* half a head keeps its bytes */
    session_next(s, T0 + 50 * MS);
    CHECK(s->work != NULL && s->work->block != NULL);
    end(s);
}

/* A resting connection's work serves the next connection that reads, parser started afresh even
 * when the last one failed in the middle of a request. */
static void test_resting_work_is_reused(void)
{
    session_pool_drain();
    session_t *a = new_session();
    give(a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    session_next(a, T0);
    session_work_t *first = a->work;
    take_output(a, T0);
    CHECK(!session_next(a, T0).close && a->work == NULL);
    CHECK_INT(session_pool_len(), 1);
    session_t *b = new_session();
    give(b, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nX: \x01\r\n\r\n"); /* then a bad head */
    CHECK(b->work == first && session_pool_len() == 0); /* taken back, not allocated */
    CHECK(session_next(b, T0).write);
    char *out = take_output(b, T0);
    CHECK_INT(count(out, "HTTP/1.1 200 "), 1);
    CHECK(strstr(out, "HTTP/1.1 400 ") != NULL);
    end(b); /* its work, parser mid-error, goes back */
    session_t *c = new_session();
    give(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(c->work == first);
    CHECK(session_next(c, T0).write);
    CHECK(strstr(take_output(c, T0), "HTTP/1.1 200 ") != NULL);
    end(c);
    end(a);
}

/* The free list keeps SESSION_POOL_MAX works; more connections resting at once free theirs. */
static void test_free_list_is_bounded(void)
{
    enum { N = SESSION_POOL_MAX + 8 };
    session_pool_drain();
    session_t *s[N];
    session_work_t *old[N];
    for (int i = 0; i < N; i++) {
        s[i] = new_session();
        give(s[i], "GET / HT");
        old[i] = s[i]->work;
    }
    for (int i = 0; i < N; i++)
        end(s[i]);
    CHECK_INT(session_pool_len(), SESSION_POOL_MAX);
    int reused = 0; /* the first ones to read take the kept works back */
    for (int i = 0; i < SESSION_POOL_MAX; i++) {
        s[i] = new_session();
        give(s[i], "GET / HT");
        for (int j = 0; j < N; j++)
            reused += s[i]->work == old[j];
    }
    CHECK_INT(reused, SESSION_POOL_MAX);
    CHECK_INT(session_pool_len(), 0);
    for (int i = SESSION_POOL_MAX; i < N; i++) {
        s[i] = new_session();
        give(s[i], "GET / HT");
    }
    for (int i = 0; i < N; i++)
        end(s[i]);
    session_pool_drain();
}

/* A body that ends in CR, then the LF in a later read: the connection rests in between, and the
 * LF must still count as the end of that CRLF, as when both arrive in one read (no 400). */
static void test_cr_before_rest_keeps_its_lf(void)
{
    uint64_t bad = counters->errors[ERR_BAD_REQUEST];
    session_t *s = new_session();
    give(s, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n\r");
    session_next(s, T0);
    CHECK(count(take_output(s, T0), "200 OK") == 1);
    session_next(s, T0);
    give(s, "\n");
    session_in_eof(s);
    session_want_t w = session_next(s, T0);
    CHECK(w.close || w.shut_write);
    CHECK(count(take_output(s, T0), "400") == 0);
    CHECK_U64(counters->errors[ERR_BAD_REQUEST] - bad, 0);
    end(s);
}

int main(void)
{
    http_request_global_init();
    all = stats_create("unit", 1);
    counters = stats_instance(all, 0);
    responses_init("unit", &opts);
    test_pipelined_in_order();
    test_connection_close();
    test_bad_request_answers_and_lingers();
    test_truncated_request();
    test_expect_continue();
    test_delay();
    test_answer_queued_while_a_write_is_in_flight();
    test_many_pipelined_requests();
    test_stray_line_end_between_requests();
    test_stats_page();
    test_header_timeout();
    test_idle_and_write_timeouts();
    test_write_timeout_counts_what_the_peer_took();
    test_waiting_connections_hold_no_input_buffer();
    test_resting_work_is_reused();
    test_free_list_is_bounded();
    test_cr_before_rest_keeps_its_lf();
    return check_exit();
}
