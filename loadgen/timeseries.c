/* Per-second series kept by each engine thread, merged into the result at the end. */
#include "timeseries.h"

#include <stdlib.h>
#include <string.h>

void lg_ts_init(lg_timeseries *ts)
{
    memset(ts, 0, sizeof *ts);
    hist_init(&ts->interval);
}

void lg_ts_free(lg_timeseries *ts)
{
    free(ts->entries);
    free(ts->pairs);
    ts->entries = NULL;
    ts->pairs = NULL;
}

int lg_ts_close_second(lg_timeseries *ts, uint64_t open_conns)
{
    if (ts->n == ts->cap) {
        size_t ncap = ts->cap ? ts->cap * 2 : 64;
        lg_ts_entry *ne = realloc(ts->entries, ncap * sizeof *ne);
        if (!ne)
            return -1;
        ts->entries = ne;
        ts->cap = ncap;
    }
    lg_ts_entry *e = &ts->entries[ts->n];
    e->errors = ts->errors;
    e->open_conns = open_conns;
    e->sum = hist_get_summary(&ts->interval);
    e->first_pair = ts->npairs;
    long added = hist_drain_pairs(&ts->interval, &ts->pairs, &ts->npairs, &ts->pcap);
    if (added < 0)
        return -1;
    e->npairs = (size_t)added;
    ts->errors = 0;
    ts->n++;
    return 0;
}

int lg_ts_merge_into(const lg_timeseries *ts, lg_result *r)
{
    for (size_t i = 0; i < ts->n; i++) {
        const lg_ts_entry *e = &ts->entries[i];
        if (lg_result_series_add(r, i, e->sum.count, e->errors, e->open_conns, &e->sum,
                                 ts->pairs + e->first_pair, e->npairs))
            return -1;
    }
    return 0;
}
