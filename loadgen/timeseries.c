/* Per-second series kept by each engine thread, merged into the result at the end. */
#include "timeseries.h"

#include <stdlib.h>
#include <string.h>

void lg_ts_init(lg_timeseries *ts)
{
    memset(ts, 0, sizeof *ts);
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

int lg_ts_close_second(lg_timeseries *ts, uint64_t open_conns)
{
    size_t nonempty = 0;
    for (size_t i = 0; i < LG_TS_COUNTS_LEN; i++)
        nonempty += ts->counts[i] != 0;
    if (grow((void **)&ts->entries, &ts->cap, ts->n + 1, sizeof *ts->entries, 64) ||
        grow((void **)&ts->pairs, &ts->pcap, ts->npairs + nonempty, sizeof *ts->pairs, 1024))
        return -1;
    lg_ts_entry *e = &ts->entries[ts->n++];
    e->errors = ts->errors;
    e->open_conns = open_conns;
    e->sum = ts->cur;
    e->first_pair = ts->npairs;
    e->npairs = nonempty;
    for (uint32_t i = 0; i < LG_TS_COUNTS_LEN && nonempty; i++)
        if (ts->counts[i]) {
            ts->pairs[ts->npairs++] = (hist_pair){i, ts->counts[i]};
            ts->counts[i] = 0;
            nonempty--;
        }
    memset(&ts->cur, 0, sizeof ts->cur);
    ts->errors = 0;
    return 0;
}

int lg_ts_move_into(lg_timeseries *ts, lg_result *r)
{
    int rc = 0;
    for (size_t i = 0; i < ts->n && rc == 0; i++) {
        const lg_ts_entry *e = &ts->entries[i];
        rc = lg_result_series_add(r, i, e->sum.count, e->errors, e->open_conns, &e->sum,
                                  ts->pairs + e->first_pair, e->npairs);
    }
    lg_ts_free(ts);
    return rc;
}
