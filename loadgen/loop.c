/* The per-thread event loop: bring in connections, expire timeouts, start due requests, close
 * finished seconds of the time series, then sleep in epoll until the next event or deadline.
 * Each thread owns its connections, its timers and its statistics; nothing is shared per
 * request (no lock, no shared counter). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "idle.h"
#include "worker.h"

static void close_seconds(lg_thread *t, uint64_t now)
{
    if (now < t->next_tick)
        return;
    unsigned busy_pm, cpu_pm;
    lg_selfwatch_second(&t->watch, now, &busy_pm, &cpu_pm);
    while (now >= t->next_tick) {
        if (lg_ts_close_second(&t->ts, (uint64_t)t->open_socks, busy_pm, cpu_pm))
            t->failed_alloc = 1;
        t->next_tick += 1000000;
    }
}

static void publish_progress(lg_thread *t)
{
    uint64_t e = 0;
    for (int i = 0; i < LG_ERR_COUNT; i++)
        e += t->counts.errors[i];
    atomic_store_explicit(&t->prog_complete, t->counts.complete, memory_order_relaxed);
    atomic_store_explicit(&t->prog_errors, e, memory_order_relaxed);
}

static int wait_events(lg_thread *t, struct epoll_event *evs, uint64_t now, uint64_t deadline)
{
    struct timespec ts, *tsp = NULL;
    if (deadline != UINT64_MAX) {
        uint64_t d = deadline > now ? deadline - now : 0;
        ts.tv_sec = (time_t)(d / 1000000);
        ts.tv_nsec = (long)(d % 1000000) * 1000;
        tsp = &ts;
    }
    int n = -1;
    if (!t->no_pwait2) {
        n = epoll_pwait2(t->epfd, evs, LG_MAX_EVENTS, tsp, NULL);
        if (n < 0 && errno == ENOSYS)
            t->no_pwait2 = 1; /* old kernel, or valgrind: ask once, then use epoll_wait */
    }
    if (t->no_pwait2) {
        int ms = -1;
        if (tsp)
            ms = (int)((deadline > now ? deadline - now + 999 : 0) / 1000);
        n = epoll_wait(t->epfd, evs, LG_MAX_EVENTS, ms);
    }
    return n;
}

/* One round's work before sleeping. Returns 0 to go on, 1 when this thread is done. */
static int run_due_work(lg_thread *t, uint64_t now)
{
    lg_shared *sh = t->sh;
    if (atomic_load_explicit(&sh->stop, memory_order_relaxed) != LG_STOP_NONE) {
        t->end_us = now;
        return 1;
    }
    if (now >= sh->end_time) {
        t->end_us = sh->end_time;
        return 1;
    }
    while (t->next_open < t->nconns && lg_schedule_ramp_time(t, &t->conns[t->next_open]) <= now)
        lg_conn_push_idle(t, &t->conns[t->next_open++]);
    lg_timer *tm;
    while ((tm = lg_timers_first(&t->timers)) && tm->deadline_us <= now)
        lg_conn_fail(t, lg_conn_of_timer(tm), LG_ERR_TIMEOUT, ETIMEDOUT,
                     "no complete response within -s", now);
    while ((tm = lg_timers_first(&t->connect_timers)) && tm->deadline_us <= now)
        lg_conn_fail(t, lg_conn_of_timer(tm), LG_ERR_CONNECT, ETIMEDOUT,
                     "not connected within --connect-timeout", now);
    const lg_backoff_entry *b;
    while ((b = lg_backoff_first(&t->backoff)) && b->at_us <= now)
        lg_conn_push_idle(t, lg_backoff_pop(&t->backoff));
    t->connect_budget = LG_CONNECTS_PER_ROUND;
    lg_schedule_dispatch(t, now);
    if (!atomic_load_explicit(&sh->ever_connected, memory_order_relaxed) &&
        t->connects_failed >= LG_REFUSED_LIMIT) {
        int none = LG_STOP_NONE;
        atomic_compare_exchange_strong(&sh->stop, &none, LG_STOP_REFUSED);
        t->end_us = now;
        return 1;
    }
    if (now >= sh->measure_start)
        close_seconds(t, now);
    if (lg_schedule_quota_done(t)) {
        lg_conn_abandon_pending(t);
        return 1;
    }
    if (t->failed_alloc) {
        atomic_store(&sh->stop, LG_STOP_ERROR);
        return 1;
    }
    publish_progress(t);
    return 0;
}

static uint64_t next_deadline(lg_thread *t, uint64_t now)
{
    lg_shared *sh = t->sh;
    uint64_t deadline = lg_schedule_next_deadline(t, now, sh->end_time);
    deadline = lg_timers_earlier(&t->timers, deadline);
    deadline = lg_timers_earlier(&t->connect_timers, deadline);
    const lg_backoff_entry *b = lg_backoff_first(&t->backoff);
    if (b && b->at_us < deadline)
        deadline = b->at_us;
    uint64_t tick = now >= sh->measure_start ? t->next_tick : sh->measure_start;
    return tick < deadline ? tick : deadline;
}

static void handle_events(lg_thread *t, struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        lg_conn *c = evs[i].data.ptr;
        if (!c) { /* the wake-up eventfd: stop requested */
            uint64_t v;
            ssize_t r = read(t->wakefd, &v, sizeof v);
            (void)r; /* EAGAIN: another wake-up already drained it */
            continue;
        }
        t->last_event_us = lg_now_us(); /* starts the --busy-poll window */
        lg_conn_handle_event(t, c, evs[i].events, t->last_event_us);
    }
}

/* The readiness engine (lg_loop_ops): epoll tells which sockets are ready. */
static int readiness_start(lg_thread *t)
{
    t->evs = malloc(LG_MAX_EVENTS * sizeof *t->evs);
    if (!t->evs) {
        t->failed_alloc = 1;
        return -1;
    }
    return 0;
}

static int readiness_wait(lg_thread *t, uint64_t now, uint64_t deadline, int poll)
{
    int n = poll ? epoll_wait(t->epfd, t->evs, LG_MAX_EVENTS, 0)
                 : wait_events(t, t->evs, now, deadline);
    if (n > 0)
        handle_events(t, t->evs, n);
    return n;
}

static void readiness_stop(lg_thread *t)
{
    free(t->evs);
    t->evs = NULL;
}

const lg_loop_ops lg_loop_readiness = {"readiness", &lg_transport_tcp, readiness_start,
                                       readiness_wait, readiness_stop};

/* --idle: this thread is done opening; the last one to be tells the main thread to start the clock. */
static void idle_ready(lg_shared *sh)
{
    if (atomic_fetch_add(&sh->idle_ready, 1) + 1 == sh->nthreads)
        pthread_kill(sh->main_thread, SIGUSR1);
}

/* --idle, when this thread's loop cannot run: ready at once, then wait for the main thread's go
 * without the loop, since the clock (t0) is not set before it. */
static void idle_give_up(lg_shared *sh, int ready)
{
    if (!ready)
        idle_ready(sh);
    while (!atomic_load(&sh->idle_go)) {
        struct timespec ms = {0, 1000 * 1000};
        nanosleep(&ms, NULL);
    }
}

/* --idle: opens this thread's idle connections before the load, tells the main thread, and holds
 * them until it starts the clock (idle_go). Returns -1 when the loop broke. */
static int open_idle(lg_thread *t)
{
    lg_shared *sh = t->sh;
    int ready = 0;
    while (!atomic_load(&sh->idle_go)) {
        uint64_t now = lg_now_us(), deadline = UINT64_MAX;
        if (!ready && (atomic_load_explicit(&sh->stop, memory_order_relaxed) != LG_STOP_NONE ||
                       lg_idle_due(t, now))) {
            ready = 1;
            idle_ready(sh);
        }
        if (!ready)
            deadline = lg_idle_next_deadline(t, now);
        /* once ready, until the main thread wakes us */
        if (sh->loop->wait(t, now, deadline, 0) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "loadgen: %s engine: wait: %s\n", sh->loop->name, strerror(errno));
            atomic_store(&sh->stop, LG_STOP_ERROR);
            idle_give_up(sh, ready);
            return -1;
        }
    }
    return 0;
}

/* The last, partial second of the series, and the progress counters, once the loop ended. */
static void finish_thread(lg_thread *t)
{
    lg_shared *sh = t->sh;
    if (t->end_us == 0)
        t->end_us = lg_now_us();
    if (t->end_us > sh->measure_start) {
        close_seconds(t, t->end_us);
        unsigned busy_pm, cpu_pm;
        lg_selfwatch_second(&t->watch, t->end_us, &busy_pm, &cpu_pm);
        if (t->end_us > t->next_tick - 1000000 && t->end_us < t->next_tick &&
            lg_ts_close_second(&t->ts, (uint64_t)t->open_socks, busy_pm, cpu_pm))
            t->failed_alloc = 1;
    }
    lg_selfwatch_totals(&t->watch, t->end_us, &t->ts.busy_us, &t->ts.cpu_us);
    t->ts.not_sent = lg_schedule_not_sent(t, t->end_us);
    publish_progress(t);
    lg_idle_finish(t);
}

void *thread_main(void *arg)
{
    lg_thread *t = arg;
    lg_shared *sh = t->sh;
    int ok = sh->loop->start(t) == 0;
    if (!ok)
        atomic_store(&sh->stop, LG_STOP_ERROR);
    if (!ok && sh->o->idle > 0)
        idle_give_up(sh, 0);
    else if (ok && sh->o->idle > 0 && open_idle(t) < 0)
        ok = 0;
    t->next_tick = sh->measure_start + 1000000;
    lg_selfwatch_start(&t->watch, lg_now_us());
    while (ok) {
        uint64_t now = lg_now_us();
        if (run_due_work(t, now))
            break;
        int n;
        /* Time spent waiting with nothing to do is the loop's idle time (selfwatch.h). */
        uint64_t wait_start = lg_now_us();
        if (now - t->last_event_us < (uint64_t)sh->o->busy_poll_us) {
            /* Busy-poll: under load the next response is microseconds away, and sleeping costs
             * a schedule-out here and a cross-CPU wake-up (an IPI, a VM exit on VMs) charged to
             * the server that sends it. Polling keeps both sides on their fast path. */
            n = sh->loop->wait(t, now, now, 1);
            if (n == 0) {
                t->watch.idle_us += lg_now_us() - wait_start;
                continue;
            }
        } else {
            n = sh->loop->wait(t, now, next_deadline(t, now), 0);
            t->watch.idle_us += lg_now_us() - wait_start;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "loadgen: %s engine: wait: %s\n", sh->loop->name, strerror(errno));
            atomic_store(&sh->stop, LG_STOP_ERROR);
            break;
        }
    }
    finish_thread(t);
    sh->loop->stop(t);
    if (atomic_fetch_add(&sh->threads_done, 1) + 1 == sh->nthreads)
        pthread_kill(sh->main_thread, SIGUSR1);
    return NULL;
}
