/* When requests start: the closed loop starts one whenever a connection is idle; --rate starts
 * them on a fixed schedule of slots (latency counts from the slot); --ramp brings connections in
 * over time; -n gives each thread a quota. */
#include "worker.h"

uint64_t lg_schedule_ramp_time(const lg_thread *t, const lg_conn *c)
{
    const lg_shared *sh = t->sh;
    return sh->t0 + (uint64_t)((double)sh->ramp_us * c->gidx / (double)sh->o->concurrency);
}

uint64_t lg_schedule_rate_slot(const lg_thread *t, uint64_t k)
{
    double at = (double)k * t->rate_interval_us;
    /* Far past any run (-t is at most 1e7 s): never converted to an integer out of range. */
    if (!(at < 1e18))
        return UINT64_MAX;
    return t->sh->t0 + (uint64_t)at;
}

/* Closed loop with -n: pending connects (their request has no place among the n yet, conn.c)
 * that have waited LG_CONNECT_STALE_US or longer, which likely wait for a SYN retransmission.
 * Sets t->held_until to when the next one turns stale. The connect timers run in start order. */
static int stale_pending(lg_thread *t, uint64_t now)
{
    uint64_t ctimeout = t->sh->connect_timeout_us;
    int stale = 0;
    lg_timer *tm = lg_timers_first(&t->connect_timers);
    for (; tm && tm != &t->connect_timers.head; tm = tm->next) {
        uint64_t turns_stale = tm->deadline_us - ctimeout + LG_CONNECT_STALE_US;
        if (turns_stale > now) {
            t->held_until = turns_stale;
            break;
        }
        stale += lg_conn_of_timer(tm)->claim_pending;
    }
    return stale;
}

/* Whether a new connect would only compete with the fresh pending ones for the last requests: it
 * waits for them (no connect the run cannot use), but races those gone stale. */
static int hold_connect(const lg_thread *t, int stale)
{
    if (t->unlimited || t->pending_claims == 0 || t->issued >= t->quota)
        return 0; /* nothing to wait for, or nothing left to take (the connection retires) */
    return t->issued + (uint64_t)(t->pending_claims - stale) >= t->quota;
}

/* Starts requests on idle connections: all of them (closed loop) or those whose slot is due. */
void lg_schedule_dispatch(lg_thread *t, uint64_t now)
{
    if (t->rate_interval_us <= 0) {
        /* Only those idle now: one that fails at once (refused) waits for the next round, so a
         * dead target cannot recurse or spin here without epoll and the stop checks. */
        lg_conn **batch = t->idle;
        int n = t->nidle, budget_out = 0, stale = -1; /* counted once, when first needed */
        t->idle = t->idle_spare;
        t->idle_spare = batch;
        t->nidle = 0;
        t->held_until = 0;
        for (int i = 0; i < n; i++) {
            if (batch[i]->fd < 0 && t->connect_budget <= 0) {
                lg_conn_push_idle(t, batch[i]); /* next round, after the events */
                budget_out = 1;
            } else if (batch[i]->fd < 0 && t->pending_claims > 0 &&
                       hold_connect(t, stale >= 0 ? stale : (stale = stale_pending(t, now)))) {
                lg_conn_push_idle(t, batch[i]); /* a pending connect ends, or turns stale */
            } else {
                lg_conn_start_request(t, batch[i], now, now);
            }
        }
        if (budget_out)
            t->held_until = 0;
        return;
    }
    while (t->nidle > 0) {
        if (t->idle[t->nidle - 1]->fd < 0 && t->connect_budget <= 0)
            break; /* the slot stays due: the next round starts it, late by one round */
        uint64_t slot = lg_schedule_rate_slot(t, t->rate_k);
        if (slot > now)
            break;
        if (!t->unlimited && t->issued >= t->quota && slot >= t->sh->measure_start)
            break;
        lg_conn *c = t->idle[--t->nidle];
        t->rate_k++;
        lg_conn_start_request(t, c, now, slot);
        /* A slot older than the last moment an idle connection appeared came due while every
         * connection was busy. */
        if (slot >= t->sh->measure_start && now >= t->sh->measure_start)
            lg_ts_record_send(&t->ts, now - slot, slot < t->watch.idle_since);
    }
}

/* Slots come due at t0 + k * interval: how many are due by now. */
static uint64_t slots_due(const lg_thread *t, uint64_t now)
{
    if (now < t->sh->t0)
        return 0;
    return (uint64_t)((double)(now - t->sh->t0) / t->rate_interval_us) + 1;
}

uint64_t lg_schedule_not_sent(const lg_thread *t, uint64_t now)
{
    if (t->rate_interval_us <= 0)
        return 0;
    uint64_t due = slots_due(t, now), warm = slots_due(t, t->sh->measure_start - 1);
    uint64_t from = t->rate_k > warm ? t->rate_k : warm;
    uint64_t left = due > from ? due - from : 0;
    if (!t->unlimited && left > t->quota - t->issued)
        left = t->quota - t->issued;
    return left;
}

int lg_schedule_quota_done(const lg_thread *t)
{
    /* Connects that never got a request are not waited for (conn.c abandons them). */
    return !t->unlimited && t->issued >= t->quota && t->inflight == t->pending_claims;
}

uint64_t lg_schedule_next_deadline(const lg_thread *t, uint64_t now, uint64_t deadline)
{
    if (t->nidle > 0) {
        if (t->rate_interval_us <= 0)
            deadline = t->held_until == 0 ? now : t->held_until < deadline ? t->held_until : deadline;
        else if (lg_schedule_rate_slot(t, t->rate_k) < deadline)
            deadline = lg_schedule_rate_slot(t, t->rate_k);
    }
    if (t->next_open < t->nconns) {
        uint64_t ramp = lg_schedule_ramp_time(t, &t->conns[t->next_open]);
        if (ramp < deadline)
            deadline = ramp;
    }
    return deadline;
}
