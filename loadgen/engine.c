/* The whole run: shared setup, one worker thread per --threads, signals (SIGINT/SIGTERM stop
 * the run; the workers' SIGUSR1 says they are done), and the result from the workers'
 * statistics, merged once at the end. */
#include "engine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "progress.h"
#include "worker.h"

static void wake_all(lg_thread **th, int n)
{
    uint64_t one = 1;
    for (int i = 0; i < n; i++) {
        ssize_t r;
        do
            r = write(th[i]->wakefd, &one, sizeof one);
        while (r < 0 && errno == EINTR);
    }
}

static void init_shared(lg_shared *sh, const lg_options *o, const struct sockaddr_storage *target,
                        socklen_t target_len)
{
    memset(sh, 0, sizeof *sh);
    sh->o = o;
    memcpy(&sh->target, target, sizeof sh->target);
    sh->target_len = target_len;
#ifdef LG_HAVE_URING
    sh->loop = o->engine == LG_ENGINE_URING ? &lg_loop_uring : &lg_loop_readiness;
#else
    sh->loop = &lg_loop_readiness; /* options.c refuses --engine uring in this build */
#endif
    /* TLS runs over the readiness engine only (options.c refuses --engine uring with https://). */
    sh->transport = o->url.tls ? &lg_transport_tls : sh->loop->transport;
    sh->resp_flags = (strcmp(o->method, "HEAD") == 0 ? LG_RESP_HEAD : 0) |
                     (lg_request_has_header(o, "Upgrade") ? LG_RESP_UPGRADE_ASKED : 0);
    sh->nthreads = o->threads;
    sh->timeout_us = (uint64_t)(o->timeout_s * 1e6);
    sh->connect_timeout_us = (uint64_t)((o->connect_timeout_s > 0 ? o->connect_timeout_s
                                                                  : o->timeout_s) * 1e6);
    sh->ramp_us = (uint64_t)(o->ramp_s * 1e6);
    atomic_init(&sh->stop, LG_STOP_NONE);
    atomic_init(&sh->ever_connected, 0);
    atomic_init(&sh->doclen, -1);
    atomic_init(&sh->threads_done, 0);
    atomic_init(&sh->idle_ready, 0);
    atomic_init(&sh->idle_go, 0);
    sh->main_thread = pthread_self();
}

/* The run's clock: the load (and its warm-up) starts now. */
static void start_clock(lg_shared *sh)
{
    const lg_options *o = sh->o;
    sh->t0 = lg_now_us();
    sh->measure_start = sh->t0 + (uint64_t)(o->warmup_s * 1e6);
    sh->end_time = o->time_limit_s > 0 ? sh->measure_start + (uint64_t)(o->time_limit_s * 1e6)
                                       : UINT64_MAX;
}

/* Starts the workers; returns how many started. With --idle they open their idle connections
 * first and the clock starts later (wait_for_idle). */
static int start_threads(lg_shared *sh, lg_thread **th, char *err, size_t errlen)
{
    if (sh->o->idle > 0)
        sh->idle_t0 = lg_now_us();
    else
        start_clock(sh);
    int created = 0;
    for (; created < sh->nthreads; created++) {
        int e = pthread_create(&th[created]->tid, NULL, thread_main, th[created]);
        if (e) {
            snprintf(err, errlen, "cannot start thread: %s", strerror(e));
            atomic_store(&sh->stop, LG_STOP_ERROR);
            wake_all(th, created);
            break;
        }
    }
    return created;
}

/* Waits up to a quarter second for a signal; SIGINT/SIGTERM stop the run (the workers' SIGUSR1
 * only ends the wait early). */
static void wait_signal(lg_shared *sh, lg_thread **th, const sigset_t *set, lg_result *r)
{
    struct timespec tick = {0, 250 * 1000 * 1000};
    int sig = sigtimedwait(set, NULL, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
        int none = LG_STOP_NONE;
        if (atomic_compare_exchange_strong(&sh->stop, &none, LG_STOP_INTERRUPT))
            r->interrupted = 1;
        wake_all(th, sh->nthreads);
    }
}

/* --idle: waits until every thread has opened its idle connections (or gave up: stopped, or
 * its loop broke), forwarding SIGINT/SIGTERM, then starts the clock and lets the load begin. */
static void wait_for_idle(lg_shared *sh, lg_thread **th, const sigset_t *set, lg_result *r)
{
    while (atomic_load(&sh->idle_ready) < sh->nthreads)
        wait_signal(sh, th, set, r);
    start_clock(sh);
    atomic_store(&sh->idle_go, 1); /* publishes the clock to the threads */
    wake_all(th, sh->nthreads);
}

/* Shows progress and forwards SIGINT/SIGTERM to the workers until all of them are done. */
static void supervise(lg_shared *sh, lg_thread **th, const sigset_t *set, lg_result *r)
{
    const lg_options *o = sh->o;
    lg_progress prog;
    lg_progress_init(&prog, o->progress, o->quiet);
    while (atomic_load(&sh->threads_done) < sh->nthreads) {
        wait_signal(sh, th, set, r);
        uint64_t done = 0, errs = 0;
        for (int i = 0; i < sh->nthreads; i++) {
            done += atomic_load_explicit(&th[i]->prog_complete, memory_order_relaxed);
            errs += atomic_load_explicit(&th[i]->prog_errors, memory_order_relaxed);
        }
        uint64_t now = lg_now_us();
        lg_progress_update(&prog, now > sh->measure_start ? (now - sh->measure_start) / 1e6 : 0,
                           now < sh->measure_start, done, errs);
    }
    lg_progress_finish(&prog);
}

static const char *stop_reason(const lg_shared *sh, const lg_result *r)
{
    const lg_options *o = sh->o;
    switch (atomic_load(&sh->stop)) {
    case LG_STOP_INTERRUPT:
        return "interrupted";
    case LG_STOP_REFUSED:
        return "refused";
    case LG_STOP_ERROR:
        return "error";
    default:
        return (o->time_limit_s > 0 && (!o->requests_set || r->counts.attempts < o->requests))
                   ? "time" : "requests";
    }
}

/* Merges the stopped workers into r. */
static void collect(lg_shared *sh, lg_thread **th, lg_result *r, char *err, size_t errlen)
{
    const lg_options *o = sh->o;
    uint64_t end = 0;
    int failed_alloc = 0;
    for (int i = 0; i < sh->nthreads; i++) {
        lg_worker_merge_into(r, th[i]);
        if (lg_ts_move_into(&th[i]->ts, r))
            failed_alloc = 1;
        failed_alloc |= th[i]->failed_alloc;
        if (th[i]->end_us > end)
            end = th[i]->end_us;
    }
    r->has_uncorrected = o->rate > 0;
    r->duration_s = end > sh->measure_start ? (end - sh->measure_start) / 1e6 : 0;
    r->doclen = atomic_load(&sh->doclen);
    if (sh->has_server) {
        memcpy(r->server_software, sh->server, sizeof r->server_software);
        r->has_server_software = 1;
    }
    if (sh->has_negotiated) {
        memcpy(r->negotiated, sh->negotiated, sizeof r->negotiated);
        r->has_negotiated = 1;
    }
    r->stop_reason = stop_reason(sh, r);
    if (failed_alloc) {
        snprintf(err, errlen, "out of memory while recording the time series");
        r->stop_reason = "error";
    }
    int first_errno = 0;
    for (int i = 0; i < sh->nthreads && !first_errno; i++)
        first_errno = th[i]->first_connect_errno;
    if (r->counts.connections_opened == 0 && r->counts.complete == 0 && r->counts.errors[LG_ERR_CONNECT] > 0 &&
        !atomic_load(&sh->ever_connected)) {
        snprintf(err, errlen, "%s (%llu attempts): %s",
                 first_errno == ECONNREFUSED ? "the target refused every connection"
                                             : "no connection to the target succeeded",
                 (unsigned long long)r->counts.errors[LG_ERR_CONNECT], strerror(first_errno));
        const lg_counts *n = &r->counts;
        if (n->tls_failed_verify + n->tls_failed_protocol + n->tls_failed_reset + n->tls_failed_timeout)
            snprintf(err, errlen, "no TLS handshake with the target succeeded (%llu attempts; certificate "
                     "not verified: %llu, protocol: %llu, reset: %llu, timeout: %llu; -v 2 prints each)",
                     (unsigned long long)n->errors[LG_ERR_CONNECT], (unsigned long long)n->tls_failed_verify,
                     (unsigned long long)n->tls_failed_protocol, (unsigned long long)n->tls_failed_reset,
                     (unsigned long long)n->tls_failed_timeout);
        r->stop_reason = "refused";
    }
}

int lg_engine_run(const lg_options *o, const struct sockaddr_storage *target, socklen_t target_len,
                  lg_result *r, char *err, size_t errlen)
{
    lg_shared sh;
    init_shared(&sh, o, target, target_len);
    int e = pthread_mutex_init(&sh.info_lock, NULL);
    if (e) {
        snprintf(err, errlen, "pthread_mutex_init: %s", strerror(e));
        return -1;
    }
#ifdef LG_HAVE_URING
    if (sh.loop == &lg_loop_uring && lg_uring_probe(err, errlen)) {
        pthread_mutex_destroy(&sh.info_lock);
        return -1;
    }
#endif
    sh.req = lg_build_request(o, &sh.req_len);
    lg_thread **th = calloc((size_t)sh.nthreads, sizeof *th);
    int rc = -1;
    if (!sh.req || !th) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (sh.transport->setup && sh.transport->setup(&sh, err, errlen))
        goto out;
    for (int i = 0; i < sh.nthreads; i++)
        if (!(th[i] = lg_worker_new(&sh, i, err, errlen)))
            goto out;

    /* Only this thread takes SIGINT/SIGTERM (and the workers' "done" SIGUSR1), via sigtimedwait. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    e = pthread_sigmask(SIG_BLOCK, &set, &old);
    if (e) {
        snprintf(err, errlen, "pthread_sigmask: %s", strerror(e));
        goto out;
    }
    int created = start_threads(&sh, th, err, errlen);
    if (created == sh.nthreads && o->idle > 0)
        wait_for_idle(&sh, th, &set, r);
    else if (o->idle > 0) { /* start_threads stopped the run: let the started ones end */
        atomic_store(&sh.idle_go, 1);
        wake_all(th, created);
    }
    if (created == sh.nthreads)
        supervise(&sh, th, &set, r);
    for (int i = 0; i < created; i++)
        pthread_join(th[i]->tid, NULL);
    /* Drop a pending SIGUSR1 and let a second Ctrl-C kill us while reporting. */
    struct timespec zero = {0, 0};
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    while (sigtimedwait(&usr1, NULL, &zero) > 0) {
    }
    e = pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) { /* only EINVAL for a bad "how": cannot happen, but never report on a wrong mask */
        snprintf(err, errlen, "pthread_sigmask: %s", strerror(e));
        goto out;
    }
    if (created < sh.nthreads)
        goto out;
    collect(&sh, th, r, err, errlen);
    rc = 0;
out:
    for (int i = 0; th && i < sh.nthreads; i++)
        lg_worker_free(th[i]);
    free(th);
    free(sh.req);
    if (sh.transport->teardown)
        sh.transport->teardown(&sh);
    pthread_mutex_destroy(&sh.info_lock);
    return rc;
}
