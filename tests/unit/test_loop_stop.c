/* loop_stop: a callback's stop ends loop_run after the turn it was called in (the rest of that
 * turn's events and due timers still run), a stop before loop_run returns at once, and a stopped
 * loop runs again. A stand-in backend (backend.h) fires fd 5 on every wait, so no socket is needed. */
#include "check.h"
#include "standin_backend.h"
#include "loop.h"

static int waits;

int backend_wait(backend_t *b, const struct timespec *timeout, const sigset_t *mask, loop_fired_t *fired, int max)
{
    (void)b, (void)timeout, (void)mask;
    waits++;
    CHECK(max >= 2);
    fired[0] = (loop_fired_t){.fd = 5, .events = LOOP_READ};
    fired[1] = (loop_fired_t){.fd = 6, .events = LOOP_READ};
    return 2;
}

static int calls5, calls6, timer_calls, stop_after = 3;

/* Stops the loop on its third call. */
static void on_fd5(loop_t *loop, int fd, unsigned events, void *data)
{
    (void)fd, (void)events, (void)data;
    if (++calls5 == stop_after)
        loop_stop(loop);
}

static void on_fd6(loop_t *loop, int fd, unsigned events, void *data)
{
    (void)loop, (void)fd, (void)events, (void)data;
    calls6++;
}

static void on_timer(loop_t *loop, loop_timer_t *t)
{
    (void)loop, (void)t;
    timer_calls++;
}

int main(void)
{
    loop_t *loop = loop_new();
    CHECK(loop != NULL);
    CHECK_INT(loop_watch(loop, 5, LOOP_READ, on_fd5, NULL), 0);
    CHECK_INT(loop_watch(loop, 6, LOOP_READ, on_fd6, NULL), 0);

    /* Stopped from a callback: the loop ends after that turn, which completes. */
    CHECK_INT(loop_run(loop, NULL), 0);
    CHECK_INT(waits, 3);
    CHECK_INT(calls5, 3);
    CHECK_INT(calls6, 3); /* the stopping turn's later event still ran */

    /* ... and so do that turn's due timers. */
    loop_timer_t t;
    loop_timer_init(&t);
    CHECK_INT(loop_timer_start(loop, &t, 0, on_timer), 0);
    stop_after = calls5 + 1;
    CHECK_INT(loop_run(loop, NULL), 0); /* the stop was cleared: the loop runs again */
    CHECK_INT(waits, 4);
    CHECK_INT(timer_calls, 1);

    /* Stopped before running: no wait at all, and the next run is a normal one. */
    loop_stop(loop);
    CHECK_INT(loop_run(loop, NULL), 0);
    CHECK_INT(waits, 4);
    stop_after = calls5 + 2;
    CHECK_INT(loop_run(loop, NULL), 0);
    CHECK_INT(waits, 6);
    loop_free(loop);
    return check_exit();
}
