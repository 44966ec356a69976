/* Per-thread per-second series: completions, errors, open connections and that second's latency
 * histogram. The whole-run histograms are exact to 3 significant digits; a second's histogram
 * uses a coarser layout of the same family (64 sub-buckets: every bucket is narrower than 1/32
 * of its values) so that it holds at most LG_TS_COUNTS_LEN buckets, typically a few dozen, and
 * is stored sparsely as 8-byte pairs. Memory grows with the run's duration by about a hundred
 * bytes plus 8 per non-empty bucket a second, never with the number of requests. */
#ifndef LG_TIMESERIES_H
#define LG_TIMESERIES_H
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "result.h"

#define LG_TS_HALF_MAG 5 /* log2(LG_TS_SUB_BUCKET_COUNT / 2) */
#define LG_TS_SUB_BUCKET_COUNT 64
#define LG_TS_BUCKET_COUNT 31 /* 64 << 30 = 2^36 covers HIST_HIGHEST */
#define LG_TS_COUNTS_LEN ((LG_TS_BUCKET_COUNT + 1) << LG_TS_HALF_MAG)

typedef struct lg_ts_entry {
    uint64_t errors, open_conns;
    hist_summary sum;
    size_t first_pair, npairs;
    /* The generator itself (selfwatch.h): loop busy and CPU time in permille of the second;
     * --rate: requests sent, how many waited for a free connection, and their send lag. */
    uint16_t busy_pm, cpu_pm;
    uint64_t sent, waited;
    hist_summary lag;
    size_t lag_first, nlag;
} lg_ts_entry;

typedef struct lg_timeseries {
    hist_summary cur;                  /* the current second's total latencies ... */
    uint32_t counts[LG_TS_COUNTS_LEN]; /* ... and their buckets */
    uint64_t errors;                   /* the current second's failures */
    hist_summary lag_cur;              /* --rate: the current second's send lags ... */
    uint32_t lag_counts[LG_TS_COUNTS_LEN]; /* ... and their buckets */
    uint64_t sent, waited;
    hist lag_total;                    /* --rate: every measured send lag of the run */
    uint64_t cpu_us, busy_us, not_sent; /* set when the thread ends (selfwatch.h) */
    lg_ts_entry *entries;              /* index = second */
    size_t n, cap;
    hist_pair *pairs;
    size_t npairs, pcap;
} lg_timeseries;

static inline uint32_t lg_ts_index(uint64_t v)
{
    return loglin_index(v > HIST_HIGHEST ? HIST_HIGHEST : v, LG_TS_HALF_MAG);
}

static inline void lg_ts_count(hist_summary *s, uint32_t *counts, uint64_t v)
{
    if (v > HIST_HIGHEST)
        v = HIST_HIGHEST;
    counts[lg_ts_index(v)]++;
    if (s->count == 0 || v < s->min)
        s->min = v;
    if (v > s->max)
        s->max = v;
    s->count++;
    s->sum += v;
    s->sumsq += (double)v * (double)v;
}

/* Records one completed request's total latency (us) in the current second. */
static inline void lg_ts_record(lg_timeseries *ts, uint64_t v)
{
    lg_ts_count(&ts->cur, ts->counts, v);
}

/* --rate: records one request sent lag_us after its slot; waited: it came due while every
 * connection was busy. */
static inline void lg_ts_record_send(lg_timeseries *ts, uint64_t lag_us, int waited)
{
    lg_ts_count(&ts->lag_cur, ts->lag_counts, lag_us);
    hist_record(&ts->lag_total, lag_us);
    ts->sent++;
    ts->waited += (uint64_t)(waited != 0);
}

void lg_ts_init(lg_timeseries *ts);
void lg_ts_free(lg_timeseries *ts);
/* Ends the current second, with the loop's busy and CPU share of it (permille); -1 on
 * allocation failure. */
int lg_ts_close_second(lg_timeseries *ts, uint64_t open_conns, unsigned busy_pm, unsigned cpu_pm);
/* Adds the series into r's, and the thread's per-second busy and CPU shares as r's next
 * generator thread, and frees it (so that a run's end holds one copy); -1 on failure. */
int lg_ts_move_into(lg_timeseries *ts, lg_result *r);

#endif
