/* --merge: results written by the JSON report add up exactly; truncated, corrupt or incompatible
 * input is an error with a message, never a partial sum. */
#include "check.h"
#include "merge.h"
#include "report.h"
#include "timeseries.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/c10k-unit-merge-XXXXXX";

/* A result as a run would produce it: `n` requests with latencies base..base+n-1 us. */
static lg_result *make_result(uint64_t n, uint64_t base, int status)
{
    lg_result *r = lg_result_new();
    r->config = json_pack("{s:s, s:i, s:i, s:b, s:f}", "url", "http://127.0.0.1:8080/x", "concurrency", 2,
                          "threads", 1, "keepalive", 1, "rate", 0.0);
    r->environment = json_pack("{s:s}", "hostname", "unit");
    r->counts.complete = n;
    r->counts.attempts = n + 1;
    r->counts.errors[LG_ERR_CONNECT] = 1;
    r->counts.connect_failures[LG_CF_REFUSED] = 1;
    r->counts.bytes_total = n * 100;
    r->counts.body_bytes = n * 10;
    r->counts.connections_opened = 2;
    r->counts.status[status] = n;
    r->counts.non_2xx = status >= 300 ? n : 0;
    r->duration_s = 1.5;
    r->doclen = 10;
    for (uint64_t i = 0; i < n; i++) {
        hist_record(&r->counts.total, base + i);
        hist_record(&r->counts.connect, 1);
        hist_record(&r->counts.waiting, base + i);
        hist_record(&r->counts.processing, 0);
    }
    /* One second of the series, in its own coarser layout (timeseries.h). */
    hist_summary s = hist_get_summary(&r->counts.total);
    hist_pair *pairs = malloc(n * sizeof *pairs);
    for (uint64_t i = 0; i < n; i++)
        pairs[i] = (hist_pair){lg_ts_index(base + i), 1};
    size_t len = hist_pairs_normalize(pairs, n);
    lg_result_series_add(r, 0, n, 1, 2, &s, pairs, len);
    free(pairs);
    return r;
}

static const char *write_result(const lg_result *r, const char *name)
{
    static char paths[32][256];
    static int next;
    char *p = paths[next++ % 32];
    snprintf(p, 256, "%s/%s", dir, name);
    CHECK_INT(lg_write_json(r, p), 0);
    return p;
}

static const char *write_text(const char *name, const char *text)
{
    static char paths[32][256];
    static int next;
    char *p = paths[next++ % 32];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return p;
}

/* The JSON of a good result with one change made by `edit`. */
static const char *write_edited(const char *name, void (*edit)(json_t *doc))
{
    lg_result *r = make_result(10, 100, 200);
    json_error_t jerr;
    json_t *doc = json_load_file(write_result(r, "to-edit.json"), 0, &jerr);
    CHECK(doc != NULL);
    edit(doc);
    char *text = json_dumps(doc, 0);
    const char *p = write_text(name, text);
    free(text);
    json_decref(doc);
    lg_result_free(r);
    return p;
}

static void test_exact_sum(void)
{
    lg_result *a = make_result(1000, 100, 200), *b = make_result(500, 5000, 404);
    const char *files[] = {write_result(a, "a.json"), write_result(b, "b.json")};
    lg_result *m = lg_result_new();
    char err[512] = "";
    CHECK_INT(lg_merge_files(files, 2, m, 0, err, sizeof err), 0);
    CHECK_STR(err, "");
    CHECK_U64(m->counts.complete, 1500);
    CHECK_U64(m->counts.attempts, 1502);
    CHECK_U64(m->counts.errors[LG_ERR_CONNECT], 2);
    CHECK_U64(m->counts.bytes_total, 150000);
    CHECK_U64(m->counts.status[200], 1000);
    CHECK_U64(m->counts.status[404], 500);
    CHECK_U64(m->counts.non_2xx, 500);
    CHECK_INT(m->concurrency, 4);
    CHECK_U64(m->counts.total.count, 1500);
    CHECK_U64(m->counts.total.min, 100);
    CHECK_U64(m->counts.total.max, 5499);
    hist_add(&a->counts.total, &b->counts.total);
    CHECK(memcmp(m->counts.total.counts, a->counts.total.counts, sizeof a->counts.total.counts) == 0);
    CHECK_U64(m->nseries, 1);
    CHECK_U64(m->series[0].completed, 1500);
    CHECK_U64(m->series[0].sum.count, 1500);
    CHECK_INT(m->port, 8080);
    CHECK_STR(m->host, "127.0.0.1");
    lg_result_free(a);
    lg_result_free(b);
    lg_result_free(m);
}

/* lg_result_reset gives back the empty result lg_result_new gives, byte for byte, and a result
 * merged into after a reset equals one merged into when new. */
static void check_empty(const lg_result *r)
{
    lg_result *fresh = lg_result_new();
    CHECK(memcmp(r, fresh, sizeof *fresh) == 0);
    lg_result_free(fresh);
}

static void test_reset_reuse(void)
{
    lg_result *a = make_result(1000, 100, 200), *b = make_result(500, 5000, 404);
    const char *files[] = {write_result(a, "reuse-a.json"), write_result(b, "reuse-b.json")};
    lg_result *reused = lg_result_new(), *fresh = lg_result_new();
    char err[512] = "";
    CHECK_INT(lg_merge_files(files, 2, reused, 0, err, sizeof err), 0);
    lg_result_reset(reused);
    check_empty(reused);
    CHECK_INT(lg_merge_files(files + 1, 1, reused, 0, err, sizeof err), 0);
    CHECK_INT(lg_merge_files(files + 1, 1, fresh, 0, err, sizeof err), 0);
    CHECK_U64(reused->counts.complete, 500);
    CHECK_U64(reused->counts.status[200], 0);
    const hist *hr[] = {&reused->counts.connect, &reused->counts.waiting, &reused->counts.processing, &reused->counts.total,
                        &reused->counts.total_uncorrected, &reused->counts.total_2xx, &reused->send_lag};
    const hist *hf[] = {&fresh->counts.connect, &fresh->counts.waiting, &fresh->counts.processing, &fresh->counts.total,
                        &fresh->counts.total_uncorrected, &fresh->counts.total_2xx, &fresh->send_lag};
    for (size_t i = 0; i < sizeof hr / sizeof hr[0]; i++)
        CHECK(memcmp(hr[i], hf[i], sizeof *hr[i]) == 0);
    CHECK_U64(reused->nseries, fresh->nseries);
    CHECK_U64(reused->series[0].completed, fresh->series[0].completed);
    CHECK_U64(reused->series[0].npairs, fresh->series[0].npairs);
    CHECK(memcmp(reused->series[0].pairs, fresh->series[0].pairs,
                 fresh->series[0].npairs * sizeof *fresh->series[0].pairs) == 0);
    lg_result_free(a);
    lg_result_free(b);
    lg_result_free(reused);
    lg_result_free(fresh);
}

static void set_schema_2(json_t *d) { json_object_set_new(d, "schema_version", json_integer(2)); }
static void drop_summary(json_t *d) { json_object_del(d, "summary"); }
static void negative_complete(json_t *d)
{
    json_object_set_new(json_object_get(d, "summary"), "complete", json_integer(-1));
}
static void other_layout(json_t *d)
{
    json_t *h = json_object_get(json_object_get(json_object_get(d, "latency"), "total"), "histogram");
    json_object_set_new(h, "sub_bucket_count", json_integer(1024));
}
static void count_mismatch(json_t *d)
{
    json_t *h = json_object_get(json_object_get(json_object_get(d, "latency"), "total"), "histogram");
    json_object_set_new(h, "count", json_integer(11));
}
static void bad_status(json_t *d)
{
    json_object_set_new(json_object_get(d, "status_codes"), "99999", json_integer(1));
}
static void bad_bucket(json_t *d)
{
    json_t *h = json_object_get(json_object_get(json_object_get(d, "latency"), "total"), "histogram");
    json_array_append_new(json_object_get(h, "buckets"), json_string("x"));
}
static void other_tool(json_t *d) { json_object_set_new(d, "tool", json_string("wrk")); }

static void test_bad_input(void)
{
    struct {
        const char *file, *message;
    } cases[] = {
        {write_text("empty.json", ""), "cannot read JSON"},
        {write_text("truncated.json", "{\"schema_version\": 1, \"tool\": \"c10k-lo"), "cannot read JSON"},
        {write_text("array.json", "[1, 2, 3]"), "schema_version"},
        {write_edited("v2.json", set_schema_2), "schema_version"},
        {write_edited("tool.json", other_tool), "tool"},
        {write_edited("nosummary.json", drop_summary), "summary"},
        {write_edited("negative.json", negative_complete), "complete"},
        {write_edited("layout.json", other_layout), "layout"},
        {write_edited("count.json", count_mismatch), "count"},
        {write_edited("status.json", bad_status), "status"},
        {write_edited("bucket.json", bad_bucket), "bucket"},
        {"/nonexistent/c10k.json", "cannot read JSON"},
    };
    lg_result *good = make_result(10, 100, 200);
    const char *ok = write_result(good, "good.json");
    /* One result for every case: a reset also undoes a merge that stopped half-way. */
    lg_result *m = lg_result_new();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* Alone and after a good file. */
        for (int after_good = 0; after_good <= 1; after_good++) {
            const char *files[] = {ok, cases[i].file};
            char err[512] = "";
            CHECK_INT(lg_merge_files(files + !after_good, 1 + (size_t)after_good, m, 0, err, sizeof err), -1);
            CHECK_CONTAINS(err, cases[i].message);
            CHECK_CONTAINS(err, cases[i].file); /* which file */
            lg_result_reset(m);
            check_empty(m);
        }
    }
    lg_result_free(m);
    lg_result_free(good);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    test_exact_sum();
    test_reset_reuse();
    test_bad_input();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    return check_exit();
}
