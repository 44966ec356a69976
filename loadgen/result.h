/* The result of a run (or of a merge of runs): what the text and JSON reports print. */
#ifndef LG_RESULT_H
#define LG_RESULT_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "counts.h"
#include "hist.h"

/* One second of the time series. */
typedef struct lg_second {
    uint64_t completed, errors, open_conns;
    hist_summary sum;  /* of that second's total latencies */
    hist_pair *pairs;  /* its non-empty buckets in the series layout (timeseries.h), sorted */
    size_t npairs;
    /* The generator (selfwatch.h): the busiest loadgen thread's share of the second (permille),
     * and with --rate the requests sent, those that waited for a free connection, send lags. */
    unsigned busy_max_pm;
    uint64_t sent, waited;
    hist_summary lag;
    hist_pair *lag_pairs;
    size_t nlag;
} lg_second;

/* One loadgen thread watching itself: its loop's busy time and its CPU time, in total and per
 * second of the series (permille of the second). */
typedef struct lg_gen_thread {
    double cpu_s, busy_s;
    uint16_t *busy_pm, *cpu_pm;
    size_t n;
} lg_gen_thread;

typedef struct lg_result {
    /* What the text report needs from the configuration. */
    char host[256];
    int port;
    char path[4096];
    int concurrency;
    int keepalive;
    double rate;
    json_t *config;      /* owned: the JSON "config" object */
    json_t *environment; /* owned: the JSON "environment" object */
    json_t *merged_from; /* owned, merge output only */
    json_t *workers;     /* owned, --processes only: {"started", "finished", "lost": [...]} */

    lg_counts counts; /* the counters and latency histograms */
    double duration_s;
    int interrupted;
    const char *stop_reason; /* static string */
    int64_t doclen;          /* -1 when no response was complete */
    char server_software[256];
    int has_server_software;
    char negotiated[128]; /* TLS: version, cipher and ALPN of the first handshake */
    int has_negotiated;

    int has_uncorrected;
    /* lacks_2xx: a merge input had no latency_2xx table (older loadgen). */
    int lacks_2xx;

    /* Establishment: connection slots (of `concurrency`) that got a 2xx answer (counts.answered),
       and the time from the start of the run (warm-up included) until the last of them did.
       lacks_establishment: a merge input had no such block. */
    uint64_t all_answered_us;
    int lacks_establishment;

    lg_second *series; /* index = second since the start of measurement */
    size_t nseries, series_cap;

    lg_gen_thread *gen_threads; /* every loadgen thread (of every merged input) */
    size_t ngen_threads;
    hist send_lag;              /* --rate: how late requests went out against their slots */
    uint64_t not_sent;          /* --rate: slots due when the run ended but never sent */
} lg_result;

lg_result *lg_result_new(void);
/* Back to the state lg_result_new gives, reusing r's memory: a caller that reads many results one
 * after another (a fuzzer) need not allocate 1.5 MB of histograms each time. */
void lg_result_reset(lg_result *r);
void lg_result_free(lg_result *r);
uint64_t lg_result_failed(const lg_result *r);
/* Makes series[0..n) exist (zeroed); -1 on allocation failure. */
int lg_result_series_reserve(lg_result *r, size_t n);
/* Adds one second's data into series[sec] (pairs are copied and merged). */
int lg_result_series_add(lg_result *r, size_t sec, uint64_t completed, uint64_t errors,
                         uint64_t open_conns, const hist_summary *sum, const hist_pair *pairs,
                         size_t npairs);

/* Adds one second's generator data into series[sec] (pairs are copied and merged). */
int lg_result_series_add_send(lg_result *r, size_t sec, uint64_t sent, uint64_t waited,
                              const hist_summary *lag, const hist_pair *pairs, size_t npairs,
                              unsigned busy_pm);
/* Appends a generator thread with n seconds (zeroed); NULL on allocation failure. */
lg_gen_thread *lg_result_add_thread(lg_result *r, size_t n);

/* A connect this long or longer waited for a resent SYN: the kernel's first SYN retransmission
 * comes after 1 s, and a SYN is dropped when the server's listen queue is full. */
#define LG_SLOW_CONNECT_US 1000000
/* Connects of LG_SLOW_CONNECT_US or more among the measured requests. */
uint64_t lg_result_slow_connects(const lg_result *r);
/* What the slow and abandoned connects likely mean and what to try, as one sentence in out;
 * returns 0 (out empty) when there were none. */
int lg_result_connect_note(const lg_result *r, char *out, size_t len);

/* The percentiles every report shows. */
#define LG_NPCT 11
extern const double lg_pcts[LG_NPCT];
extern const char *const lg_pct_names[LG_NPCT];

#endif
