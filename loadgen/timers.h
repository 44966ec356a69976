/* Per-request timeouts. Every request of a run has the same timeout (-s), so deadlines are
 * added in time order: an intrusive FIFO list gives O(1) add, remove and expiry check, which
 * stays cheap at 20,000 connections (no heap, no wheel). */
#ifndef LG_TIMERS_H
#define LG_TIMERS_H
#include <stddef.h>
#include <stdint.h>

typedef struct lg_timer {
    struct lg_timer *prev, *next;
    uint64_t deadline_us;
    int armed;
} lg_timer;

typedef struct lg_timer_list {
    lg_timer head; /* sentinel */
} lg_timer_list;

static inline void lg_timers_init(lg_timer_list *l)
{
    l->head.prev = l->head.next = &l->head;
}

static inline void lg_timer_remove(lg_timer *t)
{
    if (!t->armed)
        return;
    t->prev->next = t->next;
    t->next->prev = t->prev;
    t->prev = t->next = NULL;
    t->armed = 0;
}

/* Deadlines must not decrease from one add to the next (same timeout, monotonic clock). */
static inline void lg_timer_add(lg_timer_list *l, lg_timer *t, uint64_t deadline_us)
{
    lg_timer_remove(t);
    t->deadline_us = deadline_us;
    t->prev = l->head.prev;
    t->next = &l->head;
    l->head.prev->next = t;
    l->head.prev = t;
    t->armed = 1;
}

/* The earliest armed timer, or NULL. */
static inline lg_timer *lg_timers_first(lg_timer_list *l)
{
    return l->head.next == &l->head ? NULL : l->head.next;
}

/* The earlier of deadline and the list's first timer: the loops' wait bound over several lists. */
static inline uint64_t lg_timers_earlier(lg_timer_list *l, uint64_t deadline)
{
    lg_timer *tm = lg_timers_first(l);
    return tm && tm->deadline_us < deadline ? tm->deadline_us : deadline;
}

#endif
