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

/* Starts requests on idle connections: all of them (closed loop) or those whose slot is due. */
void lg_schedule_dispatch(lg_thread *t, uint64_t now)
{
    if (t->rate_interval_us <= 0) {
        /* Only those idle now: one that fails at once (refused) waits for the next round, so a
         * dead target cannot recurse or spin here without epoll and the stop checks. */
        lg_conn **batch = t->idle;
        int n = t->nidle;
        t->idle = t->idle_spare;
        t->idle_spare = batch;
        t->nidle = 0;
        for (int i = 0; i < n; i++) {
            if (batch[i]->fd < 0 && t->connect_budget <= 0)
                lg_conn_push_idle(t, batch[i]); /* next round, after the events */
            else
                lg_conn_start_request(t, batch[i], now, now);
        }
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
    return !t->unlimited && t->issued >= t->quota && t->inflight == 0;
}

uint64_t lg_schedule_next_deadline(const lg_thread *t, uint64_t now, uint64_t deadline)
{
    if (t->nidle > 0) {
        if (t->rate_interval_us <= 0)
            deadline = now;
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
