/* --idle N: connections held open beside the load and never measured. This is the experiment that
 * set select and poll against epoll: a fixed active load beside many idle connections.
 *
 * Each thread opens its share before the load starts, paced like --ramp: connect, then (mode
 * request) one keep-alive request and its whole answer. Then the connection is held, silent, in
 * the thread's epoll set: it has no timer and costs the loop nothing until the server closes it
 * or sends something. Then it is counted by cause and closed. It is never reopened. */
#ifndef LG_IDLE_H
#define LG_IDLE_H
#include <stddef.h>
#include <stdint.h>

#include "timers.h"

struct lg_thread;
struct lg_conn;

typedef struct lg_idle_set {
    struct lg_conn *conns;
    int n;                        /* this thread's share of --idle */
    int next_open;                /* the next one to open (in ramp order) */
    int pending;                  /* opening: connected or answered not yet */
    int held;                     /* open and silent now */
    char *req;                    /* the run's request, always keep-alive (mode request) */
    size_t req_len;
    lg_timer_list connect_timers; /* --connect-timeout of each connect */
    lg_timer_list answer_timers;  /* -s of each one request (mode request) */
} lg_idle_set;

/* This thread's share of --idle (none: NULL and *err 0); NULL with errno-style *err on failure. */
lg_idle_set *lg_idle_new(struct lg_thread *t, int *err);
/* Closes whatever is still open and frees the set (NULL: nothing). */
void lg_idle_free(struct lg_thread *t, lg_idle_set *s);

/* Opens the connections due by now (at most LG_CONNECTS_PER_ROUND), expires the connect and
 * answer timeouts. Returns 1 once every connection is held or failed. */
int lg_idle_due(struct lg_thread *t, uint64_t now);
/* When lg_idle_due has work next (UINT64_MAX: only events). */
uint64_t lg_idle_next_deadline(struct lg_thread *t, uint64_t now);
/* An epoll event on an idle connection (conn.c passes every state it does not own here). */
void lg_idle_handle_event(struct lg_thread *t, struct lg_conn *c, uint32_t ev, uint64_t now);
/* The load ended: the connections still held go into the thread's counts. */
void lg_idle_finish(struct lg_thread *t);

#endif
