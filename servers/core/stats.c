/* Shared counters and their JSON form (jansson). */
#include "stats.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

server_stats_t *g_stats;
static const char *stats_model = "?";

int stats_init(const char *model)
{
    /* MAP_SHARED so that counters bumped in forked children are seen by whoever serves /__stats. */
    void *p = mmap(NULL, sizeof(server_stats_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap(stats)");
        return -1;
    }
    memset(p, 0, sizeof(server_stats_t));
    g_stats = p;
    stats_model = model;
    return 0;
}

void stats_request_begin(void)
{
    int64_t now = atomic_fetch_add_explicit(&g_stats->inflight, 1, memory_order_relaxed) + 1;
    int64_t peak = atomic_load_explicit(&g_stats->peak_inflight, memory_order_relaxed);
    while (now > peak &&
           !atomic_compare_exchange_weak_explicit(&g_stats->peak_inflight, &peak, now, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

static json_int_t load(_Atomic uint64_t *v)
{
    return (json_int_t)atomic_load_explicit(v, memory_order_relaxed);
}

static json_int_t load_signed(_Atomic int64_t *v)
{
    int64_t x = atomic_load_explicit(v, memory_order_relaxed);
    return x < 0 ? 0 : (json_int_t)x;
}

int stats_to_json(char *buf, size_t cap)
{
    server_stats_t *s = g_stats;
    json_t *doc = json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:I,"
        " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I}}",
        "model", stats_model,
        "accepted", load(&s->accepted), "active", load_signed(&s->active), "requests", load(&s->requests),
        "inflight", load_signed(&s->inflight), "peak_inflight", load_signed(&s->peak_inflight),
        "errors",
        "bad_request", load(&s->errors[ERR_BAD_REQUEST]),
        "header_too_large", load(&s->errors[ERR_HEADER_TOO_LARGE]),
        "body_too_large", load(&s->errors[ERR_BODY_TOO_LARGE]),
        "refused", load(&s->errors[ERR_REFUSED]),
        "accept", load(&s->errors[ERR_ACCEPT]),
        "spawn", load(&s->errors[ERR_SPAWN]),
        "io", load(&s->errors[ERR_IO]),
        "timeouts",
        "header", load(&s->timeouts[TIMEOUT_HEADER]),
        "idle", load(&s->timeouts[TIMEOUT_IDLE]),
        "write", load(&s->timeouts[TIMEOUT_WRITE]));
    if (!doc)
        return -1;
    size_t n = json_dumpb(doc, buf, cap, JSON_COMPACT);
    json_decref(doc);
    if (n == 0 || n > cap)
        return -1;
    return (int)n;
}
