/* The text report, laid out like ab's but in milliseconds with 3 decimals. */
#include <inttypes.h>

#include "idle_report.h"
#include "report.h"
#include "selfwatch.h"

static double ms(uint64_t us)
{
    return (double)us / 1000.0;
}

void lg_report_table_row(FILE *f, const char *name, const hist *h)
{
    hist_summary s = hist_get_summary(h);
    double p50 = 50;
    uint64_t median;
    hist_percentiles(h, &p50, 1, &median);
    fprintf(f, "%-12s%10.3f %10.3f %8.3f %10.3f %10.3f\n", name, ms(s.min), hist_mean(&s) / 1000.0,
            hist_stddev(&s) / 1000.0, ms(median), ms(s.max));
}

static void percent_table(FILE *f, const hist *h)
{
    uint64_t v[LG_NPCT];
    hist_percentiles(h, lg_pcts, LG_NPCT, v);
    for (int i = 0; i < LG_NPCT; i++)
        fprintf(f, "%6s%% %10.3f%s\n", lg_pct_names[i], ms(v[i]),
                i == LG_NPCT - 1 ? " (longest request)" : "");
}

/* --processes: "2 of 3 workers finished; worker 0 was killed by signal 9 after 2.1 s". */
static void lost_workers(FILE *f, const json_t *workers)
{
    json_t *lost = json_object_get(workers, "lost");
    if (!json_array_size(lost))
        return;
    fprintf(f, "Workers:                %lld of %lld workers finished",
            (long long)json_integer_value(json_object_get(workers, "finished")),
            (long long)json_integer_value(json_object_get(workers, "started")));
    size_t i;
    json_t *w;
    json_array_foreach(lost, i, w) {
        json_t *sig = json_object_get(w, "signal");
        long long k = json_integer_value(json_object_get(w, "worker"));
        double after = json_number_value(json_object_get(w, "after_s"));
        if (json_is_integer(sig))
            fprintf(f, "; worker %lld was killed by signal %lld after %.1f s", k,
                    (long long)json_integer_value(sig), after);
        else
            fprintf(f, "; worker %lld exited with status %lld after %.1f s without a result", k,
                    (long long)json_integer_value(json_object_get(w, "exit_status")), after);
    }
    fputc('\n', f);
}

void lg_report_text(FILE *f, const lg_result *r)
{
    uint64_t failed = lg_result_failed(r);
    double secs = r->duration_s;
    fprintf(f, "This is c10k-loadgen (ab-compatible report; times in milliseconds)\n\n");
    fprintf(f, "Server Software:        %s\n", r->has_server_software ? r->server_software : "");
    fprintf(f, "Server Hostname:        %s\n", r->host);
    fprintf(f, "Server Port:            %d\n\n", r->port);
    fprintf(f, "Document Path:          %s\n", r->path);
    if (r->doclen >= 0)
        fprintf(f, "Document Length:        %" PRId64 " bytes\n\n", r->doclen);
    else
        fprintf(f, "Document Length:        (no complete response)\n\n");
    fprintf(f, "Concurrency Level:      %d\n", r->concurrency);
    json_t *engine = json_object_get(r->config, "engine");
    if (json_is_string(engine)) /* absent in results of loadgens before --engine */
        fprintf(f, "Engine:                 %s\n", json_string_value(engine));
    if (r->rate > 0)
        fprintf(f, "Target rate:            %.3f [#/sec] (open loop)\n", r->rate);
    json_t *source = json_object_get(r->config, "source");
    if (json_is_string(source))
        fprintf(f, "Source addresses:       %s%s\n", json_string_value(source),
                json_is_true(json_object_get(r->config, "source_automatic"))
                    ? " (chosen by loadgen: many connections to a loopback target)" : "");
    fprintf(f, "Time taken for tests:   %.3f seconds\n", secs);
    fprintf(f, "Complete requests:      %" PRIu64 "\n", r->counts.complete);
    fprintf(f, "Failed requests:        %" PRIu64 "\n", failed);
    if (failed)
        fprintf(f, "   (Connect: %" PRIu64 ", Receive: %" PRIu64 ", Length: %" PRIu64
                   ", Exceptions: %" PRIu64 ")\n"
                   "   (Write: %" PRIu64 ", Timeout: %" PRIu64 ", Parse: %" PRIu64 ")\n",
                r->counts.errors[LG_ERR_CONNECT], r->counts.errors[LG_ERR_READ], r->counts.errors[LG_ERR_LENGTH],
                r->counts.errors[LG_ERR_EXCEPTION], r->counts.errors[LG_ERR_WRITE], r->counts.errors[LG_ERR_TIMEOUT],
                r->counts.errors[LG_ERR_PARSE]);
    if (r->counts.errors[LG_ERR_CONNECT]) {
        fprintf(f, "Connect failures:      ");
        const char *sep = " ";
        for (int i = 0; i < LG_CF_COUNT; i++)
            if (r->counts.connect_failures[i]) {
                fprintf(f, "%s%s: %" PRIu64, sep, lg_connfail_names[i], r->counts.connect_failures[i]);
                sep = ", ";
            }
        fprintf(f, "\n");
    }
    if (r->counts.non_2xx)
        fprintf(f, "Non-2xx responses:      %" PRIu64 "\n", r->counts.non_2xx);
    if (r->counts.junk_after_response)
        fprintf(f, "Junk after response:    %" PRIu64 " (bytes after a complete response: "
                   "connection closed)\n", r->counts.junk_after_response);
    fprintf(f, "Keep-Alive requests:    %" PRIu64 "\n", r->counts.keepalive_requests);
    fprintf(f, "Connections opened:     %" PRIu64 "\n", r->counts.connections_opened);
    lg_idle_report_text(f, r);
    if (r->counts.connects_abandoned)
        fprintf(f, "Connects abandoned:     %" PRIu64 " (still connecting when the last request was "
                   "taken: closed, neither requests nor failures, as in ab)\n",
                r->counts.connects_abandoned);
    lg_report_tls_text(f, r);
    fprintf(f, "Total transferred:      %" PRIu64 " bytes\n", r->counts.bytes_total);
    fprintf(f, "HTML transferred:       %" PRIu64 " bytes\n", r->counts.body_bytes);
    double rps = secs > 0 ? (double)r->counts.complete / secs : 0;
    fprintf(f, "Requests per second:    %.2f [#/sec] (mean)\n", rps);
    if (r->counts.complete && r->rate > 0) {
        /* ab's figure is concurrency x time / complete: the mean latency only when every
         * connection always has a request in flight, which an open loop does not do. */
        fprintf(f, "Time per request:       (not shown in open loop: see Total below)\n");
    } else if (r->counts.complete) {
        fprintf(f, "Time per request:       %.3f [ms] (mean)\n",
                r->concurrency * secs * 1000.0 / (double)r->counts.complete);
    }
    if (r->counts.complete) {
        fprintf(f, "Time per request:       %.3f [ms] (mean, across all concurrent requests)\n",
                secs * 1000.0 / (double)r->counts.complete);
    }
    fprintf(f, "Transfer rate:          %.2f [Kbytes/sec] received\n",
            secs > 0 ? (double)r->counts.bytes_total / 1024.0 / secs : 0);
    if (r->interrupted)
        fprintf(f, "Stopped early:          interrupted (report of what was done)\n");
    lost_workers(f, r->workers);
    fprintf(f, "\nConnection Times (ms)\n");
    fprintf(f, "%-12s%10s %10s %8s %10s %10s\n", "", "min", "mean", "[+/-sd]", "median", "max");
    lg_report_table_row(f, "Connect:", &r->counts.connect);
    if (lg_report_is_tls(r)) { /* Connect is TCP alone; the request starts after the handshake */
        lg_report_table_row(f, "Handshake:", &r->counts.tls_handshake);
        lg_report_table_row(f, "First byte:", &r->counts.first_byte);
    }
    lg_report_table_row(f, "Processing:", &r->counts.processing);
    lg_report_table_row(f, "Waiting:", &r->counts.waiting);
    lg_report_table_row(f, "Total:", &r->counts.total);
    char note[512];
    if (lg_result_connect_note(r, note, sizeof note))
        fprintf(f, "NOTE: %s.\n", note);
    if (r->has_uncorrected) {
        fprintf(f, "\nTotal latency above is measured from each request's intended send time\n"
                   "(coordinated omission corrected); uncorrected, from the actual send:\n");
        lg_report_table_row(f, "Uncorrected:", &r->counts.total_uncorrected);
    }
    fprintf(f, "\nPercentage of the requests served within a certain time (ms)\n");
    percent_table(f, &r->counts.total);
    if (r->has_uncorrected) {
        fprintf(f, "\nUncorrected percentages (ms)\n");
        percent_table(f, &r->counts.total_uncorrected);
    }
    int any = 0;
    for (int i = 0; i < LG_STATUS_MAX; i++)
        if (r->counts.status[i]) {
            fprintf(f, "%s%d: %" PRIu64, any ? ", " : "\nStatus codes:           ", i, r->counts.status[i]);
            any = 1;
        }
    if (any)
        fputc('\n', f);
    lg_report_generator_text(f, r);
}
