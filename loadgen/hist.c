/* Log-linear histogram: bucketing, exact merge, percentiles. */
#include "hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hist_init(hist *h)
{
    memset(h, 0, sizeof *h);
    hist_init_zeroed(h);
}

void hist_init_zeroed(hist *h)
{
    h->min = UINT64_MAX;
}

void hist_reset(hist *h)
{
    hist_init(h);
}

static void index_split(uint32_t idx, unsigned half_mag, unsigned *bucket, uint64_t *sub)
{
    uint64_t half = UINT64_C(1) << half_mag;
    int b = (int)(idx >> half_mag) - 1;
    uint64_t s = (idx & (half - 1)) + half;
    if (b < 0) { /* the first half-bucket holds 0..half-1 exactly */
        s -= half;
        b = 0;
    }
    *bucket = (unsigned)b;
    *sub = s;
}

uint64_t loglin_lowest_at(uint32_t idx, unsigned half_mag)
{
    unsigned b;
    uint64_t s;
    index_split(idx, half_mag, &b, &s);
    return s << b;
}

uint64_t loglin_highest_at(uint32_t idx, unsigned half_mag)
{
    unsigned b;
    uint64_t s;
    index_split(idx, half_mag, &b, &s);
    return (s << b) + ((UINT64_C(1) << b) - 1);
}

uint64_t hist_lowest_at(uint32_t idx)
{
    return loglin_lowest_at(idx, HIST_SUB_HALF_MAG);
}

uint64_t hist_highest_at(uint32_t idx)
{
    return loglin_highest_at(idx, HIST_SUB_HALF_MAG);
}

int hist_add_bucket(hist *h, uint64_t v, uint64_t n)
{
    if (v > HIST_HIGHEST)
        return -1;
    h->counts[hist_index(v)] += n;
    return 0;
}

void hist_add_summary(hist_summary *dst, const hist_summary *src)
{
    if (src->count == 0)
        return;
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (dst->count == 0 || src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
    dst->sumsq += src->sumsq;
}

hist_summary hist_get_summary(const hist *h)
{
    hist_summary s = {h->count, h->count ? h->min : 0, h->max, h->sum, h->sumsq};
    return s;
}

void hist_add(hist *dst, const hist *src)
{
    if (src->count == 0)
        return;
    for (size_t i = 0; i < HIST_COUNTS_LEN; i++)
        dst->counts[i] += src->counts[i];
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->sum += src->sum;
    dst->sumsq += src->sumsq;
}

double hist_mean(const hist_summary *s)
{
    return s->count ? (double)s->sum / (double)s->count : 0.0;
}

double hist_stddev(const hist_summary *s)
{
    if (s->count == 0)
        return 0.0;
    double mean = hist_mean(s);
    double var = s->sumsq / (double)s->count - mean * mean;
    return var > 0 ? sqrt(var) : 0.0;
}

/* Nearest-rank: the smallest value with at least ceil(p% of total) values at or below it. */
static uint64_t rank_for(double p, uint64_t total)
{
    double r = ceil(p / 100.0 * (double)total);
    if (r < 1)
        r = 1;
    if (r > (double)total)
        r = (double)total;
    return (uint64_t)r;
}

void hist_percentiles(const hist *h, const double *ps, size_t n, uint64_t *out)
{
    size_t k = 0;
    uint64_t cum = 0;
    if (h->count == 0) {
        for (size_t i = 0; i < n; i++)
            out[i] = 0;
        return;
    }
    for (uint32_t i = 0; i < HIST_COUNTS_LEN && k < n; i++) {
        cum += h->counts[i];
        while (k < n && cum >= rank_for(ps[k], h->count)) {
            uint64_t v = hist_highest_at(i);
            out[k++] = v > h->max ? h->max : v;
        }
    }
    while (k < n)
        out[k++] = h->max;
}

void hist_pairs_percentiles(const hist_pair *pairs, size_t npairs, unsigned half_mag,
                            uint64_t total, uint64_t max, const double *ps, size_t n, uint64_t *out)
{
    size_t k = 0;
    uint64_t cum = 0;
    if (total == 0) {
        for (size_t i = 0; i < n; i++)
            out[i] = 0;
        return;
    }
    for (size_t i = 0; i < npairs && k < n; i++) {
        cum += pairs[i].n;
        while (k < n && cum >= rank_for(ps[k], total)) {
            uint64_t v = loglin_highest_at(pairs[i].idx, half_mag);
            out[k++] = v > max ? max : v;
        }
    }
    while (k < n)
        out[k++] = max;
}

static int pair_cmp(const void *a, const void *b)
{
    uint32_t x = ((const hist_pair *)a)->idx, y = ((const hist_pair *)b)->idx;
    return (x > y) - (x < y);
}

size_t hist_pairs_normalize(hist_pair *pairs, size_t n)
{
    if (n == 0)
        return 0;
    qsort(pairs, n, sizeof *pairs, pair_cmp);
    size_t out = 0;
    for (size_t i = 1; i < n; i++) {
        if (pairs[i].idx == pairs[out].idx) {
            if (pairs[i].n > UINT32_MAX - pairs[out].n)
                return 0;
            pairs[out].n += pairs[i].n;
        } else {
            pairs[++out] = pairs[i];
        }
    }
    return out + 1;
}

uint64_t hist_count_at_least(const hist *h, uint64_t v)
{
    if (h->count == 0 || h->max < v)
        return 0;
    uint64_t n = 0;
    for (uint32_t i = hist_index(v > HIST_HIGHEST ? HIST_HIGHEST : v); i < HIST_COUNTS_LEN; i++)
        n += h->counts[i];
    return n;
}
