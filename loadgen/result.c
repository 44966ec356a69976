/* Result container shared by the engine, the merge and the reports. */
#include "result.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double lg_pcts[LG_NPCT] = {50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100};
const char *const lg_pct_names[LG_NPCT] = {"50", "66", "75", "80", "90", "95", "98", "99", "99.9",
                                           "99.99", "100"};

/* The empty state from all zero bytes. */
static void init_zeroed(lg_result *r)
{
    lg_counts_init_zeroed(&r->counts);
    hist_init_zeroed(&r->send_lag);
    r->doclen = -1;
    r->stop_reason = "requests";
}

lg_result *lg_result_new(void)
{
    lg_result *r = calloc(1, sizeof *r);
    if (r)
        init_zeroed(r);
    return r;
}

/* Frees what r owns, not r itself. */
static void release(lg_result *r)
{
    for (size_t i = 0; i < r->nseries; i++) {
        free(r->series[i].pairs);
        free(r->series[i].lag_pairs);
    }
    free(r->series);
    for (size_t i = 0; i < r->ngen_threads; i++) {
        free(r->gen_threads[i].busy_pm);
        free(r->gen_threads[i].cpu_pm);
    }
    free(r->gen_threads);
    json_decref(r->config);
    json_decref(r->environment);
    json_decref(r->merged_from);
    json_decref(r->workers);
}

void lg_result_reset(lg_result *r)
{
    release(r);
    memset(r, 0, sizeof *r);
    init_zeroed(r);
}

void lg_result_free(lg_result *r)
{
    if (!r)
        return;
    release(r);
    free(r);
}

uint64_t lg_result_failed(const lg_result *r)
{
    return lg_counts_failed(&r->counts);
}

int lg_result_series_reserve(lg_result *r, size_t n)
{
    if (n <= r->nseries)
        return 0;
    if (n > r->series_cap) {
        size_t ncap = r->series_cap ? r->series_cap : 64;
        while (ncap < n)
            ncap *= 2;
        lg_second *ns = realloc(r->series, ncap * sizeof *ns);
        if (!ns)
            return -1;
        r->series = ns;
        r->series_cap = ncap;
    }
    memset(r->series + r->nseries, 0, (n - r->nseries) * sizeof *r->series);
    r->nseries = n;
    return 0;
}

/* Adds sorted pairs into a second's sorted pairs. */
static int add_pairs(hist_pair **dst, size_t *ndst, const hist_pair *pairs, size_t npairs)
{
    if (npairs == 0)
        return 0;
    hist_pair *np = realloc(*dst, (*ndst + npairs) * sizeof *np);
    if (!np)
        return -1;
    memcpy(np + *ndst, pairs, npairs * sizeof *np);
    *dst = np;
    *ndst = hist_pairs_normalize(np, *ndst + npairs);
    return *ndst ? 0 : -1; /* 0: a bucket's count overflowed */
}

int lg_result_series_add(lg_result *r, size_t sec, uint64_t completed, uint64_t errors,
                         uint64_t open_conns, const hist_summary *sum, const hist_pair *pairs,
                         size_t npairs)
{
    if (lg_result_series_reserve(r, sec + 1))
        return -1;
    lg_second *s = &r->series[sec];
    s->completed += completed;
    s->errors += errors;
    s->open_conns += open_conns;
    hist_add_summary(&s->sum, sum);
    return add_pairs(&s->pairs, &s->npairs, pairs, npairs);
}

int lg_result_series_add_send(lg_result *r, size_t sec, uint64_t sent, uint64_t waited,
                              const hist_summary *lag, const hist_pair *pairs, size_t npairs,
                              unsigned busy_pm)
{
    if (lg_result_series_reserve(r, sec + 1))
        return -1;
    lg_second *s = &r->series[sec];
    s->sent += sent;
    s->waited += waited;
    if (busy_pm > s->busy_max_pm)
        s->busy_max_pm = busy_pm;
    hist_add_summary(&s->lag, lag);
    return add_pairs(&s->lag_pairs, &s->nlag, pairs, npairs);
}

lg_gen_thread *lg_result_add_thread(lg_result *r, size_t n)
{
    lg_gen_thread *nt = realloc(r->gen_threads, (r->ngen_threads + 1) * sizeof *nt);
    if (!nt)
        return NULL;
    r->gen_threads = nt;
    lg_gen_thread *g = &nt[r->ngen_threads];
    memset(g, 0, sizeof *g);
    g->busy_pm = calloc(n ? n : 1, sizeof *g->busy_pm);
    g->cpu_pm = calloc(n ? n : 1, sizeof *g->cpu_pm);
    if (!g->busy_pm || !g->cpu_pm) {
        free(g->busy_pm);
        free(g->cpu_pm);
        return NULL;
    }
    g->n = n;
    r->ngen_threads++;
    return g;
}

uint64_t lg_result_slow_connects(const lg_result *r)
{
    return hist_count_at_least(&r->counts.connect, LG_SLOW_CONNECT_US);
}

int lg_result_connect_note(const lg_result *r, char *out, size_t len)
{
    uint64_t slow = lg_result_slow_connects(r);
    out[0] = 0;
    if (slow == 0)
        return 0;
    snprintf(out, len, "%llu connect%s took 1 s or more (the longest %.0f ms): the server's listen "
             "queue was likely full, so the kernel dropped the SYN and sent it again 1 s later. Try "
             "a larger listen backlog on the server (and net.core.somaxconn), --ramp to open the "
             "connections over time, or -k for fewer connects",
             (unsigned long long)slow, slow == 1 ? "" : "s", (double)r->counts.connect.max / 1000.0);
    return 1;
}
