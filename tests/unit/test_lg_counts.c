/* lg_counts_add: the one sum behind the thread, process and host merges. Every counter of the
 * summary list, every error class, connect cause, status code and histogram adds; a sum that
 * would wrap changes nothing and says so. */
#include "check.h"
#include "counts.h"

#include <stdlib.h>

static lg_counts *new_counts(void)
{
    lg_counts *c = calloc(1, sizeof *c);
    lg_counts_init_zeroed(c);
    return c;
}

static void test_every_field_adds(void)
{
    lg_counts *a = new_counts(), *b = new_counts();
    for (size_t i = 0; i < lg_nsummary_counters; i++) {
        *lg_counter_at(a, &lg_summary_counters[i]) = 10 + i;
        *lg_counter_at(b, &lg_summary_counters[i]) = 100 * (i + 1);
    }
    a->answered = 3;
    b->answered = 4;
    a->errors[LG_ERR_TIMEOUT] = 2;
    b->errors[LG_ERR_TIMEOUT] = 5;
    b->connect_failures[LG_CF_RESET] = 7;
    a->status[200] = 9;
    b->status[200] = 1;
    b->status[503] = 6;
    hist_record(&a->total, 1000);
    hist_record(&b->total, 5);
    hist_record(&b->total_2xx, 42);
    CHECK_INT(lg_counts_add(a, b, NULL), 0);
    for (size_t i = 0; i < lg_nsummary_counters; i++)
        CHECK_U64(lg_counter_get(a, &lg_summary_counters[i]), 10 + i + 100 * (i + 1));
    CHECK_U64(a->answered, 7);
    CHECK_U64(a->errors[LG_ERR_TIMEOUT], 7);
    CHECK_U64(a->connect_failures[LG_CF_RESET], 7);
    CHECK_U64(a->status[200], 10);
    CHECK_U64(a->status[503], 6);
    CHECK_U64(a->total.count, 2);
    CHECK_U64(a->total.min, 5);
    CHECK_U64(a->total.max, 1000);
    CHECK_U64(a->total.sum, 1005);
    CHECK_U64(a->total_2xx.count, 1);
    CHECK_U64(a->connect.count, 0);
    CHECK_U64(lg_counts_failed(a), 7);
    free(a);
    free(b);
}

static void test_a_wrapping_sum_changes_nothing(void)
{
    lg_counts *a = new_counts(), *b = new_counts();
    a->complete = 1;
    a->status[200] = UINT64_MAX - 1;
    b->complete = 2;
    b->status[200] = 2;
    const char *wrapped = NULL;
    CHECK_INT(lg_counts_add(a, b, &wrapped), -1);
    CHECK(wrapped && strcmp(wrapped, "status_codes") == 0);
    CHECK_U64(a->complete, 1);
    CHECK_U64(a->status[200], UINT64_MAX - 1);
    free(a);
    free(b);
}

static void test_the_summary_list_names_its_keys(void)
{
    /* The JSON keys come from the list: complete first (readers' messages name it first). */
    CHECK(lg_nsummary_counters >= 8);
    CHECK_STR(lg_summary_counters[0].key, "complete");
    CHECK_INT(lg_summary_counters[0].optional, 0);
}

int main(void)
{
    test_every_field_adds();
    test_a_wrapping_sum_changes_nothing();
    test_the_summary_list_names_its_keys();
    return check_exit();
}
