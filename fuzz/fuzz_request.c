/* The server's request path: session plus parser, fed the input once whole and once in random
 * pieces. Both runs must produce the same responses (the interim 100 Continue aside: it depends
 * on whether the body came with the head) and end the same way.
 *
 * The session is sans-I/O, so the fuzzer also plays a driver whose socket misbehaves: a third run
 * takes each write short (random sizes, as a full socket buffer does) and must send the very same
 * byte stream as the split run; a fourth fails a read or a write at a chosen turn (a reset, EPIPE,
 * an error event) and the session must want the close at once, then free everything (ASan). */
#include "http_request.h"
#include "response.h"
#include "session.h"
#include "split.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static server_options_t opts = {.host = "127.0.0.1", .body_bytes = 16, .backlog = 16};

#define STREAM_HASHED 65536 /* bytes of the output stream hashed: enough to tell streams apart */

typedef struct run {
    uint64_t hash;     /* of every response piece but 100 Continue */
    unsigned pieces;
    bool shut;         /* the session lingered (shut its write side) before closing */
    uint64_t stream;   /* of the first STREAM_HASHED bytes written, as the peer would read them */
    uint64_t written;  /* bytes written in all */
} run_t;

/* How the simulated socket misbehaves. */
typedef struct faults {
    bool short_writes;    /* each write takes a random part of what is offered */
    splitter_t write_sizes;
    unsigned fail_turn;   /* 0: never; else the I/O of this turn fails */
} faults_t;

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 1099511628211ull;
}

static void hash_stream(run_t *r, const struct iovec *iov, unsigned count, size_t n)
{
    for (unsigned i = 0; i < count && n > 0; i++) {
        size_t take = iov[i].iov_len < n ? iov[i].iov_len : n;
        if (r->written < STREAM_HASHED) {
            size_t h = take < STREAM_HASHED - r->written ? take : (size_t)(STREAM_HASHED - r->written);
            hash_bytes(&r->stream, iov[i].iov_base, h);
        }
        r->written += take;
        n -= take;
    }
}

/* Writes out the queue as a socket that takes everything would. Bodies are the same fixed
 * pattern, so their length and first bytes stand for them. */
static void drain(session_t *s, run_t *r, uint64_t now)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    unsigned count;
    const struct iovec *iov = session_out(s, &count);
    size_t total = 0;
    for (unsigned i = 0; i < count; i++) {
        const struct iovec *v = &iov[i];
        total += v->iov_len;
        if (v->iov_len == sizeof cont - 1 && memcmp(v->iov_base, cont, v->iov_len) == 0)
            continue;
        hash_bytes(&r->hash, &v->iov_len, sizeof v->iov_len);
        hash_bytes(&r->hash, v->iov_base, v->iov_len < 512 ? v->iov_len : 512);
        r->pieces++;
    }
    if (count > 0) {
        session_out_begin(s);
        hash_stream(r, iov, count, total);
        session_out_done(s, total, now);
    }
}

/* One asynchronous write that the socket takes only part of (at least a byte: a write that takes
 * nothing is EAGAIN, which an asynchronous driver never reports as a completion). */
static void drain_short(session_t *s, run_t *r, splitter_t *sizes, uint64_t now)
{
    unsigned count;
    const struct iovec *iov = session_out(s, &count);
    size_t total = 0;
    for (unsigned i = 0; i < count; i++)
        total += iov[i].iov_len;
    if (total == 0)
        return;
    size_t n = splitter_next(sizes, total);
    session_out_begin(s);
    hash_stream(r, iov, count, n);
    session_out_done(s, n, now);
}

/* Drives the session as a driver would, on a simulated clock that jumps to each deadline. */
static server_stats_t *stats;

static run_t serve(const uint8_t *data, size_t len, splitter_t sp, faults_t *f)
{
    static session_t s;
    stats_reset(stats); /* the /__stats page must read the same in both runs */
    uint64_t now = 1000000000ull;
    session_init(&s, &opts, stats_instance(stats, 0), now);
    run_t r = {.hash = 14695981039346656037ull, .stream = 14695981039346656037ull};
    size_t pos = 0;
    bool eof_sent = false;
    for (unsigned turns = 0;; turns++) {
        if (turns > 10000000) {
            fprintf(stderr, "session never closed\n");
            abort();
        }
        session_want_t w = session_next(&s, now);
        if (w.close)
            break;
        if (f && f->fail_turn && f->fail_turn == turns && (w.write || w.read || w.shut_write)) {
            if (w.write) { /* the failed write completes with nothing taken, then the error */
                session_out_begin(&s);
                session_out_done(&s, 0, now);
            }
            session_io_failed(&s);
            if (!session_next(&s, now).close) {
                fprintf(stderr, "session goes on after an I/O error at turn %u\n", turns);
                abort();
            }
            break;
        }
        if (w.write) {
            if (f && f->short_writes)
                drain_short(&s, &r, &f->write_sizes, now);
            else
                drain(&s, &r, now);
            continue;
        }
        if (w.shut_write) {
            session_write_shut(&s, now);
            r.shut = true;
            continue;
        }
        if (w.read && pos < len) {
            size_t avail;
            char *in = session_in_space(&s, &avail);
            if (avail == 0) {
                fprintf(stderr, "session asked for input with a full buffer\n");
                abort();
            }
            size_t n = splitter_next(&sp, len - pos);
            if (n > avail)
                n = avail;
            memcpy(in, data + pos, n);
            session_in_added(&s, n);
            pos += n;
            continue;
        }
        if (w.read && !eof_sent && (!w.deadline_ns || r.shut)) { /* the peer has sent everything */
            session_in_eof(&s);
            eof_sent = true;
            continue;
        }
        if (!w.deadline_ns) {
            fprintf(stderr, "session waits for nothing\n");
            abort();
        }
        now = w.deadline_ns > now ? w.deadline_ns : now;
        session_timer(&s, -1, now);
    }
    session_end(&s);
    return r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    http_request_global_init();
    stats = stats_create("fuzz", 1);
    responses_init("fuzz", &opts);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    run_t whole = serve(data + 1, size - 1, splitter_new(data[0], 1), NULL);
    run_t split = serve(data + 1, size - 1, splitter_new(data[0], 0), NULL);
    if (whole.hash != split.hash || whole.pieces != split.pieces || whole.shut != split.shut) {
        fprintf(stderr, "responses differ with the split: %u vs %u pieces\n", whole.pieces, split.pieces);
        abort();
    }
    /* Short writes: the same input pieces, each write cut at random; the peer must read the same. */
    faults_t f = {.short_writes = true, .write_sizes = splitter_new((uint8_t)(data[0] * 37u + 11u), 0)};
    run_t shorter = serve(data + 1, size - 1, splitter_new(data[0], 0), &f);
    if (shorter.written != split.written || shorter.stream != split.stream || shorter.shut != split.shut) {
        fprintf(stderr, "short writes changed the output: %llu vs %llu bytes\n",
                (unsigned long long)shorter.written, (unsigned long long)split.written);
        abort();
    }
    /* An I/O error at a turn drawn from the input (wherever the session then is). */
    faults_t fail = {.fail_turn = 1u + (unsigned)((size * 131u + data[0]) % 48u)};
    serve(data + 1, size - 1, splitter_new(data[0], 0), &fail);
    return 0;
}
