/* Log-linear (HdrHistogram-style) histogram of microsecond values: 1 us .. 2^36-1 us (~19 h),
 * 3 significant digits, fixed memory, exact merge. Layout is fixed at compile time so that
 * histograms from different processes and hosts merge bucket by bucket. */
#ifndef LG_HIST_H
#define LG_HIST_H
#include <stddef.h>
#include <stdint.h>

#define HIST_SIGNIFICANT_DIGITS 3
#define HIST_SUB_BUCKET_COUNT 2048 /* smallest power of two >= 2 * 10^3 */
#define HIST_SUB_HALF_MAG 10       /* log2(HIST_SUB_BUCKET_COUNT / 2) */
#define HIST_SUB_HALF (1u << HIST_SUB_HALF_MAG)
#define HIST_BUCKET_COUNT 26       /* 2048 << 25 = 2^36 covers HIST_HIGHEST */
#define HIST_COUNTS_LEN ((HIST_BUCKET_COUNT + 1) * HIST_SUB_HALF)
#define HIST_HIGHEST ((UINT64_C(1) << 36) - 1)

typedef struct hist {
    uint64_t count, min, max, sum; /* exact, independent of bucketing */
    double sumsq;                  /* for the standard deviation; may exceed 2^64 */
    uint64_t counts[HIST_COUNTS_LEN];
} hist;

/* Summary of a histogram without its buckets (used by the per-second series). */
typedef struct hist_summary {
    uint64_t count, min, max, sum;
    double sumsq;
} hist_summary;

/* One non-empty bucket of a compact (per-second) histogram: its counts index and its count. */
typedef struct hist_pair {
    uint32_t idx;
    uint32_t n;
} hist_pair;

void hist_init(hist *h);
/* hist_init for memory already zeroed (calloc, a memset of a struct holding histograms): it
 * leaves the 221 KB of counts alone. */
void hist_init_zeroed(hist *h);
void hist_reset(hist *h);

/* Counts index of v in a log-linear layout of 2^(half_mag+1) sub-buckets per power of two:
 * values below 2^(half_mag+1) are exact, above that each bucket is 2^-half_mag of its values.
 * Layouts differ only in half_mag, so a bucket of a finer one lies inside one of a coarser one. */
static inline uint32_t loglin_index(uint64_t v, unsigned half_mag)
{
    unsigned pow2ceil = 64u - (unsigned)__builtin_clzll(v | ((UINT64_C(2) << half_mag) - 1));
    unsigned bucket = pow2ceil - (half_mag + 1);
    uint64_t sub = v >> bucket;
    return (uint32_t)(((uint64_t)(bucket + 1) << half_mag) + (sub - (UINT64_C(1) << half_mag)));
}

/* Lowest and highest value that map to counts index idx of that layout. */
uint64_t loglin_lowest_at(uint32_t idx, unsigned half_mag);
uint64_t loglin_highest_at(uint32_t idx, unsigned half_mag);

static inline uint32_t hist_index(uint64_t v)
{
    return loglin_index(v, HIST_SUB_HALF_MAG);
}

static inline void hist_record(hist *h, uint64_t v)
{
    if (v > HIST_HIGHEST)
        v = HIST_HIGHEST;
    h->counts[hist_index(v)]++;
    h->count++;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->sum += v;
    h->sumsq += (double)v * (double)v;
}

/* Lowest and highest value that map to counts index idx. */
uint64_t hist_lowest_at(uint32_t idx);
uint64_t hist_highest_at(uint32_t idx);

/* Adds n to the bucket holding value v, without touching the exact summary fields. */
int hist_add_bucket(hist *h, uint64_t v, uint64_t n);
void hist_add(hist *dst, const hist *src);
void hist_add_summary(hist_summary *dst, const hist_summary *src);
hist_summary hist_get_summary(const hist *h);

double hist_mean(const hist_summary *s);
double hist_stddev(const hist_summary *s);

/* How many values were v or more (a bucket that straddles v counts whole: within 0.1 %). */
uint64_t hist_count_at_least(const hist *h, uint64_t v);

/* Values at the percentiles ps[0..n) (ascending), in us: the highest value equivalent to the
 * bucket where the percentile falls, capped at the exact max. 0 for an empty histogram. */
void hist_percentiles(const hist *h, const double *ps, size_t n, uint64_t *out);

/* Same over sparse pairs of the layout half_mag, sorted by idx. */
void hist_pairs_percentiles(const hist_pair *pairs, size_t npairs, unsigned half_mag,
                            uint64_t total, uint64_t max, const double *ps, size_t n, uint64_t *out);

/* Sorts pairs by idx and adds up equal indexes; returns the new length, or 0 when a sum
 * would not fit a pair's count (n > 0). */
size_t hist_pairs_normalize(hist_pair *pairs, size_t n);

#endif
