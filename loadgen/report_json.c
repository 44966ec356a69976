/* The JSON result document (schema in result.schema.json, documented in docs/loadgen-json.md). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

static json_t *num(double v)
{
    return json_real(isfinite(v) ? v : 0.0);
}

static json_t *ms_json(double us)
{
    return num(round(us) / 1000.0);
}

static json_t *opt_num(double v, int present)
{
    return present ? num(v) : json_null();
}

static json_t *opt_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Histogram as summary + sparse [lowest value, count] buckets (pairs sorted by index). */
static json_t *hist_json_parts(const hist_summary *s, const hist_pair *pairs, size_t npairs,
                               const hist *full)
{
    json_t *buckets = json_array();
    if (!buckets)
        return NULL;
    if (full) {
        for (uint32_t i = 0; i < HIST_COUNTS_LEN; i++)
            if (full->counts[i])
                json_array_append_new(buckets, json_pack("[I,I]", (json_int_t)hist_lowest_at(i),
                                                         (json_int_t)full->counts[i]));
    } else {
        for (size_t i = 0; i < npairs; i++)
            json_array_append_new(buckets, json_pack("[I,I]", (json_int_t)hist_lowest_at(pairs[i].idx),
                                                     (json_int_t)pairs[i].n));
    }
    return json_pack("{s:s, s:i, s:I, s:i, s:i, s:I, s:I, s:I, s:I, s:o, s:o}", "unit", "us",
                     "lowest_us", 1, "highest_us", (json_int_t)HIST_HIGHEST, "significant_digits",
                     HIST_SIGNIFICANT_DIGITS, "sub_bucket_count", HIST_SUB_BUCKET_COUNT, "count",
                     (json_int_t)s->count, "min_us", (json_int_t)s->min, "max_us", (json_int_t)s->max,
                     "sum_us", (json_int_t)s->sum, "sum_sq_us2", num(s->sumsq), "buckets", buckets);
}

static json_t *table_json(const hist *h)
{
    hist_summary s = hist_get_summary(h);
    uint64_t v[LG_NPCT];
    hist_percentiles(h, lg_pcts, LG_NPCT, v);
    json_t *pct = json_object();
    for (int i = 0; i < LG_NPCT; i++)
        json_object_set_new(pct, lg_pct_names[i], ms_json((double)v[i]));
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "count", (json_int_t)s.count,
                     "min_ms", ms_json((double)s.min), "mean_ms", num(hist_mean(&s) / 1000.0),
                     "stddev_ms", num(hist_stddev(&s) / 1000.0), "median_ms", ms_json((double)v[0]),
                     "max_ms", ms_json((double)s.max), "percentiles", pct, "histogram",
                     hist_json_parts(&s, NULL, 0, h));
}

json_t *lg_config_json(const lg_options *o)
{
    json_t *headers = json_array();
    for (size_t i = 0; i < o->nheaders; i++)
        json_array_append_new(headers, json_string(o->headers[i]));
    int unlimited = !o->requests_set && o->time_limit_s > 0;
    return json_pack("{s:s, s:s, s:o, s:i, s:o, s:o, s:b, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:i}",
                     "url", o->url_text, "method", o->method, "requests",
                     unlimited ? json_null() : json_integer((json_int_t)o->requests), "concurrency",
                     o->concurrency, "time_limit_s", opt_num(o->time_limit_s, o->time_limit_s > 0),
                     "timeout_s", num(o->timeout_s), "keepalive", o->keepalive, "threads", o->threads,
                     "rate", opt_num(o->rate, o->rate > 0), "warmup_s", num(o->warmup_s), "ramp_s",
                     num(o->ramp_s), "headers", headers, "source", opt_str(o->source_spec),
                     "body_file", opt_str(o->body_file), "content_type", opt_str(o->content_type),
                     "variable_length", o->variable_length, "busy_poll_us", o->busy_poll_us);
}

json_t *lg_report_json(const lg_result *r)
{
    double secs = r->duration_s;
    json_t *summary = json_pack(
        "{s:I, s:I, s:I, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:b, s:s, s:o, s:o, s:I}",
        "complete", (json_int_t)r->complete, "failed", (json_int_t)lg_result_failed(r), "attempts",
        (json_int_t)r->attempts, "duration_s", num(secs), "requests_per_sec",
        num(secs > 0 ? (double)r->complete / secs : 0), "transfer_rate_kib_s",
        num(secs > 0 ? (double)r->bytes_total / 1024.0 / secs : 0), "bytes_total",
        (json_int_t)r->bytes_total, "body_bytes", (json_int_t)r->body_bytes, "keepalive_requests",
        (json_int_t)r->keepalive_requests, "connections_opened", (json_int_t)r->connections_opened,
        "non_2xx", (json_int_t)r->non_2xx, "interrupted", r->interrupted, "stop_reason",
        r->stop_reason, "document_length",
        r->doclen >= 0 ? json_integer((json_int_t)r->doclen) : json_null(), "server_software",
        r->has_server_software ? json_string(r->server_software) : json_null(), "warmup_requests",
        (json_int_t)r->warmup_requests);
    json_t *latency = json_pack("{s:o, s:o, s:o, s:o}", "connect", table_json(&r->connect), "waiting",
                                table_json(&r->waiting), "processing", table_json(&r->processing),
                                "total", table_json(&r->total));
    json_t *errors = json_object();
    for (int i = 0; i < LG_ERR_COUNT; i++)
        json_object_set_new(errors, lg_err_names[i], json_integer((json_int_t)r->errors[i]));
    json_t *status = json_object();
    for (int i = 0; i < LG_STATUS_MAX; i++)
        if (r->status[i]) {
            char key[8];
            snprintf(key, sizeof key, "%d", i);
            json_object_set_new(status, key, json_integer((json_int_t)r->status[i]));
        }
    json_t *series = json_array();
    for (size_t i = 0; i < r->nseries; i++) {
        const lg_second *s = &r->series[i];
        double ps[2] = {50, 99};
        uint64_t v[2];
        hist_pairs_percentiles(s->pairs, s->npairs, s->sum.count, s->sum.max, ps, 2, v);
        json_array_append_new(
            series, json_pack("{s:I, s:I, s:I, s:o, s:o, s:I, s:o}", "t_s", (json_int_t)i,
                              "completed", (json_int_t)s->completed, "errors", (json_int_t)s->errors,
                              "p50_ms", ms_json((double)v[0]), "p99_ms", ms_json((double)v[1]),
                              "open_connections", (json_int_t)s->open_conns, "histogram",
                              hist_json_parts(&s->sum, s->pairs, s->npairs, NULL)));
    }
    json_t *root = json_pack("{s:i, s:s, s:s, s:O, s:O, s:o, s:o, s:o, s:o, s:o}", "schema_version", 1,
                             "tool", "c10k-loadgen", "version", LG_VERSION, "config",
                             r->config ? r->config : json_null(), "environment",
                             r->environment ? r->environment : json_null(), "summary", summary,
                             "latency", latency, "errors", errors, "status_codes", status,
                             "timeseries", series);
    if (root && r->has_uncorrected)
        json_object_set_new(root, "latency_uncorrected",
                            json_pack("{s:o}", "total", table_json(&r->total_uncorrected)));
    if (root && r->merged_from)
        json_object_set(root, "merged_from", r->merged_from);
    return root;
}

int lg_write_json(const lg_result *r, const char *path)
{
    json_t *root = lg_report_json(r);
    if (!root) {
        fprintf(stderr, "loadgen: cannot build the JSON result (out of memory)\n");
        return -1;
    }
    size_t flags = JSON_INDENT(1) | JSON_REAL_PRECISION(15);
    int rc;
    if (strcmp(path, "-") == 0) {
        rc = json_dumpf(root, stdout, flags);
        if (rc == 0 && (fputc('\n', stdout) == EOF || fflush(stdout) != 0))
            rc = -1;
    } else {
        rc = json_dump_file(root, path, flags);
    }
    json_decref(root);
    if (rc != 0) {
        fprintf(stderr, "loadgen: cannot write the JSON result to '%s': %s\n", path,
                errno ? strerror(errno) : "write error");
        return -1;
    }
    return 0;
}
