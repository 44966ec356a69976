/* A min-heap of deadlines in which every entry knows its slot: O(log n) to add, move or remove
 * one, O(1) to read the earliest. The readiness loop keeps its timers in one. So does the io_uring
 * model: one kernel timeout per connection would cost O(n) per earlier deadline, because io_uring
 * keeps its timeouts in a list sorted on insertion. */
#ifndef C10K_TIMER_HEAP_H
#define C10K_TIMER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct heap_entry {
    uint64_t deadline_ns;
    size_t index; /* HEAP_ENTRY_IDLE when not in a heap */
} heap_entry_t;
#define HEAP_ENTRY_IDLE SIZE_MAX

typedef struct timer_heap {
    heap_entry_t **slots;
    size_t len, cap;
} timer_heap_t;

static inline void heap_entry_init(heap_entry_t *e)
{
    e->index = HEAP_ENTRY_IDLE;
}

static inline bool heap_entry_active(const heap_entry_t *e)
{
    return e->index != HEAP_ENTRY_IDLE;
}

/* Puts e in the heap at deadline_ns, or moves it there if it already is. Returns 0, or -1
 * (errno ENOMEM) if the heap cannot grow; e is then not in the heap. */
int timer_heap_set(timer_heap_t *h, heap_entry_t *e, uint64_t deadline_ns);

/* Takes e out of the heap; nothing if it is not in it. */
void timer_heap_remove(timer_heap_t *h, heap_entry_t *e);

/* The entry with the earliest deadline, or NULL when the heap is empty. */
static inline heap_entry_t *timer_heap_first(const timer_heap_t *h)
{
    return h->len ? h->slots[0] : NULL;
}

void timer_heap_free(timer_heap_t *h);

/* The wait until the earliest deadline (zero when it has passed), for a wait's timeout; now() is
 * read only when there is a deadline. Returns false when the heap is empty: wait without one. */
static inline bool timer_heap_timeout(const timer_heap_t *h, uint64_t (*now)(void), struct timespec *ts)
{
    heap_entry_t *first = timer_heap_first(h);
    if (!first)
        return false;
    uint64_t at = now(), wait = first->deadline_ns > at ? first->deadline_ns - at : 0;
    ts->tv_sec = (time_t)(wait / 1000000000u);
    ts->tv_nsec = (long)(wait % 1000000000u);
    return true;
}

/* Takes every entry due at `now` out of the heap, earliest first, and hands it to fire(), which
 * may set or remove entries (that one included). Inline, so a driver's turn pays no call. */
static inline void timer_heap_run_due(timer_heap_t *h, uint64_t now, void (*fire)(heap_entry_t *e, void *ctx),
                                      void *ctx)
{
    heap_entry_t *e;
    while ((e = timer_heap_first(h)) && e->deadline_ns <= now) {
        timer_heap_remove(h, e);
        fire(e, ctx);
    }
}

#endif
