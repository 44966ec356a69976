/* Per-second series kept by each engine thread, merged into the result at the end. */
#include "timeseries.h"

#include <stdlib.h>
#include <string.h>

void lg_ts_init(lg_timeseries *ts)
{
    memset(ts, 0, sizeof *ts);
    hist_init(&ts->lag_total);
}

void lg_ts_free(lg_timeseries *ts)
{
    free(ts->entries);
    free(ts->pairs);
    ts->entries = NULL;
    ts->pairs = NULL;
    ts->n = ts->cap = ts->npairs = ts->pcap = 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : first;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(*p, ncap * size);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

/* Appends the non-empty buckets of counts to the pairs, clearing them; returns how many. */
static size_t drain(lg_timeseries *ts, uint32_t *counts, size_t nonempty)
{
    size_t n = nonempty;
    for (uint32_t i = 0; i < LG_TS_COUNTS_LEN && nonempty; i++)
        if (counts[i]) {
            ts->pairs[ts->npairs++] = (hist_pair){i, counts[i]};
            counts[i] = 0;
            nonempty--;
        }
    return n;
}

static size_t count_nonempty(const uint32_t *counts)
{
    size_t n = 0;
    for (size_t i = 0; i < LG_TS_COUNTS_LEN; i++)
        n += counts[i] != 0;
    return n;
}

int lg_ts_close_second(lg_timeseries *ts, uint64_t open_conns, unsigned busy_pm, unsigned cpu_pm)
{
    size_t nonempty = count_nonempty(ts->counts);
    size_t lag_nonempty = ts->lag_cur.count ? count_nonempty(ts->lag_counts) : 0;
    if (grow((void **)&ts->entries, &ts->cap, ts->n + 1, sizeof *ts->entries, 64) ||
        grow((void **)&ts->pairs, &ts->pcap, ts->npairs + nonempty + lag_nonempty, sizeof *ts->pairs,
             1024))
        return -1;
    lg_ts_entry *e = &ts->entries[ts->n++];
    e->errors = ts->errors;
    e->open_conns = open_conns;
    e->sum = ts->cur;
    e->first_pair = ts->npairs;
    e->npairs = drain(ts, ts->counts, nonempty);
    e->busy_pm = (uint16_t)(busy_pm > 1000 ? 1000 : busy_pm);
    e->cpu_pm = (uint16_t)(cpu_pm > 1000 ? 1000 : cpu_pm);
    e->sent = ts->sent;
    e->waited = ts->waited;
    e->lag = ts->lag_cur;
    e->lag_first = ts->npairs;
    e->nlag = drain(ts, ts->lag_counts, lag_nonempty);
    memset(&ts->cur, 0, sizeof ts->cur);
    memset(&ts->lag_cur, 0, sizeof ts->lag_cur);
    ts->errors = ts->sent = ts->waited = 0;
    return 0;
}

int lg_ts_move_into(lg_timeseries *ts, lg_result *r)
{
    lg_gen_thread *g = lg_result_add_thread(r, ts->n);
    int rc = g ? 0 : -1;
    for (size_t i = 0; i < ts->n && rc == 0; i++) {
        const lg_ts_entry *e = &ts->entries[i];
        rc = lg_result_series_add(r, i, e->sum.count, e->errors, e->open_conns, &e->sum,
                                  ts->pairs + e->first_pair, e->npairs);
        if (rc == 0)
            rc = lg_result_series_add_send(r, i, e->sent, e->waited, &e->lag, ts->pairs + e->lag_first,
                                           e->nlag, e->busy_pm);
        g->busy_pm[i] = e->busy_pm;
        g->cpu_pm[i] = e->cpu_pm;
    }
    if (g) {
        g->cpu_s = (double)ts->cpu_us / 1e6;
        g->busy_s = (double)ts->busy_us / 1e6;
        hist_add(&r->send_lag, &ts->lag_total);
        r->not_sent += ts->not_sent;
    }
    lg_ts_free(ts);
    return rc;
}
