/* Connections waiting to reconnect after a failed connect: exponential backoff with jitter, and
 * a min-heap of retry times per thread (delays differ, so the FIFO timer lists cannot hold them). */
#ifndef LG_BACKOFF_H
#define LG_BACKOFF_H
#include <stddef.h>
#include <stdint.h>

#define LG_BACKOFF_FIRST_US 5000u     /* after the first failure: 2.5 to 5 ms */
#define LG_BACKOFF_MAX_US 1000000u    /* the delay doubles up to 0.5 to 1 s */

typedef struct lg_backoff_entry {
    uint64_t at_us;
    void *item;
} lg_backoff_entry;

typedef struct lg_backoff_heap {
    lg_backoff_entry *e; /* capacity: one per connection of the thread */
    size_t n;
    uint64_t rng;        /* xorshift state for the jitter */
} lg_backoff_heap;

/* The next delay after *level consecutive failures (then counts this one): a uniform draw
 * from [d/2, d], d = min(FIRST << level, MAX). */
uint64_t lg_backoff_delay(lg_backoff_heap *h, unsigned *level);
void lg_backoff_push(lg_backoff_heap *h, uint64_t at_us, void *item);
/* The earliest entry, or NULL (inline: the event loop asks every round). */
static inline const lg_backoff_entry *lg_backoff_first(const lg_backoff_heap *h)
{
    return h->n ? &h->e[0] : NULL;
}
void *lg_backoff_pop(lg_backoff_heap *h);

#endif
