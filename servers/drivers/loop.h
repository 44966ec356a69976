/* A small event loop: fd interest (read/write) through a backend, plus a min-heap of timers
 * for the per-request delays. It never sleeps except in the backend's wait. */
#ifndef C10K_LOOP_H
#define C10K_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timer_heap.h"

enum { LOOP_READ = 1u, LOOP_WRITE = 2u, LOOP_ERROR = 4u /* error/hang-up, reported regardless of interest */ };

typedef struct loop loop_t;
typedef struct loop_timer loop_timer_t;
typedef void (*loop_io_cb)(loop_t *loop, int fd, unsigned events, void *data);
typedef void (*loop_timer_cb)(loop_t *loop, loop_timer_t *timer);

struct loop_timer {
    heap_entry_t entry; /* its deadline and its place in the loop's heap */
    loop_timer_cb cb;
};

/* NULL (errno set) when the loop or its backend cannot be created. */
loop_t *loop_new(void);
void loop_free(loop_t *loop);

/* fds at or above this cannot be watched. */
long loop_fd_limit(const loop_t *loop);

/* Registers fd (or changes its interest and callback). events may be 0: registered, nothing
 * wanted (errors are still reported). Returns 0, or -1 with errno. */
int loop_watch(loop_t *loop, int fd, unsigned events, loop_io_cb cb, void *data);
void loop_unwatch(loop_t *loop, int fd);

/* Calls fn for every registered fd (for shutdown). fn may unwatch that fd. */
void loop_each(loop_t *loop, void (*fn)(loop_t *loop, int fd, loop_io_cb cb, void *data));

/* Monotonic time of the last wake-up, in ns. */
uint64_t loop_now(const loop_t *loop);

static inline void loop_timer_init(loop_timer_t *t)
{
    heap_entry_init(&t->entry);
    t->cb = NULL;
}
static inline bool loop_timer_active(const loop_timer_t *t)
{
    return heap_entry_active(&t->entry);
}
static inline uint64_t loop_timer_deadline(const loop_timer_t *t)
{
    return t->entry.deadline_ns;
}
/* Returns -1 (ENOMEM) if the heap cannot grow. */
int loop_timer_start(loop_t *loop, loop_timer_t *t, uint64_t deadline_ns, loop_timer_cb cb);
void loop_timer_stop(loop_t *loop, loop_timer_t *t);

/* Makes loop_run return once the callbacks of the current turn are done. Stopping is the loop's
 * own state (as uv_stop and aeStop): whoever learns of a stop (a signal's fd, a failure) says so. */
void loop_stop(loop_t *loop);

/* Runs until loop_stop. Returns 0, LOOP_INTERRUPTED when a signal interrupted the wait (the caller
 * decides whether to run again: a stop handler's flag may be all a sanitizer lets through, as its
 * deferred handlers can run after the wait), or -1 when the backend fails. Clears the stop on
 * return, so the loop can be run again. */
enum { LOOP_INTERRUPTED = 1 };
int loop_run(loop_t *loop, const sigset_t *wait_mask);

#endif
