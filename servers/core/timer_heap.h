/* A min-heap of deadlines in which every entry knows its slot: O(log n) to add, move or remove
 * one, O(1) to read the earliest. The readiness loop keeps its timers in one. So does the io_uring
 * model: one kernel timeout per connection would cost O(n) per earlier deadline, because io_uring
 * keeps its timeouts in a list sorted on insertion. */
#ifndef C10K_TIMER_HEAP_H
#define C10K_TIMER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
