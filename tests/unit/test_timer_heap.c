/* The loop's timer heap: due timers fire in deadline order, stopped ones never fire, a callback
 * may start and stop timers, and timers not yet due stay. A stand-in backend (backend.h) reports
 * no fds, so the loop runs without any socket. */
#include "check.h"
#include "backend.h"
#include "loop.h"
#include "signals.h"

#include <stdlib.h>

/* ---- a backend that never has events: each wait is one loop turn, then the loop stops ---- */
const model_traits_t backend_model = {.name = "unit"};
static int waits;
static const struct timespec *last_timeout;
static struct timespec timeout_copy;

backend_t *backend_new(void) { return (backend_t *)&waits; }
void backend_free(backend_t *b) { (void)b; }
long backend_fd_limit(void) { return 1024; }
int backend_add(backend_t *b, int fd, unsigned events) { (void)b, (void)fd, (void)events; return 0; }
int backend_mod(backend_t *b, int fd, unsigned o, unsigned e) { (void)b, (void)fd, (void)o, (void)e; return 0; }
void backend_del(backend_t *b, int fd, unsigned o) { (void)b, (void)fd, (void)o; }
int backend_wait(backend_t *b, const struct timespec *timeout, const sigset_t *mask, loop_fired_t *fired, int max)
{
    (void)b, (void)mask, (void)fired, (void)max;
    waits++;
    last_timeout = timeout;
    if (timeout)
        timeout_copy = *timeout;
    g_stop = 1; /* one turn */
    return 0;
}

static void run_once(loop_t *loop)
{
    g_stop = 0;
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

int main(void)
{
    test_order_and_stop();
    test_future_timer_waits();
    test_callbacks_change_the_heap();
    return check_exit();
}
