/* How a request ends: complete (status, lengths, latency histograms) or failed (by class), and
 * what that asks of its connection (a verdict that conn.c applies: this file never touches a
 * socket). Statistics are per thread; nothing here is shared per request except the first document
 * length (ab -l) and the Server header, each set once. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "worker.h"

static void verbose_failure(const lg_thread *t, enum lg_err cls, int err, const char *what)
{
    if (t->sh->o->verbosity >= 2)
        fprintf(stderr, "WARNING: request failed (%s): %s\n", lg_err_names[cls],
                what ? what : strerror(err));
}

/* The request is over: it no longer counts as in flight, and it may be the last one measured. */
static inline void ended(lg_thread *t, const lg_conn *c, uint64_t now)
{
    t->inflight--;
    if (c->counted)
        t->end_us = now;
}

/* A time-bound run measures a window: a request that ends inside it counts even if it began during
 * the warm-up, so a closed loop's complete / window is its rate, with nothing lost at the edges. */
static void count_if_in_window(lg_thread *t, lg_conn *c, uint64_t now)
{
    if (t->unlimited && !c->counted && now >= t->sh->measure_start)
        c->counted = 1;
}

enum lg_verdict lg_outcome_fail(lg_thread *t, lg_conn *c, enum lg_err cls, int err, const char *what,
                             uint64_t now)
{
    count_if_in_window(t, c, now);
    if (c->counted) {
        t->counts.errors[cls]++;
        t->counts.attempts++;
        t->counts.bytes_total += c->bytes; /* like ab, "Total transferred" is every byte read */
        t->ts.errors++;
    }
    if (cls == LG_ERR_CONNECT) {
        t->connects_failed++;
        if (c->counted)
            t->counts.connect_failures[lg_connfail_class(err)]++;
        if (!t->first_connect_errno)
            t->first_connect_errno = err;
        if (!c->backoff_level)
            c->backoff_level = 1;
    }
    verbose_failure(t, cls, err, what);
    if (t->capture_owner == c)
        t->capture_owner = NULL; /* another connection may collect the headers */
    ended(t, c, now);
    /* A failed connect waits before the next try; any other failure leaves framing unknown. */
    return c->backoff_level ? LG_CLOSE_BACK_OFF : LG_CLOSE;
}

/* ab -l semantics: every body must be as long as the first complete response's. */
static int length_differs(lg_shared *sh, uint64_t body)
{
    long long expected = atomic_load_explicit(&sh->doclen, memory_order_relaxed);
    if (expected < 0) {
        long long none = -1;
        if (atomic_compare_exchange_strong(&sh->doclen, &none, (long long)body))
            return 0;
        return (uint64_t)none != body;
    }
    return (uint64_t)expected != body;
}

/* The first complete response tells the Server header, present or not. */
static void publish_server_header(lg_thread *t)
{
    lg_shared *sh = t->sh;
    t->capture_active = 0;
    if (!t->cap.found)
        return;
    pthread_mutex_lock(&sh->info_lock);
    if (!sh->has_server) {
        memcpy(sh->server, t->cap.server, sizeof sh->server);
        sh->has_server = 1;
    }
    pthread_mutex_unlock(&sh->info_lock);
}

static void record_latencies(lg_thread *t, const lg_conn *c, unsigned status, uint64_t now)
{
    uint64_t total = lg_span(c->t_start, now);
    hist_record(&t->counts.total, total);
    if (status >= 200 && status <= 299)
        hist_record(&t->counts.total_2xx, total);
    lg_ts_record(&t->ts, total);
    if (t->rate_interval_us > 0)
        hist_record(&t->counts.total_uncorrected, lg_span(c->t_actual, now));
    if (!c->reused) {
        /* A new connection's first byte comes after connect, handshake and request; on a reused
         * one it is the write plus "waiting", so it is not recorded there (one histogram less on
         * the keep-alive path). */
        hist_record(&t->counts.connect, lg_span(c->t_actual, c->t_tcp_up));
        if (c->handshook)
            hist_record(&t->counts.tls_handshake, lg_span(c->t_tcp_up, c->t_connected));
        hist_record(&t->counts.first_byte, lg_span(c->t_actual, c->t_first_byte));
    }
    hist_record(&t->counts.processing, lg_span(c->reused ? c->t_actual : c->t_connected, now));
    hist_record(&t->counts.waiting, lg_span(c->t_write_end, c->t_first_byte));
}

enum lg_verdict lg_outcome_complete(lg_thread *t, lg_conn *c, size_t extra, uint64_t now)
{
    const lg_options *o = t->sh->o;
    unsigned status = c->resp.status < LG_STATUS_MAX ? c->resp.status : 0;
    uint64_t body = c->resp.body_bytes;
    count_if_in_window(t, c, now);
    int length_error = length_differs(t->sh, body) && !o->variable_length;
    if (t->capture_owner == c) { /* header collection ends with this response */
        publish_server_header(t);
        t->capture_owner = NULL;
    }
    if (o->verbosity >= 3)
        fprintf(stderr, "LOG: Response code = %u\n", c->resp.status);
    if (!c->t_first_2xx && status >= 200 && status <= 299) {
        c->t_first_2xx = now;
        t->counts.answered++;
        t->last_first_2xx = now;
    }
    if (c->counted) {
        t->counts.complete++;
        t->counts.attempts++;
        t->counts.bytes_total += c->bytes;
        t->counts.body_bytes += body;
        t->counts.status[status]++;
        if (status < 200 || status > 299)
            t->counts.non_2xx++;
        if (c->reused)
            t->counts.keepalive_requests++;
        if (length_error) {
            t->counts.errors[LG_ERR_LENGTH]++;
            t->ts.errors++;
        }
        record_latencies(t, c, status, now);
    } else {
        t->counts.warmup_requests++;
    }
    ended(t, c, now);
    if (extra > 0) {
        /* Bytes after the response on a connection without pipelining: framing is lost, close,
         * and say so (with -k, each one costs a reconnect). */
        if (c->counted)
            t->counts.junk_after_response++;
        return LG_CLOSE;
    }
    /* An answer that came before the whole request was written leaves the rest unsendable. */
    if (!o->keepalive || c->written < t->sh->req_len || !lg_response_keepalive(&c->resp))
        return LG_CLOSE;
    return LG_KEEP;
}
