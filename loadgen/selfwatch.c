/* The generator's own load: busy and CPU shares per thread, and the warnings drawn from them. */
#include "selfwatch.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t lg_thread_cpu_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void lg_selfwatch_start(lg_selfwatch *w, uint64_t now)
{
    w->idle_us = 0;
    w->start_us = w->mark_us = now;
    w->start_cpu_us = w->mark_cpu = lg_thread_cpu_us();
    w->mark_idle = 0;
    w->idle_since = 0; /* no connection has been busy yet */
}

static unsigned permille(uint64_t part, uint64_t whole)
{
    if (whole == 0)
        return 0;
    uint64_t pm = part >= whole ? 1000 : part * 1000 / whole;
    return (unsigned)pm;
}

void lg_selfwatch_second(lg_selfwatch *w, uint64_t now, unsigned *busy_pm, unsigned *cpu_pm)
{
    uint64_t cpu = lg_thread_cpu_us();
    uint64_t elapsed = now > w->mark_us ? now - w->mark_us : 0;
    uint64_t idle = w->idle_us - w->mark_idle;
    *busy_pm = permille(elapsed > idle ? elapsed - idle : 0, elapsed);
    *cpu_pm = permille(cpu > w->mark_cpu ? cpu - w->mark_cpu : 0, elapsed);
    w->mark_us = now;
    w->mark_idle = w->idle_us;
    w->mark_cpu = cpu;
}

void lg_selfwatch_totals(const lg_selfwatch *w, uint64_t now, uint64_t *busy_us, uint64_t *cpu_us)
{
    uint64_t elapsed = now > w->start_us ? now - w->start_us : 0;
    *busy_us = elapsed > w->idle_us ? elapsed - w->idle_us : 0;
    uint64_t cpu = lg_thread_cpu_us();
    *cpu_us = cpu > w->start_cpu_us ? cpu - w->start_cpu_us : 0;
}

/* The longest run of saturated seconds of thread g among its first n (whole) seconds: [*first,
 * *last] and its mean busy share. */
static int longest_saturated(const lg_gen_thread *g, size_t n, size_t *first, size_t *last,
                             unsigned *mean_pm)
{
    size_t best_len = 0, run_start = 0;
    if (n > g->n)
        n = g->n;
    for (size_t i = 0; i <= n; i++) {
        int sat = i < n && g->busy_pm[i] >= LG_SATURATED_PM;
        if (sat && (i == 0 || g->busy_pm[i - 1] < LG_SATURATED_PM))
            run_start = i;
        if (!sat && i > 0 && g->busy_pm[i - 1] >= LG_SATURATED_PM && i - run_start > best_len) {
            best_len = i - run_start;
            *first = run_start;
            *last = i - 1;
        }
    }
    if (best_len == 0)
        return 0;
    uint64_t sum = 0;
    for (size_t i = *first; i <= *last; i++)
        sum += g->busy_pm[i];
    *mean_pm = (unsigned)(sum / best_len);
    return 1;
}

/* Whether every merged input ran on one host (a single run, or --processes). */
static int one_host(const lg_result *r)
{
    size_t i;
    json_t *m;
    const char *first = NULL;
    json_array_foreach(r->merged_from, i, m) {
        const char *h = json_string_value(json_object_get(m, "hostname"));
        if (!h || (first && strcmp(h, first) != 0))
            return 0;
        first = h;
    }
    return 1;
}

/* What would help a saturated generator. More threads than cores only take turns on the same
 * cores, and on a box the server shares, each one also takes the server's CPU away. */
static void saturation_advice(const lg_result *r, char *out, size_t len)
{
    if (!one_host(r)) {
        snprintf(out, len, "raise --threads or --processes on its host, or add a host");
        return;
    }
    json_int_t cores = json_integer_value(json_object_get(r->environment, "cpus_allowed"));
    if (cores <= 0)
        cores = json_integer_value(json_object_get(r->environment, "cores"));
    if (cores <= 0 || (json_int_t)r->ngen_threads < cores)
        snprintf(out, len, "raise --threads or --processes (%zu loadgen thread%s on %lld core%s)",
                 r->ngen_threads, r->ngen_threads == 1 ? "" : "s", (long long)cores,
                 cores == 1 ? "" : "s");
    else
        snprintf(out, len, "loadgen already runs %zu thread%s on %lld core%s, so more would only take "
                 "turns; if the server runs here too, the two share the cores: pin them to separate "
                 "cores (taskset) or run loadgen on another host", r->ngen_threads,
                 r->ngen_threads == 1 ? "" : "s", (long long)cores, cores == 1 ? "" : "s");
}

size_t lg_generator_warnings(const lg_result *r, char (*out)[512], size_t max)
{
    size_t n = 0;
    int saturated = 0;
    /* Only whole seconds are judged: a run shorter than one is all connects and first requests,
     * too short to say what set its pace. */
    size_t whole = r->duration_s > 0 ? (size_t)r->duration_s : 0;
    char advice[320];
    saturation_advice(r, advice, sizeof advice);
    for (size_t t = 0; t < r->ngen_threads && n < max; t++) {
        size_t first, last;
        unsigned pm;
        if (!longest_saturated(&r->gen_threads[t], whole, &first, &last, &pm))
            continue;
        saturated = 1;
        if (first == last)
            snprintf(out[n++], sizeof out[0], "loadgen thread %zu was %u %% busy in second %zu: %s",
                     t, pm / 10, first, advice);
        else
            snprintf(out[n++], sizeof out[0], "loadgen thread %zu was %u %% busy in seconds %zu-%zu: %s",
                     t, pm / 10, first, last, advice);
    }
    if (r->rate <= 0 || n >= max)
        return n;
    uint64_t sent = 0, waited = 0;
    for (size_t i = 0; i < r->nseries; i++) {
        sent += r->series[i].sent;
        waited += r->series[i].waited;
    }
    uint64_t scheduled = sent + r->not_sent;
    double achieved = r->duration_s > 0 ? (double)sent / r->duration_s : 0;
    if (scheduled > 0 && (double)sent < 0.99 * (double)scheduled)
        snprintf(out[n++], sizeof out[0],
                 "loadgen sent %.0f requests/s of the --rate %.0f asked (%llu of %llu scheduled "
                 "requests were never sent)%s", achieved, r->rate,
                 (unsigned long long)r->not_sent, (unsigned long long)scheduled,
                 saturated ? "" : ": every connection was busy, raise -c");
    if (n < max && waited > 0 && (double)waited >= 0.01 * (double)sent)
        snprintf(out[n++], sizeof out[0],
                 "%llu of %llu requests (%.1f %%) came due while every connection was busy and went "
                 "out late: the server or -c %d set the pace, not --rate",
                 (unsigned long long)waited, (unsigned long long)sent,
                 100.0 * (double)waited / (double)sent, r->concurrency);
    return n;
}

void lg_report_generator_text(FILE *f, const lg_result *r)
{
    if (r->ngen_threads == 0)
        return;
    fprintf(f, "\nLoad generator (its own load):\n");
    for (size_t i = 0; i < r->ngen_threads; i++) {
        const lg_gen_thread *g = &r->gen_threads[i];
        double wall = r->duration_s > 0 ? r->duration_s : 1;
        fprintf(f, "  thread %zu: %.2f s CPU, loop busy %.2f s", i, g->cpu_s, g->busy_s);
        unsigned peak = 0;
        for (size_t k = 0; k < g->n; k++)
            if (g->busy_pm[k] > peak)
                peak = g->busy_pm[k];
        fprintf(f, " (busiest second %u %%; run incl. warm-up %.1f s)\n", peak / 10, wall);
    }
    if (r->rate > 0) {
        uint64_t sent = 0, waited = 0;
        for (size_t i = 0; i < r->nseries; i++) {
            sent += r->series[i].sent;
            waited += r->series[i].waited;
        }
        double ps[3] = {50, 99, 100};
        uint64_t v[3];
        hist_percentiles(&r->send_lag, ps, 3, v);
        fprintf(f, "  sent %.2f [#/sec] of %.2f target; send lag p50 %.3f, p99 %.3f, max %.3f ms\n",
                r->duration_s > 0 ? (double)sent / r->duration_s : 0.0, r->rate, v[0] / 1000.0,
                v[1] / 1000.0, v[2] / 1000.0);
        fprintf(f, "  waited for a free connection: %llu; scheduled but never sent: %llu\n",
                (unsigned long long)waited, (unsigned long long)r->not_sent);
    }
    char warnings[8][512];
    size_t n = lg_generator_warnings(r, warnings, 8);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%sWARNING: %s\n", i ? "" : "\n", warnings[i]);
}
