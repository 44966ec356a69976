/* Per-thread per-second series: completions, errors, open connections and that second's latency
 * histogram, stored sparsely so memory grows with the run's duration (a few hundred bytes per
 * second), never with the number of requests. */
#ifndef LG_TIMESERIES_H
#define LG_TIMESERIES_H
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "result.h"

typedef struct lg_ts_entry {
    uint64_t errors, open_conns;
    hist_summary sum;
    size_t first_pair, npairs;
} lg_ts_entry;

typedef struct lg_timeseries {
    hist interval;         /* the current second's total latencies */
    uint64_t errors;       /* the current second's failures */
    lg_ts_entry *entries;  /* index = second */
    size_t n, cap;
    hist_pair *pairs;
    size_t npairs, pcap;
} lg_timeseries;

void lg_ts_init(lg_timeseries *ts);
void lg_ts_free(lg_timeseries *ts);
/* Ends the current second; -1 on allocation failure. */
int lg_ts_close_second(lg_timeseries *ts, uint64_t open_conns);
int lg_ts_merge_into(const lg_timeseries *ts, lg_result *r);

#endif
