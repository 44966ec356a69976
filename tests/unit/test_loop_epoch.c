/* The loop's epoch: an fd closed and registered again by an earlier callback of the same batch of
 * fired events is not handed the old fd's event. A stand-in backend (backend.h) reports scripted
 * events, so no socket is needed. */
#include "check.h"
#include "standin_backend.h"
#include "loop.h"

/* ---- a backend that reports one scripted batch per wait, then stops the loop ---- */
static loop_fired_t script[4];
static int script_len;
static loop_t *running; /* the loop being run: the backend stops it after one batch */

int backend_wait(backend_t *b, const struct timespec *timeout, const sigset_t *mask, loop_fired_t *fired, int max)
{
    (void)b, (void)timeout, (void)mask;
    int n = script_len < max ? script_len : max;
    for (int i = 0; i < n; i++)
        fired[i] = script[i];
    loop_stop(running); /* one batch */
    return n;
}

static int calls_old, calls_new, calls_closer;

static void on_old(loop_t *loop, int fd, unsigned events, void *data)
{
    (void)loop, (void)fd, (void)events, (void)data;
    calls_old++;
}

static void on_new(loop_t *loop, int fd, unsigned events, void *data)
{
    (void)loop, (void)fd, (void)events, (void)data;
    calls_new++;
}

/* Closes fd 6 and, as an accept would, gets the same number back for a new connection. */
static void on_closer(loop_t *loop, int fd, unsigned events, void *data)
{
    (void)fd, (void)events, (void)data;
    calls_closer++;
    loop_unwatch(loop, 6);
    CHECK_INT(loop_watch(loop, 6, LOOP_READ, on_new, NULL), 0);
}

static void run_batch(loop_t *loop, int n)
{
    script_len = n;
    running = loop;
    CHECK_INT(loop_run(loop, NULL), 0);
}

int main(void)
{
    loop_t *loop = loop_new();
    CHECK_INT(loop_watch(loop, 5, LOOP_READ, on_closer, NULL), 0);
    CHECK_INT(loop_watch(loop, 6, LOOP_READ, on_old, NULL), 0);
    script[0] = (loop_fired_t){.fd = 5, .events = LOOP_READ};
    script[1] = (loop_fired_t){.fd = 6, .events = LOOP_READ}; /* the old connection's event */
    run_batch(loop, 2);
    CHECK_INT(calls_closer, 1);
    CHECK_INT(calls_old, 0); /* unwatched before its turn */
    CHECK_INT(calls_new, 0); /* registered in this batch: the event was not its own */

    loop_unwatch(loop, 5);
    script[0] = (loop_fired_t){.fd = 6, .events = LOOP_READ};
    run_batch(loop, 1);
    CHECK_INT(calls_new, 1); /* its own event, in a later batch */

    /* Changing a registered fd's interest keeps its registration: its events still arrive. */
    CHECK_INT(loop_watch(loop, 6, LOOP_READ | LOOP_WRITE, on_new, NULL), 0);
    run_batch(loop, 1);
    CHECK_INT(calls_new, 2);
    loop_free(loop);
    return check_exit();
}
