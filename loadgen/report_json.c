/* The JSON result document (schema in result.schema.json, documented in docs/loadgen-json.md). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idle_report.h"
#include "report.h"
#include "selfwatch.h"
#include "timeseries.h"

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

/* Writes obj without its closing brace, so that the caller appends streamed members. */
static int write_open(FILE *f, json_t *obj, size_t flags)
{
    char *text = obj ? json_dumps(obj, flags | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(obj);
    size_t len = text ? strlen(text) : 0;
    if (len < 2 || text[len - 1] != '}') {
        free(text);
        errno = ENOMEM;
        return -1;
    }
    len--;
    while (text[len - 1] == '\n') /* an indented dump puts the brace on a line of its own */
        len--;
    int rc = fwrite(text, 1, len, f) == len ? 0 : -1;
    free(text);
    return rc;
}

/* A histogram: summary and layout fields, then its non-empty buckets as [lowest value, count],
 * ascending, written as text: a run's buckets never become a tree of JSON values in memory.
 * Exactly one of full and pairs is given. The layout fields let a reader check that two
 * histograms merge bucket by bucket. */
static int write_hist(FILE *f, const hist_summary *s, unsigned half_mag, const hist *full,
                      const hist_pair *pairs, size_t npairs)
{
    json_t *h = json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "unit", "us", "lowest_us", 1,
                          "highest_us", (json_int_t)HIST_HIGHEST, "sub_bucket_count",
                          (json_int_t)(UINT64_C(2) << half_mag), "count", (json_int_t)s->count,
                          "min_us", (json_int_t)s->min, "max_us", (json_int_t)s->max, "sum_us",
                          (json_int_t)s->sum, "sum_sq_us2", num(s->sumsq));
    if (h && full)
        json_object_set_new(h, "significant_digits", json_integer(HIST_SIGNIFICANT_DIGITS));
    if (write_open(f, h, JSON_COMPACT) || fputs(",\"buckets\":[", f) == EOF)
        return -1;
    const char *sep = "";
    size_t n = full ? HIST_COUNTS_LEN : npairs;
    for (size_t i = 0; i < n; i++) {
        uint32_t idx = full ? (uint32_t)i : pairs[i].idx;
        uint64_t count = full ? full->counts[i] : pairs[i].n;
        if (count == 0)
            continue;
        if (fprintf(f, "%s[%llu,%llu]", sep, (unsigned long long)loglin_lowest_at(idx, half_mag),
                    (unsigned long long)count) < 0)
            return -1;
        sep = ",";
    }
    return fputs("]}", f) == EOF ? -1 : 0;
}

static int write_series_entry(FILE *f, const lg_second *s, size_t t_s, int open_loop)
{
    double ps[2] = {50, 99};
    uint64_t v[2];
    hist_pairs_percentiles(s->pairs, s->npairs, LG_TS_HALF_MAG, s->sum.count, s->sum.max, ps, 2, v);
    json_t *e = json_pack("{s:I, s:I, s:I, s:o, s:o, s:I, s:o}", "t_s", (json_int_t)t_s, "completed",
                          (json_int_t)s->completed, "errors", (json_int_t)s->errors, "p50_ms",
                          ms_json((double)v[0]), "p99_ms", ms_json((double)v[1]), "open_connections",
                          (json_int_t)s->open_conns, "loadgen_busy_max", num(s->busy_max_pm / 1000.0));
    if (e && open_loop) {
        double lp[2] = {50, 99};
        uint64_t lv[2];
        hist_pairs_percentiles(s->lag_pairs, s->nlag, LG_TS_HALF_MAG, s->lag.count, s->lag.max, lp, 2, lv);
        json_object_set_new(e, "sent", json_integer((json_int_t)s->sent));
        json_object_set_new(e, "waited_for_connection", json_integer((json_int_t)s->waited));
        json_object_set_new(e, "send_lag_p50_ms", ms_json((double)lv[0]));
        json_object_set_new(e, "send_lag_p99_ms", ms_json((double)lv[1]));
        json_object_set_new(e, "send_lag_max_ms", ms_json((double)s->lag.max));
    }
    if (write_open(f, e, JSON_COMPACT) || fputs(",\"histogram\":", f) == EOF ||
        write_hist(f, &s->sum, LG_TS_HALF_MAG, NULL, s->pairs, s->npairs))
        return -1;
    if (open_loop && (fputs(",\"send_lag_histogram\":", f) == EOF ||
                      write_hist(f, &s->lag, LG_TS_HALF_MAG, NULL, s->lag_pairs, s->nlag)))
        return -1;
    return fputs("}", f) == EOF ? -1 : 0;
}

/* One latency table (compact, on one line): the figures, then its exact histogram. */
static int write_table(FILE *f, const char *key, const hist *h, const char *after)
{
    hist_summary s = hist_get_summary(h);
    uint64_t v[LG_NPCT];
    hist_percentiles(h, lg_pcts, LG_NPCT, v);
    json_t *pct = json_object();
    for (int i = 0; pct && i < LG_NPCT; i++)
        json_object_set_new(pct, lg_pct_names[i], ms_json((double)v[i]));
    json_t *t = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "count", (json_int_t)s.count,
                          "min_ms", ms_json((double)s.min), "mean_ms", num(hist_mean(&s) / 1000.0),
                          "stddev_ms", num(hist_stddev(&s) / 1000.0), "median_ms",
                          ms_json((double)v[0]), "max_ms", ms_json((double)s.max), "percentiles", pct);
    if (fprintf(f, "  \"%s\": ", key) < 0 || write_open(f, t, JSON_COMPACT) ||
        fputs(",\"histogram\":", f) == EOF || write_hist(f, &s, HIST_SUB_HALF_MAG, h, NULL, 0))
        return -1;
    return fprintf(f, "}%s\n", after) < 0 ? -1 : 0;
}

static int write_permille_list(FILE *f, const char *key, const uint16_t *v, size_t n)
{
    if (fprintf(f, ",\"%s\":[", key) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (fprintf(f, i ? ",%u" : "%u", (unsigned)v[i]) < 0)
            return -1;
    return fputs("]", f) == EOF ? -1 : 0;
}

/* "generator": the loadgen's own load (selfwatch.h), one thread per line, and its warnings. */
static int write_generator(FILE *f, const lg_result *r)
{
    if (fprintf(f, " \"generator\": {\n  \"saturated_permille\": %d,\n  \"threads\": [", LG_SATURATED_PM) < 0)
        return -1;
    for (size_t i = 0; i < r->ngen_threads; i++) {
        const lg_gen_thread *g = &r->gen_threads[i];
        json_t *t = json_pack("{s:o, s:o}", "cpu_s", num(g->cpu_s), "busy_s", num(g->busy_s));
        if (fputs(i ? ",\n   " : "\n   ", f) == EOF || write_open(f, t, JSON_COMPACT) ||
            write_permille_list(f, "busy_permille", g->busy_pm, g->n) ||
            write_permille_list(f, "cpu_permille", g->cpu_pm, g->n) || fputs("}", f) == EOF)
            return -1;
    }
    if (fputs(r->ngen_threads ? "\n  ],\n" : "],\n", f) == EOF)
        return -1;
    if (r->rate > 0) {
        uint64_t sent = 0, waited = 0;
        for (size_t i = 0; i < r->nseries; i++) {
            sent += r->series[i].sent;
            waited += r->series[i].waited;
        }
        if (fprintf(f, "  \"open_loop\": {\"target_rate\": %.17g, \"achieved_send_rate\": %.17g, "
                       "\"sent\": %llu, \"not_sent\": %llu, \"waited_for_connection\": %llu,\n",
                    r->rate, r->duration_s > 0 ? (double)sent / r->duration_s : 0.0,
                    (unsigned long long)sent, (unsigned long long)r->not_sent,
                    (unsigned long long)waited) < 0 ||
            write_table(f, "send_lag", &r->send_lag, "") || fputs("  },\n", f) == EOF)
            return -1;
    } else if (fputs("  \"open_loop\": null,\n", f) == EOF) {
        return -1;
    }
    char warnings[8][512];
    size_t nw = lg_generator_warnings(r, warnings, 8);
    json_t *w = json_array();
    for (size_t i = 0; w && i < nw; i++)
        json_array_append_new(w, json_string(warnings[i]));
    char *text = w ? json_dumps(w, JSON_COMPACT) : NULL;
    json_decref(w);
    int rc = text && fprintf(f, "  \"warnings\": %s\n },\n", text) >= 0 ? 0 : -1;
    free(text);
    return rc;
}

/* null for http://; for https://, the TLS options as given (verification off unless asked). */
static json_t *lg_tls_config_json(const lg_options *o)
{
    if (!o->url.tls)
        return json_null();
    return json_pack("{s:b, s:o, s:b, s:s, s:o}", "verify", o->tls_verify, "cacert",
                     opt_str(o->tls_cacert), "resume", o->tls_resume, "protocol",
                     o->tls_protocol ? o->tls_protocol : "ALL", "ciphers", opt_str(o->tls_ciphers));
}

json_t *lg_config_json(const lg_options *o)
{
    json_t *headers = json_array();
    for (size_t i = 0; i < o->nheaders; i++)
        json_array_append_new(headers, json_string(o->headers[i]));
    int unlimited = !o->requests_set && o->time_limit_s > 0;
    json_t *config = json_pack("{s:s, s:s, s:o, s:i, s:o, s:o, s:b, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:i}",
                     "url", o->url_text, "method", o->method, "requests",
                     unlimited ? json_null() : json_integer((json_int_t)o->requests), "concurrency",
                     o->concurrency, "time_limit_s", opt_num(o->time_limit_s, o->time_limit_s > 0),
                     "timeout_s", num(o->timeout_s), "keepalive", o->keepalive, "threads", o->threads,
                     "rate", opt_num(o->rate, o->rate > 0), "warmup_s", num(o->warmup_s), "ramp_s",
                     num(o->ramp_s), "headers", headers, "source", opt_str(o->source_spec),
                     "body_file", opt_str(o->body_file), "content_type", opt_str(o->content_type),
                     "variable_length", o->variable_length, "busy_poll_us", o->busy_poll_us);
    if (config)
        json_object_set_new(config, "source_automatic", json_boolean(o->sources_automatic));
    if (config)
        json_object_set_new(config, "engine",
                            json_string(o->engine == LG_ENGINE_URING ? "uring" : "readiness"));
    if (config)
        lg_idle_config_json(config, o);
    if (config)
        json_object_set_new(config, "tls", lg_tls_config_json(o));
    if (config)
        json_object_set_new(config, "connect_timeout_s",
                            num(o->connect_timeout_s > 0 ? o->connect_timeout_s : o->timeout_s));
    return config;
}

/* Everything but the latency tables and the time series, which write_document streams after it. */
static json_t *report_head_json(const lg_result *r)
{
    double secs = r->duration_s;
    const lg_counts *n = &r->counts;
    json_t *summary = json_object();
    for (size_t i = 0; summary && i < lg_nsummary_counters; i++) /* the list in counts.h */
        json_object_set_new(summary, lg_summary_counters[i].key,
                            json_integer((json_int_t)lg_counter_get(n, &lg_summary_counters[i])));
    json_t *derived = json_pack(
        "{s:I, s:o, s:o, s:o, s:b, s:s, s:o, s:o}", "failed", (json_int_t)lg_result_failed(r),
        "duration_s", num(secs), "requests_per_sec", num(secs > 0 ? (double)n->complete / secs : 0),
        "transfer_rate_kib_s", num(secs > 0 ? (double)n->bytes_total / 1024.0 / secs : 0),
        "interrupted", r->interrupted, "stop_reason", r->stop_reason, "document_length",
        r->doclen >= 0 ? json_integer((json_int_t)r->doclen) : json_null(), "server_software",
        r->has_server_software ? json_string(r->server_software) : json_null());
    if (derived)
        json_object_set_new(derived, "tls_negotiated",
                            r->has_negotiated ? json_string(r->negotiated) : json_null());
    if (summary && derived)
        json_object_update(summary, derived);
    json_decref(derived);
    json_t *errors = json_object();
    for (int i = 0; i < LG_ERR_COUNT; i++)
        json_object_set_new(errors, lg_err_names[i], json_integer((json_int_t)r->counts.errors[i]));
    json_t *connfail = json_object();
    for (int i = 0; i < LG_CF_COUNT; i++)
        json_object_set_new(connfail, lg_connfail_names[i],
                            json_integer((json_int_t)r->counts.connect_failures[i]));
    json_t *status = json_object();
    for (int i = 0; i < LG_STATUS_MAX; i++)
        if (r->counts.status[i]) {
            char key[8];
            snprintf(key, sizeof key, "%d", i);
            json_object_set_new(status, key, json_integer((json_int_t)r->counts.status[i]));
        }
    json_t *root = json_pack("{s:i, s:s, s:s, s:O, s:O, s:o, s:o, s:o}", "schema_version", 1,
                             "tool", "c10k-loadgen", "version", LG_VERSION, "config",
                             r->config ? r->config : json_null(), "environment",
                             r->environment ? r->environment : json_null(), "summary", summary,
                             "errors", errors, "status_codes", status);
    if (root)
        json_object_set_new(root, "connect_failures", connfail); /* errors.connect by cause */
    else
        json_decref(connfail);
    char note[512];
    if (root)
        json_object_set_new(root, "slow_connects",
                            json_pack("{s:i, s:I, s:o}", "threshold_ms", LG_SLOW_CONNECT_US / 1000,
                                      "count", (json_int_t)lg_result_slow_connects(r), "note",
                                      lg_result_connect_note(r, note, sizeof note)
                                          ? json_string(note) : json_null()));
    if (root && !r->lacks_establishment) {
        int all = r->concurrency > 0 && r->counts.answered >= (uint64_t)r->concurrency;
        json_object_set_new(root, "establishment",
                            json_pack("{s:i, s:I, s:o}", "connections", r->concurrency, "answered",
                                      (json_int_t)r->counts.answered, "all_answered_s",
                                      opt_num(r->all_answered_us / 1e6, all)));
    }
    if (root)
        json_object_set_new(root, "idle", lg_idle_json(&r->counts));
    if (root && r->merged_from)
        json_object_set(root, "merged_from", r->merged_from);
    if (root && r->workers)
        json_object_set(root, "workers", r->workers);
    return root;
}

/* The head object (indented), then the latency tables and the series, one line each: the
 * document is written as it is produced, never whole in memory. */
static int write_document(const lg_result *r, FILE *f)
{
    if (write_open(f, report_head_json(r), JSON_INDENT(1)) || fputs(",\n \"latency\": {\n", f) == EOF ||
        write_table(f, "connect", &r->counts.connect, ",") || write_table(f, "waiting", &r->counts.waiting, ",") ||
        write_table(f, "processing", &r->counts.processing, ",") ||
        write_table(f, "tls_handshake", &r->counts.tls_handshake, ",") ||
        write_table(f, "first_byte", &r->counts.first_byte, ",") || write_table(f, "total", &r->counts.total, "") ||
        fputs(" },\n", f) == EOF)
        return -1;
    if (r->has_uncorrected &&
        (fputs(" \"latency_uncorrected\": {\n", f) == EOF ||
         write_table(f, "total", &r->counts.total_uncorrected, "") || fputs(" },\n", f) == EOF))
        return -1;
    if (!r->lacks_2xx &&
        (fputs(" \"latency_2xx\": {\n", f) == EOF || write_table(f, "total", &r->counts.total_2xx, "") ||
         fputs(" },\n", f) == EOF))
        return -1;
    if (write_generator(f, r) || fputs(" \"timeseries\": [", f) == EOF)
        return -1;
    for (size_t i = 0; i < r->nseries; i++)
        if (fputs(i ? ",\n  " : "\n  ", f) == EOF || write_series_entry(f, &r->series[i], i, r->rate > 0))
            return -1;
    return fputs(r->nseries ? "\n ]\n}\n" : "]\n}\n", f) == EOF ? -1 : 0;
}

int lg_write_json(const lg_result *r, const char *path)
{
    int to_stdout = strcmp(path, "-") == 0;
    errno = 0;
    FILE *f = to_stdout ? stdout : fopen(path, "w");
    int rc = f ? write_document(r, f) : -1;
    if (f) {
        if (fflush(f) != 0)
            rc = -1;
        if (!to_stdout && fclose(f) != 0)
            rc = -1;
    }
    if (rc != 0) {
        fprintf(stderr, "loadgen: cannot write the JSON result to '%s': %s\n", path,
                errno ? strerror(errno) : "write error");
        return -1;
    }
    return 0;
}
