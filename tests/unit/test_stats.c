/* The server counters: per-instance blocks total exactly into the /__stats figures, the in-flight
 * peak is the server's (not a sum of instance peaks), and a forked child's counts are seen. */
#include "check.h"
#include "stats.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define ROUNDS 100000

static void test_blocks_have_own_lines(void)
{
    server_stats_t *all = stats_create("unit", 3);
    CHECK(all != NULL);
    for (unsigned i = 0; i < 3; i++) {
        CHECK((uintptr_t)stats_instance(all, i) % STATS_LINE == 0);
        CHECK(stats_instance(all, i)->server == all);
    }
    CHECK((uintptr_t)&all->active % STATS_LINE == 0);
    stats_destroy(all);
}

/* Instance 0 peaks at 3 and drains, then instance 1 peaks at 3: each instance peaked at 3, the
 * server never had more than 4 in flight (one of 0's is still pending). */
static void test_peak_is_server_wide(void)
{
    server_stats_t *all = stats_create("unit", 2);
    stats_t *a = stats_instance(all, 0), *b = stats_instance(all, 1);
    for (int i = 0; i < 3; i++)
        stats_request_begin(a);
    stats_request_end(a, 1);
    stats_request_end(a, 0); /* the connection died first: in flight no more, not answered */
    for (int i = 0; i < 3; i++)
        stats_request_begin(b);
    stats_totals_t t;
    stats_sum(all, &t);
    CHECK_INT(t.peak_inflight, 4);
    CHECK_INT(t.inflight, 4);
    CHECK_U64(t.requests, 1);
    for (int i = 0; i < 3; i++)
        stats_request_end(b, 1);
    stats_request_end(a, 1);
    stats_sum(all, &t);
    CHECK_INT(t.inflight, 0);
    CHECK_INT(t.peak_inflight, 4);
    CHECK_U64(t.requests, 5);
    CHECK_U64(b->requests, 3);
    stats_destroy(all);
}

static void *hammer(void *arg)
{
    stats_t *st = arg;
    for (int i = 0; i < ROUNDS; i++) {
        stats_conn_accepted(st);
        stats_conn_opened(st);
        stats_request_begin(st);
        stats_request_end(st, i % 4 != 0);
        stats_error(st, ERR_IO);
        stats_timeout(st, TIMEOUT_IDLE);
        stats_conn_closed(st);
    }
    return NULL;
}

/* Loops in threads, each on its own block: the totals are exact, and the server-wide figures
 * (open connections, in flight) return to zero. */
static void test_threads_total_exactly(void)
{
    server_stats_t *all = stats_create("unit", THREADS);
    pthread_t tid[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        CHECK_INT(pthread_create(&tid[i], NULL, hammer, stats_instance(all, i)), 0);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(tid[i], NULL);
    stats_totals_t t;
    stats_sum(all, &t);
    CHECK_U64(t.accepted, (uint64_t)THREADS * ROUNDS);
    CHECK_U64(t.requests, (uint64_t)THREADS * ROUNDS * 3 / 4);
    CHECK_U64(t.errors[ERR_IO], (uint64_t)THREADS * ROUNDS);
    CHECK_U64(t.timeouts[TIMEOUT_IDLE], (uint64_t)THREADS * ROUNDS);
    CHECK_U64(t.errors[ERR_ACCEPT] + t.timeouts[TIMEOUT_HEADER], 0);
    CHECK_INT(t.active, 0);
    CHECK_INT(t.inflight, 0);
    CHECK(t.peak_inflight >= 1 && t.peak_inflight <= THREADS);
    for (unsigned i = 0; i < THREADS; i++)
        CHECK_U64(stats_instance(all, i)->requests, (uint64_t)ROUNDS * 3 / 4);
    stats_destroy(all);
}

/* A worker process forked after the mapping was made counts into the same blocks. */
static void test_forked_worker_counts(void)
{
    server_stats_t *all = stats_create("unit", 2);
    pid_t pid = fork();
    if (pid == 0) {
        stats_t *mine = stats_instance(all, 1);
        stats_conn_accepted(mine);
        stats_request_begin(mine);
        stats_request_end(mine, 1);
        _exit(0);
    }
    CHECK(pid > 0);
    int status = -1;
    CHECK_INT(waitpid(pid, &status, 0), pid);
    CHECK_INT(status, 0);
    stats_request_begin(stats_instance(all, 0));
    stats_totals_t t;
    stats_sum(all, &t);
    CHECK_U64(t.accepted, 1);
    CHECK_U64(t.requests, 1);
    CHECK_INT(t.inflight, 1);
    CHECK_INT(t.peak_inflight, 1);
    stats_destroy(all);
}

/* The document: the totals under the usual keys, and each instance's share. */
static void test_json(void)
{
    server_stats_t *all = stats_create("unit", 3);
    for (unsigned i = 0; i < 3; i++)
        for (unsigned k = 0; k <= i; k++) {
            stats_conn_accepted(stats_instance(all, i));
            stats_request_begin(stats_instance(all, i));
            stats_request_end(stats_instance(all, i), 1);
        }
    char buf[768];
    int n = stats_to_json(all, buf, sizeof buf);
    CHECK(n > 0);
    json_t *doc = json_loadb(buf, n > 0 ? (size_t)n : 0, 0, NULL);
    CHECK(doc != NULL);
    CHECK_STR(json_string_value(json_object_get(doc, "model")), "unit");
    CHECK_INT(json_integer_value(json_object_get(doc, "requests")), 6);
    CHECK_INT(json_integer_value(json_object_get(doc, "accepted")), 6);
    CHECK_INT(json_integer_value(json_object_get(doc, "peak_inflight")), 1);
    json_t *requests = json_object_get(json_object_get(doc, "per_instance"), "requests");
    CHECK_INT(json_array_size(requests), 3);
    CHECK_INT(json_integer_value(json_array_get(requests, 2)), 3);
    json_decref(doc);
    stats_destroy(all);

    /* Too many instances to list in one page: the totals are still served. */
    all = stats_create("unit", 400);
    stats_request_begin(stats_instance(all, 399));
    stats_request_end(stats_instance(all, 399), 1);
    n = stats_to_json(all, buf, sizeof buf);
    CHECK(n > 0);
    doc = json_loadb(buf, n > 0 ? (size_t)n : 0, 0, NULL);
    CHECK(doc != NULL);
    CHECK(json_is_null(json_object_get(doc, "per_instance")));
    CHECK_INT(json_integer_value(json_object_get(doc, "requests")), 1);
    json_decref(doc);
    stats_destroy(all);
}

int main(void)
{
    test_blocks_have_own_lines();
    test_peak_is_server_wide();
    test_threads_total_exactly();
    test_forked_worker_counts();
    test_json();
    return check_exit();
}
