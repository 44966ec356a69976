/* A worker thread's setup and teardown, and adding its statistics into the run's result once
 * it has stopped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "idle.h"
#include "worker.h"

void lg_worker_free(lg_thread *t)
{
    if (!t)
        return;
    if (t->conns)
        for (int i = 0; i < t->nconns; i++)
            if (t->conns[i].fd >= 0)
                t->tr.close(&t->conns[i]);
    lg_idle_free(t, t->iset);
    if (t->tr.thread_free)
        t->tr.thread_free(t);
    if (t->epfd >= 0)
        close(t->epfd);
    if (t->wakefd >= 0)
        close(t->wakefd);
    free(t->conns);
    free(t->idle);
    free(t->idle_spare);
    free(t->backoff.e);
    lg_ts_free(&t->ts);
    free(t);
}

static void init_conns(lg_thread *t)
{
    int T = t->sh->nthreads;
    for (int j = 0; j < t->nconns; j++) {
        lg_conn *c = &t->conns[j];
        c->fd = -1;
        c->thr = t;
        c->gidx = (uint32_t)(j * T + t->id); /* round-robin: ramp slots interleave across threads */
        c->state = LG_C_NEW;
    }
}

/* This thread's share of -c, -n and --rate. */
static void take_share(lg_thread *t)
{
    const lg_options *o = t->sh->o;
    int T = t->sh->nthreads, C = o->concurrency;
    t->nconns = C / T + (t->id < C % T);
    t->unlimited = !o->requests_set && o->time_limit_s > 0;
    if (!t->unlimited)
        t->quota = o->requests / (uint64_t)T + ((uint64_t)t->id < o->requests % (uint64_t)T);
    if (o->rate > 0)
        t->rate_interval_us = 1e6 / (o->rate * t->nconns / C);
}

lg_thread *lg_worker_new(lg_shared *sh, int id, char *err, size_t errlen)
{
    lg_thread *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->sh = sh;
    t->tr = *sh->transport;
    t->id = id;
    t->epfd = t->wakefd = -1;
    take_share(t);
    t->conns = calloc((size_t)t->nconns, sizeof *t->conns);
    t->idle = calloc((size_t)t->nconns, sizeof *t->idle);
    t->idle_spare = calloc((size_t)t->nconns, sizeof *t->idle_spare);
    t->backoff.e = calloc((size_t)t->nconns, sizeof *t->backoff.e);
    t->backoff.rng = 0x9E3779B97F4A7C15ull ^ ((uint64_t)(id + 1) << 32) ^ (uint64_t)(uintptr_t)t;
    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    t->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!t->conns || !t->idle || !t->idle_spare || !t->backoff.e || t->epfd < 0 || t->wakefd < 0) {
        snprintf(err, errlen, "cannot set up thread %d: %s", id, strerror(errno ? errno : ENOMEM));
        lg_worker_free(t);
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wakefd, &ev) < 0) {
        snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
        lg_worker_free(t);
        return NULL;
    }
    init_conns(t);
    lg_timers_init(&t->timers);
    lg_timers_init(&t->connect_timers);
    lg_counts_init_zeroed(&t->counts); /* t came from calloc */
    lg_ts_init(&t->ts);
    int e;
    t->iset = lg_idle_new(t, &e);
    if (e) {
        snprintf(err, errlen, "cannot set up the idle connections of thread %d: %s", id, strerror(e));
        lg_worker_free(t);
        return NULL;
    }
    t->capture_active = 1;
    return t;
}

void lg_worker_merge_into(lg_result *r, const lg_thread *t)
{
    /* A thread's counts are far from wrapping a 64-bit sum: the -1 cannot happen here. */
    (void)lg_counts_add(&r->counts, &t->counts, NULL);
    if (t->counts.answered && t->last_first_2xx - t->sh->t0 > r->all_answered_us)
        r->all_answered_us = t->last_first_2xx - t->sh->t0;
}
