/* Reads loadgen JSON results and adds them up exactly: counts add, histograms add bucket by
 * bucket, and every percentile is recomputed from the merged histograms. */
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeseries.h"
#include "url.h"

typedef struct ctx {
    const char *file;
    char *err;
    size_t errlen;
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
        return fail(c, "histogram layout differs from this loadgen's", "sub_bucket_count");
    if (!full && (sub < LG_TS_SUB_BUCKET_COUNT || sub > HIST_SUB_BUCKET_COUNT || (sub & (sub - 1))))
        return fail(c, "per-second histogram layout is not mergeable", "sub_bucket_count");
    if (highest != HIST_HIGHEST)
        return fail(c, "histogram layout differs from this loadgen's", "highest_us");
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
    hist_add_summary(&cur, &s);
    h->count = cur.count;
    h->min = cur.count ? cur.min : UINT64_MAX;
    h->max = cur.max;
    h->sum = cur.sum;
    h->sumsq = cur.sumsq;
    return 0;
}

static int merge_one(ctx *c, json_t *doc, lg_result *r, int first)
{
    json_t *v = json_object_get(doc, "schema_version"), *tool = json_object_get(doc, "tool");
    if (!json_is_integer(v) || json_integer_value(v) != 1)
        return fail(c, "unsupported", "schema_version");
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
    uint64_t conc = 0, threads = 0;
    if (get_u64(c, config, "concurrency", &conc) || get_u64(c, config, "threads", &threads))
        return -1;
    if (first) {
        r->config = json_deep_copy(config);
        r->environment = json_deep_copy(env);
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
        json_t *cc = json_object_get(r->config, "concurrency"), *ct = json_object_get(r->config, "threads");
        json_object_set_new(r->config, "concurrency",
                            json_integer(json_integer_value(cc) + (json_int_t)conc));
        json_object_set_new(r->config, "threads", json_integer(json_integer_value(ct) + (json_int_t)threads));
    }
    r->concurrency += (int)conc;

    uint64_t complete, failed, bytes, body, ka, opened, non2xx;
    if (get_u64(c, summary, "complete", &complete) || get_u64(c, summary, "failed", &failed) ||
        get_u64(c, summary, "bytes_total", &bytes) || get_u64(c, summary, "body_bytes", &body) ||
        get_u64(c, summary, "keepalive_requests", &ka) ||
        get_u64(c, summary, "connections_opened", &opened) || get_u64(c, summary, "non_2xx", &non2xx))
        return -1;
    json_t *dur = json_object_get(summary, "duration_s");
    if (!json_is_number(dur))
        return fail(c, "missing number", "duration_s");
    uint64_t errs[LG_ERR_COUNT];
    for (int i = 0; i < LG_ERR_COUNT; i++)
        if (get_u64(c, errors, lg_err_names[i], &errs[i]))
            return -1;
    uint64_t attempts;
    if (json_object_get(summary, "attempts")) {
        if (get_u64(c, summary, "attempts", &attempts))
            return -1;
    } else {
        attempts = complete + failed - errs[LG_ERR_LENGTH];
    }
    r->complete += complete;
    r->attempts += attempts;
    r->bytes_total += bytes;
    r->body_bytes += body;
    r->keepalive_requests += ka;
    r->connections_opened += opened;
    r->non_2xx += non2xx;
    for (int i = 0; i < LG_ERR_COUNT; i++)
        r->errors[i] += errs[i];
    uint64_t warm;
    if (json_object_get(summary, "warmup_requests") && get_u64(c, summary, "warmup_requests", &warm) == 0)
        r->warmup_requests += warm;
    if (json_number_value(dur) > r->duration_s)
        r->duration_s = json_number_value(dur); /* inputs ran side by side */
    if (json_is_true(json_object_get(summary, "interrupted"))) {
        r->interrupted = 1;
        r->stop_reason = "interrupted";
    }
    json_t *dl = json_object_get(summary, "document_length");
    if (r->doclen < 0 && json_is_integer(dl))
        r->doclen = json_integer_value(dl);
    json_t *sw = json_object_get(summary, "server_software");
    if (!r->has_server_software && json_is_string(sw)) {
        snprintf(r->server_software, sizeof r->server_software, "%s", json_string_value(sw));
        r->has_server_software = 1;
    }
    const char *key;
    json_t *val;
    json_object_foreach(status, key, val) {
        char *end;
        long code = strtol(key, &end, 10);
        if (*end || code < 0 || code >= LG_STATUS_MAX || !json_is_integer(val) || json_integer_value(val) < 0)
            return fail(c, "bad status code", key);
        r->status[code] += (uint64_t)json_integer_value(val);
    }
    if (read_table(c, latency, "connect", &r->connect) || read_table(c, latency, "waiting", &r->waiting) ||
        read_table(c, latency, "processing", &r->processing) || read_table(c, latency, "total", &r->total))
        return -1;
    json_t *unc = json_object_get(doc, "latency_uncorrected");
    if (unc) {
        if (read_table(c, unc, "total", &r->total_uncorrected))
            return -1;
        r->has_uncorrected = 1;
    }
    size_t i;
    json_t *e;
    json_array_foreach(series, i, e) {
        uint64_t t_s = i, completed, nerr, open;
        json_t *ts = json_object_get(e, "t_s");
        if (json_is_integer(ts) && json_integer_value(ts) >= 0 && json_integer_value(ts) < 10000000)
            t_s = (uint64_t)json_integer_value(ts);
        if (get_u64(c, e, "completed", &completed) || get_u64(c, e, "errors", &nerr) ||
            get_u64(c, e, "open_connections", &open))
            return -1;
        hist_summary s = {0, 0, 0, 0, 0};
        hist_pair *pairs = NULL;
        size_t np = 0;
        json_t *h = json_object_get(e, "histogram");
        if (h && read_hist(c, h, &s, NULL, &pairs, &np)) {
            free(pairs);
            return -1;
        }
        size_t merged = hist_pairs_normalize(pairs, np);
        int rc = (np && !merged) || lg_result_series_add(r, (size_t)t_s, completed, nerr, open, &s,
                                                         pairs, merged);
        free(pairs);
        if (rc)
            return fail(c, "out of memory or a bucket count overflow merging", "timeseries");
    }
    json_t *host = json_object_get(env, "hostname");
    json_array_append_new(r->merged_from,
                          json_pack("{s:s, s:s, s:I}", "file", c->file, "hostname",
                                    json_is_string(host) ? json_string_value(host) : "unknown",
                                    "complete", (json_int_t)complete));
    return 0;
}

int lg_merge_files(const char *const *files, size_t n, lg_result *r, char *err, size_t errlen)
{
    r->merged_from = json_array();
    r->stop_reason = "requests";
    for (size_t i = 0; i < n; i++) {
        json_error_t jerr;
        json_t *doc = json_load_file(files[i], 0, &jerr);
        if (!doc) {
            snprintf(err, errlen, "%s: cannot read JSON: %s (line %d)", files[i], jerr.text, jerr.line);
            return -1;
        }
        ctx c = {files[i], err, errlen};
        int rc = merge_one(&c, doc, r, i == 0);
        json_decref(doc);
        if (rc)
            return -1;
    }
    return 0;
}
