/* The counters' shared mapping, their totals and their JSON form (jansson). */
#include "stats.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static size_t mapping_size(unsigned instances)
{
    return sizeof(server_stats_t) + (size_t)instances * sizeof(stats_t);
}

static void format(server_stats_t *all, const char *model, unsigned instances)
{
    memset(all, 0, mapping_size(instances));
    all->model = model;
    all->instances = instances;
    for (unsigned i = 0; i < instances; i++)
        all->instance[i].server = all;
}

server_stats_t *stats_create(const char *model, unsigned instances)
{
    if (instances == 0)
        instances = 1;
    /* MAP_SHARED so that counters bumped in forked children are seen by whoever serves /__stats. */
    void *p = mmap(NULL, mapping_size(instances), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap(stats)");
        return NULL;
    }
    format(p, model, instances);
    return p;
}

void stats_reset(server_stats_t *all)
{
    format(all, all->model, all->instances);
}

void stats_destroy(server_stats_t *all)
{
    if (all)
        munmap(all, mapping_size(all->instances));
}

void stats_request_begin(stats_t *st)
{
    server_stats_t *all = st->server;
    int64_t now = atomic_fetch_add_explicit(&all->inflight, 1, memory_order_relaxed) + 1;
    int64_t peak = atomic_load_explicit(&all->peak_inflight, memory_order_relaxed);
    while (now > peak &&
           !atomic_compare_exchange_weak_explicit(&all->peak_inflight, &peak, now, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

static uint64_t load(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* A connection or request can end on one thread before another's begin is seen: never below 0. */
static int64_t load_signed(const _Atomic int64_t *v)
{
    int64_t x = atomic_load_explicit(v, memory_order_relaxed);
    return x < 0 ? 0 : x;
}

void stats_sum(const server_stats_t *all, stats_totals_t *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < all->instances; i++) {
        const stats_t *st = &all->instance[i];
        out->accepted += load(&st->accepted);
        out->requests += load(&st->requests);
        for (int k = 0; k < ERR_KIND_COUNT; k++)
            out->errors[k] += load(&st->errors[k]);
        for (int k = 0; k < TIMEOUT_KIND_COUNT; k++)
            out->timeouts[k] += load(&st->timeouts[k]);
    }
    out->active = load_signed(&all->active);
    out->inflight = load_signed(&all->inflight);
    out->peak_inflight = load_signed(&all->peak_inflight);
}

/* Each instance's share of the work, e.g. how evenly SO_REUSEPORT spreads connections over the
 * workers: {"accepted": [...], "requests": [...]}, by instance. */
static json_t *per_instance_json(const server_stats_t *all)
{
    json_t *accepted = json_array(), *requests = json_array();
    for (unsigned i = 0; accepted && requests && i < all->instances; i++) {
        const stats_t *st = &all->instance[i];
        if (json_array_append_new(accepted, json_integer((json_int_t)load(&st->accepted))) != 0 ||
            json_array_append_new(requests, json_integer((json_int_t)load(&st->requests))) != 0)
            break;
    }
    return json_pack("{s:o, s:o}", "accepted", accepted, "requests", requests);
}

static int dump(json_t *doc, char *buf, size_t cap)
{
    size_t n = json_dumpb(doc, buf, cap, JSON_COMPACT);
    return n == 0 || n > cap ? -1 : (int)n;
}

int stats_to_json(const server_stats_t *all, char *buf, size_t cap)
{
    stats_totals_t t;
    stats_sum(all, &t);
    json_t *doc = json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:I,"
        " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:o}",
        "model", all->model,
        "accepted", (json_int_t)t.accepted, "active", (json_int_t)t.active, "requests", (json_int_t)t.requests,
        "inflight", (json_int_t)t.inflight, "peak_inflight", (json_int_t)t.peak_inflight,
        "errors",
        "bad_request", (json_int_t)t.errors[ERR_BAD_REQUEST],
        "header_too_large", (json_int_t)t.errors[ERR_HEADER_TOO_LARGE],
        "body_too_large", (json_int_t)t.errors[ERR_BODY_TOO_LARGE],
        "refused", (json_int_t)t.errors[ERR_REFUSED],
        "accept", (json_int_t)t.errors[ERR_ACCEPT],
        "spawn", (json_int_t)t.errors[ERR_SPAWN],
        "io", (json_int_t)t.errors[ERR_IO],
        "timeouts",
        "header", (json_int_t)t.timeouts[TIMEOUT_HEADER],
        "idle", (json_int_t)t.timeouts[TIMEOUT_IDLE],
        "write", (json_int_t)t.timeouts[TIMEOUT_WRITE],
        "per_instance", per_instance_json(all));
    if (!doc)
        return -1;
    int n = dump(doc, buf, cap);
    if (n < 0 && json_object_set_new(doc, "per_instance", json_null()) == 0)
        n = dump(doc, buf, cap); /* too many instances to list in one page: the totals still fit */
    json_decref(doc);
    return n;
}
