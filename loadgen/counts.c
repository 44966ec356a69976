/* The run's counters: the one definition of what adds up, and how. */
#include "counts.h"

#include <errno.h>

const char *const lg_err_names[LG_ERR_COUNT] = {"connect", "read", "write", "timeout", "length",
                                                "parse", "exceptions"};
const char *const lg_connfail_names[LG_CF_COUNT] = {"refused", "timed_out", "unreachable",
                                                    "no_local_address", "reset", "other"};

const lg_counter_field lg_summary_counters[] = {
#define LG_COUNTS_ROW(name, optional) {#name, offsetof(lg_counts, name), optional},
    LG_SUMMARY_COUNTERS(LG_COUNTS_ROW)
#undef LG_COUNTS_ROW
};
const size_t lg_nsummary_counters = sizeof lg_summary_counters / sizeof lg_summary_counters[0];

enum lg_connfail lg_connfail_class(int err)
{
    switch (err) {
    case ECONNREFUSED:
        return LG_CF_REFUSED;
    case ETIMEDOUT:
        return LG_CF_TIMED_OUT;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
        return LG_CF_UNREACHABLE;
    case EADDRNOTAVAIL:
    case EADDRINUSE:
        return LG_CF_NO_LOCAL_ADDRESS; /* no free port or address to connect from */
    case ECONNRESET:
    case ECONNABORTED:
        return LG_CF_RESET;
    default:
        return LG_CF_OTHER;
    }
}

/* The histograms of a lg_counts, for the loops below. */
static const size_t hist_offsets[] = {
    offsetof(lg_counts, connect), offsetof(lg_counts, waiting), offsetof(lg_counts, processing),
    offsetof(lg_counts, total), offsetof(lg_counts, total_uncorrected), offsetof(lg_counts, total_2xx),
    offsetof(lg_counts, tls_handshake), offsetof(lg_counts, first_byte)};
#define LG_NHISTS (sizeof hist_offsets / sizeof hist_offsets[0])

static hist *hist_at(lg_counts *c, size_t i)
{
    return (hist *)((char *)c + hist_offsets[i]);
}

static const hist *hist_at_const(const lg_counts *c, size_t i)
{
    return (const hist *)((const char *)c + hist_offsets[i]);
}

void lg_counts_init_zeroed(lg_counts *c)
{
    for (size_t i = 0; i < LG_NHISTS; i++)
        hist_init_zeroed(hist_at(c, i));
}

void lg_counts_init(lg_counts *c)
{
    for (size_t i = 0; i < LG_NHISTS; i++)
        hist_init(hist_at(c, i));
}

static int wraps(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b;
}

static const char *const hist_names[] = {"connect", "waiting", "processing", "total",
                                         "total_uncorrected", "total_2xx", "tls_handshake",
                                         "first_byte"};

/* The first sum that would wrap (its JSON key), or NULL. Checked before anything is added. */
static const char *would_wrap(const lg_counts *dst, const lg_counts *src)
{
    for (size_t i = 0; i < lg_nsummary_counters; i++)
        if (wraps(lg_counter_get(dst, &lg_summary_counters[i]), lg_counter_get(src, &lg_summary_counters[i])))
            return lg_summary_counters[i].key;
    if (wraps(dst->answered, src->answered))
        return "answered";
    for (int i = 0; i < LG_ERR_COUNT; i++)
        if (wraps(dst->errors[i], src->errors[i]))
            return lg_err_names[i];
    for (int i = 0; i < LG_CF_COUNT; i++)
        if (wraps(dst->connect_failures[i], src->connect_failures[i]))
            return lg_connfail_names[i];
    for (int i = 0; i < LG_STATUS_MAX; i++)
        if (wraps(dst->status[i], src->status[i]))
            return "status_codes";
    for (size_t i = 0; i < LG_NHISTS; i++) {
        const hist *d = hist_at_const(dst, i), *s = hist_at_const(src, i);
        if (wraps(d->count, s->count) || wraps(d->sum, s->sum))
            return hist_names[i]; /* a bucket holds at most count: it cannot wrap if count does not */
    }
    return NULL;
}

int lg_counts_add(lg_counts *dst, const lg_counts *src, const char **wrapped)
{
    const char *w = would_wrap(dst, src);
    if (wrapped)
        *wrapped = w;
    if (w)
        return -1;
    for (size_t i = 0; i < lg_nsummary_counters; i++)
        *lg_counter_at(dst, &lg_summary_counters[i]) += lg_counter_get(src, &lg_summary_counters[i]);
    dst->answered += src->answered;
    for (int i = 0; i < LG_ERR_COUNT; i++)
        dst->errors[i] += src->errors[i];
    for (int i = 0; i < LG_CF_COUNT; i++)
        dst->connect_failures[i] += src->connect_failures[i];
    for (int i = 0; i < LG_STATUS_MAX; i++)
        dst->status[i] += src->status[i];
    for (size_t i = 0; i < LG_NHISTS; i++)
        hist_add(hist_at(dst, i), hist_at_const(src, i));
    return 0;
}

uint64_t lg_counts_failed(const lg_counts *c)
{
    uint64_t f = 0;
    for (int i = 0; i < LG_ERR_COUNT; i++)
        f += c->errors[i];
    return f;
}
