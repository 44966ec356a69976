/* The deadline heap (timer_heap.h). */
#include "timer_heap.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

static void place(timer_heap_t *h, size_t i, heap_entry_t *e)
{
    h->slots[i] = e;
    e->index = i;
}

static void sift_up(timer_heap_t *h, size_t i)
{
    heap_entry_t *e = h->slots[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->slots[parent]->deadline_ns <= e->deadline_ns)
            break;
        place(h, i, h->slots[parent]);
        i = parent;
    }
    place(h, i, e);
}

static void sift_down(timer_heap_t *h, size_t i)
{
    heap_entry_t *e = h->slots[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->len)
            break;
        if (child + 1 < h->len && h->slots[child + 1]->deadline_ns < h->slots[child]->deadline_ns)
            child++;
        if (h->slots[child]->deadline_ns >= e->deadline_ns)
            break;
        place(h, i, h->slots[child]);
        i = child;
    }
    place(h, i, e);
}

int timer_heap_set(timer_heap_t *h, heap_entry_t *e, uint64_t deadline_ns)
{
    if (heap_entry_active(e)) {
        assert(e->index < h->len && h->slots[e->index] == e);
        uint64_t old = e->deadline_ns;
        e->deadline_ns = deadline_ns;
        if (deadline_ns < old)
            sift_up(h, e->index);
        else
            sift_down(h, e->index);
        return 0;
    }
    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        heap_entry_t **p = realloc(h->slots, cap * sizeof *p);
        if (!p) {
            errno = ENOMEM;
            return -1;
        }
        h->slots = p;
        h->cap = cap;
    }
    e->deadline_ns = deadline_ns;
    place(h, h->len++, e);
    sift_up(h, e->index);
    return 0;
}

void timer_heap_remove(timer_heap_t *h, heap_entry_t *e)
{
    if (!heap_entry_active(e))
        return;
    size_t i = e->index;
    assert(i < h->len && h->slots[i] == e);
    e->index = HEAP_ENTRY_IDLE;
    heap_entry_t *last = h->slots[--h->len];
    if (i == h->len)
        return;
    place(h, i, last);
    sift_down(h, i);
    sift_up(h, last->index);
}

void timer_heap_free(timer_heap_t *h)
{
    free(h->slots);
    h->slots = NULL;
    h->len = h->cap = 0;
}
