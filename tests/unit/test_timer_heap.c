/* The loop's timer heap: due timers fire in deadline order, stopped ones never fire, a callback
 * may start and stop timers, and timers not yet due stay. A stand-in backend (backend.h) reports
 * no fds, so the loop runs without any socket. */
#include "check.h"
#include "standin_backend.h"
#include "loop.h"

#include <stdlib.h>

/* ---- a backend that never has events: each wait is one loop turn, then the loop stops ---- */
static int waits;
static const struct timespec *last_timeout;
static struct timespec timeout_copy;
static loop_t *running; /* the loop being run: the backend stops it after one turn */

int backend_wait(backend_t *b, const struct timespec *timeout, const sigset_t *mask, loop_fired_t *fired, int max)
{
    (void)b, (void)mask, (void)fired, (void)max;
    waits++;
    last_timeout = timeout;
    if (timeout)
        timeout_copy = *timeout;
    loop_stop(running); /* one turn */
    return 0;
}

static void run_once(loop_t *loop)
{
    running = loop;
    CHECK_INT(loop_run(loop, NULL), 0);
}

/* ---- timers that record the order they fire in ---- */
#define N 500
typedef struct rec_timer {
    loop_timer_t t; /* first: the callback gets this pointer */
    int id;
} rec_timer_t;
static int fired_ids[N * 2], nfired;
static rec_timer_t timers[N];

static void record(loop_t *loop, loop_timer_t *t)
{
    (void)loop;
    fired_ids[nfired++] = ((rec_timer_t *)t)->id;
}

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void test_order_and_stop(void)
{
    loop_t *loop = loop_new();
    /* Deadlines in the past fire at the next turn; each deadline is used twice so ties occur. */
    for (int i = 0; i < N; i++) {
        loop_timer_init(&timers[i].t);
        timers[i].id = i;
    }
    for (int i = 0; i < N; i++) {
        int j = (int)rnd(N);
        /* random start order, deadlines 1..N/2 (ties) */
        CHECK_INT(loop_timer_start(loop, &timers[j].t, 1 + (uint64_t)timers[j].id / 2, record), 0);
        CHECK(loop_timer_active(&timers[j].t));
    }
    /* Some never started; restart a few (moves them); stop every seventh. */
    int expected = 0;
    for (int i = 0; i < N; i++) {
        if (loop_timer_active(&timers[i].t) && i % 5 == 0)
            CHECK_INT(loop_timer_start(loop, &timers[i].t, 1 + (uint64_t)(N - i) / 2, record), 0);
        if (i % 7 == 0) {
            loop_timer_stop(loop, &timers[i].t);
            loop_timer_stop(loop, &timers[i].t); /* stopping twice is harmless */
        }
    }
    for (int i = 0; i < N; i++)
        expected += loop_timer_active(&timers[i].t);
    CHECK(expected > N / 3);
    nfired = 0;
    run_once(loop);
    CHECK_INT(nfired, expected);
    for (int k = 1; k < nfired; k++)
        CHECK(loop_timer_deadline(&timers[fired_ids[k - 1]].t) <= loop_timer_deadline(&timers[fired_ids[k]].t));
    for (int k = 0; k < nfired; k++) {
        CHECK(fired_ids[k] % 7 != 0);
        CHECK(!loop_timer_active(&timers[fired_ids[k]].t));
    }
    /* Nothing left: the loop waits without a timeout. */
    run_once(loop);
    CHECK(last_timeout == NULL);
    CHECK_INT(nfired, expected);
    loop_free(loop);
}

static void test_future_timer_waits(void)
{
    loop_t *loop = loop_new();
    rec_timer_t later = {.id = 1}, now = {.id = 2};
    loop_timer_init(&later.t);
    loop_timer_init(&now.t);
    uint64_t in_an_hour = loop_now(loop) + 3600ull * 1000000000u;
    loop_timer_start(loop, &later.t, in_an_hour, record);
    loop_timer_start(loop, &now.t, 0, record);
    nfired = 0;
    run_once(loop);
    CHECK_INT(nfired, 1);
    CHECK_INT(fired_ids[0], 2);
    CHECK(loop_timer_active(&later.t));
    /* The wait's timeout is the time to the earliest deadline (here about an hour). */
    run_once(loop);
    CHECK(last_timeout != NULL);
    CHECK(timeout_copy.tv_sec > 3500 && timeout_copy.tv_sec <= 3600);
    CHECK_INT(nfired, 1);
    loop_timer_stop(loop, &later.t);
    CHECK(!loop_timer_active(&later.t));
    loop_free(loop);
}

/* A callback that re-arms itself for later and stops another due timer. */
static rec_timer_t rearm, victim;
static void rearm_cb(loop_t *loop, loop_timer_t *t)
{
    record(loop, t);
    loop_timer_stop(loop, &victim.t);
    loop_timer_start(loop, t, UINT64_MAX, rearm_cb);
}

static void test_callbacks_change_the_heap(void)
{
    loop_t *loop = loop_new();
    rearm.id = 10, victim.id = 11;
    loop_timer_init(&rearm.t);
    loop_timer_init(&victim.t);
    loop_timer_start(loop, &rearm.t, 1, rearm_cb);
    loop_timer_start(loop, &victim.t, 2, record);
    nfired = 0;
    run_once(loop);
    CHECK_INT(nfired, 1);
    CHECK_INT(fired_ids[0], 10);
    CHECK(!loop_timer_active(&victim.t));
    CHECK(loop_timer_active(&rearm.t));
    CHECK_U64(loop_timer_deadline(&rearm.t), UINT64_MAX);
    loop_free(loop);
}

/* ---- the heap's own due-timer runner and wait timeout, shared by the loop and io_uring ---- */
typedef struct due_rec {
    heap_entry_t e;
    int id;
} due_rec_t;
static due_rec_t due[6];
static int due_ids[16], ndue;
static timer_heap_t *due_heap;

static void due_fire(heap_entry_t *e, void *ctx)
{
    CHECK(ctx == &due_ids);
    CHECK(!heap_entry_active(e)); /* out of the heap before its callback */
    due_rec_t *r = (due_rec_t *)e;
    due_ids[ndue++] = r->id;
    if (r->id == 0 && ndue == 2) /* sets itself again once, later than now: not in this run */
        CHECK_INT(timer_heap_set(due_heap, e, 1000), 0);
    if (r->id == 1) /* removes a due one: it must not fire */
        timer_heap_remove(due_heap, &due[2].e);
}

static uint64_t fixed_now;
static int clock_reads;
static uint64_t read_fixed_now(void)
{
    clock_reads++;
    return fixed_now;
}

static void test_run_due_and_timeout(void)
{
    timer_heap_t h = {0};
    due_heap = &h;
    struct timespec ts;
    CHECK(!timer_heap_timeout(&h, read_fixed_now, &ts)); /* empty: no timeout */
    CHECK_INT(clock_reads, 0);                            /* and no clock read */
    uint64_t deadlines[6] = {30, 10, 20, 40, 500, 2500000000u};
    for (int i = 0; i < 6; i++) {
        heap_entry_init(&due[i].e);
        due[i].id = i;
        CHECK_INT(timer_heap_set(&h, &due[i].e, deadlines[i]), 0);
    }
    fixed_now = 5;
    CHECK(timer_heap_timeout(&h, read_fixed_now, &ts));
    CHECK_INT(ts.tv_sec, 0);
    CHECK_INT(ts.tv_nsec, 5); /* 10 - 5 */
    timer_heap_run_due(&h, 40, due_fire, &due_ids);
    CHECK_INT(ndue, 3); /* 1 (10), then 0 (30) and 3 (40); 2 removed by 1 */
    CHECK_INT(due_ids[0], 1);
    CHECK_INT(due_ids[1], 0);
    CHECK_INT(due_ids[2], 3);
    CHECK(!heap_entry_active(&due[2].e));
    CHECK(heap_entry_active(&due[0].e)); /* set again at 1000 */
    fixed_now = 600;                      /* past 500: a due deadline waits zero */
    CHECK(timer_heap_timeout(&h, read_fixed_now, &ts));
    CHECK_INT(ts.tv_sec, 0);
    CHECK_INT(ts.tv_nsec, 0);
    timer_heap_run_due(&h, 1000, due_fire, &due_ids);
    CHECK_INT(ndue, 5); /* 4 (500), then 0 at the deadline it set itself */
    CHECK_INT(due_ids[3], 4);
    CHECK_INT(due_ids[4], 0);
    CHECK_INT(h.len, 1); /* 5, far off */
    fixed_now = 500000000u; /* seconds and nanoseconds split */
    CHECK(timer_heap_timeout(&h, read_fixed_now, &ts));
    CHECK_INT(ts.tv_sec, 2);
    CHECK_INT(ts.tv_nsec, 0);
    timer_heap_free(&h);
}

int main(void)
{
    test_run_due_and_timeout();
    test_order_and_stop();
    test_future_timer_waits();
    test_callbacks_change_the_heap();
    return check_exit();
}
