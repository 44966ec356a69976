/* The loadgen's histogram: every value lands in a bucket that contains it within 3 significant
 * digits, percentiles are nearest-rank and capped at the exact max, merges are exact. */
#include "check.h"
#include "hist.h"

#include <math.h>
#include <stdlib.h>

static hist *new_hist(void)
{
    hist *h = malloc(sizeof *h);
    hist_init(h);
    return h;
}

static void test_buckets_contain_their_values(void)
{
    uint64_t values[] = {0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 123456, 999999,
                         1000000, 7654321, HIST_HIGHEST - 1, HIST_HIGHEST};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        uint64_t v = values[i];
        uint32_t idx = hist_index(v);
        CHECK(idx < HIST_COUNTS_LEN);
        CHECK(hist_lowest_at(idx) <= v);
        CHECK(hist_highest_at(idx) >= v);
        /* 3 significant digits: the bucket is at most 1/1000 of its value wide. */
        CHECK((hist_highest_at(idx) - hist_lowest_at(idx)) * 1000 <= (v > 0 ? v : 1));
    }
    /* Indexes grow with values (monotone) across the whole range. */
    uint32_t prev = 0;
    for (uint64_t v = 1; v < HIST_HIGHEST; v = v * 3 / 2 + 1) {
        uint32_t idx = hist_index(v);
        CHECK(idx >= prev);
        prev = idx;
    }
}

static void test_record_and_percentiles(void)
{
    hist *h = new_hist();
    uint64_t out[5];
    double ps[] = {0, 50, 90, 99, 100};
    hist_percentiles(h, ps, 5, out);
    for (int i = 0; i < 5; i++)
        CHECK_U64(out[i], 0); /* empty */

    for (uint64_t v = 1; v <= 1000; v++) /* exact below 2048 */
        hist_record(h, v);
    CHECK_U64(h->count, 1000);
    CHECK_U64(h->min, 1);
    CHECK_U64(h->max, 1000);
    CHECK_U64(h->sum, 500500);
    hist_percentiles(h, ps, 5, out);
    CHECK_U64(out[0], 1);
    CHECK_U64(out[1], 500);
    CHECK_U64(out[2], 900);
    CHECK_U64(out[3], 990);
    CHECK_U64(out[4], 1000);
    hist_summary s = hist_get_summary(h);
    CHECK(fabs(hist_mean(&s) - 500.5) < 1e-9);
    CHECK(fabs(hist_stddev(&s) - 288.6749) < 0.01); /* population sd of 1..1000 */

    /* Above the exact range, percentiles are the bucket's top, never above the max. */
    hist_reset(h);
    hist_record(h, 1000003);
    double p100 = 100;
    hist_percentiles(h, &p100, 1, out);
    CHECK_U64(out[0], 1000003);
    hist_record(h, UINT64_MAX); /* clamped */
    CHECK_U64(h->max, HIST_HIGHEST);
    free(h);
}

static void test_merge_is_exact(void)
{
    hist *a = new_hist(), *b = new_hist(), *all = new_hist();
    unsigned long long x = 12345;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t v = (x >> 20) % 5000000;
        hist_record(i % 3 ? a : b, v);
        hist_record(all, v);
    }
    hist_add(a, b);
    CHECK_U64(a->count, all->count);
    CHECK_U64(a->min, all->min);
    CHECK_U64(a->max, all->max);
    CHECK_U64(a->sum, all->sum);
    CHECK(memcmp(a->counts, all->counts, sizeof a->counts) == 0);

    double ps[] = {50, 90, 99, 99.9, 100};
    uint64_t want[5], got[5];
    hist_percentiles(all, ps, 5, want);
    /* The same data as sparse pairs, listed twice and out of order: normalize sorts them and adds
     * equal indexes together, and the percentiles come out the same. */
    hist_pair *pairs = malloc(2 * HIST_COUNTS_LEN * sizeof *pairs);
    size_t len = 0;
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = HIST_COUNTS_LEN; i-- > 0;)
            if (all->counts[i])
                pairs[len++] = (hist_pair){i, (uint32_t)((all->counts[i] + pass) / 2)};
    size_t distinct = len / 2;
    len = hist_pairs_normalize(pairs, len);
    CHECK_U64(len, distinct);
    for (size_t i = 1; i < len; i++)
        CHECK(pairs[i - 1].idx < pairs[i].idx);
    hist_pairs_percentiles(pairs, len, HIST_SUB_HALF_MAG, all->count, all->max, ps, 5, got);
    for (int i = 0; i < 5; i++)
        CHECK_U64(got[i], want[i]);
    free(pairs);

    /* Adding buckets by value touches counts only. */
    hist_reset(b);
    CHECK(hist_add_bucket(b, 777, 3) == 0);
    CHECK_U64(b->counts[hist_index(777)], 3);
    CHECK_U64(b->count, 0);
    free(a), free(b), free(all);
}

int main(void)
{
    test_buckets_contain_their_values();
    test_record_and_percentiles();
    test_merge_is_exact();
    return check_exit();
}
