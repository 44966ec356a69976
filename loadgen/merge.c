/* Reads loadgen JSON results and adds them up exactly: counts add, histograms add bucket by
 * bucket, and every percentile is recomputed from the merged histograms. */
#include "merge.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idle_report.h"
#include "timeseries.h"
#include "url.h"

typedef struct ctx {
    const char *file;
    char *err;
    size_t errlen;
    const char *first_file; /* whose URL every other file must have */
    unsigned flags;         /* LG_MERGE_* */
} ctx;

static int fail(ctx *c, const char *what, const char *key)
{
    snprintf(c->err, c->errlen, "%s: not a valid loadgen result: %s '%s'", c->file, what, key);
    return -1;
}

static int get_u64(ctx *c, json_t *obj, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return fail(c, "missing or bad integer", key);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Adds v to *sum: a total that would wrap is an error, never a wrong sum. */
static int add_u64(ctx *c, uint64_t *sum, uint64_t v, const char *key)
{
    if (*sum > UINT64_MAX - v)
        return fail(c, "the merged total overflows", key);
    *sum += v;
    return 0;
}

static int get_obj(ctx *c, json_t *obj, const char *key, json_t **out)
{
    *out = json_object_get(obj, key);
    if (!json_is_object(*out))
        return fail(c, "missing object", key);
    return 0;
}

/* Reads a histogram's summary and its buckets: into full (the whole-run layout, which must match
 * exactly) or, for a second of the series, as pairs in the series layout. Any layout of the same
 * family at least as fine maps exactly into the series layout (a finer bucket lies inside one
 * coarser bucket), so series written at the whole-run precision still merge. */
static int read_hist(ctx *c, json_t *h, hist_summary *s, hist *full, hist_pair **pairs,
                     size_t *npairs)
{
    if (!json_is_object(h))
        return fail(c, "missing", "histogram");
    uint64_t sub, highest, digits;
    json_t *unit = json_object_get(h, "unit");
    if (!json_is_string(unit) || strcmp(json_string_value(unit), "us") != 0)
        return fail(c, "unsupported histogram", "unit");
    if (get_u64(c, h, "sub_bucket_count", &sub) || get_u64(c, h, "highest_us", &highest))
        return -1;
    if (full && (get_u64(c, h, "significant_digits", &digits) || sub != HIST_SUB_BUCKET_COUNT ||
                 digits != HIST_SIGNIFICANT_DIGITS))
        return fail(c, "histogram parameters differ from this loadgen's",
                    "sub_bucket_count, significant_digits");
    if (!full && (sub < LG_TS_SUB_BUCKET_COUNT || sub > HIST_SUB_BUCKET_COUNT || (sub & (sub - 1))))
        return fail(c, "per-second histogram layout is not mergeable", "sub_bucket_count");
    if (highest != HIST_HIGHEST)
        return fail(c, "histogram parameters differ from this loadgen's", "highest_us");
    hist_summary hs;
    if (get_u64(c, h, "count", &hs.count) || get_u64(c, h, "min_us", &hs.min) ||
        get_u64(c, h, "max_us", &hs.max) || get_u64(c, h, "sum_us", &hs.sum))
        return -1;
    json_t *sq = json_object_get(h, "sum_sq_us2");
    if (!json_is_number(sq))
        return fail(c, "missing number", "sum_sq_us2");
    hs.sumsq = json_number_value(sq);
    json_t *buckets = json_object_get(h, "buckets");
    if (!json_is_array(buckets))
        return fail(c, "missing array", "buckets");
    size_t i;
    json_t *b;
    uint64_t total = 0;
    if (!full && json_array_size(buckets)) {
        hist_pair *np = realloc(*pairs, (*npairs + json_array_size(buckets)) * sizeof *np);
        if (!np)
            return fail(c, "out of memory reading", "buckets");
        *pairs = np;
    }
    json_array_foreach(buckets, i, b) {
        json_t *v = json_array_get(b, 0), *n = json_array_get(b, 1);
        if (!json_is_array(b) || json_array_size(b) != 2 || !json_is_integer(v) ||
            !json_is_integer(n) || json_integer_value(v) < 0 || json_integer_value(n) < 0 ||
            (uint64_t)json_integer_value(v) > HIST_HIGHEST)
            return fail(c, "bad bucket in", "buckets");
        uint64_t value = (uint64_t)json_integer_value(v), cnt = (uint64_t)json_integer_value(n);
        total += cnt;
        if (full) {
            hist_add_bucket(full, value, cnt);
        } else {
            if (cnt > UINT32_MAX)
                return fail(c, "bucket count too large in a second of", "timeseries");
            (*pairs)[(*npairs)++] = (hist_pair){lg_ts_index(value), (uint32_t)cnt};
        }
    }
    if (total != hs.count)
        return fail(c, "bucket counts do not add up to", "count");
    /* min, max and sum must fit the counts (as long doubles: count * max may pass 2^64). */
    if (hs.count && (hs.min > hs.max || hs.max > HIST_HIGHEST ||
                     (long double)hs.sum < (long double)hs.count * hs.min ||
                     (long double)hs.sum > (long double)hs.count * hs.max))
        return fail(c, "min_us, max_us and sum_us do not fit", "count");
    if (!hs.count && (hs.min || hs.max || hs.sum))
        return fail(c, "an empty histogram with values in", "min_us");
    *s = hs;
    return 0;
}

static int read_table(ctx *c, json_t *parent, const char *key, hist *h)
{
    json_t *t;
    hist_summary s;
    if (get_obj(c, parent, key, &t) || read_hist(c, json_object_get(t, "histogram"), &s, h, NULL, NULL))
        return -1;
    hist_summary cur = hist_get_summary(h);
    if (cur.count > UINT64_MAX - s.count || cur.sum > UINT64_MAX - s.sum)
        return fail(c, "the merged total overflows", key);
    hist_add_summary(&cur, &s);
    h->count = cur.count;
    h->min = cur.count ? cur.min : UINT64_MAX;
    h->max = cur.max;
    h->sum = cur.sum;
    h->sumsq = cur.sumsq;
    return 0;
}

/* A second's histogram under key (absent: empty) as sorted pairs of the series layout. */
static int read_second_hist(ctx *c, json_t *e, const char *key, hist_summary *s, hist_pair **pairs,
                            size_t *np)
{
    memset(s, 0, sizeof *s);
    *pairs = NULL;
    *np = 0;
    json_t *h = json_object_get(e, key);
    if (h && read_hist(c, h, s, NULL, pairs, np)) {
        free(*pairs);
        return -1;
    }
    size_t merged = hist_pairs_normalize(*pairs, *np);
    if (*np && !merged) {
        free(*pairs);
        return fail(c, "a bucket count overflows merging", key);
    }
    *np = merged;
    return 0;
}

/* A second's generator fields (absent in results of versions before them). */
static int read_second_generator(ctx *c, json_t *e, lg_result *r, size_t t_s)
{
    uint64_t sent = 0, waited = 0;
    json_t *busy = json_object_get(e, "loadgen_busy_max");
    unsigned busy_pm = json_is_number(busy) ? (unsigned)(json_number_value(busy) * 1000.0 + 0.5) : 0;
    if ((json_object_get(e, "sent") && get_u64(c, e, "sent", &sent)) ||
        (json_object_get(e, "waited_for_connection") && get_u64(c, e, "waited_for_connection", &waited)))
        return -1;
    hist_summary lag;
    hist_pair *pairs;
    size_t np;
    if (read_second_hist(c, e, "send_lag_histogram", &lag, &pairs, &np))
        return -1;
    int rc = lg_result_series_add_send(r, t_s, sent, waited, &lag, pairs, np,
                                       busy_pm > 1000 ? 1000 : busy_pm);
    free(pairs);
    return rc ? fail(c, "out of memory or a bucket count overflow merging", "send_lag_histogram") : 0;
}

static int read_permille_list(ctx *c, json_t *thread, const char *key, uint16_t **out, size_t n)
{
    json_t *list = json_object_get(thread, key);
    if (!json_is_array(list) || json_array_size(list) != n)
        return fail(c, "missing or short per-second list", key);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000)
            return fail(c, "bad permille in", key);
        (*out)[i] = (uint16_t)json_integer_value(v);
    }
    return 0;
}

/* "generator": every input's threads are kept side by side; the open-loop totals add. */
static int read_generator(ctx *c, json_t *doc, lg_result *r)
{
    json_t *g = json_object_get(doc, "generator");
    if (!g)
        return 0;
    json_t *threads = json_object_get(g, "threads");
    if (!json_is_object(g) || !json_is_array(threads))
        return fail(c, "missing array", "generator.threads");
    size_t i;
    json_t *t;
    json_array_foreach(threads, i, t) {
        json_t *busy = json_object_get(t, "busy_permille");
        json_t *cpu_s = json_object_get(t, "cpu_s"), *busy_s = json_object_get(t, "busy_s");
        if (!json_is_array(busy) || !json_is_number(cpu_s) || !json_is_number(busy_s))
            return fail(c, "bad thread in", "generator.threads");
        lg_gen_thread *gt = lg_result_add_thread(r, json_array_size(busy));
        if (!gt)
            return fail(c, "out of memory reading", "generator.threads");
        gt->cpu_s = json_number_value(cpu_s);
        gt->busy_s = json_number_value(busy_s);
        if (read_permille_list(c, t, "busy_permille", &gt->busy_pm, gt->n) ||
            read_permille_list(c, t, "cpu_permille", &gt->cpu_pm, gt->n))
            return -1;
    }
    json_t *open_loop = json_object_get(g, "open_loop");
    if (json_is_object(open_loop)) {
        uint64_t not_sent;
        if (get_u64(c, open_loop, "not_sent", &not_sent) ||
            read_table(c, open_loop, "send_lag", &r->send_lag))
            return -1;
        r->not_sent += not_sent;
    }
    return 0;
}

/* Reads a latency table into h; its count must be want (or at most want, for connect). */
static int merge_table(ctx *c, json_t *parent, const char *key, hist *h, uint64_t want, int at_most)
{
    uint64_t before = h->count;
    if (read_table(c, parent, key, h))
        return -1;
    uint64_t got = h->count - before;
    if (at_most ? got > want : got != want)
        return fail(c, "latency count does not match summary.complete in", key);
    return 0;
}

static int merge_config(ctx *c, json_t *config, lg_result *r, int first)
{
    uint64_t conc = 0, threads = 0;
    if (get_u64(c, config, "concurrency", &conc) || get_u64(c, config, "threads", &threads))
        return -1;
    if (conc > (uint64_t)(INT_MAX - r->concurrency) || threads > INT_MAX)
        return fail(c, "the merged total overflows", "concurrency");
    if (first) {
        r->config = json_deep_copy(config);
        json_t *url = json_object_get(config, "url");
        lg_url u;
        char e[256];
        if (json_is_string(url) && lg_url_parse(json_string_value(url), &u, e, sizeof e) == 0) {
            snprintf(r->host, sizeof r->host, "%s", u.host);
            r->port = u.port;
            snprintf(r->path, sizeof r->path, "%s", u.path);
        }
        json_t *ka = json_object_get(config, "keepalive"), *rate = json_object_get(config, "rate");
        r->keepalive = json_is_true(ka);
        r->rate = json_is_number(rate) ? json_number_value(rate) : 0;
        r->concurrency = 0;
    } else {
        json_t *url = json_object_get(config, "url"), *url0 = json_object_get(r->config, "url");
        if (!(c->flags & LG_MERGE_ALLOW_MIXED_TARGETS) && !json_equal(url, url0)) {
            snprintf(c->err, c->errlen,
                     "%s: its target %s is not %s (the target of %s); --allow-mixed-targets merges "
                     "results for different URLs",
                     c->file, json_is_string(url) ? json_string_value(url) : "(none)",
                     json_is_string(url0) ? json_string_value(url0) : "(none)", c->first_file);
            return -1;
        }
        json_t *cc = json_object_get(r->config, "concurrency"), *ct = json_object_get(r->config, "threads");
        json_object_set_new(r->config, "concurrency",
                            json_integer(json_integer_value(cc) + (json_int_t)conc));
        json_object_set_new(r->config, "threads", json_integer(json_integer_value(ct) + (json_int_t)threads));
        /* Shards of one run split -n: the merged config holds the whole run's. A time-bound part
         * (null) makes the whole run time-bound. */
        json_t *n0 = json_object_get(r->config, "requests"), *n = json_object_get(config, "requests");
        if (json_is_integer(n0) && json_is_integer(n) && json_integer_value(n) >= 0 &&
            json_integer_value(n0) <= LLONG_MAX - json_integer_value(n))
            json_object_set_new(r->config, "requests",
                                json_integer(json_integer_value(n0) + json_integer_value(n)));
        else if (n0)
            json_object_set_new(r->config, "requests", json_null());
        lg_idle_merge_config(r->config, config);
        json_t *rate = json_object_get(config, "rate");
        if (json_is_number(rate) && r->rate > 0) { /* shards of one open-loop run: rates add */
            r->rate += json_number_value(rate);
            json_object_set_new(r->config, "rate", json_real(r->rate));
        }
    }
    r->concurrency += (int)conc;
    return 0;
}

/* The summary counters, read into part (the list in counts.h); they must agree with each other
 * (failed = the error classes' sum, and attempts = complete + failed - length failures). */
static int read_counts(ctx *c, json_t *summary, json_t *errors, lg_counts *part)
{
    for (size_t i = 0; i < lg_nsummary_counters; i++) {
        const lg_counter_field *f = &lg_summary_counters[i];
        if ((!f->optional || json_object_get(summary, f->key)) &&
            get_u64(c, summary, f->key, lg_counter_at(part, f)))
            return -1;
    }
    uint64_t failed, err_sum = 0;
    if (get_u64(c, summary, "failed", &failed))
        return -1;
    for (int i = 0; i < LG_ERR_COUNT; i++)
        if (get_u64(c, errors, lg_err_names[i], &part->errors[i]) ||
            add_u64(c, &err_sum, part->errors[i], "errors"))
            return -1;
    if (err_sum != failed)
        return fail(c, "the error classes do not add up to", "failed");
    if (part->non_2xx > part->complete || part->keepalive_requests > part->complete ||
        part->errors[LG_ERR_LENGTH] > part->complete)
        return fail(c, "a count larger than summary.complete in", "summary");
    uint64_t attempts = part->complete + failed - part->errors[LG_ERR_LENGTH];
    if (!json_object_get(summary, "attempts"))
        part->attempts = attempts; /* an older result: derived */
    else if (part->attempts != attempts)
        return fail(c, "complete + failed - length failures differs from", "attempts");
    return 0;
}

/* Connect failures by cause (absent in results of versions before it): they add up to
 * errors.connect. */
static int read_connect_causes(ctx *c, json_t *doc, lg_counts *part)
{
    uint64_t connect_errors = part->errors[LG_ERR_CONNECT];
    json_t *causes = json_object_get(doc, "connect_failures");
    if (!causes) { /* an older result: the cause is unknown, the merged sum stays whole */
        part->connect_failures[LG_CF_OTHER] = connect_errors;
        return 0;
    }
    if (!json_is_object(causes))
        return fail(c, "not an object", "connect_failures");
    uint64_t sum = 0;
    for (int i = 0; i < LG_CF_COUNT; i++)
        if (get_u64(c, causes, lg_connfail_names[i], &part->connect_failures[i]) ||
            add_u64(c, &sum, part->connect_failures[i], "connect_failures"))
            return -1;
    if (sum != connect_errors)
        return fail(c, "the causes do not add up to errors.connect in", "connect_failures");
    return 0;
}

/* Why the merged run stopped: the first of these that any input gives, so that a part that was
 * interrupted, broke, was refused or ran out of time is not hidden behind the others' "requests"
 * (docs/loadgen-json.md states the rule). */
static const char *const stop_precedence[] = {"interrupted", "error", "refused", "time", "requests"};
#define NSTOP (sizeof stop_precedence / sizeof stop_precedence[0])

static int merge_stop_reason(ctx *c, json_t *summary, lg_result *r)
{
    json_t *why = json_object_get(summary, "stop_reason");
    if (!why)
        return 0; /* a result of a version before the key */
    size_t k = 0;
    while (k < NSTOP && !(json_is_string(why) && strcmp(json_string_value(why), stop_precedence[k]) == 0))
        k++;
    if (k == NSTOP)
        return fail(c, "unknown", "stop_reason");
    size_t cur = 0;
    while (cur < NSTOP && strcmp(r->stop_reason, stop_precedence[cur]) != 0)
        cur++;
    if (k < cur)
        r->stop_reason = stop_precedence[k];
    return 0;
}

/* What is not a count: duration, interruption, document length, Server header. */
static int merge_run_facts(ctx *c, json_t *summary, lg_result *r)
{
    json_t *dur = json_object_get(summary, "duration_s");
    if (!json_is_number(dur) || json_number_value(dur) < 0)
        return fail(c, "missing or negative number", "duration_s");
    if (json_number_value(dur) > r->duration_s)
        r->duration_s = json_number_value(dur); /* inputs ran side by side */
    if (json_is_true(json_object_get(summary, "interrupted"))) {
        r->interrupted = 1;
        r->stop_reason = "interrupted";
    }
    if (merge_stop_reason(c, summary, r))
        return -1;
    json_t *dl = json_object_get(summary, "document_length");
    if (r->doclen < 0 && json_is_integer(dl))
        r->doclen = json_integer_value(dl);
    json_t *sw = json_object_get(summary, "server_software");
    if (!r->has_server_software && json_is_string(sw)) {
        snprintf(r->server_software, sizeof r->server_software, "%s", json_string_value(sw));
        r->has_server_software = 1;
    }
    json_t *tls = json_object_get(summary, "tls_negotiated");
    if (!r->has_negotiated && json_is_string(tls)) {
        snprintf(r->negotiated, sizeof r->negotiated, "%s", json_string_value(tls));
        r->has_negotiated = 1;
    }
    return 0;
}

/* Every complete response has one status code: they add up to complete. */
static int read_status(ctx *c, json_t *status, lg_counts *part)
{
    const char *key;
    json_t *val;
    uint64_t sum = 0;
    json_object_foreach(status, key, val) {
        char *end;
        long code = strtol(key, &end, 10);
        if (!*key || *end || code < 0 || code >= LG_STATUS_MAX || !json_is_integer(val) ||
            json_integer_value(val) < 0)
            return fail(c, "bad status code", key);
        uint64_t n = (uint64_t)json_integer_value(val);
        if (add_u64(c, &sum, n, "status_codes") || add_u64(c, &part->status[code], n, key))
            return -1;
    }
    if (sum != part->complete)
        return fail(c, "the status codes do not add up to", "complete");
    return 0;
}

/* Each complete request is in the total, waiting and processing histograms (and in connect
 * when it opened its connection). */
static int read_latency(ctx *c, json_t *doc, json_t *latency, lg_result *r, lg_counts *part)
{
    uint64_t complete = part->complete;
    if (merge_table(c, latency, "connect", &part->connect, complete, 1) ||
        merge_table(c, latency, "waiting", &part->waiting, complete, 0) ||
        merge_table(c, latency, "processing", &part->processing, complete, 0) ||
        merge_table(c, latency, "total", &part->total, complete, 0))
        return -1;
    /* The handshake and first-byte tables are absent from results of an older loadgen. */
    if ((json_object_get(latency, "tls_handshake") &&
         merge_table(c, latency, "tls_handshake", &part->tls_handshake, complete, 1)) ||
        (json_object_get(latency, "first_byte") &&
         merge_table(c, latency, "first_byte", &part->first_byte, complete, 1)))
        return -1;
    json_t *unc = json_object_get(doc, "latency_uncorrected");
    if (unc) {
        if (merge_table(c, unc, "total", &part->total_uncorrected, complete, 0))
            return -1;
        r->has_uncorrected = 1;
    }
    json_t *ok = json_object_get(doc, "latency_2xx");
    if (!ok)
        r->lacks_2xx = 1; /* from a loadgen before the table existed: the merge cannot have it */
    else if (merge_table(c, ok, "total", &part->total_2xx, complete, 1))
        return -1;
    return 0;
}

/* When every connection had its first 2xx: the slowest input's time; null (answered short of the
 * connections) when an input never got there; absent when an input predates the block. */
static int merge_establishment(ctx *c, json_t *doc, lg_result *r, lg_counts *part)
{
    json_t *est = json_object_get(doc, "establishment");
    if (!est) {
        r->lacks_establishment = 1;
        return 0;
    }
    uint64_t answered, conns;
    json_t *all = json_object_get(est, "all_answered_s");
    if (get_u64(c, est, "answered", &answered) || get_u64(c, est, "connections", &conns))
        return -1;
    if (answered > conns)
        return fail(c, "more connections answered than there were in", "establishment");
    if (!all || (!json_is_null(all) && (!json_is_number(all) || json_number_value(all) < 0)))
        return fail(c, "not a number >= 0 or null", "establishment.all_answered_s");
    double s = json_is_number(all) ? json_number_value(all) : 0;
    if (s * 1e6 > (double)r->all_answered_us)
        r->all_answered_us = (uint64_t)(s * 1e6 + 0.5);
    part->answered = answered;
    return 0;
}

/* The time series: each second once, in order, inside the run (0 <= t_s <= duration_s + 1, an
 * integer), and its counts adding up to the summary's: a series that says something else than
 * the summary is refused, never merged into a plausible-looking total. */
static int merge_series(ctx *c, json_t *series, lg_result *r, double duration_s, const lg_counts *part)
{
    size_t i;
    json_t *e;
    uint64_t completed_sum = 0, errors_sum = 0, next = 0;
    json_array_foreach(series, i, e) {
        uint64_t t_s = i, completed, nerr, open;
        json_t *ts = json_object_get(e, "t_s");
        if (ts) {
            if (!json_is_integer(ts) || json_integer_value(ts) < 0 ||
                (double)json_integer_value(ts) > duration_s + 1) {
                char v[64];
                if (json_is_number(ts))
                    snprintf(v, sizeof v, "%.17g", json_number_value(ts));
                else
                    snprintf(v, sizeof v, "%s", "not a number");
                snprintf(c->err, c->errlen,
                         "%s: not a valid loadgen result: 'timeseries' entry %zu has t_s %s: it must be a "
                         "whole second from 0 to "
                         "duration_s + 1 (%.3f)", c->file, i, v, duration_s + 1);
                return -1;
            }
            t_s = (uint64_t)json_integer_value(ts);
        }
        if (t_s < next) {
            snprintf(c->err, c->errlen, "%s: not a valid loadgen result: 'timeseries' entry %zu has "
                     "t_s %llu, after second %llu: "
                     "the seconds must ascend, each once", c->file, i, (unsigned long long)t_s,
                     (unsigned long long)(next - 1));
            return -1;
        }
        next = t_s + 1;
        if (get_u64(c, e, "completed", &completed) || get_u64(c, e, "errors", &nerr) ||
            get_u64(c, e, "open_connections", &open) ||
            add_u64(c, &completed_sum, completed, "timeseries completed") ||
            add_u64(c, &errors_sum, nerr, "timeseries errors"))
            return -1;
        hist_summary s;
        hist_pair *pairs;
        size_t np;
        if (read_second_hist(c, e, "histogram", &s, &pairs, &np))
            return -1;
        int rc = lg_result_series_add(r, (size_t)t_s, completed, nerr, open, &s, pairs, np);
        free(pairs);
        if (rc)
            return fail(c, "out of memory or a bucket count overflow merging", "timeseries");
        if (read_second_generator(c, e, r, (size_t)t_s))
            return -1;
    }
    uint64_t failed = lg_counts_failed(part);
    if (json_array_size(series) && (completed_sum != part->complete || errors_sum != failed)) {
        snprintf(c->err, c->errlen,
                 "%s: not a valid loadgen result: the timeseries adds up to %llu completed and %llu "
                 "errors, the summary says "
                 "%llu complete and %llu failed", c->file, (unsigned long long)completed_sum,
                 (unsigned long long)errors_sum, (unsigned long long)part->complete,
                 (unsigned long long)failed);
        return -1;
    }
    return 0;
}

/* One result file: its counts are read into part (zeroed), checked, then added into r. */
static int merge_one(ctx *c, json_t *doc, lg_result *r, lg_counts *part, int first)
{
    json_t *v = json_object_get(doc, "schema_version"), *tool = json_object_get(doc, "tool");
    if (!json_is_integer(v) || json_integer_value(v) != 1)
        return fail(c, "unsupported (this loadgen reads version 1)", "schema_version");
    if (!json_is_string(tool) || strcmp(json_string_value(tool), "c10k-loadgen") != 0)
        return fail(c, "unexpected", "tool");
    json_t *config, *env, *summary, *latency, *errors, *status, *series;
    if (get_obj(c, doc, "config", &config) || get_obj(c, doc, "environment", &env) ||
        get_obj(c, doc, "summary", &summary) || get_obj(c, doc, "latency", &latency) ||
        get_obj(c, doc, "errors", &errors) || get_obj(c, doc, "status_codes", &status))
        return -1;
    series = json_object_get(doc, "timeseries");
    if (!json_is_array(series))
        return fail(c, "missing array", "timeseries");
    if (merge_config(c, config, r, first) || read_counts(c, summary, errors, part) ||
        read_connect_causes(c, doc, part) || merge_run_facts(c, summary, r) ||
        read_status(c, status, part) || read_latency(c, doc, latency, r, part) ||
        merge_establishment(c, doc, r, part) ||
        merge_series(c, series, r, json_number_value(json_object_get(summary, "duration_s")), part))
        return -1;
    const char *wrapped;
    if (lg_counts_add(&r->counts, part, &wrapped))
        return fail(c, "the merged total overflows", wrapped);
    if (first)
        r->environment = json_deep_copy(env);
    if (read_generator(c, doc, r))
        return -1;
    json_t *host = json_object_get(env, "hostname");
    json_array_append_new(r->merged_from,
                          json_pack("{s:s, s:s, s:I}", "file", c->file, "hostname",
                                    json_is_string(host) ? json_string_value(host) : "unknown",
                                    "complete", (json_int_t)part->complete));
    return 0;
}

int lg_merge_files(const char *const *files, size_t n, lg_result *r, unsigned flags, char *err,
                   size_t errlen)
{
    r->merged_from = json_array();
    r->stop_reason = "requests";
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_error_t jerr;
        json_t *doc = json_load_file(files[i], 0, &jerr);
        if (!doc) {
            snprintf(err, errlen, "%s: cannot read JSON: %s (line %d)", files[i], jerr.text, jerr.line);
            return -1;
        }
        /* calloc: the kernel hands out zeroed pages, touched only where a histogram has counts. */
        lg_counts *part = calloc(1, sizeof *part);
        ctx c = {files[i], err, errlen, files[0], flags};
        if (part) {
            lg_counts_init_zeroed(part);
            rc = merge_one(&c, doc, r, part, i == 0);
        } else {
            rc = fail(&c, "out of memory reading", "summary");
        }
        free(part);
        json_decref(doc);
    }
    return rc;
}
