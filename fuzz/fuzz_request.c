/* The server's request path: session plus parser, fed the input once whole and once in random
 * pieces. Both runs must produce the same responses (the interim 100 Continue aside: it depends
 * on whether the body came with the head) and end the same way. */
#include "http_request.h"
#include "response.h"
#include "session.h"
#include "split.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static server_options_t opts = {.host = "127.0.0.1", .body_bytes = 16, .backlog = 16};

typedef struct run {
    uint64_t hash;     /* of every response piece but 100 Continue */
    unsigned pieces;
    session_step_t last;
    bool linger;
} run_t;

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 1099511628211ull;
}

/* Writes out the queue as a socket that takes everything would. Bodies are the same fixed
 * pattern, so their length and first bytes stand for them. */
static void drain(session_t *s, run_t *r)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    for (unsigned i = s->out.first; i < s->out.first + s->out.count; i++) {
        const struct iovec *v = &s->out.iov[i];
        if (v->iov_len == sizeof cont - 1 && memcmp(v->iov_base, cont, v->iov_len) == 0)
            continue;
        hash_bytes(&r->hash, &v->iov_len, sizeof v->iov_len);
        hash_bytes(&r->hash, v->iov_base, v->iov_len < 512 ? v->iov_len : 512);
        r->pieces++;
    }
    outq_consume(&s->out, SIZE_MAX);
}

static run_t serve(const uint8_t *data, size_t len, splitter_t sp)
{
    static session_t s;
    memset(g_stats, 0, sizeof *g_stats); /* the /__stats page must read the same in both runs */
    session_init(&s, &opts);
    run_t r = {.hash = 14695981039346656037ull};
    size_t pos = 0;
    for (;;) {
        session_step_t step = session_advance(&s);
        drain(&s, &r);
        r.last = step;
        if (step == SESSION_CLOSE)
            break;
        if (step == SESSION_DELAY) {
            session_delay_done(&s);
            continue;
        }
        if (step == SESSION_WRITE)
            continue; /* drained above */
        if (pos == len) {
            s.peer_eof = true;
            continue;
        }
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
    }
    r.linger = s.linger;
    session_abandon(&s);
    return r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    http_request_global_init();
    stats_init("fuzz");
    responses_init("fuzz", &opts);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    run_t whole = serve(data + 1, size - 1, splitter_new(data[0], 1));
    run_t split = serve(data + 1, size - 1, splitter_new(data[0], 0));
    if (whole.hash != split.hash || whole.pieces != split.pieces || whole.last != split.last) {
        fprintf(stderr, "responses differ with the split: %u vs %u pieces\n", whole.pieces, split.pieces);
        abort();
    }
    return 0;
}
